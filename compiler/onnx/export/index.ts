/** ONNX export's public face: exportOnnx, its checker, and the kiln ops it writes. */

export { exportOnnx, MIN_EXPORT_OPSET, NO_ONNX_FORM } from './export.js';
export type { OnnxExportOptions } from './export.js';
export type { ExportParams, ExportParamValue } from './params.js';
export { checkOnnxModel } from './check.js';
export { exportedOps } from './context.js';
