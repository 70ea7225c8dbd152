/**
 * The JSON form of a graph and the check `Graph.fromJSON` runs on it before rebuilding:
 * a file that was hand-edited, truncated or made by something else is refused with a
 * `GraphError` naming the field, never a `TypeError` from the rebuild.
 */

import type { DType } from './dtype.js';
import { GraphError } from './errors.js';
import type { DimJson } from './dims.js';
import { SymDim, dimFromJson, dimToJson } from './dims.js';
import type { AttrValue, Attrs } from './attrs.js';
import type { Node } from './node.js';

/** An attribute value as JSON: a symbolic size is tagged `{"dim": "784*batch"}`, so it cannot be read back as a string. */
export type AttrJson = number | string | boolean | null | AttrJson[] | { [key: string]: AttrJson };

/** A node as JSON: its shape's dims are sizes or printed symbolic sizes (`["batch", 784]`). */
export interface NodeJSON {
  id: number;
  op: string;
  inputs: number[];
  shape: DimJson[];
  dtype: DType;
  attrs: { [key: string]: AttrJson };
  name?: string;
}

/** The JSON form of a graph (`graph.toJSON()`, `Graph.fromJSON`). */
export interface GraphJSON {
  name: string;
  seed: number;
  nodes: NodeJSON[];
  outputs: Record<string, number>;
  /** `[target, value]` pairs: after a step, param/state `target` holds node `value`. */
  assignments?: [number, number][];
  /** `[node, range]` pairs: the values node must hold (see `Graph.declareRange`). */
  ranges?: [number, ValueRange][];
}

/** The key of the one-key object that tags a symbolic size among attribute values. */
const DIM_TAG = 'dim';

function encodeAttr(value: AttrValue): AttrJson {
  if (value instanceof SymDim) return { [DIM_TAG]: value.toString() };
  if (Array.isArray(value)) return value.map((v: AttrValue) => encodeAttr(v));
  if (value !== null && typeof value === 'object') return encodeAttrs(value as Attrs);
  return value as number | string | boolean | null;
}

function encodeAttrs(attrs: Attrs): { [key: string]: AttrJson } {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, encodeAttr(v)]));
}

/** A node as JSON (symbolic sizes tagged in its attrs, printed in its shape). */
export function encodeNode(node: Node): NodeJSON {
  return {
    id: node.id,
    op: node.op,
    inputs: [...node.inputs],
    shape: node.shape.map(dimToJson),
    dtype: node.dtype,
    attrs: encodeAttrs(node.attrs),
    ...(node.name === undefined ? {} : { name: node.name }),
  };
}

function decodeAttr(value: AttrJson, where: string): AttrValue {
  if (Array.isArray(value)) return value.map((v) => decodeAttr(v, where));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === DIM_TAG) {
    try {
      return dimFromJson(value[DIM_TAG]);
    } catch (error) {
      throw new GraphError(`Graph.fromJSON: ${where} has a bad symbolic size ${JSON.stringify(value)}: ${(error as Error).message}`);
    }
  }
  return decodeAttrs(value, where);
}

/** Attributes read back from JSON: each `{"dim": "784*batch"}` becomes the symbolic size. */
export function decodeAttrs(attrs: { readonly [key: string]: AttrJson }, where: string): Attrs {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, decodeAttr(v, `${where}'s attribute '${k}'`)]));
}

/**
 * The values a tensor must hold for the graph's results to mean what they say, inclusive
 * (class labels in [0, classes − 1]). Nothing checks them while a graph runs: a session run
 * with `checkFeeds` rejects an input fed outside its range (see `Graph.declareRange`).
 */
export interface ValueRange {
  readonly min: number;
  readonly max: number;
  /** Who needs the range, for error messages: `class labels of softmaxCrossEntropy over 10 classes`. */
  readonly reason: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isId = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isIdPair = (value: unknown): boolean => Array.isArray(value) && value.length === 2 && value.every(isId);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string '${value}'` : typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function fail(field: string, expected: string, got: unknown): never {
  throw new GraphError(`Graph.fromJSON: ${field} must be ${expected}, got ${describe(got)}. Pass what graph.toJSON() returned (JSON.parse of a saved graph).`);
}

function checkNodeJSON(node: unknown, index: number): void {
  if (!isObject(node)) fail(`nodes[${index}]`, 'a node object {id, op, inputs, shape, dtype, attrs}', node);
  if (typeof node['op'] !== 'string') fail(`nodes[${index}].op`, 'an op name', node['op']);
  if (!Array.isArray(node['inputs']) || !node['inputs'].every(isId)) fail(`nodes[${index}].inputs`, 'an array of node ids', node['inputs']);
  if (!isObject(node['attrs'])) fail(`nodes[${index}].attrs`, 'an object', node['attrs']);
  if (node['name'] !== undefined && typeof node['name'] !== 'string') fail(`nodes[${index}].name`, 'a string when present', node['name']);
}

/** Checks the structure of a graph's JSON (the types of its fields, as `GraphJSON` has them); `Graph.fromJSON` checks the rest by rebuilding it. */
export function checkGraphJSON(json: unknown): void {
  if (!isObject(json)) fail('its argument', 'a graph as JSON ({name, seed, nodes, outputs, ...})', json);
  if (typeof json['name'] !== 'string') fail('name', 'a string', json['name']);
  if (json['seed'] !== undefined && typeof json['seed'] !== 'number') fail('seed', 'an integer', json['seed']);
  if (!Array.isArray(json['nodes'])) fail('nodes', 'an array of nodes', json['nodes']);
  json['nodes'].forEach(checkNodeJSON);
  if (!isObject(json['outputs']) || !Object.values(json['outputs']).every(isId)) fail('outputs', 'an object of output name → node id', json['outputs']);
  const { assignments, ranges } = json;
  if (assignments !== undefined && !(Array.isArray(assignments) && assignments.every(isIdPair))) {
    fail('assignments', 'an array of [target, value] node id pairs', assignments);
  }
  const isRange = (entry: unknown): boolean => Array.isArray(entry) && entry.length === 2 && isId(entry[0]) && isObject(entry[1]);
  if (ranges !== undefined && !(Array.isArray(ranges) && ranges.every(isRange))) fail('ranges', 'an array of [node id, {min, max, reason}] pairs', ranges);
}
