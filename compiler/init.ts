/**
 * Initializers for parameters and state. An initializer is plain data stored on the
 * node (so graphs and plans stay JSON); its values are a pure function of the graph's
 * seed and the parameter's name, so adding a parameter never changes another's values.
 */

import type { DType, Precision } from './dtype.js';
import { allocate, isFloat } from './dtype.js';
import { ArgumentError } from './errors.js';
import type { HostArray, Shape } from './shape.js';
import { sizeOf, staticShape } from './shape.js';
import { hashName, randomNormal, randomUniform } from './random.js';

/** Fan sizes can be given explicitly; otherwise they come from the shape (see `fans`). */
export type FanOverrides = { fanIn?: number; fanOut?: number };

export type InitSpec =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; low?: number; high?: number; seed?: number }
  | { kind: 'normal'; mean?: number; std?: number; seed?: number }
  | ({ kind: 'glorotUniform' | 'glorotNormal'; gain?: number; seed?: number } & FanOverrides)
  | ({ kind: 'heUniform' | 'heNormal'; gain?: number; seed?: number } & FanOverrides)
  /** PyTorch's `nn.Linear`/`nn.Conv*` default for weights and biases: U(±1/√fanIn). */
  | ({ kind: 'linearDefault'; seed?: number } & FanOverrides);

export type InitKind = InitSpec['kind'];

const KINDS: readonly InitKind[] = [
  'zeros',
  'ones',
  'constant',
  'uniform',
  'normal',
  'glorotUniform',
  'glorotNormal',
  'heUniform',
  'heNormal',
  'linearDefault',
];

/** Accepts `'zeros'` as shorthand for `{kind: 'zeros'}` and checks the spec. */
export function normalizeInit(where: string, init: InitKind | InitSpec, dtype: DType): InitSpec {
  const spec: InitSpec = typeof init === 'string' ? ({ kind: init } as InitSpec) : init;
  if (!KINDS.includes(spec.kind)) {
    throw new ArgumentError(`${where}: unknown initializer '${String(spec.kind)}'. Use one of: ${KINDS.join(', ')}.`);
  }
  if (spec.kind === 'constant' && typeof spec.value !== 'number') {
    throw new ArgumentError(`${where}: the 'constant' initializer needs a numeric 'value'.`);
  }
  const deterministic = spec.kind === 'zeros' || spec.kind === 'ones' || spec.kind === 'constant';
  if (!deterministic && !isFloat(dtype)) {
    throw new ArgumentError(
      `${where}: the random initializer '${spec.kind}' needs a float dtype, but the tensor is ${dtype}. Use zeros, ones or constant.`,
    );
  }
  return spec;
}

/**
 * Fan-in and fan-out from a shape. Rank 2 is kiln's dense weight `[in, out]` (used as
 * `x.matmul(w)`); rank ≥ 3 is PyTorch's conv layout `[out, in/groups, ...kernel]`.
 * Rank 0/1 (biases) has no fans: pass `fanIn` explicitly.
 */
export function fans(where: string, dims: Shape, overrides: FanOverrides): { fanIn: number; fanOut: number } {
  // Params and state are always static (Graph refuses a symbolic dim there).
  const shape = staticShape(where, dims, 'fans are computed from static sizes');
  let fanIn = overrides.fanIn;
  let fanOut = overrides.fanOut;
  if (shape.length === 2) {
    fanIn ??= shape[0]!;
    fanOut ??= shape[1]!;
  } else if (shape.length >= 3) {
    const receptive = sizeOf(shape.slice(2));
    fanIn ??= shape[1]! * receptive;
    fanOut ??= shape[0]! * receptive;
  }
  if (fanIn === undefined || fanOut === undefined) {
    if (fanIn !== undefined) return { fanIn, fanOut: fanIn };
    throw new ArgumentError(
      `${where}: cannot infer fan-in from shape [${shape.join(',')}] (rank ${shape.length}); pass {fanIn} in the initializer, e.g. the input size of the layer this bias belongs to.`,
    );
  }
  if (fanIn <= 0 || fanOut <= 0) {
    throw new ArgumentError(`${where}: fan-in/fan-out must be positive, got ${fanIn}/${fanOut}.`);
  }
  return { fanIn, fanOut };
}

/**
 * An initializer reduced to what generates it: a fill, or a uniform/normal draw from the
 * Philox stream with this key. The CPU (`initialValue`) and the GPU init kernels both
 * start from this, so they draw the same bits.
 */
export type ResolvedInit =
  | { readonly kind: 'fill'; readonly value: number }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number; readonly key: readonly [number, number] }
  | { readonly kind: 'normal'; readonly mean: number; readonly std: number; readonly key: readonly [number, number] };

export function resolveInit(name: string, shape: Shape, spec: InitSpec, graphSeed: number): ResolvedInit {
  const where = `initializer of '${name}'`;
  const key = (seed: number | undefined): [number, number] => [(seed ?? graphSeed) >>> 0, hashName(name)];
  switch (spec.kind) {
    case 'zeros':
      return { kind: 'fill', value: 0 };
    case 'ones':
      return { kind: 'fill', value: 1 };
    case 'constant':
      return { kind: 'fill', value: spec.value };
    case 'uniform':
      return { kind: 'uniform', low: spec.low ?? 0, high: spec.high ?? 1, key: key(spec.seed) };
    case 'normal':
      return { kind: 'normal', mean: spec.mean ?? 0, std: spec.std ?? 1, key: key(spec.seed) };
    case 'glorotUniform': {
      const { fanIn, fanOut } = fans(where, shape, spec);
      const bound = (spec.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
      return { kind: 'uniform', low: -bound, high: bound, key: key(spec.seed) };
    }
    case 'glorotNormal': {
      const { fanIn, fanOut } = fans(where, shape, spec);
      return { kind: 'normal', mean: 0, std: (spec.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), key: key(spec.seed) };
    }
    case 'heUniform': {
      const { fanIn } = fans(where, shape, spec);
      const bound = (spec.gain ?? Math.SQRT2) * Math.sqrt(3 / fanIn);
      return { kind: 'uniform', low: -bound, high: bound, key: key(spec.seed) };
    }
    case 'heNormal': {
      const { fanIn } = fans(where, shape, spec);
      return { kind: 'normal', mean: 0, std: (spec.gain ?? Math.SQRT2) / Math.sqrt(fanIn), key: key(spec.seed) };
    }
    case 'linearDefault': {
      const { fanIn } = fans(where, shape, spec);
      const bound = 1 / Math.sqrt(fanIn);
      return { kind: 'uniform', low: -bound, high: bound, key: key(spec.seed) };
    }
  }
}

/** Computes a parameter's or state's initial value on the host. */
export function initialValue(
  name: string,
  shape: Shape,
  dtype: DType,
  spec: InitSpec,
  graphSeed: number,
  precision: Precision = 'f32',
): HostArray {
  const sizes = staticShape(`initial value of '${name}'`, shape, 'initial values are computed on the host');
  const size = sizeOf(sizes);
  const data = allocate(dtype, size, precision);
  const init = resolveInit(name, shape, spec, graphSeed);
  if (init.kind === 'fill') {
    data.fill(init.value);
  } else if (init.kind === 'uniform') {
    const u = randomUniform(init.key, size);
    for (let i = 0; i < size; i++) data[i] = init.low + (init.high - init.low) * u[i]!;
  } else {
    const z = randomNormal(init.key, size);
    for (let i = 0; i < size; i++) data[i] = init.mean + init.std * z[i]!;
  }
  return { shape: sizes, dtype, data };
}
