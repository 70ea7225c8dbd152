/**
 * The setup the playground's browser tests share: the site built into a temporary folder,
 * served, a headless Chromium, and a tab at a time on it with its console recorded.
 * `usePlaygroundInChromium` registers the mocha hooks in the describe that calls it (build,
 * serve and launch before its tests; close and delete after; print the page's log after a
 * failed test) and returns what the tests use.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Viewport } from 'puppeteer-core';
import type { ChromiumSession } from '../../scripts/chromium.js';
import { launchChromium, recordPageLog } from '../../scripts/chromium.js';
import { buildPlayground, servePlayground } from '../../scripts/playground.js';
import type { PlaygroundBuild, PlaygroundBuildOptions } from '../../scripts/playground.js';
import { VIEWPORT } from '../../scripts/playground-screenshot.js';
import type { StaticServer } from '../../scripts/static-server.js';

export interface PlaygroundHarnessOptions extends PlaygroundBuildOptions {
  /** Builds the site into this subfolder of the temporary folder (leaving the folder itself for the test's own files). */
  readonly siteFolder?: string;
}

export interface PlaygroundInChromium {
  /** The temporary folder, deleted after the tests. */
  readonly dir: string;
  readonly site: PlaygroundBuild;
  readonly server: StaticServer;
  readonly chromium: ChromiumSession;
  /** The tab `open` opened last, and what it logged (console, page errors, failed requests). */
  readonly page: Page;
  readonly log: string[];
  /**
   * Closes the last tab and opens `target` (a hash or path on the server, or a whole URL) in a
   * new one, its log recorded and its viewport set; `prepare` runs on the tab before it
   * navigates. Does not wait for the page to be ready.
   */
  open(target: string, viewport?: Viewport, prepare?: (page: Page) => unknown): Promise<Page>;
}

/** Registers the hooks in the calling describe; `name` names the temporary folder (`kiln-<name>-…`). */
export function usePlaygroundInChromium(name: string, options: PlaygroundHarnessOptions = {}): PlaygroundInChromium {
  const { siteFolder, ...buildOptions } = options;
  let dir: string | undefined;
  let site: PlaygroundBuild;
  let server: StaticServer | undefined;
  let chromium: ChromiumSession | undefined;
  let page: Page | undefined;
  let log: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `kiln-${name}-`));
    site = await buildPlayground(siteFolder === undefined ? dir : join(dir, siteFolder), buildOptions);
    server = await servePlayground(site.dir);
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed' && page) console.log(`page log:\n  ${log.join('\n  ')}`);
  });

  return {
    get dir() {
      return dir!;
    },
    get site() {
      return site;
    },
    get server() {
      return server!;
    },
    get chromium() {
      return chromium!;
    },
    get page() {
      return page!;
    },
    get log() {
      return log;
    },
    async open(target, viewport = VIEWPORT, prepare) {
      if (page && !page.isClosed()) await page.close();
      page = await chromium!.browser.newPage();
      log = recordPageLog(page);
      await page.setViewport(viewport);
      await prepare?.(page);
      await page.goto(new URL(target, server!.url).href);
      return page;
    },
  };
}
