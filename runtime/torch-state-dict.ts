/**
 * PyTorch state_dicts saved as safetensors (`safetensors.torch.save_file(model.state_dict(),
 * path)`), loaded into kiln params and saved back. Names follow a rule the user can
 * replace: kiln's `nn` layers already use PyTorch's names (`fc1.bias`, `bn.running_mean`,
 * `emb.weight`), except a linear layer's `kernel`, which is PyTorch's `weight` transposed
 * ([in, out] against [out, in]; see compiler/nn/layers.ts). Optimizer state is not part of
 * a state_dict. Pure functions of plain data, so they run with a plan alone, no compiler.
 */

import { ArgumentError, CheckpointError } from '../compiler/errors.js';
import { checkKeys } from '../compiler/ops/args.js';
import type { Plan } from '../compiler/plan-format.js';
import type { HostTensor } from './host-tensor.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { quoteList } from './persistent-writes.js';

/** A kiln tensor's entry in a PyTorch state_dict: its name there, and whether it is stored transposed there. */
export interface TorchName {
  readonly name: string;
  readonly transpose: boolean;
}

/** A replacement naming rule: the PyTorch name of a kiln param or state (a string keeps the default transposition), or null to leave it out. */
export type TorchRename = (kilnName: string) => string | TorchName | null;

export interface TorchStateDictOptions {
  /** Replaces the default rule (`torchName`); call `torchName` inside it to change a few names only. */
  rename?: TorchRename;
  /**
   * Loading only. `true` (default): every tensor of the file must be used, as PyTorch's
   * `load_state_dict` requires. Tensors of dtypes kiln has no type for (the I64
   * `num_batches_tracked` of batch norms) are always left out.
   */
  strict?: boolean;
}

/** The state the optimizers add (compiler/optim.ts names it so): momentum, Adam's moments, the step counter. */
const OPTIMIZER_SUFFIXES = ['.momentum', '.adam.m', '.adam.v'];
const STEP_COUNTER = 'optimizer.step';
const KERNEL_SUFFIX = '.kernel';

/**
 * The default rule: `fc1.kernel` is PyTorch's `fc1.weight`, transposed; optimizer state
 * (`fc1.kernel.momentum`, `*.adam.m`, `optimizer.step`) is in no state_dict (null);
 * every other name is PyTorch's own.
 */
export function torchName(kilnName: string): TorchName | null {
  if (typeof kilnName !== 'string') throw new ArgumentError(`torchName: expected a param or state name, got ${kilnName === null ? 'null' : typeof kilnName}.`);
  if (kilnName === STEP_COUNTER || OPTIMIZER_SUFFIXES.some((suffix) => kilnName.endsWith(suffix))) return null;
  if (kilnName.endsWith(KERNEL_SUFFIX)) return { name: `${kilnName.slice(0, -KERNEL_SUFFIX.length)}.weight`, transpose: true };
  return { name: kilnName, transpose: false };
}

function checkOptions(where: string, options: TorchStateDictOptions, keys: readonly string[]): TorchRename {
  checkKeys(where, options, keys);
  if (options.rename !== undefined && typeof options.rename !== 'function') {
    throw new ArgumentError(`${where}: rename must be a function (kiln name → PyTorch name or null), got ${typeof options.rename}.`);
  }
  if (options.strict !== undefined && typeof options.strict !== 'boolean') throw new ArgumentError(`${where}: strict must be a boolean, got ${String(options.strict)}.`);
  return options.rename ?? torchName;
}

/** The rule applied to one name, with the default transposition for a bare string. */
function mapName(where: string, rename: TorchRename, kilnName: string): TorchName | null {
  const mapped = rename(kilnName);
  if (mapped === null) return null;
  if (typeof mapped === 'string') return { name: mapped, transpose: torchName(kilnName)?.transpose ?? false };
  if (typeof mapped !== 'object' || typeof mapped.name !== 'string' || typeof mapped.transpose !== 'boolean') {
    throw new ArgumentError(`${where}: rename('${kilnName}') must return a name, {name, transpose} or null, got ${JSON.stringify(mapped)}.`);
  }
  return mapped;
}

