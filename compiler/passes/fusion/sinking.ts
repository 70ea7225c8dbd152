/**
 * Sinking: an elementwise member written out only for one other group is moved into that
 * group, when everything it reads is in memory anyway (the ReLU mask of the backward
 * pass, computed from the stored activation where it is used). The value then needs no
 * buffer, and the read it replaces is of the same size.
 */

import { recomputedWhereRead } from '../../node-values.js';
import { sameShape } from '../../shape.js';
import type { Building, Fusion } from './building.js';
import { isElementwise } from './building.js';
import { fitsIfAcyclic } from './fit.js';

export function sinkIntoConsumers(fusion: Fusion): void {
  const { graph, groupOf, consumers, externallyRead } = fusion;
  const inMemory = (id: number, group: Building): boolean => {
    if (!group.members.has(id)) return true;
    return externallyRead.has(id) || (consumers.get(id) ?? []).some((c) => !group.members.has(c) && groupOf.get(c) !== group);
  };
  for (const [id, group] of [...groupOf]) {
    if (group.kind !== 'loop' && group.kind !== 'epilogue') continue;
    if (id === group.anchor || !group.members.has(id) || externallyRead.has(id)) continue;
    const node = graph.node(id);
    if (!isElementwise(node)) continue;
    const users = consumers.get(id) ?? [];
    const targets = new Set(users.map((c) => groupOf.get(c)));
    if (targets.size !== 1 || targets.has(undefined) || targets.has(group)) continue;
    const target = [...targets][0]!;
    if ((target.kind !== 'loop' && target.kind !== 'epilogue') || target.columnSums || !sameShape(target.shape, node.shape)) continue;
    if (users.some((c) => target.prologue?.nodes.has(c))) continue;
    if (!node.inputs.every((input) => recomputedWhereRead(graph, graph.node(input)) || inMemory(input, group))) continue;
    // No cycle check: the kernels are acyclic, every input of the node comes from `group` or a
    // kernel before it, `group` runs before `target` (it feeds it), and every reader of the
    // node is in `target`; so a path out of `target` leads to kernels after it, never back.
    const members = new Set([...target.members, id]);
    if (!fitsIfAcyclic(fusion, { members, ...(target.prologue ? { prologue: target.prologue } : {}), ...(target.anchor === undefined ? {} : { anchor: target.anchor }) })) continue;
    group.members.delete(id);
    target.members.add(id);
    groupOf.set(id, target);
  }
}
