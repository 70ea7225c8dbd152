/**
 * Incremental fit checks for group formation. fit.ts judges a proposed group from its
 * whole member set, which costs the group's size; form.ts grows groups a node at a time,
 * so judging every join that way is quadratic in a long chain of elementwise ops. A
 * GroupSummary keeps what the checks read (each member's consumers outside the group, the
 * nodes outside that read it, the buffers its element program reads, its outputs) and
 * updates them as nodes join, so a join costs the degree of what joins. Its answers are
 * fitsCandidate's, exactly: it counts the same things, kept instead of recounted.
 */

import { recomputedWhereRead } from '../../node-values.js';
import type { Building, Fusion, Prologue } from './building.js';
import { createsCycleFrom, readsOf } from './fit.js';

/** What the checks read of a prologue, which never changes once formed. */
interface PrologueFacts {
  /** Every input of its nodes (a member among them would be read before it is written). */
  readonly inputs: ReadonlySet<number>;
  /** Consumers of its nodes outside it (where a path out of the kernel can start). */
  readonly exits: ReadonlySet<number>;
  /** Storage buffers the prologue binds instead of the operand it computes. */
  readonly bindings: number;
}

/** The summaries of one formGroups run, with what they share. */
export class Summaries {
  private readonly summaries = new Map<Building, GroupSummary>();
  private readonly prologues = new WeakMap<Prologue, PrologueFacts>();
  /** Update target → the values that update it (an output writing its target in place binds nothing more). */
  readonly valuesUpdating = new Map<number, number[]>();

  constructor(readonly fusion: Fusion) {
    for (const [value, target] of fusion.updates) this.valuesUpdating.set(target, [...(this.valuesUpdating.get(target) ?? []), value]);
  }

  /** Whether `group` with `node` joined fits (groups are formed in topological order: nothing after `node` is grouped yet). If so, it joins. */
  tryJoin(group: Building, node: number): boolean {
    const summary = this.of(group);
    summary.begin();
    summary.add([node]);
    return summary.settle(summary.fits(node, this.mayCloseCycle(group, node)));
  }

  /**
   * Whether `node` joining `group` could close a cycle. The kernels are acyclic and nothing
   * reads `node` yet, so a cycle would have to come back into `node` through one of its
   * inputs outside the group; an ungrouped input that reads nothing (a constant, an input,
   * a param) cannot be reached from anywhere.
   */
  private mayCloseCycle(group: Building, node: number): boolean {
    const { graph, groupOf } = this.fusion;
    return graph.node(node).inputs.some(
      (input) => !group.members.has(input) && !group.prologue?.nodes.has(input) && (groupOf.has(input) || graph.node(input).inputs.length > 0),
    );
  }

  /**
   * Whether `joined` and `other` fit as one group (the anchor and prologue of whichever has
   * one); if so, `joined.members` becomes their union (`joined`'s first, as a merge always
   * listed them) and the result is the members `other` brings, else undefined.
   */
  tryMerge(joined: Building, other: Building, bound: number): readonly number[] | undefined {
    const [base, rest] = joined.anchor === undefined && other.anchor !== undefined ? [other, joined] : [joined, other];
    const summary = this.of(base);
    summary.begin();
    summary.add([...rest.members]);
    if (!base.prologue && rest.prologue) summary.setPrologue(rest.prologue);
    if (!summary.settle(summary.fits(bound))) return undefined;
    const moved = base === joined ? [...other.members] : [...other.members].filter((id) => !joined.members.has(id));
    if (base !== joined) summary.members = new Set([...joined.members, ...summary.members]);
    joined.members = summary.members;
    this.summaries.delete(other);
    this.summaries.set(joined, summary);
    return moved;
  }

  factsOf(prologue: Prologue): PrologueFacts {
    let facts = this.prologues.get(prologue);
    if (!facts) {
      const { graph, consumers } = this.fusion;
      const inputs = new Set<number>();
      const exits = new Set<number>();
      for (const id of prologue.nodes) {
        for (const input of graph.node(id).inputs) inputs.add(input);
        for (const c of consumers.get(id) ?? []) if (!prologue.nodes.has(c)) exits.add(c);
      }
      facts = { inputs, exits, bindings: readsOf(graph, prologue.nodes, (id) => prologue.nodes.has(id)).size };
      this.prologues.set(prologue, facts);
    }
    return facts;
  }

  private of(group: Building): GroupSummary {
    let summary = this.summaries.get(group);
    if (!summary) {
      summary = new GroupSummary(this, group);
      this.summaries.set(group, summary);
    }
    return summary;
  }
}

/** One group's counts (see the module comment), with an undo log for a join that does not fit. */
class GroupSummary {
  /** The group's member set itself (joins add to it), in the order the group lists them. */
  members: Set<number>;
  private readonly anchor: number | undefined;
  private prologue: Prologue | undefined;
  /** Members among the prologue's inputs. */
  private prologueHits = 0;
  /** Member → its consumer edges to nodes outside the group. */
  private readonly outside = new Map<number, number>();
  /** Node outside the group → its input edges from members. */
  private readonly exits = new Map<number, number>();
  /** Buffer read by the element program (members but the anchor) → the edges reading it. */
  private readonly reads = new Map<number, number>();
  /** Members but the anchor that the group writes out. */
  private readonly outputs = new Set<number>();
  private undo: (() => void)[] | undefined;

