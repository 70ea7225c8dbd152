/**
 * Golden snapshots ("process replay", after tinygrad): a few reference graphs compiled
 * against WebGPU's default limits and rendered as text — the plan, each entry's kernel
 * list, and every kernel's WGSL — so a change to simplify, fuse, codegen or the memory
 * planner shows up as a reviewable diff under `test/golden/`. `scripts/golden.ts` writes
 * them; `test/golden.test.ts` checks that the compiler still produces them byte for byte.
 */

import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { grad } from '../compiler/autodiff.js';
import { Graph } from '../compiler/graph.js';
import { compile } from '../compiler/plan.js';
import type { Plan, PlanEntry, PlanKernel } from '../compiler/plan-format.js';
import { printPlan } from '../compiler/plan-print.js';
import type { TrainingProgram } from '../compiler/train.js';
import { seedMlp } from '../examples/models/seed-mlp.js';

/** The snapshot folder, as an absolute path. */
export const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));

/** Files in the snapshot folder that are written by hand, not generated. */
const HANDWRITTEN = new Set(['README.md']);

/** The generated files now under `GOLDEN_DIR` (all but the handwritten ones): relative paths with `/`. */
export function snapshotFilesOnDisk(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
  return walk(GOLDEN_DIR)
    .map((file) => relative(GOLDEN_DIR, file).split(sep).join('/'))
    .filter((path) => !HANDWRITTEN.has(path));
}

export interface GoldenGraph {
  /** Folder name under `test/golden/`. */
  readonly name: string;
  readonly build: () => Graph | TrainingProgram;
}

/**
 * The reference graphs. Shapes are deliberately not multiples of tile or workgroup sizes,
 * so edge handling shows in the WGSL.
 */
export const GOLDEN_GRAPHS: readonly GoldenGraph[] = [
  // The model every benchmark and the dispatch target are about.
  { name: 'seed-mlp', build: () => seedMlp({ batch: 128 }) },
  // Loop fusion with a broadcast operand and two outputs from one chain.
  {
    name: 'elementwise-chain',
    build: () => {
      const g = new Graph('elementwise_chain');
      const x = g.input('x', [6, 37]);
      const scale = g.input('scale', [37]);
      const y = x.mul(scale).add(0.5).tanh().mul(x).sub(x.square().mul(0.25));
      g.output('y', y);
      g.output('gate', y.sigmoid());
      return g;
    },
  },
  // Epilogue fusion: bias and ReLU applied as the matmul stores, plus the params' init kernels.
  {
    name: 'dense-relu',
    build: () => {
      const g = new Graph('dense_relu', { seed: 0 });
      const x = g.input('x', [33, 100]);
      const w = g.param('w', [100, 48], { init: 'linearDefault' });
      const b = g.param('b', [48], { init: { kind: 'linearDefault', fanIn: 100 } });
      g.output('y', x.matmul(w).add(b).relu());
      return g;
    },
  },
  // Row fusion: softmax cross-entropy and its gradient with respect to the logits.
  {
    name: 'softmax-cross-entropy',
    build: () => {
      const g = new Graph('softmax_cross_entropy');
      const logits = g.input('logits', [20, 10]);
      const labels = g.input('labels', [20], 'i32');
      const loss = logits.softmaxCrossEntropy(labels);
      g.output('loss', loss);
      g.output('dlogits', grad(loss, [logits])[0]!);
      return g;
    },
  },
];

/**
 * Every snapshot file of every reference graph: path relative to `GOLDEN_DIR` (with `/`
 * separators) → contents. A fresh compile each call.
 */
export function goldenSnapshots(): Map<string, string> {
  const files = new Map<string, string>();
  for (const { name, build } of GOLDEN_GRAPHS) {
    // Default limits (no `limits` option), so the snapshots do not depend on this machine's adapter.
    for (const [path, text] of planSnapshots(compile(build()))) files.set(`${name}/${path}`, text);
  }
  return files;
}

/**
 * One plan's snapshot files: `plan.txt`, `<entry>.txt` per entry, `kernels/NN-name.wgsl.txt`
 * per kernel (NN its index in the plan). The `.txt` ending marks the WGSL as generated
 * data, so copy-paste checkers do not count the snapshots' repeated kernels as code.
 */
