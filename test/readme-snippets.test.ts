/**
 * Every ```ts snippet of README.md type-checks as a user's code would: under `strict` and
 * `noUncheckedIndexedAccess`, importing the package by its name (mapped to the sources
 * its `exports` are built from). A snippet after the marker `<!-- continues the snippet
 * above -->` is checked with the one before it, as a reader runs them.
 */

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONTINUES = '<!-- continues the snippet above -->';

/** The data a reader brings to the snippets: batches of Fashion-MNIST images and their labels. */
const READER_DATA = `
declare const images: Float32Array;
declare const labels: Int32Array;
declare const batchImages: Float32Array;
declare const batchLabels: Int32Array;
`;

/**
 * What a user's code may not do, checked beside the snippets: if GPUDevice were `any`
 * (types without @webgpu/types), a number would pass for a device, and an output the
 * program does not have would type-check.
 */
const MUST_NOT_COMPILE = `
import { Graph, Session, compile, sgd, trainingProgram } from 'PACKAGE';
const g = new Graph('typed', { outputs: ['y'] });
const x = g.input('x', [2]);
g.output('y', x.relu());
const plan = compile(trainingProgram(g, { loss: x.square().sum(), optimizer: sgd({ lr: 0.1 }) }));
// @ts-expect-error a number is not a GPUDevice
const session = await Session.create(42, plan);
// @ts-expect-error forward has no output 'z'
(await session.forward({ x: [1, 2] })).z;
// @ts-expect-error trainStep returns 'loss' only
(await session.trainStep({ x: [1, 2] })).y;
// @ts-expect-error the graph lists 'y' as its only output
g.output('z', x);
`;

interface Snippet {
  readonly line: number;
  readonly code: string;
  readonly continues: boolean;
}

function readmeSnippets(): Snippet[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const end = lines.findIndex((text, j) => j > i && text.trim() === '```');
    const before = lines.slice(0, i).reverse().find((text) => text.trim() !== '');
    snippets.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n'), continues: before?.trim() === CONTINUES });
    i = end;
  }
  return snippets;
}

/** A snippet as a module: one that continues the one before is appended to it, its imports hoisted and its body in a block (so it may reuse names). */
function moduleOf(snippets: readonly Snippet[], index: number): string {
  const snippet = snippets[index]!;
  if (!snippet.continues || index === 0) return snippet.code;
  const lines = snippet.code.split('\n');
  const isImport = (text: string): boolean => /^import\s/.test(text);
  return `${moduleOf(snippets, index - 1)}\n${lines.filter(isImport).join('\n')}\n{\n${lines.filter((text) => !isImport(text)).join('\n')}\n}`;
}

/** The source file a package import resolves to: the entry's `types` in `exports`, built from the source of the same path. */
function packageSources(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  const typesOf = (condition: unknown): string | undefined => {
    if (typeof condition !== 'object' || condition === null) return undefined;
    const record = condition as Record<string, unknown>;
    if (typeof record['types'] === 'string') return record['types'];
    return Object.values(record).map(typesOf).find((found) => found !== undefined);
  };
  const paths: Record<string, string[]> = {};
  for (const [subpath, condition] of Object.entries(pkg.exports)) {
    const types = typesOf(condition);
    const source = types?.match(/^\.\/dist\/types\/(.+)\.d\.ts$/)?.[1];
    if (source === undefined) continue;
    paths[join(pkg.name, subpath)] = [join(ROOT, `${source}.ts`)];
  }
  return paths;
}

/** The diagnostics of `files` (name → code) compiled together as a strict consumer's code, each as `file(line): message`. */
function typeCheck(files: Readonly<Record<string, string>>): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node', '@webgpu/types'],
    paths: packageSources(),
    noEmit: true,
    skipLibCheck: true,
  };
  // Virtual files in a folder of the repository, so node_modules is found as from a user's project.
  const virtual = new Map(Object.entries(files).map(([name, code]) => [join(ROOT, 'readme-snippets', name), code]));
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
  host.readFile = (name) => virtual.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, language, ...rest) => {
    const code = virtual.get(name);
    return code === undefined ? getSourceFile.call(host, name, language, ...rest) : ts.createSourceFile(name, code, language);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  // Only the user's files: the sources stand in for the package's declarations, which a consumer does not check (skipLibCheck).
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && virtual.has(d.file.fileName))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${d.file!.fileName.slice(ROOT.length + 1)}(${line + 1}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

describe('the README\'s TypeScript snippets', function () {
  this.timeout(120000);
  const snippets = readmeSnippets();
  const packageName = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;

  it('are found: the README has TypeScript snippets to check', () => {
    expect(snippets.length).to.be.at.least(4);
  });

  it('type-check under strict and noUncheckedIndexedAccess as a user\'s code importing the package, and a device, output or name the types do not allow does not', () => {
    const files: Record<string, string> = { 'reader-data.d.ts': READER_DATA, 'must-not-compile.ts': MUST_NOT_COMPILE.replaceAll('PACKAGE', packageName) };
    snippets.forEach((_, i) => {
      // `export {}` makes each a module, so their top-level names do not meet.
      files[`snippet-line-${snippets[i]!.line}.ts`] = `${moduleOf(snippets, i)}\nexport {};\n`;
    });
    files['must-not-compile.ts'] += '\nexport {};\n';
    expect(typeCheck(files)).to.deep.equal([]);
  });
});
