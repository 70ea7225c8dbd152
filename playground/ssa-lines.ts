/** Which graph nodes a line of the SSA text declares, so the text and the DAG select each other. */

/**
 * The node ids an SSA line declares: `%12:f32[…] = …`, `param fc1.kernel:…`, every name of the
 * `in` line, and the value of an `assign` line.
 */
export function lineNodes(line: string, idOfLabel: ReadonlyMap<string, number>): number[] {
  const trimmed = line.trim();
  const assign = /^assign \S+ <- (\S+)$/.exec(trimmed);
  if (assign) return idsOf([assign[1]!], idOfLabel);
  const declared = /^(?:let\s+)?(%\d+):/.exec(trimmed) ?? /^(?:param|state)\s+([^:\s]+):/.exec(trimmed);
  if (declared) return idsOf([declared[1]!], idOfLabel);
  if (trimmed.startsWith('in ')) return idsOf([...trimmed.slice(3).matchAll(/([^\s:]+):/g)].map((m) => m[1]!), idOfLabel);
  return [];
}

function idsOf(labels: readonly string[], idOfLabel: ReadonlyMap<string, number>): number[] {
  return labels.flatMap((label) => {
    const id = idOfLabel.get(label);
    return id === undefined ? [] : [id];
  });
}
