/**
 * A topological order of the kernels as they stand (each group, and each ungrouped node,
 * a unit), kept valid as row fusion merges groups, so its cycle check searches only the
 * units ordered between the two it merges instead of everything downstream of them: a
 * path from `a` to `b` only passes units ordered between them. A merge reorders those
 * units as Pearce and Kelly's dynamic topological sort does (what reaches the later one
 * first, then the merged unit, then what the earlier one reaches). A journal undoes the
 * merges of a row region that does not pay off.
 */

import type { Building, Fusion } from './building.js';
import { nodesOfGroup } from './building.js';
import { MinHeap } from '../../min-heap.js';

type Unit = Building | number;

export class UnitOrder {
  /** False when the units are not acyclic (a fusion bug): then nothing may be pruned. */
  readonly valid: boolean;
  private readonly ord = new Map<Unit, number>();
  private journal: [Unit, number | undefined][] | undefined;

  /** Orders the units of `fusion` as grouped now, by their first node where the order is free. */
  constructor(private readonly fusion: Fusion) {
    const units = new Set<Unit>(fusion.groupOf.values());
    for (const readers of fusion.consumers.values()) for (const c of readers) units.add(this.unitOf(c));
    const waiting = new Map<Unit, number>([...units].map((u) => [u, 0]));
    for (const u of units) for (const s of this.successors(u)) waiting.set(s, waiting.get(s)! + 1);
    const first = new Map([...units].map((u) => [u, typeof u === 'number' ? u : nodesOfGroup(u).reduce((a, b) => Math.min(a, b))]));
    const ready = new MinHeap<Unit>((a, b) => first.get(a)! < first.get(b)!);
    for (const [u, count] of waiting) if (count === 0) ready.push(u);
    for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
      this.ord.set(next, this.ord.size);
      for (const s of this.successors(next)) {
        waiting.set(s, waiting.get(s)! - 1);
        if (waiting.get(s) === 0) ready.push(s);
      }
    }
    this.valid = this.ord.size === units.size;
  }

  unitOf(id: number): Unit {
    return this.fusion.groupOf.get(id) ?? id;
  }

  /** `replaced`'s units now form `unit` (a row region starting from a group): it takes their place. */
  rename(replaced: Unit, unit: Unit): void {
    this.set(unit, this.ord.get(replaced));
  }

  /**
   * Whether merging units `a` and `b` would close a cycle: a path from one to the other
   * through other units. Order says which way such a path could run.
   */
  mergeCreatesCycle(a: Unit, b: Unit): boolean {
    const [early, late] = this.ord.get(a)! < this.ord.get(b)! ? [a, b] : [b, a];
    const [low, high] = [this.ord.get(early)!, this.ord.get(late)!];
    const between = (u: Unit): boolean => {
      const ord = this.ord.get(u);
      return ord !== undefined && ord > low && ord < high;
    };
    // Searched from both ends at once, each side taking first the units nearest the other
    // end: a path is found where the two meet, usually long before either side is done.
    const sides = [
      { seen: new Set<Unit>(), next: (u: Unit) => this.successors(u), frontier: new MinHeap<Unit>((x, y) => this.ord.get(x)! > this.ord.get(y)!) },
      { seen: new Set<Unit>(), next: (u: Unit) => this.predecessors(u), frontier: new MinHeap<Unit>((x, y) => this.ord.get(x)! < this.ord.get(y)!) },
    ] as const;
    const reach = (side: 0 | 1, u: Unit): boolean => {
      if (!between(u) || sides[side].seen.has(u)) return false;
      if (sides[1 - side]!.seen.has(u)) return true;
      sides[side].seen.add(u);
      sides[side].frontier.push(u);
      return false;
    };
    for (const u of this.successors(early)) if (reach(0, u)) return true;
    for (const u of this.predecessors(late)) if (reach(1, u)) return true;
    // A side with nothing left to search has found everything it reaches, none of it on the other side.
    while (sides[0].frontier.size > 0 && sides[1].frontier.size > 0) {
      for (const side of [0, 1] as const) for (const u of sides[side].next(sides[side].frontier.pop()!)) if (reach(side, u)) return true;
    }
    return false;
  }

  /** Records that `a` and `b` (no cycle between them) are now the one unit `merged`, reordering what lies between them. */
  merge(a: Unit, b: Unit, merged: Unit): void {
    const [early, late] = this.ord.get(a)! < this.ord.get(b)! ? [a, b] : [b, a];
    const after = this.reachedBetween(early, late, 'forward');
    const before = this.reachedBetween(late, early, 'backward');
    const byOrd = (x: Unit, y: Unit): number => this.ord.get(x)! - this.ord.get(y)!;
    const slots = [...before, early, late, ...after].map((u) => this.ord.get(u)!).sort((x, y) => x - y);
    [...before.sort(byOrd), merged, ...after.sort(byOrd)].forEach((u, k) => this.set(u, slots[k]));
  }

  /** Starts recording changes, to undo them with `rollBack`. */
  begin(): void {
    this.journal = [];
  }

  rollBack(): void {
    for (const [unit, ord] of this.journal!.reverse()) {
      if (ord === undefined) this.ord.delete(unit);
      else this.ord.set(unit, ord);
    }
    this.journal = undefined;
  }

  /**
   * The units a search from `from` reaches (successors when forward, predecessors when
   * backward) without passing `to` or leaving the ords strictly between theirs.
   */
  private reachedBetween(from: Unit, to: Unit, direction: 'forward' | 'backward'): Unit[] {
    const [low, high] = [this.ord.get(from)!, this.ord.get(to)!].sort((x, y) => x - y) as [number, number];
    const next = (u: Unit): Iterable<Unit> => (direction === 'forward' ? this.successors(u) : this.predecessors(u));
    const seen = new Set<Unit>();
    const stack = [from];
    while (stack.length > 0) {
      for (const u of next(stack.pop()!)) {
        const ord = this.ord.get(u);
        if (seen.has(u) || ord === undefined || ord <= low || ord >= high) continue;
        seen.add(u);
        stack.push(u);
      }
    }
    return [...seen];
  }

  private *successors(u: Unit): Iterable<Unit> {
    for (const id of typeof u === 'number' ? [u] : nodesOfGroup(u)) {
      for (const c of this.fusion.consumers.get(id) ?? []) if (this.unitOf(c) !== u) yield this.unitOf(c);
    }
  }

  private *predecessors(u: Unit): Iterable<Unit> {
    for (const id of typeof u === 'number' ? [u] : nodesOfGroup(u)) {
      for (const input of this.fusion.graph.node(id).inputs) if (this.unitOf(input) !== u) yield this.unitOf(input);
    }
  }

  private set(unit: Unit, ord: number | undefined): void {
    this.journal?.push([unit, this.ord.get(unit)]);
    if (ord === undefined) this.ord.delete(unit);
    else this.ord.set(unit, ord);
  }
}
