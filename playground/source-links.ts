/**
 * Source links, as Compiler Explorer draws them: an editor line ↔ the graph nodes it built
 * ↔ the kernels that compute them ↔ the lines of their WGSL. Pure data, no DOM: the page
 * lights what a hovered line, node, kernel row or WGSL line links to, and tests check the
 * index in Node.
 *
 * Nodes know their line (the compiler's provenance, `DagNode.line`). A kernel knows its
 * nodes from the report (`ops`) and from its WGSL header, which also names the nodes a
 * prologue computes (the report's ops leave those out). A WGSL line computes a node when
 * it writes the local codegen/fused.ts gives it: locals are named by position (`v0`,
 * `v1`, … in the order of the header's nodes; a row kernel's folds `acc3`, `row_sum1`,
 * `row_max1` likewise), and each function numbers its own: `kiln_prologue` the prologue's
 * nodes, `kiln_epilogue_column_sums` the column sums (its `v0` the column sum itself),
 * `kiln_epilogue`/`kiln_epilogue_matrix` and a loop kernel's `main` the other nodes. The
 * body of a template (a matmul's or a reduction's `main`) computes its anchor, and every
 * line of a kernel of one node computes that node.
 */

import type { KernelReport } from '../index.js';

/** A node as the index needs it (a `DagNode` fits). */
export interface LinkedNode {
  readonly id: number;
  /** The editor line (1-based) that built it, when known. */
  readonly line?: number;
}

/** A kernel as the index needs it (a `KernelReport` fits). */
export interface LinkedKernel {
  readonly position: number;
  readonly kind: KernelReport['kind'];
  readonly ops: readonly { readonly op: string; readonly node: number }[];
  readonly wgsl: string;
}

