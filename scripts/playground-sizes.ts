/**
 * `npm run playground:sizes`: what the playground's static site weighs. Builds it into a
 * temporary folder (scripts/playground.ts, as `npm run playground -- --build` does) and
 * prints each script and style sheet, raw and gzip (zlib's default level, as a static host
 * compresses them); the scripts loaded together (the page's before its first paint, those
 * it imports later, the worker's), following each file's relative imports; then the whole
 * site without the dataset, the source maps, and the dataset (fetched only when an
 * example's first batch needs it).
 *
 *   npm run playground:sizes                the table, in Markdown
 *   npm run playground:sizes -- --json      the same figures as JSON
 */

import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_PATH } from '../playground/datasets.js';
import { buildPlayground } from './playground.js';

export interface SiteFile {
  /** Path in the site, with '/' separators (`main.js`, `chunks/elk-….js`). */
  readonly path: string;
  readonly raw: number;
  readonly gzip: number;
}

/** A group of scripts loaded together: an entry and what it imports statically, from its own imports on. */
export interface ScriptGroup {
  readonly what: string;
  readonly files: readonly string[];
  readonly raw: number;
  readonly gzip: number;
}

export interface SiteSizes {
  /** Scripts and style sheets, largest first. */
  readonly code: readonly SiteFile[];
  /** What the page loads before its first paint (main.js and its static imports), what it loads later (import()), and the worker's. */
  readonly groups: readonly ScriptGroup[];
  /** Everything but the dataset and the source maps. */
  readonly site: { readonly raw: number; readonly gzip: number };
  readonly sourceMaps: number;
  /** The dataset's files (already gzip files: served as they are). */
  readonly data: number;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

/** The sizes of the site built in `dir`. */
export async function siteSizes(dir: string): Promise<SiteSizes> {
  const code: SiteFile[] = [];
  const site = { raw: 0, gzip: 0 };
  let sourceMaps = 0;
  let data = 0;
  for (const path of await filesUnder(dir)) {
    const bytes = await readFile(join(dir, path));
    if (path.startsWith(FASHION_MNIST_PATH)) {
      data += bytes.length;
      continue;
    }
    if (path.endsWith('.map')) {
      sourceMaps += bytes.length;
      continue;
    }
    const gzip = gzipSync(bytes).length;
    site.raw += bytes.length;
    site.gzip += gzip;
    if (/\.(js|css)$/.test(path)) code.push({ path, raw: bytes.length, gzip });
  }
  code.sort((a, b) => b.raw - a.raw);
  return { code, groups: await scriptGroups(dir, code), sourceMaps, site, data };
}

/** Relative imports in an ES module's (minified) text: static ones (`from"./x.js"`, `import"./x.js"`) and dynamic ones (`import("./x.js")`). */
function importsOf(text: string): { static: string[]; dynamic: string[] } {
  const found = (pattern: RegExp): string[] => [...text.matchAll(pattern)].map((match) => match[1]!);
  return { static: found(/(?:from|import)\s*"(\.{1,2}\/[\w./-]+\.js)"/g), dynamic: found(/import\(\s*"(\.{1,2}\/[\w./-]+\.js)"\s*\)/g) };
}

/** The files `entry` loads with its static imports, and the entries it imports dynamically (paths relative to the site). */
async function staticClosure(dir: string, entry: string): Promise<{ files: string[]; later: string[] }> {
  const files: string[] = [];
  const later = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (files.includes(path)) continue;
    files.push(path);
    const base = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
    const resolve = (spec: string): string => new URL(spec, `file:///${base}`).pathname.slice(1);
    const imports = importsOf(await readFile(join(dir, path), 'utf8'));
    pending.push(...imports.static.map(resolve));
    for (const spec of imports.dynamic) later.add(resolve(spec));
  }
  return { files, later: [...later].filter((path) => !files.includes(path)) };
}

async function scriptGroups(dir: string, code: readonly SiteFile[]): Promise<ScriptGroup[]> {
  const sizeOf = (files: readonly string[]): { raw: number; gzip: number } => {
    const rows = code.filter(({ path }) => files.includes(path));
    return { raw: rows.reduce((a, r) => a + r.raw, 0), gzip: rows.reduce((a, r) => a + r.gzip, 0) };
  };
  const page = await staticClosure(dir, 'main.js');
  const pageFiles = [...page.files, ...code.filter(({ path }) => path === 'main.css').map(({ path }) => path)];
  const laterFiles: string[] = [];
  for (const entry of page.later) for (const path of (await staticClosure(dir, entry)).files) if (!pageFiles.includes(path) && !laterFiles.includes(path)) laterFiles.push(path);
  const worker = (await staticClosure(dir, 'worker.js')).files;
  return [
    { what: 'the page before its first paint: main.js, its static imports and main.css', files: pageFiles, ...sizeOf(pageFiles) },
    { what: 'loaded by the page with import() (the editor, the loss chart)', files: laterFiles, ...sizeOf(laterFiles) },
    { what: 'the worker: worker.js and its static imports (shared chunks counted again)', files: worker, ...sizeOf(worker) },
  ];
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

/** The sizes as a Markdown table and a line of totals. */
export function sizesTable(sizes: SiteSizes): string {
  const rows = sizes.code.map(({ path, raw, gzip }) => `| \`${path}\` | ${kb(raw)} | ${kb(gzip)} |`);
  return [
    '| file | raw | gzip |',
    '|---|---:|---:|',
    ...rows,
    `| site without the dataset and source maps | ${kb(sizes.site.raw)} | ${kb(sizes.site.gzip)} |`,
    '',
    '| loaded together | files | raw | gzip |',
    '|---|---|---:|---:|',
    ...sizes.groups.map(({ what, files, raw, gzip }) => `| ${what} | ${files.map((f) => `\`${f}\``).join(', ')} | ${kb(raw)} | ${kb(gzip)} |`),
    '',
    `Source maps ${mb(sizes.sourceMaps)}; the dataset ${mb(sizes.data)} (gzip files, fetched when a batch is first needed); ` +
      `the whole site with both ${mb(sizes.site.raw + sizes.sourceMaps + sizes.data)}.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-playground-sizes-'));
  try {
    await buildPlayground(dir);
    const sizes = await siteSizes(dir);
    console.log(process.argv.includes('--json') ? JSON.stringify(sizes, null, 2) : sizesTable(sizes));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
