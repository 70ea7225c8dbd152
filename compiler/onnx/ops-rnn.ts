/**
 * ONNX recurrent ops (RNN, GRU, LSTM), unrolled over the static sequence length into kiln
 * ops: one matmul projects every step's input at once, then each step is a matmul with
 * the recurrence weights and elementwise gate math. Composed of differentiable ops, an
 * imported recurrent layer trains like any other (W, R, B are params when made trainable).
 *
 * Directions forward, reverse and bidirectional; layout 0 ([seq, batch, ...]) and 1
 * ([batch, seq, ...]); initial states; clip; per-direction activations; LSTM peepholes
 * and input_forget; GRU linear_before_reset. sequence_lens shorter than the sequence mask
 * the steps past each batch entry's end: its state holds and its Y is 0 there, which is
 * also what the reverse direction needs (it starts at the entry's last step).
 */

import * as k from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { NodeContext, OpHandler } from './handler.js';
import { registerHandlers } from './handler.js';
import type { Activation } from './rnn-activations.js';
import { activationsOf } from './rnn-activations.js';

interface State {
  readonly h: Tensor;
  /** The LSTM cell state. */
  readonly c?: Tensor;
}

/** One direction's weights, as 2-D matrices and vectors. */
interface DirectionWeights {
  /** Input weights [gates·hidden, input]. */
  readonly w: Tensor;
  /** Recurrence weights [gates·hidden, hidden]. */
  readonly r: Tensor;
  /** Input and recurrence biases [gates·hidden] (absent: 0). */
  readonly wb?: Tensor;
  readonly rb?: Tensor;
  /** LSTM peepholes [3·hidden] (i, o, f). */
  readonly p?: Tensor;
  readonly initial: State;
  readonly activations: readonly Activation[];
}

/** One step: the input projection of this step (x·Wᵀ plus the folded biases, [batch, gates·hidden]) and the previous state. */
type Step = (projected: Tensor, state: State, weights: DirectionWeights) => State;

interface Cell {
  readonly gates: number;
  readonly defaultActivations: readonly string[];
  /** Whether the recurrence bias may be added to the input projection (it may unless it sits inside a gate product). */
  readonly foldsRecurrenceBias: boolean;
  readonly step: (n: NodeContext, hidden: number) => Step;
  /** Extra attributes beyond the common ones. */
  readonly attributes: readonly string[];
  /** Number of states (2 for LSTM: h and c). */
  readonly states: number;
}

const COMMON_ATTRIBUTES = ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'];

/** Slice `d` of axis 0 of a per-direction tensor, without that axis. */
function direction(t: Tensor, d: number): Tensor {
  return t.slice([[d, d + 1], ...t.shape.slice(1).map(() => null)]).reshape(t.shape.slice(1));
}

function checkShape(n: NodeContext, t: Tensor, expected: readonly number[], what: string): void {
  if (n.staticShape(t.shape, `${what} is a weight or state of the recurrence`).join() !== expected.join()) throw n.invalid(`${what} has shape [${t.shape.join(',')}], expected [${expected.join(',')}]`);
}

/** Clip (when given) bounds a gate's input before its activation. */
function clipped(n: NodeContext): (x: Tensor) => Tensor {
  const clip = n.float('clip');
  if (clip === undefined) return (x) => x;
  if (!(clip > 0)) throw n.invalid(`clip is ${clip}; it must be positive`);
  return (x) => x.clip(-clip, clip);
}

/** Batch entries still inside their sequence at step t, as [batch, 1] (undefined: every entry, every step). */
function maskOf(n: NodeContext, steps: number, batch: number): ((t: number) => Tensor) | undefined {
  if (!n.has(4)) return undefined;
  const lengths = n.known(4);
  if (lengths) {
    if (lengths.data.length !== batch) throw n.invalid(`sequence_lens holds ${lengths.data.length} values for a batch of ${batch}`);
    const bad = Array.from(lengths.data).find((v) => v < 0 || v > steps);
    if (bad !== undefined) throw n.invalid(`sequence_lens holds ${bad}, outside [0, ${steps}]`);
    if (Array.from(lengths.data).every((v) => v === steps)) return undefined;
  }
  const given = n.input(4);
  const lens = (given.dtype === 'i32' ? given : given.cast('i32')).reshape([batch, 1]);
  return (t) => lens.greater(t);
}

/**
 * Runs one direction's steps over the projected inputs [steps·batch, gates·hidden]: each
 * step's h (0 past a masked entry's end) by time index, and the final state.
 */
