/**
 * Headless Chromium with WebGPU, driven by puppeteer-core, for browser tests, benchmarks
 * and the playground. Debian's `chromium` package provides the browser; without a GPU,
 * `--enable-unsafe-webgpu` alone gives a SwiftShader adapter (no other flag is needed).
 */

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import type { Browser, Page } from 'puppeteer-core';

/** The browser binary: `$CHROMIUM_PATH`, or Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * WebGPU on, and everything that would reach the network or a shared profile off,
 * so runs are offline, quiet and independent. No sandbox: CI runs as root.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface ChromiumSession {
  readonly browser: Browser;
  /** Closes the browser and deletes its temporary profile. */
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh temporary profile. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<ChromiumSession> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}. Fix: on Debian/Ubuntu run 'apt-get install chromium' (or 'bash setup.sh'); ` +
        `elsewhere set CHROMIUM_PATH to a Chrome or Chromium binary.`,
    );
  }
  const profile = await mkdtemp(join(tmpdir(), 'kiln-chromium-'));
  try {
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, ...extraArgs],
    });
    return {
      browser,
      close: async () => {
        await browser.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Collects a page's console output and uncaught errors, so a failing browser test
 * can say what the page said.
 */
export function recordPageLog(page: Page): string[] {
  const log: string[] = [];
  page.on('console', (message) => log.push(`console.${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => log.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
  page.on('requestfailed', (request) => log.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  return log;
}
