/** Every op module, imported once so each op is registered before a graph is used. */

export * from './source.js';
export * from './unary.js';
export * from './binary.js';
