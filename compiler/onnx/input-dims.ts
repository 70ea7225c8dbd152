/**
 * The dims of a model's inputs. A `dim_value` is a static size. A dynamic dim (a
 * `dim_param` name, or neither) is bound to a size when the caller gives one
 * (`importOnnx(bytes, {dims: {batch: 32}})`), else it becomes a symbolic dim of the kiln
 * graph: one plan then serves every size. ONNX names (`batch size`, `N`, `unk__612`) need
 * not be identifiers: kiln's dim names are, so each is sanitized; a dim with no name gets
 * one (`unk_0`), each distinct across the model. `symbolicDims` reports where each came from.
 */

import type { Dim } from '../dims.js';
import { isDimName, symbol } from '../dims.js';
import { ArgumentError } from '../errors.js';
import type { onnx as onnxTypes } from 'onnx-proto';
import { int64 } from './tensor-proto.js';

/** An identifier for an ONNX dim_param: other characters become '_', a leading digit gets a '_' before it. */
function sanitize(param: string): string {
  const name = param.replace(/[^A-Za-z0-9_]/g, '_');
  return isDimName(name) ? name : `_${name}`;
}

export class InputDims {
  /** Per kiln dim name, where it comes from (`dim_param 'batch size'`, `input 'x' axis 0 (no dim_param)`). */
  readonly symbolic: Record<string, string> = {};
  /** Kiln name per dim_param, so every input naming one param shares one dim. */
  private readonly byParam = new Map<string, string>();
  private readonly used = new Set<string>();
  private unnamed = 0;

  constructor(private readonly bound: Readonly<Record<string, number>> = {}) {}

  /**
   * The size of one input dim. `dims` may bind a dynamic dim by its ONNX name (the
   * dim_param, or `input:axis` for an unnamed one) or by its kiln name.
   */
  dimension(input: string, axis: number, dim: onnxTypes.TensorShapeProto.IDimension): Dim {
    // onnx.proto is proto2: a dim_value that is present (0 included) is the size; protobufjs sets only present fields on the message.
    if (Object.hasOwn(dim, 'dimValue')) return int64(dim.dimValue);
    const key = dim.dimParam || `${input}:${axis}`;
    const name = this.nameOf(input, axis, dim.dimParam || undefined);
    const boundKey = this.bound[key] !== undefined ? key : this.bound[name] !== undefined ? name : undefined;
    if (boundKey === undefined) return symbol(name);
    const size = this.bound[boundKey]!;
    if (!Number.isSafeInteger(size) || size < 0) throw new ArgumentError(`importOnnx: dims['${boundKey}'] must be a non-negative integer, got ${size}.`);
    this.used.add(boundKey);
    delete this.symbolic[name];
    return size;
  }

  private nameOf(input: string, axis: number, param: string | undefined): string {
    const prior = param === undefined ? undefined : this.byParam.get(param);
    if (prior !== undefined) return prior;
    const base = param === undefined ? `unk_${this.unnamed++}` : sanitize(param);
    let name = base;
    for (let i = 1; Object.hasOwn(this.symbolic, name) || [...this.byParam.values()].includes(name); i++) name = `${base}_${i}`;
    if (param !== undefined) this.byParam.set(param, name);
    this.symbolic[name] = param === undefined ? `input '${input}' axis ${axis} (no dim_param)` : `dim_param '${param}'`;
    return name;
  }

  checkUsed(): void {
    const unused = Object.keys(this.bound).filter((k) => !this.used.has(k));
    if (unused.length > 0) throw new ArgumentError(`importOnnx: dims ${unused.map((k) => `'${k}'`).join(', ')} name no dynamic dimension of the model's inputs.`);
  }
}
