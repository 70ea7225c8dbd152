/** Types of scripts/bundle-sizes.mjs, for the tests that bundle the package as an app would. */
export interface EntrySize {
  readonly name: string;
  readonly what: string;
  readonly minified: number;
  readonly gzip: number;
}
export declare const MEASURED: readonly { name: string; what: string; entries: string[] }[];
export declare function appBundle(dir: string, source: string, options?: { minify?: boolean }): Promise<string>;
export declare function measureEntries(dir: string): Promise<EntrySize[]>;
