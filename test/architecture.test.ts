/**
 * The walls between kiln's stages, read from the import graph of the source (static
 * imports and re-exports of relative paths, type-only ones included), and a size budget
 * per source file. The pipeline runs one way, builder → passes → codegen and shaders →
 * plan and memory → runtime, and so do the imports: a later stage may import an earlier
 * one, never the reverse, and no stage after the builder is part of an import cycle.
 */

import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImportGraph } from './import-graph.js';
import { RUNTIME_MAY_IMPORT, edgesBetween, importCycles, importPath, readImportGraph, reachableFrom, sourceFiles, staticImports } from './import-graph.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every directory and entry file whose modules the walls cover (tests aside: a test may import anything). */
const SOURCE_ROOTS = ['index.ts', 'runtime.ts', 'onnx.ts', 'bin', 'compiler', 'runtime', 'shaders', 'tune', 'scripts', 'bench', 'playground', 'examples'];

const under =
  (...dirs: string[]) =>
  (module: string): boolean =>
    dirs.some((dir) => module.startsWith(`${dir}/`));

/** An import edge that must not exist: from a module matching `from` to one matching `to`, and why. */
interface Wall {
  readonly name: string;
  readonly from: (module: string) => boolean;
  readonly to: (module: string) => boolean;
  readonly why: string;
}

const WALLS: readonly Wall[] = [
  {
    name: 'compiler/ and shaders/ never import runtime/ or tune/',
    from: under('compiler', 'shaders'),
    to: under('runtime', 'tune'),
    why: 'the compiler emits plans without a device; whatever runs or times kernels imports the compiler, not the reverse',
  },
  {
    name: 'runtime/ never imports tune/',
    from: under('runtime'),
    to: under('tune'),
    why: 'the autotuner builds kernels from shader templates; the runtime bundle must not carry them',
  },
  {
    name: 'shaders/ never import compiler/passes/ or compiler/ops/',
    from: under('shaders'),
    to: under('compiler/passes', 'compiler/ops'),
    why: 'a template is given its parameters by an op; the types it takes are declared in the template (or in compiler/codegen/, compiler/shape.ts)',
  },
  {
    name: 'compiler/codegen/ never imports shaders/',
    from: under('compiler/codegen'),
    to: under('shaders'),
    why: 'codegen/kernel.ts, wgsl.ts and tuning.ts are the layer templates build on; ops connect codegen to the templates',
  },
  {
    name: 'compiler/passes/ never import compiler/codegen/ or shaders/',
    from: under('compiler/passes'),
    to: under('compiler/codegen', 'shaders'),
    why: 'passes rewrite graphs before anything is lowered; what both need to know about a node is in compiler/node-values.ts',
  },
];

/**
 * The one import cycle allowed: the graph builder's. A Tensor's methods call the op
 * functions, which build nodes on the Graph and return Tensors; Graph.toString prints with
 * print.ts, which reads Graph's types. Every other cycle fails, whatever its stage.
 */
const BUILDER_CYCLE_MAY_HOLD = (module: string): boolean =>
  ['compiler/graph.ts', 'compiler/tensor.ts', 'compiler/print.ts'].includes(module) || /^compiler\/ops\/[^/]+\.ts$/.test(module);

/** Source files longer than this fail: a file that needs a scroll bar to be understood is asking to be split. */
const MAX_LINES = 420;

/** Every wall `graph` breaks, as messages naming the edge, the chain or the cycle's files. */
function wallViolations(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const wall of WALLS) {
    for (const edge of edgesBetween(graph, wall.from, wall.to)) violations.push(`${wall.name}: ${edge} (${wall.why})`);
  }
  // runtime.ts, the package's `kiln-webgpu/runtime` entry, is held to the runtime's wall too.
  const runtime = [...graph.keys()].filter((module) => under('runtime')(module) || module === 'runtime.ts');
  for (const module of [...reachableFrom(graph, runtime)].sort()) {
    if (under('runtime')(module) || module === 'runtime.ts' || RUNTIME_MAY_IMPORT.has(module)) continue;
    const chain = runtime.map((start) => importPath(graph, start, module)).find((found) => found !== undefined) ?? [module];
    violations.push(
      `runtime/ reaches ${module}, which is not among the compiler modules it may import (${[...RUNTIME_MAY_IMPORT].join(', ')}): ${chain.join(' → ')}`,
    );
  }
  for (const cycle of importCycles(graph)) {
    const outside = cycle.filter((module) => !BUILDER_CYCLE_MAY_HOLD(module));
    if (outside.length > 0) {
      violations.push(`import cycle through ${outside.join(', ')} (only the builder's graph, tensor, print and ops may import each other): ${cycle.join(', ')}`);
    }
  }
  return violations;
}

