/**
 * Row fusion: a softmax, or a reduction along rows, and the elementwise work and row
 * reductions around it (a loss and its gradient; a layer norm's mean, variance and
 * scaling) run as one kernel with one invocation per row, the row held in registers,
 * instead of a kernel per reduction with the rows written between them.
 */

import type { Graph, Node } from '../../graph.js';
import type { Building, Fusion } from './building.js';
import { isElementwise } from './building.js';
import { createsCycle, fitsIfAcyclic } from './fit.js';
import { UnitOrder } from './unit-order.js';
import { rowRuleOf, worksAlongRows } from '../../ops/op.js';
import type { Dim } from '../../dims.js';
import type { Shape } from '../../shape.js';

/** Rows up to this long are held in registers (a private array per value) by a row kernel. */
export const MAX_ROW_LENGTH = 256;

/**
 * Whether a node works row by row on [rows, length]: elementwise on [rows, length],
 * [rows, 1] or [rows]; softmax or logSoftmax along the rows; a reduction along them.
 */
function isRowWise(graph: Graph, node: Node, rows: Dim, length: number): boolean {
  const s = node.shape;
  const full = s.length === 2 && s[0] === rows && s[1] === length;
  const perRow = (s.length === 2 && s[0] === rows && s[1] === 1) || (s.length === 1 && s[0] === rows);
  if (isElementwise(node)) return full || perRow;
  const rule = rowRuleOf(node);
  if (rule?.kind === 'normalize') return full && worksAlongRows(node);
  if (rule?.kind === 'reduce') {
    // Its input must be the rows themselves: a sum over a size-1 axis ([rows, 1] → [rows, 1])
    // is not a reduction along rows of this length.
    const input = graph.node(node.inputs[0]!).shape;
    return perRow && worksAlongRows(node) && input.length === 2 && input[0] === rows && input[1] === length;
  }
  return false;
}

/** Turns each row-wise region around a softmax or row reduction into one row group, where it pays off. */
export function fuseRows(fusion: Fusion): void {
  const { graph, groupOf, consumers } = fusion;
  // A seed, the [rows, length] it works over, and whether it is a reduction (not a softmax).
  const seeds: { id: number; shape: Shape; reduction?: boolean }[] = [];
  for (const id of groupOf.keys()) {
    const node = graph.node(id);
    if (rowRuleOf(node)?.kind === 'normalize' && node.shape.length === 2) seeds.push({ id, shape: node.shape });
    const input = node.inputs.length === 1 ? graph.node(node.inputs[0]!) : undefined;
    if (rowRuleOf(node)?.kind === 'reduce' && input?.shape.length === 2 && worksAlongRows(node)) seeds.push({ id, shape: input.shape, reduction: true });
  }
  // Row regions grow by merges checked for cycles; the order bounds each search (unit-order.ts).
  const order = new UnitOrder(fusion);
  for (const seed of seeds) {
    const [rows, length] = seed.shape;
    // A row of one element (or none) has nothing to share between its elements. A row is
    // held in private arrays, so its length must be static; the row count may be symbolic.
    if (rows === undefined || typeof length !== 'number' || length > MAX_ROW_LENGTH || length < 2 || rows === 0) continue;
    const start = groupOf.get(seed.id)!;
    if (start.kind === 'row') continue;
    const rowWise = (g: Building): boolean =>
      !g.columnSums && [...g.members, ...(g.prologue?.nodes ?? [])].every((id) => isRowWise(graph, graph.node(id), rows, length));
    if (!rowWise(start)) continue;
    const region: Building = { kind: 'row', members: new Set([...start.members, ...(start.prologue?.nodes ?? [])]), shape: [rows, length] };
    const before = new Map<number, Building>();
    const absorb = (g: Building): void => {
      for (const id of [...g.members, ...(g.prologue?.nodes ?? [])]) {
        before.set(id, groupOf.get(id)!);
        region.members.add(id);
        groupOf.set(id, region);
      }
    };
    order.begin();
    order.rename(start, region);
    absorb(start);
    for (let grew = true; grew; ) {
      grew = false;
      const neighbours = new Set<Building>();
      for (const id of region.members) {
        for (const other of [...graph.node(id).inputs, ...(consumers.get(id) ?? [])]) {
          const g = groupOf.get(other);
          if (g && g !== region) neighbours.add(g);
        }
      }
      for (const g of neighbours) {
        if (!rowWise(g)) continue;
        const members = new Set([...region.members, ...g.members, ...(g.prologue?.nodes ?? [])]);
        if (!fitsIfAcyclic(fusion, { members })) continue;
        if (order.valid ? order.mergeCreatesCycle(region, g) : createsCycle(fusion, members)) continue;
        if (order.valid) order.merge(region, g, region);
        absorb(g);
        grew = true;
      }
    }
    // A row kernel pays off when it walks the row again after reducing it (a softmax by
    // hand, a norm's scaling, a variance after a mean); a reduction with only work before
    // and after it keeps its reduction kernel (input fusion, trees for long rows).
    if (seed.reduction && !revisitsRows(graph, region.members, rows, length)) {
      for (const [id, g] of before) groupOf.set(id, g);
      order.rollBack();
    }
  }
}

/** Whether some full-row member of the region depends on a reduction of the region. */
function revisitsRows(graph: Graph, members: ReadonlySet<number>, rows: Dim, length: number): boolean {
  const afterReduction = new Set<number>();
  for (const id of [...members].sort((a, b) => a - b)) {
    const node = graph.node(id);
    const reduces = rowRuleOf(node) !== undefined;
    if (!reduces && !node.inputs.some((input) => afterReduction.has(input))) continue;
    const full = node.shape.length === 2 && node.shape[0] === rows && node.shape[1] === length;
    if (!reduces && full) return true;
    afterReduction.add(id);
  }
  return false;
}
