/// <reference types="@webgpu/types" preserve="true" />
/**
 * `kiln-webgpu/onnx`: ONNX import and export, its own entry because it is the only code that needs
 * protobuf (bundled in, ~116 KB minified). The graphs it returns are the `kiln-webgpu`
 * entry's Graph (the package's builds share that module): compile and run them with it.
 */

export { importOnnx, supportedOnnxOps, MAX_OPSET } from './compiler/onnx/index.js';
export type { OnnxImportOptions, OnnxModel } from './compiler/onnx/index.js';
export { exportOnnx } from './compiler/onnx/export/index.js';
export type { OnnxExportOptions, ExportParams, ExportParamValue } from './compiler/onnx/export/index.js';
