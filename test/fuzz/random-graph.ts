/**
 * Random graphs for fuzzing the compiler: a seeded walk that grows a graph from a few
 * inputs by elementwise ops (with NumPy broadcasting of awkward shapes: [n,1] against
 * [1,m], scalars, operands of lower rank), comparisons and `where`, reductions over random
 * axes, matmuls (transposed, batched, vector operands), reshapes, transposes, broadcasts
 * and (log-)softmax, layer ops (pooling, cumsum, triangles, attention, layer/RMS norm:
 * random-layers.ts), and for some graphs the gradient of a random projection of the
 * outputs w.r.t. every input and param.
 *
 * Values stay in safe domains, so the graph is finite and well conditioned wherever the
 * compiler is right: log/sqrt/rsqrt/reciprocal read |x|+1, exp reads tanh(x) unless x is
 * small, pow reads |x|+0.5, and any value past a magnitude of 8 is scaled down by a power
 * of two. Each value is evaluated on the reference interpreter as it is built, so these
 * decisions use its real magnitude. Steps (floor, sign, argmax) and comparisons of two
 * values only see values computed without rounding, so devices cannot disagree on them.
 */

import { shapeOf } from './random-value.js';
import { grad } from '../../compiler/autodiff.js';
import { Graph } from '../../compiler/graph.js';
import { sub } from '../../compiler/ops/binary.js';
import { evaluate } from '../../compiler/reference.js';
import type { StaticShape as Shape } from '../../compiler/shape.js';
import { sizeOf } from '../../compiler/shape.js';
import type { Tensor } from '../../compiler/tensor.js';
import { Random } from './random.js';
import type { LayerStep } from './random-layers.js';
import { layerStep } from './random-layers.js';
import type { Built, StepContext, Value } from './random-value.js';
import { DIMS, MAX_ELEMENTS, MAX_RANK, WIDE_DIMS, broadcast } from './random-value.js';

/** Values past this magnitude are scaled down by a power of two (which rounds nothing). */
const RESCALE_ABOVE = 8;

export interface RandomGraph {
  readonly seed: number;
  readonly graph: Graph;
  /** A value for every input. */
  readonly feeds: Record<string, Float32Array>;
  /** Whether the outputs include gradients (named `d_<input>`). */
  readonly differentiated: boolean;
}

export interface RandomGraphOptions {
  /** Probability that the graph's outputs include gradients. Default 0.3. */
  gradientFraction?: number;
  /** Most ops steps (each adds one to a few nodes; a layer op adds more kernels than most). Default 10. */
  maxSteps?: number;
}

type Step = 'unary' | 'binary' | 'select' | 'scalar' | 'reduce' | 'matmul' | 'reshape' | 'transpose' | 'broadcast' | 'softmax' | LayerStep;

const STEP_WEIGHTS: Readonly<Record<Step, number>> = {
  unary: 22, binary: 20, select: 7, scalar: 6, reduce: 13, matmul: 11, reshape: 7, transpose: 6, broadcast: 3, softmax: 5,
  pool: 3, sequence: 3, attention: 2, norm: 2, conv: 2,
};

const UNARY = [
  'neg', 'abs', 'relu', 'square', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos',
  'tanh', 'sigmoid', 'softplus', 'erf', 'gelu', 'leakyRelu', 'elu', 'clip', 'floor', 'ceil', 'round', 'sign',
] as const;

/** Builds the random graph of `seed`: the same seed gives the same graph and feeds. */
export function randomGraph(seed: number, options: RandomGraphOptions = {}): RandomGraph {
  return new Builder(seed, options).build();
}

class Builder implements StepContext {
  readonly rng: Random;
  readonly graph: Graph;
  private readonly feeds: Record<string, Float32Array> = {};
  private readonly pool: Value[] = [];
  private leaves = 0;

  constructor(
    private readonly seed: number,
    private readonly options: RandomGraphOptions,
  ) {
    this.rng = new Random(seed);
    this.graph = new Graph(`fuzz${seed}`, { seed });
  }

