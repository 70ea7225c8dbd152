/**
 * `exportOnnx`: a kiln graph, or a training program's forward entry, as the bytes of an
 * `.onnx` file that other engines (ONNX Runtime, TensorRT, OpenVINO, ...) run.
 *
 * The exported graph is the one the forward entry computes: train/infer switches resolved
 * for inference (`specializeModes`: dropout is the identity, batch norm uses its running
 * statistics), and only what the entry's outputs need. The params and state it reads become
 * initializers holding the values given (or the graph's initial ones); its inputs and
 * outputs keep their kiln names, with their types as value info. Each kiln op becomes its
 * ONNX op or a few (ops-*.ts); an op with no ONNX form is an OnnxExportError naming it.
 * The model is checked structurally (check.ts) before it is returned.
 */

import type { onnx as onnxTypes } from 'onnx-proto';
import { CompileError, OnnxExportError } from '../../errors.js';
import { Graph } from '../../graph.js';
import type { Node } from '../../graph.js';
import { checkKeys } from '../../ops/args.js';
import { SOURCE_OPS } from '../../ops/source.js';
import { programOf, requireProgramSource } from '../../passes/program.js';
import { specializeModes } from '../../passes/specialize-modes.js';
import { initialParams } from '../../reference.js';
import type { TrainingProgram } from '../../train.js';
import { staticShape } from '../../shape.js';
import { verify } from '../../verify.js';
import { MAX_OPSET } from '../import.js';
import { onnx } from '../tensor-proto.js';
import { OnnxGraphBuilder } from './builder.js';
import { checkOnnxModel } from './check.js';
import { ExportContext, exporterFor, refusal } from './context.js';
import type { PatternMatch } from './patterns.js';
import { PATTERNS } from './patterns.js';
import { SymbolSizes } from './sizes.js';
import type { ExportParams } from './params.js';
import { checkParamNames, paramValues } from './params.js';
import './ops-elementwise.js';
import './ops-reduce.js';
import './ops-shape.js';
import './ops-nn.js';

/** The oldest default-domain opset exportOnnx writes: ops take their axes and shapes as inputs from 13 on. */
export const MIN_EXPORT_OPSET = 13;

/** ONNX IR version 8 is the one opsets 13 to 18 were released with; every runtime that reads opset 18 reads it. */
const IR_VERSION = 8;

export interface OnnxExportOptions {
  /** Values of the params and state, by name (`await session.getParams()`, a checkpoint). Default: the graph's initial values. */
  params?: ExportParams;
  /** The default-domain opset the model imports, from 13 to MAX_OPSET (the default). */
  opset?: number;
  /** The ONNX graph's name. Default the kiln graph's. */
  name?: string;
}

/** Ops kiln has but an exported forward graph cannot hold, with why. */
export const NO_ONNX_FORM: Readonly<Record<string, string>> = {
  modeSelect: "specializeModes resolves every train/infer switch for the forward entry before export, so none is left to write",
  scatterAdd: "it is gather's gradient; ONNX's ScatterND rejects the out-of-range indices kiln skips, so the two would differ; export the forward entry",
  randomUniform: "ONNX's RandomUniform draws other numbers than kiln's counter-based stream, so the model would not compute kiln's values",
  convWeightGrad1d: 'it is a gradient op, which only a training step computes; export the forward entry',
  convWeightGrad2d: 'it is a gradient op, which only a training step computes; export the forward entry',
  maxPoolGrad: 'it is a gradient op, which only a training step computes; export the forward entry',
  maxPoolGather: 'it is a gradient op, which only a training step computes; export the forward entry',
  avgPoolGrad: 'it is a gradient op, which only a training step computes; export the forward entry',
};

/** The forward entry's program, with modes specialized for inference. */
function forwardProgram(source: Graph | TrainingProgram): { graph: Graph; outputs: Readonly<Record<string, number>> } {
  const given = source as { graph?: unknown; forward?: unknown } | null;
  if (given !== null && typeof given === 'object' && given.graph instanceof Graph && !(source instanceof Graph) && given.forward === undefined) {
    throw new OnnxExportError(`exportOnnx: the program over graph '${given.graph.name}' has no forward entry to export; build it with trainingProgram(graph, {...}).`);
  }
  requireProgramSource('exportOnnx', source);
  const userGraph = source instanceof Graph ? source : source.graph;
  verify(userGraph);
  const specialized = specializeModes(programOf(source));
  const outputs = specialized.entries['forward']!.outputs;
  if (Object.keys(outputs).length === 0) {
    throw new OnnxExportError(`exportOnnx: graph '${userGraph.name}' has no outputs, so its forward entry computes nothing; declare them with graph.output(name, tensor).`);
  }
  return { graph: specialized.graph, outputs };
}

function checkOpset(opset: unknown): number {
  if (typeof opset !== 'number' || !Number.isInteger(opset) || opset < MIN_EXPORT_OPSET || opset > MAX_OPSET) {
    throw new OnnxExportError(`exportOnnx: opset must be an integer from ${MIN_EXPORT_OPSET} to ${MAX_OPSET}, got ${String(opset)}.`);
  }
  return opset;
}

