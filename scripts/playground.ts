/**
 * `npm run playground`: builds the playground (the page's main.js and its worker.js bundled
 * by esbuild, sharing chunks/, the page, and the Fashion-MNIST files its examples fetch)
 * into playground/build/, serves that folder alone on 127.0.0.1 and prints the URL.
 *
 *   npm run playground                     build and serve (a free port)
 *   npm run playground -- --port 8080      build and serve on port 8080
 *   npm run playground -- --build [dir]    write the static site (default playground/build/) and exit
 *
 * The site is plain files with relative links, so it works from any static host that
 * serves it over https (or from localhost): WebGPU needs a secure context.
 */

import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { FASHION_MNIST_DIR } from '../examples/data/fashion-mnist.js';
import { FASHION_MNIST_FILES, FASHION_MNIST_PATH } from '../playground/datasets.js';
import { ROOT, browserBundleOptions } from './build.mjs';
import type { StaticServer } from './static-server.js';
import { startStaticServer } from './static-server.js';

export const PLAYGROUND_BUILD_DIR = join(ROOT, 'playground', 'build');

export interface PlaygroundBuildOptions {
  /** Where the dataset's files are (default `$FASHION_MNIST_DIR` or Debian's folder); `false` leaves them out. */
  dataDir?: string | false;
}

export interface PlaygroundBuild {
  readonly dir: string;
  /** The dataset files copied, by name; those missing from the data folder are not. */
  readonly dataFiles: readonly string[];
  readonly missingDataFiles: readonly string[];
}

/** Writes the static site to `dir` (emptied first, except the dataset files, which are copied only when changed). */
export async function buildPlayground(dir: string = PLAYGROUND_BUILD_DIR, options: PlaygroundBuildOptions = {}): Promise<PlaygroundBuild> {
  const out = resolve(dir);
  for (const name of ['index.html', 'main.js', 'main.js.map', 'main.css', 'main.css.map', 'worker.js', 'worker.js.map', 'chunks']) await rm(join(out, name), { recursive: true, force: true });
  await esbuild.build({
    ...browserBundleOptions(''),
    // The page (DOM, editor, GPU session: the runtime alone) and its worker (the user's code, the
    // compiler, the layout); code both use goes to chunks/ once, loaded by whichever needs it.
    entryPoints: { main: 'playground/main.ts', worker: 'playground/worker/main.ts' },
    splitting: true,
    outdir: out,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    minify: true,
    // Error classes name themselves, but stack traces and the inspector read better with names.
    keepNames: true,
    sourcemap: 'linked',
  });
  await copyFile(join(ROOT, 'playground', 'index.html'), join(out, 'index.html'));
  const dataDir = options.dataDir ?? FASHION_MNIST_DIR;
  const wanted = Object.values(FASHION_MNIST_FILES).flatMap(({ images, labels }) => [images, labels]);
  const dataFiles: string[] = [];
  const missingDataFiles: string[] = [];
  if (dataDir !== false) {
    const target = join(out, FASHION_MNIST_PATH);
    await mkdir(target, { recursive: true });
    for (const name of wanted) {
      if (await copyIfChanged(join(dataDir, name), join(target, name))) dataFiles.push(name);
      else missingDataFiles.push(name);
    }
  }
  return { dir: out, dataFiles, missingDataFiles };
}

/** Copies `from` to `to` unless `to` already has its size and is newer; false when `from` does not exist. */
async function copyIfChanged(from: string, to: string): Promise<boolean> {
  const source = await stat(from).catch(() => undefined);
  if (!source?.isFile()) return false;
  const existing = await stat(to).catch(() => undefined);
  if (!existing || existing.size !== source.size || existing.mtimeMs < source.mtimeMs) await copyFile(from, to);
  return true;
}

/** Serves the built site, and nothing else, on 127.0.0.1. */
export function servePlayground(dir: string = PLAYGROUND_BUILD_DIR, port?: number): Promise<StaticServer> {
  return startStaticServer({ mounts: { '/': dir }, ...(port === undefined ? {} : { port }) });
}

interface Arguments {
  build: boolean;
  dir: string;
  port?: number;
}

export const USAGE = 'usage: npm run playground [-- --port <port>] | npm run playground -- --build [dir]';

export function parseArguments(args: readonly string[]): Arguments {
  const parsed: Arguments = { build: false, dir: PLAYGROUND_BUILD_DIR };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--build') {
      parsed.build = true;
      if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) parsed.dir = resolve(args[++i]!);
    } else if (arg === '--port') {
      const port = Number(args[++i]);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`playground: --port needs a port number from 0 to 65535, got ${args[i] ?? 'nothing'}.\n${USAGE}`);
      parsed.port = port;
    } else {
      throw new Error(`playground: unknown argument '${arg}'.\n${USAGE}`);
    }
  }
  return parsed;
}

async function main(args: readonly string[]): Promise<void> {
  const { build, dir, port } = parseArguments(args);
  const site = await buildPlayground(dir);
  if (site.missingDataFiles.length > 0) {
    console.warn(
      `playground: Fashion-MNIST is not in ${FASHION_MNIST_DIR} (missing ${site.missingDataFiles.join(', ')}), so the seed MLP example cannot load its data. ` +
        `Fix: 'apt-get install dataset-fashion-mnist' (or 'bash setup.sh'), or set FASHION_MNIST_DIR. The other examples work without it.`,
    );
  }
  if (build) {
    console.log(`playground: wrote the static site to ${site.dir}; serve that folder from any static host (https or localhost).`);
    return;
  }
  const server = await servePlayground(site.dir, port);
  console.log(`playground: serving ${site.dir} at ${server.url} (Ctrl+C stops it)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