function unroll(
  step: Step,
  projected: Tensor,
  weights: DirectionWeights,
  { steps, batch, reverse, mask }: { steps: number; batch: number; reverse: boolean; mask: ((t: number) => Tensor) | undefined },
): { ys: Tensor[]; state: State } {
  const ys = new Array<Tensor>(steps);
  let state = weights.initial;
  for (let i = 0; i < steps; i++) {
    const t = reverse ? steps - 1 - i : i;
    const next = step(projected.slice([[t * batch, (t + 1) * batch], null]), state, weights);
    if (!mask) {
      state = next;
      ys[t] = next.h;
      continue;
    }
    const live = mask(t);
    ys[t] = next.h.where(live, 0);
    state = { h: next.h.where(live, state.h), ...(next.c ? { c: next.c.where(live, state.c!) } : {}) };
  }
  return { ys, state };
}

function recurrent(cell: Cell): OpHandler {
  return {
    attributes: [...COMMON_ATTRIBUTES, ...cell.attributes],
    convert: (n) => {
      const layout = n.int('layout', 0);
      if (layout !== 0 && layout !== 1) throw n.invalid(`layout is ${layout}; it is 0 or 1`);
      const directionName = n.string('direction', 'forward');
      if (!['forward', 'reverse', 'bidirectional'].includes(directionName)) throw n.invalid(`direction '${directionName}'; it is forward, reverse or bidirectional`);
      const directions = directionName === 'bidirectional' ? 2 : 1;
      const given = n.input(0);
      if (given.rank !== 3) throw n.invalid(`X has rank ${given.rank}; it is [seq_length, batch_size, input_size] (layout 0) or [batch_size, seq_length, input_size] (layout 1)`);
      const x = layout === 1 ? given.transpose([1, 0, 2]) : given;
      const [steps, batch, inputSize] = n.staticShape(x.shape, 'kiln unrolls a recurrence with the sizes known at import') as [number, number, number];
      if (steps === 0) throw n.unsupported('an empty sequence (seq_length 0)');
      const w = n.input(1);
      const r = n.input(2);
      const hidden = n.int('hidden_size') ?? n.staticDim(r.shape[r.rank - 1]!, 'R is a weight of the recurrence');
      const rows = cell.gates * hidden;
      checkShape(n, w, [directions, rows, inputSize], 'W');
      checkShape(n, r, [directions, rows, hidden], 'R');
      const b = n.optionalInput(3);
      if (b) checkShape(n, b, [directions, 2 * rows], 'B');
      // Initial states are [directions, batch, hidden] (layout 1: [batch, directions, hidden]).
      const initialState = (k: number, what: string): Tensor | undefined => {
        const s = n.optionalInput(k);
        if (!s) return undefined;
        checkShape(n, s, layout === 1 ? [batch, directions, hidden] : [directions, batch, hidden], what);
        return layout === 1 ? s.transpose([1, 0, 2]) : s;
      };
      const h0 = initialState(5, 'initial_h');
      const c0 = cell.states === 2 ? initialState(6, 'initial_c') : undefined;
      const p = cell.states === 2 ? n.optionalInput(7) : undefined;
      if (p) checkShape(n, p, [directions, 3 * hidden], 'P');
      const zeros = (): Tensor => n.graph.constant(0, { shape: [batch, hidden] });
      const activations = activationsOf(n, directions, cell.defaultActivations);
      const mask = maskOf(n, steps, batch);
      const step = cell.step(n, hidden);
      const inputs = x.reshape([steps * batch, inputSize]);

      const runs = activations.map((fns, d) => {
        const biases = b && direction(b, d).split(2, 0);
        const weights: DirectionWeights = {
          w: direction(w, d),
          r: direction(r, d),
          ...(biases ? { wb: biases[0]!, rb: biases[1]! } : {}),
          ...(p ? { p: direction(p, d) } : {}),
          initial: { h: h0 ? direction(h0, d) : zeros(), ...(cell.states === 2 ? { c: c0 ? direction(c0, d) : zeros() } : {}) },
          activations: fns,
        };
        let projected = k.matmul(inputs, weights.w, { transposeB: true });
        if (weights.wb) projected = projected.add(cell.foldsRecurrenceBias ? weights.wb.add(weights.rb!) : weights.wb);
        return unroll(step, projected, weights, { steps, batch, reverse: directionName === 'reverse' || d === 1, mask });
      });

      // Y is [seq, directions, batch, hidden]; layout 1: [batch, seq, directions, hidden].
      const y = n.wantsOutput(0)
        ? k.concat(runs.map((run) => k.concat(run.ys.map((h) => h.reshape([1, 1, batch, hidden])), 0)), 1)
        : undefined;
      const final = (pick: (s: State) => Tensor): Tensor => {
        const states = k.concat(runs.map((run) => pick(run.state).reshape([1, batch, hidden])), 0);
        return layout === 1 ? states.transpose([1, 0, 2]) : states;
      };
      return [
        y && (layout === 1 ? y.transpose([2, 0, 1, 3]) : y),
        n.wantsOutput(1) ? final((s) => s.h) : undefined,
        cell.states === 2 && n.wantsOutput(2) ? final((s) => s.c!) : undefined,
      ];
    },
  };
}