  build(): RandomGraph {
    const { rng, graph } = this;
    for (let i = rng.between(1, 2); i > 0; i--) this.leaf(this.randomShape());
    const steps = rng.between(3, this.options.maxSteps ?? 10);
    for (let step = 0; step < steps; step++) {
      // A step that does not apply to the operand it drew (a matmul of a scalar) draws again.
      for (let attempt = 0; attempt < 20; attempt++) {
        const built = this.step(rng.weighted(STEP_WEIGHTS), this.operand());
        if (built) {
          this.add(built);
          break;
        }
      }
    }
    // Every value nothing else reads is an output (so no work is dead), and sometimes an intermediate too.
    const read = new Set(graph.nodes.flatMap((n) => n.inputs));
    const outputs = this.pool.filter((v) => !read.has(v.tensor.id) && v.tensor.node.op !== 'input' && v.tensor.node.op !== 'param');
    const extra = this.operand();
    if ((outputs.length === 0 || rng.chance(0.3)) && !outputs.includes(extra)) outputs.push(extra);
    outputs.forEach((v, i) => graph.output(`y${i}`, v.tensor));
    const differentiated = rng.chance(this.options.gradientFraction ?? 0.3);
    if (differentiated) this.addGradients(outputs.map((v) => v.tensor));
    return { seed: this.seed, graph, feeds: this.feeds, differentiated };
  }

  /** Outputs the gradients of Σ_y sum(y · w_y), random constant weights w_y, w.r.t. every input and param. */
  private addGradients(outputs: readonly Tensor[]): void {
    const { graph, rng } = this;
    const terms = outputs.map((y) => y.mul(graph.constant(roundAll(rng.floats(sizeOf(shapeOf(y)), -1, 1)), { shape: shapeOf(y) })).sum());
    const projection = terms.reduce((a, b) => a.add(b));
    const wrt = [...graph.nodesOfRole('input'), ...graph.nodesOfRole('param')].map((n) => graph.tensor(n.id));
    grad(projection, wrt).forEach((g, i) => graph.output(`d_${wrt[i]!.name}`, g));
  }

  private step(kind: Step, v: Value): Built {
    switch (kind) {
      case 'unary': return this.unary(v);
      case 'binary': return this.binary(v);
      case 'select': return this.select(v);
      case 'scalar': return this.scalar(v);
      case 'reduce': return this.reduce(v);
      case 'matmul': return this.matmul(v);
      case 'reshape': return this.reshape(v);
      case 'transpose': return this.transpose(v);
      case 'broadcast': return this.broadcast(v);
      case 'softmax': return this.softmax(v);
      default: return layerStep(kind, this, v);
    }
  }

  private unary(v: Value): Built {
    const x = v.tensor;
    const name = this.rng.pick(UNARY);
    const atLeastOne = (): Tensor => x.abs().add(1);
    switch (name) {
      case 'neg': return { tensor: x.neg(), exact: v.exact };
      case 'abs': return { tensor: x.abs(), exact: v.exact };
      case 'relu': return { tensor: x.relu(), exact: v.exact };
      case 'square': return { tensor: x.square(), exact: false };
      case 'exp': return { tensor: (v.maxAbs <= 3 ? x : x.tanh()).exp(), exact: false };
      case 'expm1': return { tensor: (v.maxAbs <= 3 ? x : x.tanh()).expm1(), exact: false };
      case 'log': return { tensor: atLeastOne().log(), exact: false };
      case 'log1p': return { tensor: x.abs().log1p(), exact: false };
      case 'sqrt': return { tensor: atLeastOne().sqrt(), exact: false };
      case 'rsqrt': return { tensor: atLeastOne().rsqrt(), exact: false };
      case 'reciprocal': return { tensor: atLeastOne().reciprocal(), exact: false };
      case 'gelu': return { tensor: x.gelu({ approximate: this.rng.pick(['none', 'tanh'] as const) }), exact: false };
      case 'leakyRelu': return { tensor: x.leakyRelu(this.rng.pick([0.01, 0.2])), exact: false };
      case 'clip': return { tensor: x.clip(this.rng.pick([-1, -0.5, null]), this.rng.pick([0.5, 1])), exact: v.exact };
      case 'floor': case 'ceil': case 'round': case 'sign':
        // Discontinuous: an input one rounding away from a step would give different answers.
        return v.exact ? { tensor: x[name](), exact: true } : undefined;
      default: return { tensor: x[name](), exact: false };
    }
  }