/** A rank-2 tensor with its two axes swapped. */
function transposed(where: string, name: string, tensor: HostTensor): HostTensor {
  if (tensor.shape.length !== 2) {
    throw new CheckpointError(`${where}: '${name}' is [${tensor.shape.join(',')}], but only a matrix can be transposed; map it with transpose: false in rename.`);
  }
  const [rows, cols] = tensor.shape as [number, number];
  const data = new (tensor.data.constructor as new (n: number) => HostTensor['data'])(tensor.data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = tensor.data[r * cols + c]!;
  return { shape: [cols, rows], dtype: tensor.dtype, data };
}

/**
 * Reads a PyTorch state_dict saved as safetensors into kiln's names and layouts, for the
 * params and state of `target` (a plan's, or a list of names): pass the result to
 * `session.setParams`. Every name the rule maps must be in the file with the matching
 * shape (transposed where the rule says; axes of size 1 may differ, as a conv bias's do), and with `strict` every tensor of the file
 * must be used; a CheckpointError lists what is missing or left over.
 */
export function fromTorchStateDict(file: Uint8Array, target: Plan | readonly string[], options: TorchStateDictOptions = {}): Record<string, HostTensor> {
  const where = 'fromTorchStateDict';
  const rename = checkOptions(where, options, ['rename', 'strict']);
  if (!(file instanceof Uint8Array)) throw new ArgumentError(`${where}: expected the file's bytes as a Uint8Array (readFileSync, or new Uint8Array(await response.arrayBuffer())), got ${file === null ? 'null' : typeof file}.`);
  const expected = targetShapes(where, target);
  const { tensors } = decodeSafetensors(file, { skipUnsupported: true });
  const result: Record<string, HostTensor> = {};
  const used = new Set<string>();
  const missing: string[] = [];
  for (const [kilnName, shape] of expected) {
    const mapped = mapName(where, rename, kilnName);
    if (mapped === null) continue;
    const tensor = Object.hasOwn(tensors, mapped.name) ? tensors[mapped.name]! : undefined;
    if (tensor === undefined) {
      missing.push(mapped.name === kilnName ? `'${kilnName}'` : `'${mapped.name}' (for '${kilnName}')`);
      continue;
    }
    used.add(mapped.name);
    const value = fitted(mapped.transpose ? transposed(where, mapped.name, tensor) : tensor, shape);
    if (shape !== undefined && value.shape.join(',') !== shape.join(',')) {
      const how = mapped.transpose ? ', transposed' : '';
      throw new CheckpointError(`${where}: '${mapped.name}' is [${tensor.shape.join(',')}] in the file${how} [${value.shape.join(',')}], but '${kilnName}' is [${shape.join(',')}]; is it the same model?`);
    }
    Object.defineProperty(result, kilnName, { value, enumerable: true, writable: true, configurable: true });
  }
  if (missing.length > 0) {
    throw new CheckpointError(`${where}: the file has no ${missing.join(', ')}. Fix: map the names with rename, or check that the file is this model's state_dict.`);
  }
  const unused = Object.keys(tensors).filter((name) => !used.has(name));
  if ((options.strict ?? true) && unused.length > 0) {
    throw new CheckpointError(`${where}: no kiln param or state is named for ${quoteList(unused)} in the file. Fix: map them with rename, or load with strict: false to leave them out.`);
  }
  return result;
}

const withoutUnitAxes = (shape: readonly number[]): string => shape.filter((d) => d !== 1).join(',');

/** The tensor with the kiln shape when the two differ only in axes of size 1 (a conv bias, [C] there and [C, 1, 1] here). */
function fitted(tensor: HostTensor, shape: readonly number[] | undefined): HostTensor {
  return shape !== undefined && withoutUnitAxes(shape) === withoutUnitAxes(tensor.shape) ? { ...tensor, shape: [...shape] } : tensor;
}

/** A bias as PyTorch stores it, 1-D: kiln's conv bias [C, 1, 1] without its unit axes. */
function torchBias(name: string, tensor: HostTensor): HostTensor {
  const isColumn = name.endsWith('.bias') && tensor.shape.length > 1 && tensor.shape.slice(1).every((d) => d === 1);
  return isColumn ? { ...tensor, shape: [tensor.shape[0]!] } : tensor;
}

/** The params and state of a plan (or listed names), with their shapes when a plan gives them. */
function targetShapes(where: string, target: Plan | readonly string[]): Map<string, readonly number[] | undefined> {
  if (Array.isArray(target)) {
    if (!target.every((name) => typeof name === 'string')) throw new ArgumentError(`${where}: target names must be strings.`);
    return new Map(target.map((name: string) => [name, undefined]));
  }
  const plan = target as Plan;
  if (plan === null || typeof plan !== 'object' || !Array.isArray(plan.buffers)) {
    throw new ArgumentError(`${where}: target must be a plan (session.plan) or a list of param and state names, got ${String(target)}.`);
  }
  return new Map(plan.buffers.filter((b) => b.role === 'param' || b.role === 'state').map((b) => [b.name, b.shape]));
}

/**
 * Saves kiln params and state (`await session.getParams()`) as a PyTorch state_dict in
 * safetensors, in PyTorch's names and layouts, for `model.load_state_dict(load_file(path))`.
 * Optimizer state is left out by the default rule; a conv bias is written 1-D. A batch norm's I64
 * `num_batches_tracked` is not written (kiln has no i64): PyTorch fills it in when a
 * state_dict without version metadata lacks it.
 */
export function toTorchStateDict(tensors: Readonly<Record<string, HostTensor>>, options: Pick<TorchStateDictOptions, 'rename'> = {}): Uint8Array {
  const where = 'toTorchStateDict';
  const rename = checkOptions(where, options, ['rename']);
  if (tensors === null || typeof tensors !== 'object') throw new ArgumentError(`${where}: tensors must be an object of name → {shape, dtype, data} (session.getParams()), got ${String(tensors)}.`);
  const out: Record<string, HostTensor> = {};
  const from = new Map<string, string>();
  for (const [kilnName, tensor] of Object.entries(tensors)) {
    const mapped = mapName(where, rename, kilnName);
    if (mapped === null) continue;
    if (from.has(mapped.name)) throw new ArgumentError(`${where}: '${from.get(mapped.name)}' and '${kilnName}' both map to '${mapped.name}'; give each its own name in rename.`);
    from.set(mapped.name, kilnName);
    const value = mapped.transpose ? transposed(where, kilnName, tensor) : torchBias(mapped.name, tensor);
    Object.defineProperty(out, mapped.name, { value, enumerable: true, writable: true, configurable: true });
  }
  return encodeSafetensors(out, { format: 'pt' });
}
