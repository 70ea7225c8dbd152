/**
 * How many elements one model may compute on the host at import (folded values, and the
 * values of ConstantOfShape, Range and EyeLike). Each one is bounded (checkDims), but a
 * small file can hold many: twenty ConstantOfShape [8192, 8192] nodes are 3 KB that would
 * take minutes and gigabytes. A real model folds about as much as it holds (a transposed
 * or dequantized weight is the size of its initializer), so the budget grows with the
 * values the file holds: initializers and tensor attributes (Constant values).
 */

import { OnnxError } from '../errors.js';

/** Elements any model may compute at import, whatever it holds (shape arithmetic needs a few). */
const FOLD_BUDGET_BASE = 2 ** 24;
/** And this many more per element the file holds. */
const FOLD_BUDGET_PER_HELD_ELEMENT = 8;

export class FoldBudget {
  private held = 0;
  private spent = 0;

  /** `limit`: the caller's budget (`importOnnx`'s `maxFoldedElements`), instead of the one that grows with the file. */
  constructor(private readonly limit?: number) {}

  /** Counts values the file holds (an initializer, a tensor attribute): they raise the budget. */
  hold(elements: number): void {
    this.held += elements;
  }

  get budget(): number {
    return this.limit ?? FOLD_BUDGET_BASE + FOLD_BUDGET_PER_HELD_ELEMENT * this.held;
  }

  /** Charges `elements` computed at import for `node` (`Add node 'a' (opset 13)`), before they are allocated. */
  spend(node: string, elements: number): void {
    const total = this.spent + elements;
    if (total > this.budget) {
      const rule =
        this.limit === undefined ? `2^24 plus ${FOLD_BUDGET_PER_HELD_ELEMENT} per element the model holds in initializers and Constant values` : 'maxFoldedElements';
      throw new OnnxError(
        `${node}: computing its ${elements} elements at import would bring what this model computes at import to ${total} elements, ` +
          `over the budget of ${this.budget} (${rule}). A model this small should not need that much computed on the host; ` +
          `if it does, raise the budget with importOnnx(bytes, {maxFoldedElements: ${total}}).`,
      );
    }
    this.spent = total;
  }
}
