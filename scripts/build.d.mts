/** Types of scripts/build.mjs, for the TypeScript tests that reuse its bundle options. */
import type { BuildOptions } from 'esbuild';

export declare const ROOT: string;
export declare const PACKAGE_ENTRIES: Readonly<Record<'index' | 'runtime' | 'onnx', string>>;
export declare function browserBundleOptions(entry: string): BuildOptions;
export declare function packageBuildOptions(outRoot: string): BuildOptions[];
export declare function bundlePackage(outRoot: string): Promise<void>;
export declare function stagePackage(dir: string): Promise<string>;
