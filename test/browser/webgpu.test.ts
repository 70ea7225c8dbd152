import { expect } from 'chai';
import * as esbuild from 'esbuild';
import type { Page } from 'puppeteer-core';
import { browserBundleOptions } from '../../scripts/build.mjs';
import type { ChromiumSession } from '../../scripts/chromium.js';
import { launchChromium, recordPageLog } from '../../scripts/chromium.js';
import type { StaticServer } from '../../scripts/static-server.js';
import { startStaticServer } from '../../scripts/static-server.js';
import { affineExpected } from '../runtime/affine-kernel.js';
import type { SmokeResult } from './webgpu-entry.js';

const PAGE = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>kiln WebGPU test</title><script type="module" src="entry.js"></script>';

describe('WebGPU in headless Chromium', function () {
  this.timeout(60000);
  let bundle: string;
  let server: StaticServer;
  let chromium: ChromiumSession;
  let page: Page;
  let log: string[];

  before(async () => {
    const built = await esbuild.build({ ...browserBundleOptions('test/browser/webgpu-entry.ts'), write: false });
    bundle = built.outputFiles![0]!.text;
    server = await startStaticServer({ files: { '/index.html': PAGE, '/entry.js': bundle } });
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium?.close();
    await server?.close();
  });
  beforeEach(async () => {
    page = await chromium.browser.newPage();
    log = recordPageLog(page);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(`page log:\n  ${log.join('\n  ')}`);
    await page.close();
  });

  async function smoke(length: number): Promise<SmokeResult> {
    await page.waitForFunction(() => typeof window.kilnSmoke === 'function');
    return page.evaluate((n) => window.kilnSmoke(n), length);
  }

  it('gets an adapter from requestDevice and runs a compute shader with exact results', async () => {
    await page.goto(server.url);
    const result = await smoke(1000);
    if (!result.ok) expect.fail(`${result.name}: ${result.message}`);
    expect(result.info.backend).to.equal('browser');
    expect(result.maxWorkgroups).to.be.at.least(65535);
    expect(result.y).to.deep.equal(Array.from(affineExpected(Float32Array.from(result.x))));
  });

  it('explains that WebGPU needs a secure context on a page that is not one', async () => {
    // about:blank is not a secure context, so navigator.gpu is missing there.
    await page.goto('about:blank');
    await page.addScriptTag({ content: bundle, type: 'module' });
    const result = await smoke(4);
    expect(result).to.deep.include({ ok: false, name: 'DeviceError' });
    expect(result.ok === false && result.message).to.match(/only available in secure contexts.*127\.0\.0\.1/);
  });
});
