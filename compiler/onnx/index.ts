/**
 * The ONNX importer's public face. Importing this module registers every family of op
 * handlers (each file calls `registerHandlers`); a new family is one more import here.
 */

import './ops-elementwise.js';
import './ops-shape.js';
import './ops-reduce.js';
import './ops-index.js';
import './ops-nn.js';
import './ops-conv.js';
import './ops-loss.js';
import './ops-rnn.js';
import './ops-einsum.js';
import './ops-scatter.js';
import './ops-signal.js';
import './ops-quantize.js';
import './ops-resize.js';

export { importOnnx, MAX_OPSET } from './import.js';
export type { OnnxImportOptions, OnnxModel } from './import.js';
export { StaticValueError, SymbolicValueError, supportedOnnxOps } from './handler.js';
export { knownFromTensor, onnx } from './tensor-proto.js';
export type { KnownValue, TensorProto } from './tensor-proto.js';