/** Splits a [batch, gates·hidden] pre-activation into its gates, in the op's order. */
const gatesOf = (t: Tensor, gates: number): Tensor[] => t.split(gates, 1);

/** h·Rᵀ for the rows [from, to) of R, plus the same rows of the recurrence bias when `withBias`. */
function recur(h: Tensor, w: DirectionWeights, from: number, to: number, withBias: boolean): Tensor {
  const rows = to - from === w.r.shape[0] ? w.r : w.r.slice([[from, to], null]);
  const product = k.matmul(h, rows, { transposeB: true });
  if (!withBias || !w.rb) return product;
  return product.add(to - from === w.rb.shape[0] ? w.rb : w.rb.slice([[from, to]]));
}

/** Ht = f(Xt·Wᵀ + Ht-1·Rᵀ + Wb + Rb). */
const rnnCell: Cell = {
  gates: 1,
  defaultActivations: ['Tanh'],
  foldsRecurrenceBias: true,
  attributes: [],
  states: 1,
  step: (n, hidden) => {
    const clip = clipped(n);
    return (x, state, w) => ({ h: w.activations[0]!(clip(x.add(recur(state.h, w, 0, hidden, false)))) });
  },
};

/**
 * GRU, gates z, r, h. With linear_before_reset the recurrence of h (bias included) is
 * computed before the reset gate scales it; without, the reset gate scales Ht-1 first.
 */
const gruCell: Cell = {
  gates: 3,
  defaultActivations: ['Sigmoid', 'Tanh'],
  // The h gate's recurrence bias stays out of the projection when the reset gate multiplies it.
  foldsRecurrenceBias: false,
  attributes: ['linear_before_reset'],
  states: 1,
  step: (n, hidden) => {
    const clip = clipped(n);
    const linearBeforeReset = n.int('linear_before_reset', 0) !== 0;
    return (x, { h }, w) => {
      const [f, g] = w.activations as [Activation, Activation];
      const [xz, xr, xh] = gatesOf(x, 3) as [Tensor, Tensor, Tensor];
      const [rz, rr] = gatesOf(recur(h, w, 0, 2 * hidden, true), 2) as [Tensor, Tensor];
      const z = f(clip(xz.add(rz)));
      const reset = f(clip(xr.add(rr)));
      const recurrence = linearBeforeReset ? reset.mul(recur(h, w, 2 * hidden, 3 * hidden, true)) : recur(reset.mul(h), w, 2 * hidden, 3 * hidden, true);
      const candidate = g(clip(xh.add(recurrence)));
      return { h: k.sub(1, z).mul(candidate).add(z.mul(h)) };
    };
  },
};

/**
 * LSTM, gates i, o, f, c: Ct = ft⊙Ct-1 + it⊙g(c̃t), Ht = ot⊙h(Ct). Peepholes add P⊙C to the
 * i and f gates (Ct-1) and the o gate (Ct); input_forget couples ft = 1 − it.
 */
const lstmCell: Cell = {
  gates: 4,
  defaultActivations: ['Sigmoid', 'Tanh', 'Tanh'],
  foldsRecurrenceBias: true,
  attributes: ['input_forget'],
  states: 2,
  step: (n, hidden) => {
    const clip = clipped(n);
    const inputForget = n.int('input_forget', 0) !== 0;
    return (x, { h, c }, w) => {
      const [f, g, act] = w.activations as [Activation, Activation, Activation];
      const [pi, po, pf] = w.p ? (gatesOf(w.p.reshape([1, 3 * hidden]), 3) as [Tensor, Tensor, Tensor]) : [];
      const peep = (t: Tensor, p: Tensor | undefined, cell: Tensor): Tensor => (p ? t.add(p.mul(cell)) : t);
      const [xi, xo, xf, xc] = gatesOf(x.add(recur(h, w, 0, 4 * hidden, false)), 4) as [Tensor, Tensor, Tensor, Tensor];
      const input = f(clip(peep(xi, pi, c!)));
      const forget = inputForget ? k.sub(1, input) : f(clip(peep(xf, pf, c!)));
      const cell = forget.mul(c!).add(input.mul(g(clip(xc))));
      const output = f(clip(peep(xo, po, cell)));
      return { h: output.mul(act(cell)), c: cell };
    };
  },
};

registerHandlers({
  RNN: recurrent(rnnCell),
  GRU: recurrent(gruCell),
  LSTM: recurrent(lstmCell),
});