/** `//   %27:f32[4,16] = matmul …` or `//   prologue %85:f32[64,128] = mul …` */
const HEADER_NODE = /^\/\/\s+(prologue\s+)?%(\d+):\S+ = (\w+)/;
/** A function's first line, at column 0 (a one-line helper ends on it too). */
const FUNCTION_START = /^fn (\w+)\(/;
/** Locals of fused elementwise code: `v3`. */
const ELEMENT_LOCAL = /\bv(\d+)\b/;
/** Locals of a row kernel: `v3`, `acc3`, `acc3_max`, `row_sum3`, `row_max3`. */
const ROW_LOCAL = /\b(?:v|acc|row_sum|row_max)(\d+)(?:_max)?\b/;

/** The header's nodes: the prologue's (in order) and the others (the anchor first, then the rest, column sums last). */
interface HeaderNodes {
  readonly prologue: readonly number[];
  readonly nodes: readonly number[];
  readonly ops: ReadonlyMap<number, string>;
}

function headerNodes(lines: readonly string[]): HeaderNodes {
  const prologue: number[] = [];
  const nodes: number[] = [];
  const ops = new Map<number, string>();
  for (const line of lines) {
    if (!line.startsWith('//')) break;
    const match = HEADER_NODE.exec(line);
    if (!match) continue;
    const id = Number(match[2]);
    (match[1] ? prologue : nodes).push(id);
    ops.set(id, match[3]!);
  }
  return { prologue, nodes, ops };
}

/** Each line's function (`undefined` outside any), with the one-line helpers named too. */
function functionOfLines(lines: readonly string[]): (string | undefined)[] {
  let current: string | undefined;
  return lines.map((line) => {
    const start = FUNCTION_START.exec(line);
    if (start) {
      const oneLine = line.trimEnd().endsWith('}');
      current = oneLine ? undefined : start[1];
      return start[1];
    }
    const inside = current;
    if (line === '}') current = undefined;
    return inside;
  });
}

/**
 * The graph nodes each line of a kernel's WGSL computes: element `i` for line `i + 1`
 * (an empty list for declarations, index arithmetic and helpers).
 */
export function wgslLineNodes(kernel: LinkedKernel): readonly (readonly number[])[] {
  const lines = kernel.wgsl.split('\n');
  const header = headerNodes(lines);
  const functions = functionOfLines(lines);
  const computed = [...header.prologue, ...header.nodes];
  const only = computed.length === 1 ? computed[0] : undefined;
  const hasTemplate = functions.some((name) => name === 'kiln_epilogue' || name === 'kiln_prologue');
  const sums = columnSums(lines, functions, header);
  const sumsSet = new Set(sums);
  const main = header.nodes.filter((id) => !sumsSet.has(id));
  const local = (line: string, pattern: RegExp, order: readonly number[]): number[] => {
    const match = pattern.exec(line);
    const id = match ? order[Number(match[1])] : undefined;
    return id === undefined ? [] : [id];
  };
  const result = lines.map((line, index): number[] => {
    const described = HEADER_NODE.exec(line);
    if (described) return [Number(described[2])];
    const name = functions[index];
    if (name === undefined || line.startsWith('fn ') || line === '}' || (name !== 'main' && !name.startsWith('kiln_epilogue') && name !== 'kiln_prologue')) return [];
    if (only !== undefined) return [only];
    if (kernel.kind === 'row') return local(line, ROW_LOCAL, header.nodes);
    if (name === 'kiln_prologue') return local(line, ELEMENT_LOCAL, header.prologue);
    if (name === 'kiln_epilogue_column_sums') return local(line, ELEMENT_LOCAL, sums);
    if (name.startsWith('kiln_epilogue')) return local(line, ELEMENT_LOCAL, main);
    // A template's main computes its anchor; a loop kernel's main is the fused element code.
    return hasTemplate ? main.slice(0, 1) : local(line, ELEMENT_LOCAL, main);
  });
  if (kernel.kind === 'row') inheritLoops(lines, result);
  return result;
}

/**
 * The column sums' nodes in the order their function numbers them: the last header nodes
 * (fusion puts them after the product's), as many as the function has locals, the column
 * sum (their anchor, a `sum`) first.
 */
function columnSums(lines: readonly string[], functions: readonly (string | undefined)[], header: HeaderNodes): number[] {
  const locals = new Set<number>();
  lines.forEach((line, index) => {
    const match = functions[index] === 'kiln_epilogue_column_sums' ? /\blet v(\d+)\b/.exec(line) : null;
    if (match) locals.add(Number(match[1]));
  });
  if (locals.size === 0) return [];
  const tail = header.nodes.slice(-locals.size);
  const anchor = tail.find((id) => header.ops.get(id) === 'sum') ?? tail[0]!;
  return [anchor, ...tail.filter((id) => id !== anchor)];
}

/** A row kernel's `for (…) {` and its `}` compute what the loop's body computes. */
function inheritLoops(lines: readonly string[], result: number[][]): void {
  const open: number[] = [];
  lines.forEach((line, index) => {
    if (/^\s+for \(.*\{$/.test(line)) open.push(index);
    else if (/^\s+\}$/.test(line) && open.length > 0) {
      const start = open.pop()!;
      const inner = [...new Set(result.slice(start + 1, index).flat())];
      result[start] = inner;
      result[index] = inner;
    }
  });
}

/** The index for one entry's kernels (fused or unfused) over the simplified graph's nodes. */
export class SourceLinks {
  private readonly nodesByLine = new Map<number, number[]>();
  private readonly lineOfNode = new Map<number, number>();
  private readonly kernelNodes: ReadonlyMap<number, ReadonlySet<number>>;
  private readonly wgslLines = new Map<number, readonly (readonly number[])[]>();

  constructor(
    nodes: readonly LinkedNode[],
    private readonly kernels: readonly LinkedKernel[],
  ) {
    for (const node of nodes) {
      if (node.line === undefined) continue;
      this.lineOfNode.set(node.id, node.line);
      const list = this.nodesByLine.get(node.line) ?? [];
      list.push(node.id);
      this.nodesByLine.set(node.line, list);
    }
    this.kernelNodes = new Map(
      kernels.map((kernel) => {
        const header = headerNodes(kernel.wgsl.split('\n'));
        return [kernel.position, new Set([...kernel.ops.map(({ node }) => node), ...header.prologue, ...header.nodes])] as const;
      }),
    );
  }

  /** The lines (sorted) that have nodes. */
  get lines(): number[] {
    return [...this.nodesByLine.keys()].sort((a, b) => a - b);
  }

  /** The nodes an editor line built. */
  nodesOfLine(line: number): readonly number[] {
    return this.nodesByLine.get(line) ?? [];
  }

  /** The editor lines (sorted, distinct) that built `nodes`. */
  linesOfNodes(nodes: Iterable<number>): number[] {
    const lines = new Set<number>();
    for (const id of nodes) {
      const line = this.lineOfNode.get(id);
      if (line !== undefined) lines.add(line);
    }
    return [...lines].sort((a, b) => a - b);
  }

  /** Every node kernel `position` computes (its prologue's included). */
  nodesOfKernel(position: number): ReadonlySet<number> {
    return this.kernelNodes.get(position) ?? new Set();
  }

  /** The positions of the kernels that compute any of `nodes`, in dispatch order. */
  kernelsOfNodes(nodes: Iterable<number>): number[] {
    const wanted = new Set(nodes);
    return this.kernels.filter((kernel) => [...this.nodesOfKernel(kernel.position)].some((id) => wanted.has(id))).map((kernel) => kernel.position);
  }

  /** The WGSL lines (1-based) of kernel `position` that compute any of `nodes`. */
  wgslLinesOfNodes(position: number, nodes: Iterable<number>): number[] {
    const wanted = new Set(nodes);
    const lines: number[] = [];
    this.linesOfKernel(position).forEach((ids, index) => {
      if (ids.some((id) => wanted.has(id))) lines.push(index + 1);
    });
    return lines;
  }

  /** The nodes WGSL line `line` (1-based) of kernel `position` computes. */
  nodesOfWgslLine(position: number, line: number): readonly number[] {
    return this.linesOfKernel(position)[line - 1] ?? [];
  }

  /** Parsed when first asked for: a large model has hundreds of kernels, and a hover reads one. */
  private linesOfKernel(position: number): readonly (readonly number[])[] {
    let lines = this.wgslLines.get(position);
    if (!lines) {
      const kernel = this.kernels.find((k) => k.position === position);
      lines = kernel ? wgslLineNodes(kernel) : [];
      this.wgslLines.set(position, lines);
    }
    return lines;
  }
}
