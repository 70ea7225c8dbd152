/**
 * Rows holding NaN and infinities at chosen places, among finite values, for the tests of
 * kiln's NaN and infinity semantics (README, "NaN and infinities"): the same patterns at
 * any row length, so one set of cases reaches the per-output, tree and row kernels.
 */

import { testData } from './helpers.js';

const INF = Infinity;

/** One special row: its name and where its special values go in a row of `length` (≥ 4). */
interface SpecialRow {
  readonly name: string;
  /** [position, value] pairs; `fill` decides the other elements. */
  readonly at: (length: number) => readonly (readonly [number, number])[];
  /** What the other elements are: finite values, or all the same special value. */
  readonly fill?: number;
}

const middle = (length: number): number => Math.floor(length / 2);

export const SPECIAL_ROWS: readonly SpecialRow[] = [
  { name: 'finite', at: () => [] },
  { name: 'NaN first', at: () => [[0, NaN]] },
  { name: 'NaN in the middle', at: (n) => [[middle(n), NaN]] },
  { name: 'NaN last', at: (n) => [[n - 1, NaN]] },
  { name: 'two NaNs', at: (n) => [[1, NaN], [n - 2, NaN]] },
  { name: 'all −∞', at: () => [], fill: -INF },
  { name: 'two +∞', at: (n) => [[1, INF], [n - 1, INF]] },
  { name: 'one +∞', at: (n) => [[middle(n), INF]] },
  { name: '+∞ and −∞', at: (n) => [[0, -INF], [n - 1, INF]] },
  { name: '−∞ among numbers', at: (n) => [[middle(n), -INF]] },
  { name: '+∞ then NaN', at: (n) => [[0, INF], [n - 1, NaN]] },
  { name: 'all +∞', at: () => [], fill: INF },
];

/**
 * The special rows as a [rows, length] matrix, row-major; other elements are finite in
 * [lo, hi) (by default [0.9, 1.1), so a product of a few hundred stays finite and a sum
 * stays away from 0).
 */
export function specialMatrix(length: number, range: readonly [number, number] = [0.9, 1.1], seed = 1): number[] {
  return SPECIAL_ROWS.flatMap((row, r) => {
    const values = row.fill === undefined ? testData(length, seed + r, range[0], range[1]) : new Array<number>(length).fill(row.fill);
    for (const [position, value] of row.at(length)) values[position] = value;
    return values;
  });
}
