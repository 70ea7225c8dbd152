/** Every op module, imported once so each op is registered before a graph is used. */

export * from './unary.js';
export * from './binary.js';
export * from './reduce.js';
export * from './matmul.js';
export * from './shape.js';
export * from './slice.js';
export * from './gather.js';
export * from './cast.js';
export * from './nn.js';
export * from './stop-gradient.js';
export * from './conv.js';
export * from './norm.js';
export * from './random.js';
export * from './pool.js';
export * from './sequence.js';
export * from './attention.js';
export * from './layers.js';
export * from './mode.js';
export * from './dim-size.js';
