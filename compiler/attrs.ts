/** Attribute values are plain JSON so a graph (and later a plan) serializes as is. */
export type AttrValue = number | string | boolean | null | readonly AttrValue[] | { readonly [key: string]: AttrValue };
export type Attrs = { readonly [key: string]: AttrValue };
