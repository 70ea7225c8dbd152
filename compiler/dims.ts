/**
 * Symbolic dimensions: a size that is a name (`batch`) or a polynomial in names with
 * integer coefficients (`784*batch`, `batch*seq`, `2*batch`), fixed only when a run feeds
 * its inputs. Shape rules compute with them through this module's arithmetic; kernels read
 * them at run time from the plan's size block; the runtime evaluates them (`evaluateDim`).
 *
 * A `SymDim` is interned: two equal polynomials are the same object, so shapes compare
 * with `===` whether their dims are numbers or symbols. A polynomial with no names is
 * never a SymDim: it is a number.
 */

import { ArgumentError } from './errors.js';
import { parsePlanSize } from './plan-format.js';

/** One term of a polynomial: `coefficient × names[0] × names[1] × …` (names sorted, repeats allowed). */
export interface DimTerm {
  readonly coefficient: number;
  readonly names: readonly string[];
}

/** A dimension size: a static non-negative integer, or a symbolic size. */
export type Dim = number | SymDim;

/** How a dim is stored in JSON (graphs and plans): a number, or the symbolic size as printed (`"784*batch"`). */
export type DimJson = number | string;

const interned = new Map<string, SymDim>();

/** A symbolic size: a polynomial in named dims with integer coefficients, interned (compare with `===`). */
export class SymDim {
  private constructor(
    /** Terms in canonical order (by names), no zero coefficients, at least one named term. */
    readonly terms: readonly DimTerm[],
    private readonly text: string,
  ) {}

  /** The names this size depends on, sorted, each once. */
  get names(): readonly string[] {
    return [...new Set(this.terms.flatMap((t) => t.names))].sort();
  }

  /** `batch`, `784*batch`, `batch*seq + 1`: how shapes print it. */
  toString(): string {
    return this.text;
  }

  toJSON(): DimJson {
    return dimToJson(this);
  }

