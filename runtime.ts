/// <reference types="@webgpu/types" preserve="true" />
/**
 * `kiln-webgpu/runtime`: the plan runner alone, for an app that ships plans compiled ahead
 * of time. Session, the device, checkpoints, the plan checks, errors and the plan's types;
 * no compiler, so a browser bundle stays small. The same objects as the `kiln-webgpu`
 * entry's (the package's builds share these modules), so both may be used together.
 */

export { Session } from './runtime/session.js';
export type { HostTensor, Feed, RunOptions, RunOptionsFor, SessionOptions, LoadCheckpointOptions, PipelineProgress } from './runtime/session.js';
export { requestDevice } from './runtime/device.js';
export type { DeviceOptions, DeviceInfo, KilnDevice } from './runtime/device.js';
export { encodeSafetensors, decodeSafetensors } from './runtime/safetensors.js';
export type { Checkpoint } from './runtime/safetensors.js';
export { validatePlan, checkPlanFitsDevice } from './compiler/plan-check.js';
export type { Plan, PlanBuffer, PlanKernel, PlanEntry, BufferRole, PlanDType, PlanSize, PlanWorkgroupCount } from './compiler/plan-format.js';
export { evaluatePlanSize } from './compiler/plan-format.js';
export * from './compiler/errors.js';
export { NumericsError } from './runtime/numerics.js';
export type { NumericsCheckOptions, NonFiniteReport, NonFiniteKind } from './runtime/numerics.js';
export { fromTorchStateDict, toTorchStateDict, torchName } from './runtime/torch-state-dict.js';
export type { TorchName, TorchRename, TorchStateDictOptions } from './runtime/torch-state-dict.js';