  private binary(v: Value): Built {
    const w = this.partner(shapeOf(v.tensor));
    if (!w) return undefined;
    const [a, b] = this.rng.chance(0.5) ? [v, w] : [w, v];
    switch (this.rng.pick(['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const)) {
      case 'add': return { tensor: a.tensor.add(b.tensor), exact: false };
      case 'sub': return { tensor: a.tensor.sub(b.tensor), exact: false };
      case 'mul': return { tensor: a.tensor.mul(b.tensor), exact: false };
      case 'div': return { tensor: a.tensor.div(b.tensor.abs().add(0.5)), exact: false };
      case 'maximum': return { tensor: a.tensor.maximum(b.tensor), exact: a.exact && b.exact };
      case 'minimum': return { tensor: a.tensor.minimum(b.tensor), exact: a.exact && b.exact };
      case 'pow': {
        const exponent = this.rng.chance(0.5) ? b.tensor.tanh() : this.rng.pick([2, 3, 0.5, -1]);
        return { tensor: a.tensor.abs().add(0.5).pow(exponent), exact: false };
      }
    }
  }

  /** `where` over a comparison: of the value with a partner or a constant, or (exact values) of it with its max. */
  private select(v: Value): Built {
    const { rng } = this;
    const x = v.tensor;
    if (v.exact && x.rank > 0 && rng.chance(0.3)) {
      // The argmax mask: every element equal to its row's max (ties included).
      const axis = rng.int(x.rank);
      const mask = x.equal(x.max(axis, true));
      return { tensor: x.where(mask, rng.pick([0, -1])), exact: true };
    }
    // Two computed values may be equal in exact arithmetic (x and log(1 + expm1(x))), and
    // then rounding decides their comparison: only exact values are compared with each
    // other. Others meet constants that no op here yields from a 0 (0, 0.5, 1, log 2).
    const partner = v.exact && rng.chance(0.6) ? this.partner(shapeOf(x)) : undefined;
    const other = partner?.exact ? partner : undefined;
    const compare = rng.pick(v.exact ? (['less', 'lessEqual', 'greater', 'greaterEqual', 'equal', 'notEqual'] as const) : (['less', 'lessEqual', 'greater', 'greaterEqual'] as const));
    let condition = x[compare](other?.tensor ?? rng.pick([-0.7, 0.3, 1.3]));
    if (rng.chance(0.2)) condition = condition.logicalNot();
    if (rng.chance(0.15)) condition = condition.logicalOr(x.greater(1.3));
    // Partners of the condition's shape, so that all three operands broadcast together.
    const otherwise = rng.chance(0.5) ? this.partner(shapeOf(condition)) : undefined;
    const chosen = other && rng.chance(0.5) ? other : v;
    return {
      tensor: chosen.tensor.where(condition, otherwise?.tensor ?? rng.pick([0, 1.5])),
      exact: chosen.exact && (otherwise?.exact ?? true),
    };
  }

  private scalar(v: Value): Built {
    const c = this.rng.pick([2, 0.5, -1, 3, 0.1, -1.7]);
    // A power of two (or -1) rounds nothing; other constants may.
    const exact = v.exact && [2, 0.5, -1].includes(c);
    switch (this.rng.pick(['mul', 'add', 'rsub', 'div'] as const)) {
      case 'mul': return { tensor: v.tensor.mul(c), exact };
      case 'add': return { tensor: v.tensor.add(c), exact: false };
      case 'rsub': return { tensor: sub(c, v.tensor), exact: false };
      case 'div': return { tensor: v.tensor.div(c), exact };
    }
  }

  private reduce(v: Value): Built {
    const { rng } = this;
    const x = v.tensor;
    if (x.rank === 0) return undefined;
    const keepdims = rng.chance(0.4);
    if (v.exact && rng.chance(0.15)) {
      // The index of the first extreme element (ties are common after broadcasts), as f32.
      const axis = rng.int(x.rank);
      return { tensor: (rng.chance(0.5) ? x.argmax(axis, keepdims) : x.argmin(axis, keepdims)).cast('f32'), exact: true };
    }
    const all = rng.chance(0.2);
    const axes = all ? [...shapeOf(x).keys()] : rng.shuffle([...shapeOf(x).keys()]).slice(0, rng.between(1, x.rank));
    const count = sizeOf(axes.map((a) => shapeOf(x)[a]!));
    // Negative axes count from the end; `undefined` reduces every axis.
    const given = all && rng.chance(0.5) ? undefined : axes.map((a) => (rng.chance(0.3) ? a - x.rank : a));
    const op = rng.pick(['sum', 'sum', 'mean', 'max', 'min', 'logsumexp', 'prod'] as const);
    if (op === 'prod' && (count > 5 || v.maxAbs > 2)) return undefined;
    return { tensor: x[op](given, keepdims), exact: v.exact && (op === 'max' || op === 'min') };
  }

  private matmul(v: Value): Built {
    const { rng } = this;
    const a = v.tensor;
    if (a.rank === 0) return undefined;
    if (a.rank >= 2 && rng.chance(0.15)) {
      // a·aᵀ or aᵀ·a: both operands are one value.
      const transposeA = rng.chance(0.5);
      const d = shapeOf(a)[a.rank - (transposeA ? 1 : 2)]!;
      return this.sized([...shapeOf(a).slice(0, -2), d, d], () => a.matmul(a, transposeA ? { transposeA } : { transposeB: true }));
    }
    const transposeA = a.rank >= 2 && rng.chance(0.25);
    const k = shapeOf(a)[a.rank - (transposeA ? 2 : 1)]!;
    const m = a.rank >= 2 ? shapeOf(a)[a.rank - (transposeA ? 1 : 2)]! : 1;
    if (rng.chance(0.1)) {
      // A vector b: the product drops its dim.
      const b = this.valueOfShape([k]);
      return this.sized([...shapeOf(a).slice(0, -2), m], () => a.matmul(b.tensor, { transposeA }));
    }
    const n = rng.pick(DIMS);
    const batch = this.partnerShape(shapeOf(a).slice(0, -2), MAX_RANK - 2);
    const transposeB = rng.chance(0.3);
    const outBatch = broadcast(shapeOf(a).slice(0, -2), batch);
    if (sizeOf([...outBatch, m, n]) > MAX_ELEMENTS) return undefined;
    const b = this.valueOfShape([...batch, ...(transposeB ? [n, k] : [k, n])]);
    return this.sized([...outBatch, m, n], () => a.matmul(b.tensor, { transposeA, transposeB }));
  }

  private reshape(v: Value): Built {
    const { rng } = this;
    const shape = [...shapeOf(v.tensor)];
    const i = rng.int(Math.max(1, shape.length));
    const d = shape[i] ?? 1;
    const factor = WIDE_DIMS.find((f) => f < d && d % f === 0 && rng.chance(0.7));
    const ones = shape.flatMap((s, j) => (s === 1 ? [j] : []));
    const choices: (() => number[] | undefined)[] = [
      () => [sizeOf(shape)],
      () => (shape.length >= 2 && i < shape.length - 1 ? [...shape.slice(0, i), d * shape[i + 1]!, ...shape.slice(i + 2)] : undefined),
      () => (factor !== undefined && shape.length < MAX_RANK ? [...shape.slice(0, i), factor, d / factor, ...shape.slice(i + 1)] : undefined),
      () => (shape.length < MAX_RANK ? [...shape.slice(0, i), 1, ...shape.slice(i)] : undefined),
      () => (ones.length > 0 ? shape.filter((_, j) => j !== rng.pick(ones)) : undefined),
    ];
    const target = rng.pick(choices)();
    return target ? { tensor: v.tensor.reshape(target), exact: v.exact } : undefined;
  }

  private transpose(v: Value): Built {
    const x = v.tensor;
    if (x.rank < 2) return undefined;
    return { tensor: this.rng.chance(0.3) ? x.transpose() : x.transpose(this.rng.shuffle([...shapeOf(x).keys()])), exact: v.exact };
  }

  private broadcast(v: Value): Built {
    const shape = shapeOf(v.tensor);
    const target = shape.map((d) => (d === 1 && this.rng.chance(0.7) ? this.rng.pick(WIDE_DIMS) : d));
    if (target.length < MAX_RANK && this.rng.chance(0.4)) target.unshift(this.rng.pick(WIDE_DIMS));
    if (sizeOf(target) > MAX_ELEMENTS || sizeOf(target) === sizeOf(shape)) return undefined;
    return { tensor: v.tensor.broadcastTo(target), exact: v.exact };
  }

  private softmax(v: Value): Built {
    const x = v.tensor;
    if (x.rank === 0) return undefined;
    const axis = this.rng.int(x.rank) - (this.rng.chance(0.5) ? x.rank : 0);
    return { tensor: this.rng.chance(0.5) ? x.softmax(axis) : x.logSoftmax(axis), exact: false };
  }

  /** Builds a matmul only if its result (of `shape`, vector dims included) stays small. */
  private sized(shape: Shape, build: () => Tensor): Built {
    return sizeOf(shape) <= MAX_ELEMENTS && shape.length <= MAX_RANK ? { tensor: build(), exact: false } : undefined;
  }

  /**
   * A value that broadcasts against `v`: same shape, size-1 dims where v has any, fewer
   * (leading) dims, a scalar, or one whose dims widen v's size-1 dims ([n,1] against [1,m]).
   */
  private partner(of: Shape): Value | undefined {
    const shape = this.partnerShape(of, MAX_RANK);
    return sizeOf(broadcast(of, shape)) <= MAX_ELEMENTS ? this.valueOfShape(shape) : undefined;
  }

  partnerShape(shape: Shape, maxRank: number): number[] {
    const { rng } = this;
    if (rng.chance(0.08)) return [];
    const widened = shape.map((d) => (d === 1 && rng.chance(0.4) ? rng.pick(WIDE_DIMS) : d));
    if (widened.length < maxRank && rng.chance(0.12)) widened.unshift(rng.pick(WIDE_DIMS));
    const partner = widened.map((d) => (rng.chance(0.25) ? 1 : d));
    return rng.chance(0.25) ? partner.slice(rng.int(partner.length + 1)) : partner;
  }

  /** A value of exactly `shape`: an existing one when there is one (half the time), else a new leaf. */
  valueOfShape(shape: Shape): Value {
    const existing = this.pool.filter((v) => shapeOf(v.tensor).length === shape.length && shapeOf(v.tensor).every((d, i) => d === shape[i]));
    return existing.length > 0 && this.rng.chance(0.5) ? this.rng.pick(existing) : this.leaf(shape);
  }

  /** A value from the pool, more likely a recent one (so graphs grow deep, not only wide). */
  private operand(): Value {
    const r = this.rng.next();
    return this.pool[this.pool.length - 1 - Math.floor(r * r * this.pool.length)]!;
  }

  /** A new input (fed values in [-2, 2)), param (uniform in [-1, 1)) or constant. */
  private leaf(shape: Shape): Value {
    const { graph, rng } = this;
    const kind = rng.weighted({ input: 7, param: 2, const: 1 });
    let tensor: Tensor;
    if (kind === 'input') {
      const name = `x${this.leaves++}`;
      tensor = graph.input(name, shape);
      this.feeds[name] = rng.floats(sizeOf(shape), -2, 2);
    } else if (kind === 'param') {
      tensor = graph.param(`p${this.leaves++}`, shape, { init: { kind: 'uniform', low: -1, high: 1 } });
    } else {
      tensor = graph.constant(roundAll(rng.floats(sizeOf(shape), -2, 2)), { shape });
    }
    const value = this.measure(tensor, true);
    this.pool.push(value);
    return value;
  }

  private add(built: NonNullable<Built>): void {
    let value = this.measure(built.tensor, built.exact);
    if (value.maxAbs > RESCALE_ABOVE) {
      const scale = 2 ** -Math.ceil(Math.log2(value.maxAbs / 4));
      value = this.measure(value.tensor.mul(scale), value.exact);
    }
    this.pool.push(value);
  }

  private measure(tensor: Tensor, exact: boolean): Value {
    const [host] = evaluate([tensor], { feeds: this.feeds });
    let maxAbs = 0;
    for (const x of host!.data) maxAbs = Math.max(maxAbs, Math.abs(x));
    // A non-finite value means a domain guard above is missing: a generator bug, not a compiler bug.
    if (!Number.isFinite(maxAbs)) throw new Error(`random graph ${this.seed}: ${tensor.toString()} is not finite\n${this.graph.toString()}`);
    return { tensor, maxAbs, exact };
  }

  private randomShape(): number[] {
    for (;;) {
      const shape = Array.from({ length: this.rng.pick([0, 1, 2, 2, 3, 3, 4]) }, () => this.rng.pick(DIMS));
      if (sizeOf(shape) <= MAX_ELEMENTS) return shape;
    }
  }
}

/** Values with 3 decimals: constants print legibly in a repro. */
function roundAll(values: Float32Array): number[] {
  return Array.from(values, (x) => Math.round(x * 1000) / 1000);
}
