/// <reference types="@webgpu/types" preserve="true" />
/**
 * kiln: a static-graph deep-learning compiler for WebGPU. This is the public API, the
 * package's `kiln-webgpu` entry: everything but ONNX import, which is `kiln-webgpu/onnx`
 * (onnx.ts) so protobuf code loads only where it is used. The plan runner alone is
 * `kiln-webgpu/runtime` (runtime.ts). The reference line keeps WebGPU's types (GPUDevice,
 * ...) in the emitted declarations, so they never become `any` in a consumer.
 */

export { Graph, graphDims, roleOf } from './compiler/graph.js';
export type { Node, Role, GraphJSON, NodeJSON, GraphOptions, PersistentOptions, NestedNumbers, ValueRange } from './compiler/graph.js';
export { traceNodeLines } from './compiler/origin.js';
export type { Origin, LineSource } from './compiler/origin.js';
export { SymDim, symbol, isSymbolic, dimAdd, dimSub, dimMul, dimProduct, dimDivide, evaluateDim, substituteDim } from './compiler/dims.js';
export type { Dim, DimJson } from './compiler/dims.js';
export { bindDims } from './compiler/passes/bind-dims.js';
export type { DimSizes } from './compiler/passes/bind-dims.js';
export { Tensor } from './compiler/tensor.js';
export type { TensorLike } from './compiler/tensor.js';
export type { DType, Precision } from './compiler/dtype.js';
export type { DimLike, Shape, StaticShape, TensorType } from './compiler/shape.js';
export type { InitKind, InitSpec } from './compiler/init.js';
export type { HostArray, OpDef, Attrs, AttrValue, VjpArgs, VjpRule } from './compiler/ops/op.js';
export { registeredOps } from './compiler/ops/op.js';
export * from './compiler/errors.js';
export { verify } from './compiler/verify.js';
export { printGraph } from './compiler/print.js';
export { interpret, evaluate, evaluateNodes, initialParams, hostArray, runEntry } from './compiler/reference.js';
export type { InterpretOptions, HostValue, StepResult } from './compiler/reference.js';
export { grad, vjp } from './compiler/autodiff.js';
export { trainingProgram } from './compiler/train.js';
export type { TrainingProgram, TrainingOptions, EntryPoint } from './compiler/train.js';
export * from './compiler/optim.js';
export { ReferenceSession } from './compiler/reference-session.js';
export * from './compiler/ops/index.js';
export { requestDevice } from './runtime/device.js';
export type { DeviceOptions, DeviceInfo, KilnDevice } from './runtime/device.js';
export { compile } from './compiler/plan.js';
export type { CompileOptions } from './compiler/plan.js';
export type { Plan, PlanBuffer, PlanKernel, PlanEntry, BufferRole, PlanDType, PlanSize, PlanWorkgroupCount } from './compiler/plan-format.js';
export { evaluatePlanSize } from './compiler/plan-format.js';
export { Session } from './runtime/session.js';
export type { HostTensor, Feed, RunOptions, RunOptionsFor, PipelineProgress } from './runtime/session.js';
export type { SessionOptions } from './runtime/session.js';
export { NumericsError } from './runtime/numerics.js';
export type { NumericsCheckOptions, NonFiniteReport, NonFiniteKind } from './runtime/numerics.js';
export { printPlan } from './compiler/plan-print.js';
export { encodeSafetensors, decodeSafetensors } from './runtime/safetensors.js';
export type { Checkpoint, DecodeSafetensorsOptions } from './runtime/safetensors.js';
export { fromTorchStateDict, toTorchStateDict, torchName } from './runtime/torch-state-dict.js';
export type { TorchName, TorchRename, TorchStateDictOptions } from './runtime/torch-state-dict.js';
export * as nn from './compiler/nn/index.js';
export type { LoadCheckpointOptions } from './runtime/session.js';
export { validatePlan, checkPlanFitsDevice } from './compiler/plan-check.js';
export { planMemory, memoryReport, checkMemoryPlan } from './compiler/memory.js';
export { simplify } from './compiler/passes/simplify.js';
export { programOf } from './compiler/passes/program.js';
export { specializeModes } from './compiler/passes/specialize-modes.js';
export { compileStages, STAGE_NAMES } from './compiler/plan.js';
export type { CompileStages, MemoryStage, StageName } from './compiler/plan.js';
export { printStage } from './compiler/stages-print.js';
export type { GraphProgram, Pass } from './compiler/passes/program.js';
export * from './compiler/report.js';
export { printReport } from './compiler/report-print.js';
export type { PrintReportOptions } from './compiler/report-print.js';
export { autotune, timeKernels } from './tune/autotune.js';
export { autotuneAttention } from './tune/attention.js';
export type { AutotuneOptions } from './tune/autotune.js';
export { checkTuningTable } from './compiler/codegen/tuning.js';
export type { TuningTable, MatmulVariant, MatmulShapeClass, ReduceShapeClass, ReduceStrategy } from './compiler/codegen/tuning.js';
