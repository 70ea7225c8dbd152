/**
 * kiln's error classes. Errors are part of the API: each names the op, the operands'
 * types, what went wrong and how to fix it, so a user can act on it without a debugger.
 */

/** Base class of every error kiln throws on purpose. */
export class KilnError extends Error {
  override name = 'KilnError';
}

/** Operand shapes do not fit an op (broadcasting, matmul dims, axes out of range, ...). */
export class ShapeError extends KilnError {
  override name = 'ShapeError';
}

/** Operand dtypes do not fit an op (f32 + i32, a float index, ...). */
export class DTypeError extends KilnError {
  override name = 'DTypeError';
}

/** An attribute or argument has a bad value (a non-integer size, an unknown initializer, ...). */
export class ArgumentError extends KilnError {
  override name = 'ArgumentError';
}

/** The graph's structure is wrong: mixed graphs, duplicate names, a broken invariant. */
export class GraphError extends KilnError {
  override name = 'GraphError';
}

/**
 * A compiler stage broke one of its own invariants: a bug in kiln, not in the user's graph.
 * The message names the stage and the broken invariant (`compile(..., {check: true})`).
 */
export class CompileError extends KilnError {
  override name = 'CompileError';
}

/** A value fed to a graph does not match the input it is fed to. */
export class FeedError extends KilnError {
  override name = 'FeedError';
}

/** A kernel or tensor does not fit the device's limits (bindings, buffer size, workgroups). */
export class DeviceLimitError extends KilnError {
  override name = 'DeviceLimitError';
}

/** A generated kernel failed to compile or to become a pipeline on the device (a kiln bug, or a driver's). */
export class KernelError extends KilnError {
  override name = 'KernelError';
}

/** A plan (JSON) is malformed or inconsistent: it was corrupted, hand-edited or made by another version. */
export class PlanError extends KilnError {
  override name = 'PlanError';
}

/** A checkpoint (safetensors bytes) is malformed or does not match the session's params. */
export class CheckpointError extends KilnError {
  override name = 'CheckpointError';
}

/** A session was used after destroy(), or asked for an entry, output or param it does not have. */
export class SessionError extends KilnError {
  override name = 'SessionError';
}

/** No WebGPU device could be acquired, or the device failed. */
export class DeviceError extends KilnError {
  override name = 'DeviceError';
}

/** An ONNX model is malformed (truncated bytes, sizes that do not add up, a missing value) or needs an input it was not given (an unbound dimension). */
export class OnnxError extends KilnError {
  override name = 'OnnxError';
}

/** An ONNX model uses an op, attribute or dtype kiln does not import; the message names the op type, node name and opset. */
export class OnnxUnsupportedError extends OnnxError {
  override name = 'OnnxUnsupportedError';
}

/**
 * A graph cannot be written as ONNX: an op with no ONNX form (named with its node), a
 * program without a forward entry, or params missing or of the wrong shape (named).
 */
export class OnnxExportError extends KilnError {
  override name = 'OnnxExportError';
}

type ErrorClass = new (message: string) => KilnError;

/**
 * Builds the standard message `op(operand types): problem. Fix: fix` and returns the
 * error (callers `throw opError(...)` so control flow stays visible).
 */
export function opError(
  kind: ErrorClass,
  op: string,
  // A dim prints as its size or its symbolic size (`784*batch`); typed structurally so errors.ts imports nothing.
  operands: readonly { readonly shape: readonly (number | { toString(): string })[]; readonly dtype: string }[],
  problem: string,
  fix?: string,
): KilnError {
  const types = operands.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(', ');
  return new kind(`${op}(${types}): ${problem}.${fix ? ` Fix: ${fix}.` : ''}`);
}