  constructor(
    private readonly shared: Summaries,
    group: Building,
  ) {
    this.members = group.members;
    this.anchor = group.anchor;
    this.prologue = group.prologue;
    this.countAdded(this.members);
  }

  begin(): void {
    this.undo = [];
  }

  /** Keeps what changed since `begin` when it fits, else undoes it; returns `fits`. */
  settle(fits: boolean): boolean {
    if (!fits) for (const step of this.undo!.reverse()) step();
    this.undo = undefined;
    return fits;
  }

  add(ids: readonly number[]): void {
    const added = new Set(ids);
    for (const id of added) this.setMember(id);
    this.countAdded(added);
  }

  setPrologue(prologue: Prologue): void {
    const [before, hitsBefore] = [this.prologue, this.prologueHits];
    this.undo?.push(() => ((this.prologue = before), (this.prologueHits = hitsBefore)));
    this.prologue = prologue;
    this.prologueHits = [...this.shared.factsOf(prologue).inputs].filter((id) => this.members.has(id)).length;
  }

  /** fitsCandidate's answer for the group as it now stands; nothing after `bound` is grouped yet. */
  fits(bound: number, mayCloseCycle = true): boolean {
    const { fusion } = this.shared;
    const { graph, externallyRead, maxBindings } = fusion;
    const { members, anchor, prologue } = this;
    if (anchor !== undefined && graph.node(anchor).inputs.some((input) => members.has(input))) return false;
    if (this.prologueHits > 0) return false;
    const facts = prologue && this.shared.factsOf(prologue);
    if (mayCloseCycle) {
      const starts = [...this.exits.keys()].filter((c) => !prologue?.nodes.has(c));
      for (const c of facts?.exits ?? []) if (!members.has(c)) starts.push(c);
      const inside = (id: number): boolean => members.has(id) || (prologue?.nodes.has(id) ?? false);
      if (createsCycleFrom(fusion, inside, starts, bound)) return false;
    }
    let bindings = this.reads.size + this.outputs.size;
    if (anchor !== undefined) {
      const operands = graph.node(anchor).inputs.length;
      bindings += facts ? operands - 1 + facts.bindings : operands;
      if (externallyRead.has(anchor) || (this.outside.get(anchor) ?? 0) > 0) bindings++;
    }
    return bindings <= maxBindings;
  }

  /** Updates every count for `added`, which are already members. */
  private countAdded(added: ReadonlySet<number>): void {
    const { graph, consumers } = this.shared.fusion;
    const { members, anchor } = this;
    const touched = new Set<number>(added);
    const changedReads = new Set<number>();
    const prologueInputs = this.prologue && this.shared.factsOf(this.prologue).inputs;
    for (const id of added) {
      if (this.reads.has(id)) changedReads.add(id);
      this.setCount(this.reads, id, 0);
      this.setCount(this.exits, id, 0);
      if (prologueInputs?.has(id)) this.setHits(this.prologueHits + 1);
      for (const input of graph.node(id).inputs) {
        if (members.has(input) && !added.has(input)) {
          this.bump(this.outside, input, -1);
          touched.add(input);
        } else if (!members.has(input) && id !== anchor && !recomputedWhereRead(graph, graph.node(input))) {
          if (!this.reads.has(input)) changedReads.add(input);
          this.bump(this.reads, input, 1);
        }
      }
      for (const c of consumers.get(id) ?? []) {
        if (members.has(c)) continue;
        this.bump(this.outside, id, 1);
        this.bump(this.exits, c, 1);
      }
    }
    for (const read of changedReads) for (const value of this.shared.valuesUpdating.get(read) ?? []) touched.add(value);
    for (const id of touched) if (members.has(id) && id !== anchor) this.setOutput(id, this.isOutput(id));
  }

  /** estimatedBindings' rule: needed outside, unless it updates a param or state the program reads. */
  private isOutput(id: number): boolean {
    const { externallyRead, updates } = this.shared.fusion;
    const needed = externallyRead.has(id) || (this.outside.get(id) ?? 0) > 0;
    const target = updates.get(id);
    return needed && !(target !== undefined && this.reads.has(target));
  }

  private bump(map: Map<number, number>, key: number, delta: number): void {
    this.setCount(map, key, (map.get(key) ?? 0) + delta);
  }

  /** Sets a count, a count of 0 as absent (so a map's size counts what is there). */
  private setCount(map: Map<number, number>, key: number, count: number): void {
    const before = map.get(key);
    if (before === (count === 0 ? undefined : count)) return;
    this.undo?.push(() => (before === undefined ? map.delete(key) : map.set(key, before)));
    if (count === 0) map.delete(key);
    else map.set(key, count);
  }

  private setMember(id: number): void {
    if (this.members.has(id)) return;
    this.undo?.push(() => this.members.delete(id));
    this.members.add(id);
  }

  private setOutput(id: number, output: boolean): void {
    if (this.outputs.has(id) === output) return;
    this.undo?.push(() => (output ? this.outputs.delete(id) : this.outputs.add(id)));
    if (output) this.outputs.add(id);
    else this.outputs.delete(id);
  }

  private setHits(hits: number): void {
    const before = this.prologueHits;
    this.undo?.push(() => (this.prologueHits = before));
    this.prologueHits = hits;
  }
}
