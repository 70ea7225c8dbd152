/**
 * How much rounding error a correct f32 implementation may carry in each value of a
 * graph, as a magnitude: a forward error analysis over the reference values. Two correct
 * f32 evaluations (the GPU's and the reference's, or a fused and an unfused plan) differ
 * by a few ulps *of the magnitudes an error flowed through*, not of the result: a sum of
 * 289 terms of size 8 that cancels to 0.01 is still only accurate to ~289·8 ulps, and a
 * later x·y multiplies x's error by |y|. So each value gets a scale — the largest
 * magnitude its rounding errors can have been relative to — and a comparison allows
 * `atol · scale` (plus `rtol · |expected|`).
 *
 * Rules use each tensor's largest (or smallest) |element|, so they over-estimate, except
 * that a sum of n terms (a reduction, a matmul's dot products) grows the error by √n, not
 * n: rounding errors of separate terms (and of summing in another order, as a GPU's tree
 * reduction does) add like a random walk, and ATOL's margin of ~84 ulps covers the rest.
 * A real bug (an index off by one, a missed broadcast) still shows as errors of the
 * values' own size, far above the allowance.
 */

import type { Graph } from '../../compiler/graph.js';
import { roleOf } from '../../compiler/graph.js';
import type { HostArray } from '../../compiler/ops/op.js';
import { sizeOf } from '../../compiler/shape.js';

/**
 * Ops that pass on at most their inputs' largest error: selections and layout, and
 * functions with |f'| ≤ 1 (floor, sign and argmax are steps: the generator keeps their
 * inputs exact).
 */
const NON_EXPANDING = new Set([
  'neg', 'abs', 'relu', 'sign', 'floor', 'ceil', 'round', 'clip', 'leakyRelu', 'elu', 'softplus', 'sigmoid', 'tanh',
  'sin', 'cos', 'cast', 'stopGradient', 'maximum', 'minimum', 'where', 'max', 'min', 'reshape',
  'transpose', 'broadcastTo', 'argmax', 'argmin', 'maxPool',
]);

/** Ops with bool results. */
const PREDICATES = new Set(['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual', 'logicalAnd', 'logicalOr', 'logicalXor', 'logicalNot']);

