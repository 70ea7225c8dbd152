/**
 * What the page and its worker say to each other. The worker (playground/worker/) runs the
 * user's code, compiles, lays out graphs, serves feeds and computes values, so no long task
 * ever runs on the page's thread; the page (main.ts and the views) draws and runs the GPU
 * session. Every call is `method(args) → result`, typed by `WorkerApi`; the worker may send
 * progress for a call while it runs. Everything crossing is structured-clonable plain data.
 *
 * One lane, one entry: each feature adds its method here and its handler in
 * playground/worker/, keeping the worker's dispatch (worker/main.ts) a table.
 */

import type { CompileReport, Plan } from '../index.js';
import type { DagModel } from './graph-model.js';
import type { LayoutView, PositionedGraph } from './graph-layout.js';
import type { StageView } from './stage-names.js';
import type { PlanCosts } from './worker/costs.js';
import type { ValueSummary } from './worker/value-summary.js';
import type { Feed } from '../runtime.js';

/** A dynamic dim of an .onnx file's inputs, which the page asks a size for: the name `dims` binds it by, and where it comes from (`dim_param 'batch size'`). */
export interface OnnxDim {
  readonly name: string;
  readonly where: string;
}

/** Where a compile's graph comes from: the editor's code, or an .onnx file dropped on the page. */
export type CompileSource =
  | { readonly kind: 'code'; readonly code: string }
  | { readonly kind: 'onnx'; readonly fileName: string; readonly bytes: ArrayBuffer; readonly dims?: Readonly<Record<string, number>> };

export interface CompileArgs {
  readonly source: CompileSource;
  /** false: compile without fusion (one kernel per op), for the fused/unfused comparison. */
  readonly fuse: boolean;
  /** The page's device's limits (`limitsRecord(device.limits)`), so kernels fit it; WebGPU's defaults without a device. */
  readonly limits?: Readonly<Record<string, number>>;
}

/** A compile's results, as the page shows them. */
export interface Compiled {
  readonly plan: Plan;
  readonly report: CompileReport;
  /** The simplified graph (the one the kernels' node ids name), sorted into parts, with each node's line and scope. */
  readonly model: DagModel;
  /** Whether the code gave `feeds` (Forward and Train need them). */
  readonly hasFeeds: boolean;
  /** Milliseconds the worker spent per stage: `run code`, `compile`, … (shown, and read by the benchmarks). */
  readonly timings: Readonly<Record<string, number>>;
  /** Values for the params that the session loads before it runs (an .onnx file's weights: a plan carries none). */
  readonly params?: Readonly<Record<string, Float32Array>>;
  /** What each dispatch computes and moves (worker/costs.ts), for the kernels table's roofline columns and the heat. */
  readonly costs: PlanCosts;
}

/** An error from the worker, rebuilt on the page with its name, message and the user's line. */
export interface WorkerError {
  readonly name: string;
  readonly message: string;
  /** The editor line (1-based) the error came from, when known. */
  readonly line?: number;
}

/**
 * A typed array crossing the boundary (its buffer is transferred). `dtype` is the buffer's
 * it feeds; plain numbers from the code cross as a Float64Array, exactly as given, so the
 * page's Session checks them (integers, 0/1) as it checked them before.
 */
export interface TensorData {
  readonly dtype: 'f32' | 'i32' | 'u32' | 'bool';
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array | Uint32Array | Uint8Array | Float64Array;
}

/** What Forward ran on and gave, sent for the values of its nodes (worker/values.ts). */
export interface ValuesContextArgs {
  /** The inputs Forward ran on (step 0's), as given to the session. */
  readonly feeds: Readonly<Record<string, Feed>>;
  /** Every param and state, as the session holds them (Session.getParams()). */
  readonly params: Readonly<Record<string, TensorData>>;
  /** The forward entry's outputs as the GPU computed them. */
  readonly outputs: Readonly<Record<string, TensorData>>;
}

/** How the reference interpreter's forward outputs compare with the GPU's. */
export interface ForwardCheck {
  /** Per forward output: the largest |reference − GPU|. */
  readonly outputs: readonly { readonly name: string; readonly maxAbsDifference: number }[];
  /** The largest over all outputs (0 when there are none). */
  readonly maxAbsDifference: number;
}

/**
 * Every worker method: its arguments and its result. Lanes add their entries here (layout,
 * values, stages, …) with the handler in playground/worker/.
 */
export interface WorkerApi {
  /** Runs the code (or imports the ONNX file) and compiles it; later calls work on the last compile. */
  compile: { args: CompileArgs; result: Compiled };
  /** Step `step`'s feeds for `entry`, from the last compile's code. */
  feeds: { args: { readonly entry: string; readonly step: number }; result: Readonly<Record<string, TensorData>> };
  /** Positions for a graph model's groups, nodes and edges as `view` shows them (worker/layout.ts, graph-layout.ts). */
  layout: { args: { readonly model: DagModel; readonly view: LayoutView }; result: PositionedGraph };
  /** An .onnx file's dynamic dims, read before it is imported (worker/onnx-source.ts), so the page can ask their sizes. */
  onnxDims: { args: { readonly bytes: ArrayBuffer; readonly fileName: string }; result: readonly OnnxDim[] };
  /** A stage of the last compile as text (worker/stages.ts); `unfused` compiles it without fusion, once. */
  stages: { args: { readonly stage: StageView }; result: { readonly text: string } };
  /** The last compile's report without fusion (one kernel per op), for the kernels pane's fused/unfused toggle. */
  unfusedReport: { args: Record<string, never>; result: CompileReport };
  /** After Forward: the session's params and the GPU's forward outputs; the reference's outputs compared with them (worker/values.ts). */
  valuesContext: { args: ValuesContextArgs; result: ForwardCheck };
  /** Node `node`'s values by the reference interpreter from that context, summarized (worker/values.ts). */
  values: { args: { readonly node: number }; result: ValueSummary };
}

export type Method = keyof WorkerApi;

/** Page → worker. */
export interface CallMessage<M extends Method = Method> {
  readonly type: 'call';
  readonly id: number;
  readonly method: M;
  readonly args: WorkerApi[M]['args'];
}

/** Progress while a call runs: `stage` names what is happening, `fraction` how far (0..1) when known. */
export interface ProgressMessage {
  readonly type: 'progress';
  /** The call it belongs to. */
  readonly id: number;
  readonly stage: string;
  readonly fraction?: number;
}

/** Worker → page. */
export type ReplyMessage =
  | { readonly type: 'result'; readonly id: number; readonly result: unknown }
  | { readonly type: 'error'; readonly id: number; readonly error: WorkerError }
  | ProgressMessage;
