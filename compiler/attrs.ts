/**
 * Attribute values are plain JSON so a graph (and later a plan) serializes as is, except
 * that a size may be symbolic (a SymDim, which serializes through graph-json's tagged form).
 */
import { SymDim } from './dims.js';

export type AttrValue = number | string | boolean | null | SymDim | readonly AttrValue[] | { readonly [key: string]: AttrValue };
export type Attrs = { readonly [key: string]: AttrValue };

/** `value` with each SymDim in it (at any depth) replaced by `replace(dim)`: how bindDims substitutes sizes. */
export function mapAttrDims(value: AttrValue, replace: (dim: SymDim) => AttrValue): AttrValue {
  if (value instanceof SymDim) return replace(value);
  if (Array.isArray(value)) return value.map((v: AttrValue) => mapAttrDims(v, replace));
  if (value !== null && typeof value === 'object') return mapAttrsDims(value as Attrs, replace);
  return value;
}

/** `attrs` with each SymDim in them replaced by `replace(dim)`. */
export function mapAttrsDims(attrs: Attrs, replace: (dim: SymDim) => AttrValue): Attrs {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, mapAttrDims(v, replace)]));
}

/** The symbolic sizes the attributes hold, at any depth (a dimSize's size, a reshape's target dims). */
export function attrDims(attrs: Attrs): SymDim[] {
  const found: SymDim[] = [];
  mapAttrsDims(attrs, (dim) => {
    found.push(dim);
    return dim;
  });
  return found;
}
