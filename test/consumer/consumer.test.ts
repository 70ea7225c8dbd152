/**
 * kiln as an app gets it: `npm run build`, `npm pack`, and the tarball installed with npm
 * into a fresh project outside the repository. That project type-checks under strict
 * settings, bundles the browser app (examples/browser-app/) with esbuild and with Vite,
 * runs it in headless Chromium, and runs a Node consumer on Dawn. Nothing here resolves
 * `kiln-webgpu` to the repository's sources: a missing export, a Node import in the
 * browser build, declarations that fail strict mode or a CLI that needs tsx all fail it.
 */

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import * as esbuild from 'esbuild';
import { ROOT } from '../../scripts/build.mjs';
import { launchChromium, recordPageLog } from '../../scripts/chromium.js';
import { bundleWithEsbuild, bundleWithVite, copyApp, serveApp, trainInPage, waitForState } from '../../scripts/browser-app.js';
import { APP_TSCONFIG, NODE_CONSUMER, NODE_CONSUMER_OUTPUT, NODE_TSCONFIG } from './project-files.js';

const run = promisify(execFile);

/** A static or dynamic import of Dawn or a Node built-in, a require(), or Vite's stand-in for a Node built-in. */
const NODE_IMPORT = /\bfrom\s*["'](webgpu|node:[\w/]+)["']|\bimport\s*\(\s*["'](webgpu|node:[\w/]+)["']|\brequire\(\s*["']|__vite-browser-external/;

/** Steps the page trains in the test: enough for the loss to fall clearly, few enough for SwiftShader. */
const STEPS = 40;

/** The mean of `values`. */
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

describe('an app that installs the packed tarball (npm pack, npm install in a fresh project)', function () {
  this.timeout(240_000);
  let temp: string;
  let project: string;
  let bundled: Promise<{ esbuild: string; vite: string }> | undefined;
  /** The app bundled by each bundler into its own folder (once, for the tests that need it). */
  const bundles = (): Promise<{ esbuild: string; vite: string }> =>
    (bundled ??= (async () => {
      const sites = { esbuild: join(temp, 'site-esbuild'), vite: join(temp, 'site-vite') };
      await bundleWithEsbuild(project, sites.esbuild);
      await bundleWithVite(project, sites.vite);
      return sites;
    })());

  before(async function () {
    this.timeout(300_000);
    temp = await mkdtemp(join(tmpdir(), 'kiln-consumer-'));
    project = join(temp, 'app');
    await mkdir(project);
    await run('npm', ['run', 'build'], { cwd: ROOT });
    const [packed] = JSON.parse((await run('npm', ['pack', '--json', '--pack-destination', temp], { cwd: ROOT })).stdout) as { filename: string }[];
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'kiln-consumer', private: true, type: 'module' }));
    // From the tarball and npm's cache, the registry only for what the cache lacks.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(temp, packed!.filename), '@types/node@20'], { cwd: project });
    // Dawn (the optional peer `webgpu`) is 132 MB: linked from the repository's install rather than copied out of the cache.
    await symlink(join(ROOT, 'node_modules', 'webgpu'), join(project, 'node_modules', 'webgpu'), 'dir');
    await copyApp(project);
    await writeFile(join(project, 'tsconfig.app.json'), JSON.stringify(APP_TSCONFIG));
    await writeFile(join(project, 'tsconfig.node.json'), JSON.stringify(NODE_TSCONFIG));
    await writeFile(join(project, 'node-consumer.ts'), NODE_CONSUMER);
  });
  after(() => rm(temp, { recursive: true, force: true }));

  /** Runs the repository's tsc on a tsconfig of the project; its errors fail the test with tsc's own words. */
  async function typeCheck(tsconfig: string): Promise<void> {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '--noEmit', '-p', tsconfig], { cwd: project }).catch((error: { stdout?: string }) => error);
    expect('stdout' in result ? result.stdout : '', `tsc -p ${tsconfig}`).to.equal('');
  }

  it('type-checks the browser app (bundler resolution) and a Node consumer (node16) under strict settings', async () => {
    const installed = JSON.parse(await readFile(join(project, 'node_modules', 'kiln-webgpu', 'package.json'), 'utf8')) as { name: string };
    expect(installed.name).to.equal('kiln-webgpu');
    await typeCheck('tsconfig.app.json');
    await typeCheck('tsconfig.node.json');
  });

  it('bundles the browser app with esbuild and with Vite, with no flags, and neither bundle imports Dawn or Node', async () => {
    const sites = await bundles();
    const scripts = [
      join(sites.esbuild, 'main.js'),
      ...(await readdir(join(sites.vite, 'assets'))).filter((name) => name.endsWith('.js')).map((name) => join(sites.vite, 'assets', name)),
    ];
    expect(scripts).to.have.length.at.least(2);
    for (const script of scripts) expect(await readFile(script, 'utf8'), script).not.to.match(NODE_IMPORT);
    expect(await readFile(join(sites.vite, 'index.html'), 'utf8')).to.match(/<script type="module" crossorigin src="\.?\/assets\/[^"]+\.js">/);
  });

  it(`runs both bundles in headless Chromium: ${STEPS} steps lower the loss, a picked image is classified, the weights save and restore, and nothing logs an error`, async () => {
    const sites = await bundles();
    const chromium = await launchChromium();
    try {
      for (const [bundler, site] of Object.entries(sites)) {
        const server = await serveApp(site);
        const page = await chromium.browser.newPage();
        const log = recordPageLog(page);
        try {
          await page.goto(`${server.url}?steps=${STEPS}`);
          await waitForState(page, 'ready', 120_000);
          const losses = await trainInPage(page, 180_000);
          expect(losses, bundler).to.have.length(STEPS);
          expect(mean(losses.slice(-5)), `${bundler}: losses ${losses.join(' ')}`).to.be.below(0.75 * mean(losses.slice(0, 5)));
          await page.click('#gallery button');
          await page.waitForSelector('#prediction small');
          expect(await page.$eval('#prediction', (node) => node.textContent), bundler).to.match(/^[\w/ -]+ · \d+%(right|wrong): it is/);
          await page.click('#save');
          await page.waitForFunction(() => document.getElementById('weights-status')!.textContent!.startsWith('Saved'));
          await page.click('#restore');
          await page.waitForFunction(() => document.getElementById('weights-status')!.textContent!.startsWith('Loaded'));
          const problems = log.filter((line) => /^(console\.error|page error|request failed)/.test(line));
          expect(problems, `${bundler}: the page's log:\n${log.join('\n')}`).to.deep.equal([]);
        } finally {
          await page.close();
          await server.close();
        }
      }
    } finally {
      await chromium.close();
    }
  });

  it("runs a Node consumer on Dawn from the installed package, and the package's `kiln` command", async () => {
    // Type-checked above; here it is only stripped of its types, as tsx or Node 22's --experimental-strip-types would.
    await writeFile(join(project, 'node-consumer.js'), (await esbuild.transform(NODE_CONSUMER, { loader: 'ts' })).code);
    const { stdout } = await run(process.execPath, ['node-consumer.js'], { cwd: project });
    expect(JSON.parse(stdout)).to.deep.equal(NODE_CONSUMER_OUTPUT);
    const inspect = await run(join(project, 'node_modules', '.bin', 'kiln'), ['inspect', 'seed-mlp'], { cwd: project });
    expect(inspect.stdout.split('\n')[0]).to.equal('report seed_mlp (simplify, fuse, memory)');
  });
});
