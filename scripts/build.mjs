/**
 * `npm run build`: bundles the public entry (index.ts) to dist/kiln.js with esbuild and
 * emits type declarations to dist/types/ with tsc. Also exports the bundle options, so
 * tests and the playground bundle browser code exactly as the library is bundled.
 */

import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

/** The repository root, so the build works from any directory. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Left out of browser bundles: the Node-only imports in runtime/dawn.ts. They are
 * dynamic imports that never run in a browser.
 */
export const BROWSER_EXTERNALS = ['webgpu', 'node:*'];

/** esbuild options for an ES module bundle of `entry` (relative to the root) for browsers. */
export function browserBundleOptions(entry) {
  return {
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: BROWSER_EXTERNALS,
    logLevel: 'warning',
  };
}

/** The library bundle: dist/kiln.js with a source map. */
export const libraryBuildOptions = { ...browserBundleOptions('index.ts'), outfile: 'dist/kiln.js', sourcemap: true };

async function build() {
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  await esbuild.build(libraryBuildOptions);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  } catch {
    // tsc has printed its errors; a stack trace of this script would only hide them.
    console.error('build: tsc could not emit dist/types/ (errors above).');
    process.exit(1);
  }
  console.log('built dist/kiln.js and dist/types/');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await build();
}
