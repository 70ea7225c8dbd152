/**
 * The repository's module graph, read from source: every static `import … from` and
 * `export … from` of a relative path (type-only ones too: a type import is still a
 * dependency a reader has to follow). Dynamic `import()` is left out on purpose: it is how
 * a script loads an optional piece at run time, not a layer the code is built on.
 * Used by test/architecture.test.ts; small enough to test on synthetic graphs.
 */

import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Module → the modules it imports; paths relative to the repository root, with '/' separators. */
export type ImportGraph = Map<string, string[]>;

const SOURCE = /\.(ts|mts|mjs)$/;

/** Every source file under these roots (directories or single files), skipping node_modules. */
export function sourceFiles(repoRoot: string, roots: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (relative: string): void => {
    const full = path.join(repoRoot, relative);
    if (!fs.existsSync(full)) return;
    if (fs.statSync(full).isDirectory()) {
      for (const entry of fs.readdirSync(full).sort()) {
        if (entry === 'node_modules') continue;
        walk(path.posix.join(relative, entry));
      }
    } else if (SOURCE.test(relative) && !relative.endsWith('.d.mts') && !relative.endsWith('.d.ts')) {
      files.push(relative);
    }
  };
  for (const root of roots) walk(root);
  return files;
}

/** The relative module specifiers of a file's static imports and re-exports. */
export function staticImports(source: string, fileName = 'module.ts'): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, false);
  const specifiers: string[] = [];
  for (const statement of file.statements) {
    const specifier = (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement))
      ? statement.moduleSpecifier
      : undefined;
    if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith('.')) {
      specifiers.push(specifier.text);
    }
  }
  return specifiers;
}

/** Resolves `./x.js` (the NodeNext spelling) to the `./x.ts` that exists beside the importer. */
function resolve(repoRoot: string, importer: string, specifier: string): string {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(importer), specifier));
  const candidates = [joined, joined.replace(/\.js$/, '.ts'), joined.replace(/\.mjs$/, '.mts'), `${joined}.ts`, `${joined}/index.ts`];
  return candidates.find((candidate) => fs.existsSync(path.join(repoRoot, candidate)) && fs.statSync(path.join(repoRoot, candidate)).isFile()) ?? joined;
}

/** The import graph of the given files. */
export function readImportGraph(repoRoot: string, files: readonly string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const source = fs.readFileSync(path.join(repoRoot, file), 'utf8');
    const targets = staticImports(source, file).map((specifier) => resolve(repoRoot, file, specifier));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The graph's import cycles: its strongly connected components with more than one module (or a self-import), each sorted. */
export function importCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative so a deep import chain cannot overflow the stack.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    index.set(start, counter); low.set(start, counter); counter++;
    stack.push(start); onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = (graph.get(frame.node) ?? []).filter((target) => graph.has(target));
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (!index.has(target)) {
          index.set(target, counter); low.set(target, counter); counter++;
          stack.push(target); onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfImport = (graph.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfImport) cycles.push(component.sort());
      }
    }
  }
  return cycles;
}

/** Every module reachable from the given ones (themselves included). */
export function reachableFrom(graph: ImportGraph, starts: readonly string[]): Set<string> {
  const seen = new Set<string>(starts);
  const pending = [...starts];
  while (pending.length > 0) {
    for (const target of graph.get(pending.pop()!) ?? []) {
      if (!seen.has(target)) {
        seen.add(target);
        pending.push(target);
      }
    }
  }
  return seen;
}

/** One path of imports from `from` to `to` (both included), or undefined: names the chain a failure message shows. */
export function importPath(graph: ImportGraph, from: string, to: string): string[] | undefined {
  const previous = new Map<string, string>();
  const pending = [from];
  const seen = new Set([from]);
  while (pending.length > 0) {
    const module = pending.shift()!;
    if (module === to) {
      const chain = [to];
      while (chain[0] !== from) chain.unshift(previous.get(chain[0]!)!);
      return chain;
    }
    for (const target of graph.get(module) ?? []) {
      if (!seen.has(target)) {
        seen.add(target);
        previous.set(target, module);
        pending.push(target);
      }
    }
  }
  return undefined;
}

/** Edges `importer → imported` where the importer matches `from` and the imported module matches `to`, as 'a → b' lines. */
export function edgesBetween(graph: ImportGraph, from: (module: string) => boolean, to: (module: string) => boolean): string[] {
  const edges: string[] = [];
  for (const [importer, targets] of graph) {
    if (!from(importer)) continue;
    for (const target of targets) if (to(target)) edges.push(`${importer} → ${target}`);
  }
  return edges;
}

/**
 * The compiler modules the runtime may reach (directly or through each other): the plan's
 * format, its checks (memory plan, kernel against a device's limits), the limits, the
 * error classes and the argument checks (compiler/ops/args.ts: option keys, objects). A
 * plan runs in a browser with these and nothing else of the compiler.
 */
export const RUNTIME_MAY_IMPORT: ReadonlySet<string> = new Set([
  'compiler/plan-format.ts',
  'compiler/plan-check.ts',
  'compiler/errors.ts',
  'compiler/ops/args.ts',
  'compiler/limits.ts',
  'compiler/liveness.ts',
  'compiler/kernel-fit.ts',
]);