class Exporter {
  readonly builder = new OnnxGraphBuilder();
  private readonly names = new Map<number, string>();
  private readonly plans = new Map<number, PatternMatch>();
  private readonly sources: Node[] = [];
  private initial: ReturnType<typeof initialParams> | undefined;
  /** Symbolic sizes read from the graph inputs: an input used this way joins the model's inputs. */
  private readonly sizes: SymbolSizes;

  constructor(
    private readonly graph: Graph,
    private readonly opset: number,
    private readonly params: ExportParams | undefined,
  ) {
    this.sizes = new SymbolSizes(this.builder, graph, (input) => {
      if (!this.names.has(input.id)) this.names.set(input.id, this.writeSource(input));
      return this.names.get(input.id)!;
    });
    for (const node of graph.nodes) if (node.op === 'input' || node.op === 'param' || node.op === 'state') this.builder.reserve(node.name!, `the ${node.op}`);
  }

  /** Writes every value `targets` need (iteratively: a deep graph must not overflow the stack); returns their names. */
  write(targets: readonly number[]): string[] {
    const stack = [...targets];
    while (stack.length > 0) {
      const id = stack.at(-1)!;
      if (this.names.has(id)) {
        stack.pop();
        continue;
      }
      const node = this.graph.node(id);
      if (SOURCE_OPS.has(node.op)) {
        this.names.set(id, this.writeSource(node));
        stack.pop();
        continue;
      }
      const plan = this.planFor(node);
      const missing = plan.reads.filter((read) => !this.names.has(read));
      if (missing.length > 0) {
        stack.push(...missing);
        continue;
      }
      stack.pop();
      const value = plan.emit(new ExportContext(this.builder, this.opset, this.graph, node, plan.reads, (read) => this.names.get(read)!, this.sizes));
      this.builder.declare(value, node.dtype, node.shape);
      this.names.set(id, value);
    }
    // Inputs in the kiln graph's order, whatever order the outputs reached them in.
    for (const node of this.sources.sort((a, b) => a.id - b.id)) this.builder.addInput(node.name!, node.dtype, node.shape);
    return targets.map((id) => this.names.get(id)!);
  }

  private planFor(node: Node): PatternMatch {
    let plan = this.plans.get(node.id);
    if (plan) return plan;
    for (const pattern of PATTERNS) {
      plan = pattern(this.graph, node, this.opset);
      if (plan) break;
    }
    if (!plan) {
      const emit = exporterFor(node.op);
      if (!emit) throw refusal(node, NO_ONNX_FORM[node.op] ?? 'kiln has no ONNX form for this op');
      plan = { reads: node.inputs, emit };
    }
    this.plans.set(node.id, plan);
    return plan;
  }

  private writeSource(node: Node): string {
    const { builder } = this;
    if (node.op === 'input') {
      this.sources.push(node);
      return node.name!;
    }
    if (node.op === 'const') {
      const value = node.attrs['value'] as readonly number[];
      const splat = value.length === 1 && node.shape.some((d) => d !== 1);
      if (!splat) return builder.addInitializer(`%${node.id}`, node.dtype, staticShape(`exportOnnx: const %${node.id}`, node.shape, 'a constant holds its values'), value);
      // A splat (one value filling a shape) stays one number in the file.
      const scalar = builder.addInitializer(`%${node.id}:fill`, node.dtype, [], value);
      return builder.addNode('Expand', [scalar, this.sizes.shape(node.shape, `%${node.id}`)], {}, `%${node.id}`)[0]!;
    }
    const values = paramValues(node, this.params, () => (this.initial ??= initialParams(this.graph)));
    return builder.addInitializer(node.name!, node.dtype, staticShape(`exportOnnx: ${node.op} '${node.name}'`, node.shape, 'params and state are static'), values, true);
  }
}

/**
 * The forward entry of a graph or training program as the bytes of an ONNX model (a
 * `.onnx` file), with the params' current values as initializers.
 */
export function exportOnnx(source: Graph | TrainingProgram, options: OnnxExportOptions = {}): Uint8Array<ArrayBuffer> {
  checkKeys('exportOnnx', options, ['params', 'opset', 'name']);
  const opset = checkOpset(options.opset ?? MAX_OPSET);
  const { graph, outputs } = forwardProgram(source);
  if (options.params !== undefined) checkParamNames(graph, options.params);
  const exporter = new Exporter(graph, opset, options.params);
  const outputNames = Object.keys(outputs);
  for (const name of outputNames) exporter.builder.reserve(name, 'the output');
  const values = exporter.write(outputNames.map((name) => outputs[name]!));
  outputNames.forEach((name, k) => {
    const node = graph.node(outputs[name]!);
    exporter.builder.addOutput(name, values[k]!, node.dtype, node.shape);
  });
  const { nodes, initializers, inputs, outputs: outputInfo, valueInfo } = exporter.builder;
  const model: onnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    producerName: 'kiln',
    opsetImport: [{ domain: '', version: opset }],
    graph: { name: options.name ?? graph.name, node: nodes, initializer: initializers, input: inputs, output: outputInfo, valueInfo },
  };
  const problems = checkOnnxModel(model);
  if (problems.length > 0) throw new CompileError(`exportOnnx: the exported model breaks ONNX's structural rules (a kiln bug): ${problems.join('; ')}.`);
  // Copied into an ArrayBuffer of its own (protobufjs may hand back a view of a shared pool), which a Blob or a file takes as is.
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}