  /** @internal The canonical SymDim (or number) of `terms`. */
  static of(terms: readonly DimTerm[]): Dim {
    const byKey = new Map<string, DimTerm>();
    for (const term of terms) {
      if (term.coefficient === 0) continue;
      const names = [...term.names].sort();
      const key = names.join('*');
      const prior = byKey.get(key);
      byKey.set(key, { coefficient: (prior?.coefficient ?? 0) + term.coefficient, names });
    }
    const kept = [...byKey.entries()]
      .filter(([, t]) => t.coefficient !== 0)
      .sort(([a], [b]) => (a === b ? 0 : a === '' ? 1 : b === '' ? -1 : a < b ? -1 : 1))
      .map(([, t]) => t);
    if (kept.every((t) => t.names.length === 0)) return kept[0]?.coefficient ?? 0;
    const text = kept
      .map((t, i) => {
        const body = t.names.length === 0 ? String(Math.abs(t.coefficient)) : [...(Math.abs(t.coefficient) === 1 ? [] : [String(Math.abs(t.coefficient))]), ...t.names].join('*');
        const sign = t.coefficient < 0 ? (i === 0 ? '-' : ' - ') : i === 0 ? '' : ' + ';
        return sign + body;
      })
      .join('');
    let dim = interned.get(text);
    if (dim === undefined) {
      dim = new SymDim(kept, text);
      interned.set(text, dim);
    }
    return dim;
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` may name a dim: an identifier (letters, digits, `_`, not starting with a digit). */
export function isDimName(name: string): boolean {
  return NAME.test(name);
}

/** Returns `name` if it may name a dim, else throws an ArgumentError naming `where`. */
export function checkDimName(where: string, name: unknown): string {
  if (typeof name !== 'string') throw new ArgumentError(`${where}: the name must be a string such as 'batch', got ${describe(name)}.`);
  if (!isDimName(name)) {
    throw new ArgumentError(`${where}: dim name '${name}' is not an identifier; name a dim with letters, digits and '_' (not starting with a digit), e.g. 'batch'.`);
  }
  return name;
}

/** The symbolic size named `name` (`g.dim('batch')`, or `'batch'` in a shape). */
export function symbol(name: string): SymDim {
  return SymDim.of([{ coefficient: 1, names: [checkDimName('symbol', name)] }]) as SymDim;
}

/**
 * Returns `d` if it is a Dim (an integer or a SymDim), else throws an ArgumentError naming
 * `where`: the exported arithmetic is public API, so a wrong argument is refused here rather
 * than failing inside as a TypeError or computing NaN.
 */
function checkDim(where: string, d: unknown): Dim {
  if (d instanceof SymDim || Number.isInteger(d)) return d as Dim;
  throw new ArgumentError(`${where}: expected a size (an integer, or a symbolic size such as g.dim('batch')), got ${describe(d)}.`);
}

/** Checks that `sizes` maps dim names to integers (what evaluateDim and substituteDim take). */
function checkSizes(where: string, sizes: unknown): Readonly<Record<string, number>> {
  if (sizes === null || typeof sizes !== 'object' || Array.isArray(sizes)) {
    throw new ArgumentError(`${where}: sizes must be an object of dim name → size, e.g. {batch: 32}; got ${describe(sizes)}.`);
  }
  for (const [name, size] of Object.entries(sizes)) {
    if (!Number.isInteger(size)) throw new ArgumentError(`${where}: sizes.${name} must be an integer, got ${describe(size)}.`);
  }
  return sizes as Readonly<Record<string, number>>;
}

function describe(value: unknown): string {
  if (value === null || typeof value === 'number') return String(value);
  if (typeof value === 'string') return `'${value}'`;
  return Array.isArray(value) ? 'an array' : typeof value;
}

export function isSymbolic(d: Dim): d is SymDim {
  return typeof checkDim('isSymbolic', d) !== 'number';
}

const termsOf = (d: Dim): readonly DimTerm[] => (typeof d === 'number' ? [{ coefficient: d, names: [] }] : d.terms);

export function dimAdd(a: Dim, b: Dim): Dim {
  checkDim('dimAdd', a);
  checkDim('dimAdd', b);
  return typeof a === 'number' && typeof b === 'number' ? a + b : SymDim.of([...termsOf(a), ...termsOf(b)]);
}

export function dimSub(a: Dim, b: Dim): Dim {
  checkDim('dimSub', a);
  checkDim('dimSub', b);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return SymDim.of([...termsOf(a), ...termsOf(b).map((t) => ({ coefficient: -t.coefficient, names: t.names }))]);
}

export function dimMul(a: Dim, b: Dim): Dim {
  checkDim('dimMul', a);
  checkDim('dimMul', b);
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const terms: DimTerm[] = [];
  for (const x of termsOf(a)) for (const y of termsOf(b)) terms.push({ coefficient: x.coefficient * y.coefficient, names: [...x.names, ...y.names] });
  return SymDim.of(terms);
}

/** The product of `dims` (1 for none). */
export function dimProduct(dims: readonly Dim[]): Dim {
  if (!Array.isArray(dims)) throw new ArgumentError(`dimProduct: expected an array of sizes, got ${describe(dims)}.`);
  let product: Dim = 1;
  for (const d of dims) product = dimMul(product, checkDim('dimProduct', d));
  return product;
}

/** Removes one occurrence of each of `divisor`'s names from `names`, or undefined when one is missing. */
function divideNames(names: readonly string[], divisor: readonly string[]): string[] | undefined {
  const rest = [...names];
  for (const name of divisor) {
    const at = rest.indexOf(name);
    if (at < 0) return undefined;
    rest.splice(at, 1);
  }
  return rest;
}

/**
 * `a / b` when it is exact for every value of the names (`784*batch / 784 = batch`,
 * `batch*seq / seq = batch`), else undefined. A divisor with several terms divides only
 * a multiple of itself.
 */
export function dimDivide(a: Dim, b: Dim): Dim | undefined {
  checkDim('dimDivide', a);
  checkDim('dimDivide', b);
  if (b === 0) return undefined;
  if (typeof a === 'number' && typeof b === 'number') return a % b === 0 ? a / b : undefined;
  if (a === b) return 1;
  const divisor = termsOf(b);
  if (divisor.length === 1) {
    const [d] = divisor as [DimTerm];
    const terms: DimTerm[] = [];
    for (const t of termsOf(a)) {
      const names = divideNames(t.names, d.names);
      if (names === undefined || t.coefficient % d.coefficient !== 0) return undefined;
      terms.push({ coefficient: t.coefficient / d.coefficient, names });
    }
    return SymDim.of(terms);
  }
  // A polynomial divisor: try the quotient of the leading terms and check it multiplies back.
  const [lead] = termsOf(a);
  const [leadB] = divisor;
  const names = lead && leadB ? divideNames(lead.names, leadB.names) : undefined;
  if (!lead || !leadB || names === undefined || lead.coefficient % leadB.coefficient !== 0) return undefined;
  const quotient = SymDim.of([{ coefficient: lead.coefficient / leadB.coefficient, names }]);
  return dimMul(quotient, b) === a ? quotient : undefined;
}

/** The value of `d` when each name has the size `sizes[name]`; throws when a name is missing. */
export function evaluateDim(d: Dim, sizes: Readonly<Record<string, number>>): number {
  checkDim('evaluateDim', d);
  checkSizes('evaluateDim', sizes);
  if (typeof d === 'number') return d;
  let total = 0;
  for (const t of d.terms) {
    let value = t.coefficient;
    for (const name of t.names) {
      const size = sizes[name];
      if (size === undefined) throw new ArgumentError(`evaluateDim: the size of dim '${name}' is not known here; bind it (dims: {${name}: …}) or feed an input that has it.`);
      value *= size;
    }
    total += value;
  }
  return total;
}

/** `d` with the names in `sizes` replaced by their sizes (others stay symbolic). */
export function substituteDim(d: Dim, sizes: Readonly<Record<string, number>>): Dim {
  checkDim('substituteDim', d);
  checkSizes('substituteDim', sizes);
  if (typeof d === 'number') return d;
  return SymDim.of(
    d.terms.map((t) => {
      let coefficient = t.coefficient;
      const names: string[] = [];
      for (const name of t.names) {
        const size = sizes[name];
        if (size === undefined) names.push(name);
        else coefficient *= size;
      }
      return { coefficient, names };
    }),
  );
}

export function dimToJson(d: Dim): DimJson {
  return typeof d === 'number' ? d : d.toString();
}

/** Reads a dim from JSON or a plan: a number, or a symbolic size as printed (`"784*batch"`). */
export function dimFromJson(json: unknown): Dim {
  if (typeof json === 'number') return json;
  if (typeof json !== 'string') throw new ArgumentError(`a dim in JSON must be a number or a size such as "batch" or "784*batch", got ${JSON.stringify(json)}.`);
  const terms = parsePlanSize(json);
  for (const name of terms.flatMap((t) => t.names)) symbol(name);
  return SymDim.of(terms);
}

/** The names a list of dims depends on, sorted, each once. */
export function dimNames(dims: readonly Dim[]): string[] {
  return [...new Set(dims.flatMap((d) => (typeof d === 'number' ? [] : d.names)))].sort();
}
