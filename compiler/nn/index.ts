/**
 * `nn`: layers with PyTorch's arguments, names and initializers, and name scopes. Import
 * it as a namespace: `import { nn } from 'kiln-webgpu'`, then `nn.linear(g, 'fc1', 784, 128)`.
 */

export { scope } from './scope.js';
export { linear, conv1d, conv2d, embedding } from './layers.js';
export type { Layer, Linear, LinearOptions, Conv, ConvLayerOptions, Embedding, EmbeddingOptions } from './layers.js';
export { batchNorm, layerNorm, rmsNorm, dropout, multiHeadAttention, sequential, relu, gelu, tanh, sigmoid, flatten } from './blocks.js';
export type { BatchNorm, Norm, NormOptions, MultiHeadAttention, MultiHeadAttentionOptions } from './blocks.js';