function planSnapshots(plan: Plan): Map<string, string> {
  const files = new Map<string, string>([['plan.txt', printPlan(plan)]]);
  const width = Math.max(2, String(plan.kernels.length - 1).length);
  const kernelFile = (index: number): string => `kernels/${String(index).padStart(width, '0')}-${plan.kernels[index]!.name}.wgsl.txt`;
  for (const [name, entry] of Object.entries(plan.entries)) files.set(`${name}.txt`, entryText(plan, name, entry, kernelFile));
  plan.kernels.forEach((kernel, index) => files.set(kernelFile(index), kernel.wgsl.endsWith('\n') ? kernel.wgsl : `${kernel.wgsl}\n`));
  return files;
}

/**
 * An entry point's kernels in dispatch order: the rule that formed each and why (the plan's
 * `kind` and `reason`), its header notes, its ops and nodes, its grid and what it binds.
 */
function entryText(plan: Plan, name: string, entry: PlanEntry, kernelFile: (index: number) => string): string {
  const buffer = (id: number): string => {
    const b = plan.buffers[id];
    return b ? `#${id} ${b.name} (${b.role} ${b.dtype}[${b.shape.join(',')}])` : `#${id}?`;
  };
  const named = (ids: Readonly<Record<string, number>>): string[] => Object.entries(ids).map(([label, id]) => `${label} = ${buffer(id)}`);
  const moves = (pairs: readonly { from: number; to: number }[]): string[] => pairs.map(({ from, to }) => `${buffer(from)} → ${buffer(to)}`);
  const lines = [
    `entry ${name} of ${plan.name}: ${entry.dispatches.length} dispatch${entry.dispatches.length === 1 ? '' : 'es'}`,
    ...field('inputs', named(entry.inputs)),
    ...field('outputs', named(entry.outputs)),
    ...field('copies', moves(entry.copies)),
    ...field('in place', moves(entry.inPlace ?? [])),
  ];
  entry.dispatches.forEach((index, position) => {
    const kernel = plan.kernels[index];
    lines.push('');
    if (!kernel) {
      lines.push(`${position}. kernel [${index}] is missing from the plan`);
      return;
    }
    lines.push(
      `${position}. [${index}] ${kernel.name}${kernel.elementwise ? ' (elementwise)' : ''}`,
      ...field('wgsl', [kernelFile(index)]),
      ...field('kind', kernel.kind ? [kernel.kind] : []),
      ...field('reason', kernel.reason ? [kernel.reason] : []),
      ...field('notes', headerNotes(kernel).filter((note) => note !== kernel.reason)),
      ...field('ops', [kernel.ops.map((op, j) => `${op} %${kernel.nodes[j]}`).join(', ')]),
      ...field('workgroups', [kernel.workgroups.join('×')]),
      ...field('bindings', kernel.bindings.map(({ buffer: id, access }, slot) => `${slot} ${access.padEnd(10)} ${buffer(id)}`)),
    );
  });
  return lines.join('\n') + '\n';
}

/**
 * The kernel's WGSL header comment lines that are not node descriptions (`%id:type = op
 * ...`, already listed under `ops`): what the template says about the variant it chose.
 */
function headerNotes(kernel: PlanKernel): string[] {
  const lines = kernel.wgsl.split('\n');
  const notes: string[] = [];
  // Line 0 is `// kiln kernel <name>`; the header is the comment lines that follow it.
  for (const line of lines.slice(1)) {
    if (!line.startsWith('//   ')) break;
    const text = line.slice('//   '.length);
    if (!/^(prologue )?%\d+:/.test(text)) notes.push(text);
  }
  return notes;
}

/** `   label       first item` with later items aligned below it; `none` when empty. */
function field(label: string, items: readonly string[]): string[] {
  const head = `   ${label.padEnd(11)} `;
  if (items.length === 0) return [`${head}none`];
  return items.map((item, i) => (i === 0 ? head : ' '.repeat(head.length)) + item);
}
