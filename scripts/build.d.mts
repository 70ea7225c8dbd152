/** Types of scripts/build.mjs, for the TypeScript tests that reuse its bundle options. */
import type { BuildOptions } from 'esbuild';

export declare const ROOT: string;
export declare const BROWSER_EXTERNALS: string[];
export declare function browserBundleOptions(entry: string): BuildOptions;
export declare const libraryBuildOptions: BuildOptions;
