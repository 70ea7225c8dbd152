/**
 * `npm run build`: bundles the package's entries (index.ts, runtime.ts, onnx.ts) with
 * esbuild twice, for browsers (dist/browser/) and for Node (dist/node/, with the `kiln`
 * command's dist/node/kiln-cli.js), and emits type declarations to dist/types/ with tsc.
 * Also exports the bundle options, so tests and the playground bundle browser code
 * exactly as the library is bundled.
 */

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

/** The repository root, so the build works from any directory. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The package's entries: `kiln-webgpu`, `kiln-webgpu/runtime`, `kiln-webgpu/onnx` (see package.json's exports). */
export const PACKAGE_ENTRIES = { index: 'index.ts', runtime: 'runtime.ts', onnx: 'onnx.ts' };

/**
 * Swaps runtime/dawn.ts (Dawn, `node:fs`) for runtime/dawn-browser.ts, so a browser build
 * has no Node import for the app's bundler to resolve: esbuild, Vite and webpack then need
 * no flags.
 */
const browserDeviceModule = {
  name: 'kiln-browser-device',
  setup(build) {
    build.onResolve({ filter: /^\.\/dawn\.js$/ }, (args) =>
      dirname(args.importer) === join(ROOT, 'runtime') ? { path: join(ROOT, 'runtime', 'dawn-browser.ts') } : undefined,
    );
  },
};

/** esbuild options for an ES module bundle of `entry` (relative to the root) for browsers. */
export function browserBundleOptions(entry) {
  return {
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    plugins: [browserDeviceModule],
    logLevel: 'warning',
  };
}

/**
 * Both builds split shared code into chunks, so the entries share one copy of each module:
 * a Graph from `kiln-webgpu/onnx` is the `kiln-webgpu` entry's Graph, an error thrown by
 * the runtime entry is an instance of the main entry's class, and the op registry is one.
 */
const split = { splitting: true, entryNames: '[name]', chunkNames: 'chunks/[name]-[hash]', sourcemap: true };

/** The browser and Node builds of the package, written under `outRoot` (the root for `npm run build`). */
export function packageBuildOptions(outRoot) {
  return [
    { ...browserBundleOptions(''), ...split, entryPoints: PACKAGE_ENTRIES, outdir: join(outRoot, 'dist', 'browser') },
    {
      ...browserBundleOptions(''),
      ...split,
      platform: 'node',
      target: 'node20',
      plugins: [],
      // Dawn stays the user's install (an optional peer dependency); protobuf is bundled in.
      external: ['webgpu'],
      entryPoints: { ...PACKAGE_ENTRIES, 'kiln-cli': 'scripts/kiln-cli.ts' },
      outdir: join(outRoot, 'dist', 'node'),
    },
  ];
}

/** Writes dist/browser/ and dist/node/ under `outRoot` (no declarations: tsc is slow, and only `npm run build` needs them). */
export async function bundlePackage(outRoot) {
  rmSync(join(outRoot, 'dist'), { recursive: true, force: true });
  await Promise.all(packageBuildOptions(outRoot).map((options) => esbuild.build(options)));
}

/**
 * The package as npm installs it, without tsc's declarations: `dir/node_modules/kiln-webgpu`
 * with package.json, bin/kiln.mjs and the bundles. Returns that directory. For tests and
 * `npm run sizes`, which resolve `kiln-webgpu` as an app does.
 */
export async function stagePackage(dir) {
  const installed = join(dir, 'node_modules', 'kiln-webgpu');
  mkdirSync(join(installed, 'bin'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
  copyFileSync(join(ROOT, 'bin', 'kiln.mjs'), join(installed, 'bin', 'kiln.mjs'));
  await bundlePackage(installed);
  return installed;
}

async function build() {
  await bundlePackage(ROOT);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  } catch {
    // tsc has printed its errors; a stack trace of this script would only hide them.
    console.error('build: tsc could not emit dist/types/ (errors above).');
    process.exit(1);
  }
  console.log('built dist/browser/, dist/node/ and dist/types/');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await build();
}
