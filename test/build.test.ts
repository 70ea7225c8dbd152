import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import * as esbuild from 'esbuild';
import { browserBundleOptions, libraryBuildOptions } from '../scripts/build.mjs';

describe('the library bundle (npm run build)', () => {
  let bundle: string;
  let dir: string;
  before(async () => {
    // The build's own esbuild options, in memory; tsc's declarations are checked by CI's build.
    const result = await esbuild.build({ ...libraryBuildOptions, sourcemap: false, write: false });
    bundle = result.outputFiles![0]!.text;
    dir = await mkdtemp(join(tmpdir(), 'kiln-bundle-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('leaves Dawn and Node built-ins out of browser bundles, as dynamic imports a browser never runs', async () => {
    const result = await esbuild.build({ ...browserBundleOptions('runtime/device.ts'), write: false });
    const device = result.outputFiles![0]!.text;
    for (const text of [bundle, device]) {
      expect(text).not.to.contain('dawn.node');
      expect(text).not.to.match(/^import .* from ["'](webgpu|node:)/m);
    }
    expect(device).to.match(/import\(\s*(\/\*.*\*\/\s*)*"webgpu"\s*\)/);
    expect(device).to.match(/import\(\s*(\/\*.*\*\/\s*)*"node:fs"\s*\)/);
  });

  it('imports in Node and exposes a working Graph', async () => {
    const file = join(dir, 'kiln.mjs');
    await writeFile(file, bundle);
    const kiln = (await import(pathToFileURL(file).href)) as typeof import('../index.js');
    const graph = new kiln.Graph('bundle');
    const x = graph.input('x', [2, 3]);
    graph.output('y', kiln.relu(x));
    expect(graph.toString()).to.contain('relu');
    const { y } = kiln.interpret(graph, { feeds: { x: [-1, 2, -3, 4, -5, 6] } });
    expect(Array.from(y!.data)).to.deep.equal([0, 2, 0, 4, 0, 6]);
  });
});
