import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import * as esbuild from 'esbuild';
import { ROOT, browserBundleOptions, stagePackage } from '../scripts/build.mjs';
import { appBundle, measureEntries } from '../scripts/bundle-sizes.mjs';
import { registeredOps } from '../index.js';
import { modelBytes, node, value } from './onnx/model-builder.js';

/**
 * The runtime-only entry's budget in an app's minified, gzipped browser bundle: 20 KB
 * until symbolic dims (solving a run's sizes from its feeds, growing memory, checking a v3
 * plan's size expressions) added about 4.5 KB; 25 KB keeps that and little else.
 */
const RUNTIME_GZIP_BUDGET = 25 * 1024;

/** A static or dynamic import of Dawn or a Node built-in, or a CommonJS require: what a browser bundler trips on. */
const NODE_IMPORT = /\bfrom\s*["'](webgpu|node:[\w/]+)["']|\bimport\s*\(\s*(\/\*.*?\*\/\s*)*["'](webgpu|node:[\w/]+)["']|\brequire\(\s*["']/;

/** A string of protobufjs's reader, so in any bundle that carries protobuf. */
const PROTOBUF = 'invalid wire type';

/**
 * A call that registers something at load (an op's definition, a family of ONNX handlers):
 * a file holding one must not be dropped by a bundler even when none of its exports is used.
 */
const REGISTERS = /\bdefineOp\b|^register(Handlers|Exporters)\(/m;

const ENTRIES = ['kiln-webgpu', 'kiln-webgpu/runtime', 'kiln-webgpu/onnx'] as const;

interface Entries {
  main: typeof import('../index.js');
  runtime: typeof import('../runtime.js');
  onnx: typeof import('../onnx.js');
}

describe('the package as an app installs it (npm run build, staged in node_modules)', () => {
  let dir: string;
  before(async function () {
    this.timeout(60_000);
    dir = await mkdtemp(join(tmpdir(), 'kiln-package-'));
    await stagePackage(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** Runs `source` as an ES module in `dir`, where `kiln-webgpu` resolves to the staged package. */
  async function importInDir<T>(name: string, source: string): Promise<T> {
    const file = join(dir, name);
    await writeFile(file, source);
    return (await import(pathToFileURL(file).href)) as T;
  }

  it('bundles every entry for the browser with no flags, and no browser bundle imports Dawn or Node', async () => {
    for (const entry of ENTRIES) {
      const bundle = await appBundle(dir, `export * from '${entry}';`, { minify: false });
      expect(bundle, entry).not.to.match(NODE_IMPORT);
      expect(bundle, entry).not.to.contain('could not load Dawn');
    }
    // The repository's own browser bundles (playground, browser tests) swap Dawn out the same way.
    const device = (await esbuild.build({ ...browserBundleOptions('runtime/device.ts'), write: false })).outputFiles![0]!.text;
    expect(device).not.to.match(NODE_IMPORT);
    expect(device).to.contain("kiln-webgpu's browser build, which has no Dawn");
  });

  it(`keeps the runtime-only entry within ${RUNTIME_GZIP_BUDGET / 1024} KB gzip, and protobuf in the ONNX entry only`, async () => {
    const sizes = await measureEntries(dir);
    const runtime = sizes.find(({ name }) => name === 'kiln-webgpu/runtime')!;
    expect(runtime.gzip, `runtime entry: ${runtime.gzip} bytes gzip`).to.be.at.most(RUNTIME_GZIP_BUDGET);
    expect(await appBundle(dir, "export * from 'kiln-webgpu';")).not.to.contain(PROTOBUF);
    expect(await appBundle(dir, "export * from 'kiln-webgpu/runtime';")).not.to.contain(PROTOBUF);
    expect(await appBundle(dir, "export * from 'kiln-webgpu/onnx';")).to.contain(PROTOBUF);
  });

  it("declares as side effects every file that registers ops or ONNX handlers at load, in the build and in the sources", async () => {
    const { sideEffects } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { sideEffects: string[] };
    const patterns = sideEffects.map((glob) => new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`));
    const undeclared = (root: string, files: string[]) =>
      files.filter((file) => REGISTERS.test(readFileSync(join(root, file), 'utf8')) && !patterns.some((pattern) => pattern.test(`./${file}`)));
    const installed = join(dir, 'node_modules', 'kiln-webgpu');
    const built = (await readdir(join(installed, 'dist'), { recursive: true })).filter((file) => file.endsWith('.js')).map((file) => `dist/${file}`);
    const sources = (await readdir(join(ROOT, 'compiler'), { recursive: true })).filter((file) => file.endsWith('.ts')).map((file) => `compiler/${file}`);
    expect(built.filter((file) => REGISTERS.test(readFileSync(join(installed, file), 'utf8')))).to.have.length.above(2);
    expect(undeclared(installed, built), 'built files').to.deep.equal([]);
    expect(undeclared(ROOT, sources), 'source files').to.deep.equal([]);
    // An app that calls no op function still has every op registered.
    const bundle = await appBundle(dir, "import { registeredOps } from 'kiln-webgpu';\nexport const ops = registeredOps();\n");
    expect((await importInDir<{ ops: string[] }>('ops-app.mjs', bundle)).ops).to.deep.equal(registeredOps());
  });

  it("runs in Node from the package: the entries share one Graph and one set of error classes, and ONNX graphs run with the main entry's", async () => {
    const { main, runtime, onnx } = await importInDir<Entries>(
      'consumer.mjs',
      "export * as main from 'kiln-webgpu';\nexport * as runtime from 'kiln-webgpu/runtime';\nexport * as onnx from 'kiln-webgpu/onnx';\n",
    );
    expect(runtime.Session).to.equal(main.Session);
    expect(runtime.KilnError).to.equal(main.KilnError);
    const bytes = modelBytes({ nodes: [node('Relu', ['x'], ['y'])], inputs: [value('x', [4])], outputs: [value('y', [4])] });
    const model = onnx.importOnnx(bytes);
    expect(model.graph).to.be.instanceOf(main.Graph);
    expect(Array.from(main.interpret(model.graph, { feeds: { x: [-1, 2, -3, 4] } })['y']!.data)).to.deep.equal([0, 2, 0, 4]);
    expect(Object.keys(main.compile(model.graph).entries)).to.include('forward');
    // Exporters register on load too: a graph of elementwise, reduction and shape ops exports from the package.
    const g = new main.Graph('exported');
    const x = g.input('x', ['batch', 3]);
    g.output('y', x.relu().add(1).reshape([-1]).sum());
    const back = onnx.importOnnx(onnx.exportOnnx(g));
    expect(Array.from(main.interpret(back.graph, { feeds: { x: [-1, 2, -3, 4, 0, 5] } })['y']!.data)).to.deep.equal([17]);
  });

  it('loads with require() from CommonJS (Node 20.19+ and 22.12+ load an ES module graph without top-level await)', async () => {
    const file = join(dir, 'consumer.cjs');
    await writeFile(file, "const { Graph } = require('kiln-webgpu');\nconst { Session } = require('kiln-webgpu/runtime');\nconsole.log(typeof Graph, typeof Session);\n");
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: dir });
    expect(stdout.trim()).to.equal('function function');
  });

  it('runs `kiln inspect` from the installed package with the built CLI, for an example and for a module of the app', async function () {
    this.timeout(60_000);
    const bin = join(dir, 'node_modules', 'kiln-webgpu', 'bin', 'kiln.mjs');
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [bin, ...args], { cwd: dir });
    expect((await run('inspect', 'seed-mlp')).stdout.split('\n')[0]).to.equal('report seed_mlp (simplify, fuse, memory)');
    await writeFile(
      join(dir, 'model.mjs'),
      "import { Graph, relu } from 'kiln-webgpu';\nconst g = new Graph('app_model');\ng.output('y', relu(g.input('x', [8])));\nexport default g;\n",
    );
    const { stdout } = await run('inspect', 'model.mjs');
    expect(stdout.split('\n')[0]).to.equal('report app_model (simplify, fuse, memory)');
  });
});