/** The source files over MAX_LINES (a file starting with `@generated` on its first line is not hand-written, so not counted). */
function overSize(files: readonly string[]): { file: string; lines: number }[] {
  return files.flatMap((file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    if (/@generated/.test(text.split('\n', 1)[0]!)) return [];
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    return lines > MAX_LINES ? [{ file, lines }] : [];
  });
}

describe('architecture: the walls between stages', () => {
  const files = sourceFiles(ROOT, SOURCE_ROOTS);
  const graph = readImportGraph(ROOT, files);

  it('reads the whole source tree, index.ts and the runtime included', () => {
    expect(files).to.include.members(['index.ts', 'runtime.ts', 'onnx.ts', 'compiler/graph.ts', 'runtime/session.ts', 'shaders/matmul.ts', 'tune/autotune.ts']);
    expect(graph.get('index.ts')).to.include('runtime/session.ts');
  });

  it('has no import across a wall, no runtime import beyond the plan format and its checks, and no cycle outside the builder', () => {
    expect(wallViolations(graph), 'forbidden imports').to.deep.equal([]);
  });

  it(`keeps every source file (tests aside) within ${MAX_LINES} lines`, () => {
    const over = overSize(files);
    expect(over.map(({ file, lines }) => `${file}: ${lines} lines, over ${MAX_LINES}; split it by concern`)).to.deep.equal([]);
  });
});

describe('architecture: the checker itself', () => {
  const graphOf = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

  it('reads static imports and re-exports, type-only ones too, and skips dynamic and package imports', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export type { D } from './d.js';",
      "export * from './e.js';",
      "import './side-effect.js';",
      "import chai from 'chai';",
      "const lazy = await import('./lazy.js');",
    ].join('\n');
    expect(staticImports(source)).to.deep.equal(['./a.js', '../b.js', './c.js', './d.js', './e.js', './side-effect.js']);
  });

  it('names the edge when a template imports an op', () => {
    const graph = graphOf({ 'shaders/conv.ts': ['compiler/ops/conv-shape.ts'], 'compiler/ops/conv-shape.ts': [] });
    expect(wallViolations(graph)).to.deep.equal([
      `shaders/ never import compiler/passes/ or compiler/ops/: shaders/conv.ts → compiler/ops/conv-shape.ts (${WALLS[2]!.why})`,
    ]);
  });

  it('names the edge when the compiler imports the runtime', () => {
    const graph = graphOf({ 'compiler/plan.ts': ['runtime/session.ts'], 'runtime/session.ts': [] });
    expect(wallViolations(graph)).to.have.length(1);
    expect(wallViolations(graph)[0]).to.contain('compiler/plan.ts → runtime/session.ts');
  });

  it('names the chain by which the runtime reaches a compiler module it may not import', () => {
    const graph = graphOf({
      'runtime/session.ts': ['runtime/plan-check.ts'],
      'runtime/plan-check.ts': ['compiler/liveness.ts'],
      'compiler/liveness.ts': ['compiler/plan-format.ts', 'compiler/codegen/wgsl.ts'],
      'compiler/plan-format.ts': [],
      'compiler/codegen/wgsl.ts': [],
    });
    const violations = wallViolations(graph);
    expect(violations).to.have.length(1);
    expect(violations[0]).to.contain('runtime/ reaches compiler/codegen/wgsl.ts');
    expect(violations[0]).to.contain('runtime/session.ts → runtime/plan-check.ts → compiler/liveness.ts → compiler/codegen/wgsl.ts');
  });

  it("names a cycle's files when a later stage is in it, and allows the builder's cycle", () => {
    const graph = graphOf({
      'compiler/passes/fuse.ts': ['compiler/codegen/lower.ts'],
      'compiler/codegen/lower.ts': ['compiler/codegen/fused.ts'],
      'compiler/codegen/fused.ts': ['compiler/passes/fuse.ts'],
      'compiler/tensor.ts': ['compiler/ops/binary.ts'],
      'compiler/ops/binary.ts': ['compiler/graph.ts'],
      'compiler/graph.ts': ['compiler/tensor.ts'],
    });
    const violations = wallViolations(graph).filter((v) => v.startsWith('import cycle'));
    expect(violations).to.deep.equal([
      'import cycle through compiler/codegen/fused.ts, compiler/codegen/lower.ts, compiler/passes/fuse.ts ' +
        "(only the builder's graph, tensor, print and ops may import each other): " +
        'compiler/codegen/fused.ts, compiler/codegen/lower.ts, compiler/passes/fuse.ts',
    ]);
  });

  it('finds a cycle of two and a self-import, and none in a chain', () => {
    expect(importCycles(graphOf({ a: ['b'], b: ['a'], c: ['c'], d: ['e'], e: [] }))).to.deep.equal([['a', 'b'], ['c']]);
  });
});
