/**
 * Attribute values are plain JSON so a graph (and later a plan) serializes as is, except
 * that a size may be symbolic (a SymDim, which serializes through graph-json's tagged form).
 */
import type { SymDim } from './dims.js';

export type AttrValue = number | string | boolean | null | SymDim | readonly AttrValue[] | { readonly [key: string]: AttrValue };
export type Attrs = { readonly [key: string]: AttrValue };