/** Node id → the error scale of its value. `values` holds every node's reference value (f32). */
export function errorScales(graph: Graph, values: ReadonlyMap<number, HostArray>): Map<number, number> {
  const scales = new Map<number, number>();
  const valueOf = (id: number): HostArray => values.get(id)!;
  for (const node of graph.nodes) {
    const value = values.get(node.id);
    if (!value) continue;
    const own = largest(value);
    // Inputs, params and constants are exact; so are bool results (a flip near a tie is kept out by the generator).
    if (roleOf(node) !== 'computed' || PREDICATES.has(node.op)) {
      scales.set(node.id, 0);
      continue;
    }
    const [s0, s1, s2] = node.inputs.map((id) => scales.get(id) ?? 0) as [number, number?, number?];
    const [x, y] = node.inputs.map(valueOf) as [HostArray, HostArray?];
    let propagated: number;
    if (NON_EXPANDING.has(node.op)) {
      propagated = Math.max(s0, s1 ?? 0, s2 ?? 0);
    } else {
      switch (node.op) {
        case 'add': case 'sub': propagated = s0 + s1!; break;
        // |erf'| and |gelu'| peak at 2/√π ≈ 1.13.
        case 'erf': case 'gelu': propagated = 1.13 * s0; break;
        case 'exp': propagated = s0 * own; break;
        case 'expm1': propagated = s0 * (own + 1); break;
        case 'log': propagated = s0 / smallest(x); break;
        case 'log1p': propagated = s0 / smallest(x, 1); break;
        case 'sqrt': propagated = (0.5 * s0) / smallest(value); break;
        case 'rsqrt': propagated = 0.5 * s0 * own ** 3; break;
        case 'reciprocal': propagated = s0 * own ** 2; break;
        case 'square': propagated = 2 * s0 * largest(x); break;
        case 'mul': propagated = s0 * largest(y!) + s1! * largest(x); break;
        case 'div': propagated = s0 / smallest(y!) + (s1! * largest(x)) / smallest(y!) ** 2; break;
        // d(aᵇ)/da = b·aᵇ/a and d(aᵇ)/db = aᵇ·ln a.
        case 'pow': propagated = (s0 * largest(y!) * own) / smallest(x) + s1! * own * Math.max(Math.abs(Math.log(smallest(x))), Math.abs(Math.log(largest(x)))); break;
        // A reduction rounds relative to its terms, whatever their sum (summed in another order on a GPU).
        case 'sum': propagated = Math.max(s0, largest(x)) * Math.sqrt(sizeOf(x.shape) / Math.max(1, sizeOf(value.shape))); break;
        case 'mean': case 'logsumexp': case 'avgPool': propagated = Math.max(s0, largest(x)); break;
        // Each element is a sum of at most the axis's length of terms: the sum's rule.
        case 'cumsum': propagated = Math.max(s0, largest(x)) * Math.sqrt(x.shape[Number(node.attrs['axis'])]!); break;
        // Each element sums dy over the windows it is in (maxPoolGrad: those it is the arg-max of, which x only picks).
        case 'maxPoolGrad': propagated = Math.max(s1!, largest(y!)) * Math.sqrt(windowOverlap(node.attrs)); break;
        case 'avgPoolGrad': propagated = Math.max(s0, largest(x)) * Math.sqrt(windowOverlap(node.attrs)); break;
        case 'prod': {
          const n = sizeOf(x.shape) / Math.max(1, sizeOf(value.shape));
          propagated = s0 * n * Math.max(1, largest(x)) ** (n - 1);
          break;
        }
        case 'matmul': {
          const k = Number(node.attrs['transposeA']) ? x.shape[x.shape.length - 2]! : x.shape[x.shape.length - 1]!;
          propagated = dotProducts(k, s0, s1!, x, y!);
          break;
        }
        // Convolutions are dot products too: of C_in/groups × the kernel's taps (conv(x, w)),
        // of at most as many (convTranspose(x, w): the taps that land on an output), and over
        // the batch and every output position (convWeightGrad(x, dy)).
        case 'conv1d': case 'conv2d': propagated = dotProducts(sizeOf(y!.shape.slice(1)), s0, s1!, x, y!); break;
        case 'convTranspose1d': case 'convTranspose2d':
          propagated = dotProducts((x.shape[1]! / Number(node.attrs['groups'])) * sizeOf(y!.shape.slice(2)), s0, s1!, x, y!);
          break;
        case 'convWeightGrad1d': case 'convWeightGrad2d': propagated = dotProducts(y!.shape[0]! * sizeOf(y!.shape.slice(2)), s0, s1!, x, y!); break;
        // The Jacobians of softmax and log-softmax have ∞-norm at most 2.
        case 'softmax': case 'logSoftmax': propagated = 2 * s0; break;
        // Weights P = softmax(scores), a row each: a change δ in the scores changes a row of P by at most 2δ in ℓ1 (as softmax).
        case 'attentionWeights': propagated = 2 * attentionScoreScale(node.attrs, s0, s1!, x, y!); break;
        // O = P·v, a weighted mean of v's rows: |dP·v| ≤ ‖dP‖₁·|v|, |P·dv| ≤ |dv|, and it rounds as a mean of v.
        case 'attention': {
          const v = valueOf(node.inputs[2]!);
          propagated = 2 * attentionScoreScale(node.attrs, s0, s1!, x, y!) * largest(v) + Math.max(s2!, largest(v));
          break;
        }
        default: throw new Error(`errorScales: no rule for op '${node.op}' (%${node.id}); add one`);
      }
    }
    scales.set(node.id, Math.max(own, propagated));
  }
  return scales;
}

/** Sums of `terms` products x·y, with errors sx and sy in x and y: they round relative to the terms' magnitudes. */
function dotProducts(terms: number, sx: number, sy: number, x: HostArray, y: HostArray): number {
  return Math.sqrt(terms) * (Math.max(sx, largest(x)) * largest(y) + sy * largest(x));
}

/** The scores scale·q·kᵀ of an attention: a matmul's dot products (of d terms), times |scale|. */
function attentionScoreScale(attrs: Readonly<Record<string, unknown>>, sq: number, sk: number, q: HostArray, k: HostArray): number {
  return Math.abs(Number(attrs['scale'])) * dotProducts(q.shape[q.shape.length - 1]!, sq, sk, q, k);
}

/** The most pooling windows one input element is in: ⌈kernel/stride⌉ along each spatial axis. */
function windowOverlap(attrs: Readonly<Record<string, unknown>>): number {
  const kernel = attrs['kernel'] as number[];
  const stride = attrs['stride'] as number[];
  return kernel.reduce((n, k, a) => n * Math.ceil(k / stride[a]!), 1);
}

function largest(x: HostArray): number {
  let m = 0;
  for (const v of x.data) m = Math.max(m, Math.abs(v));
  return m;
}

/** The smallest |element + shift| (floored at 1e-6, so a zero reads as a large but finite gain). */
function smallest(x: HostArray, shift = 0): number {
  let m = Infinity;
  for (const v of x.data) m = Math.min(m, Math.abs(v + shift));
  return Math.max(m, 1e-6);
}
