/**
 * Every public function of the package's entries (index.ts; onnx.ts; runtime.ts re-exports
 * index.ts's own objects), called with what it does not take — null, a number,
 * a string, an empty object, an option key misspelled — throws a typed kiln error (a
 * KilnError subclass, never a TypeError from the internals) whose message names the
 * function and what it expected. A table: one row per function and argument position.
 * (Device-bound calls that need a real device are in the GPU tests.)
 */

import { expect } from 'chai';
import * as kiln from '../../index.js';
import { KilnError } from '../../index.js';
import * as onnxEntry from '../../onnx.js';
import * as runtimeEntry from '../../runtime.js';
import type { Graph, Tensor } from '../../index.js';

const NULL = ['null', null] as const;
const NUMBER = ['a number', 42] as const;
const STRING = ['a string', 'x'] as const;
const EMPTY = ['an empty object', {}] as const;
type Bad = readonly [string, unknown];
/** What may stand for a Graph, a Tensor, a plan, a program or stages: none of them. */
const NOT_AN_OBJECT_OF_OURS: readonly Bad[] = [NULL, NUMBER, STRING, EMPTY];
/** Where an options object belongs: anything but one, and one with a key misspelled. */
const NOT_OPTIONS: readonly Bad[] = [NULL, NUMBER, STRING, ['a misspelled key', { fusee: true }]];
/** Where a size (an integer or a SymDim) belongs. */
const NOT_A_DIM: readonly Bad[] = [NULL, STRING, EMPTY, ['a fraction', 1.5]];

interface Row {
  /** The call, as a reader would write it, with `_` for the bad argument. */
  readonly call: string;
  /** Words the message must contain: the function's name (or its op's). */
  readonly names: string;
  readonly bad: readonly Bad[];
  readonly run: (bad: never) => unknown;
}

function fixtures() {
  const g = new kiln.Graph('api');
  const x = g.input('x', [2, 3]);
  const w = g.param('w', [3, 2], { init: 'glorotUniform' });
  const loss = x.matmul(w).square().mean();
  g.output('y', x.relu());
  const program = kiln.trainingProgram(g, { loss, optimizer: kiln.sgd({ lr: 0.1 }) });
  const plan = kiln.compile(g);
  const stages = kiln.compileStages(g);
  const symbolic = new kiln.Graph('symbolic');
  symbolic.output('y', symbolic.input('x', ['batch', 3]).relu());
  return { g, x, w, loss, program, plan, stages, report: kiln.compileReport(g).report, symbolic };
}

const UNARY = ['abs', 'ceil', 'cos', 'exp', 'expm1', 'floor', 'log', 'log1p', 'neg', 'reciprocal', 'relu', 'round', 'rsqrt', 'sigmoid', 'sign', 'sin', 'atan', 'softplus', 'sqrt', 'square', 'tanh', 'stopGradient', 'globalAvgPool', 'globalMaxPool', 'layerNorm', 'rmsNorm', 'gelu', 'elu', 'leakyRelu', 'tril', 'triu', 'logSoftmax', 'softmax', 'logicalNot'] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual', 'logicalAnd', 'logicalOr', 'logicalXor'] as const;
const REDUCTIONS = ['sum', 'mean', 'max', 'min', 'prod', 'logsumexp', 'argmax', 'argmin'] as const;
const SHAPED = ['reshape', 'broadcastTo', 'expand', 'permute', 'transpose', 'squeeze', 'unsqueeze', 'slice', 'pad', 'split'] as const;
const POOLS = ['maxPool1d', 'maxPool2d', 'maxPool3d', 'avgPool1d', 'avgPool2d', 'avgPool3d'] as const;

function rows(f: ReturnType<typeof fixtures>): Row[] {
  const { g, x, w, loss, program, plan, stages, report, symbolic } = f;
  const batch = kiln.symbol('batch');
  const fn = kiln as unknown as Record<string, (...args: unknown[]) => unknown>;
  const anyBad = (call: string, names: string, bad: readonly Bad[], run: (b: unknown) => unknown): Row => ({ call, names, bad, run: run as (bad: never) => unknown });
  const tensorFirst = (name: string, ...rest: unknown[]) => anyBad(`${name}(_)`, name, NOT_AN_OBJECT_OF_OURS, (b) => fn[name]!(b, ...rest));
  return [
    // The graph builder.
    anyBad("new Graph(_)", 'Graph', [NULL, NUMBER, EMPTY], (b) => new kiln.Graph(b as string)),
    anyBad("new Graph('g', _)", 'Graph', [NUMBER, STRING, ['a misspelled key', { sed: 1 }]], (b) => new kiln.Graph('g', b as never)),
    anyBad("new Graph('g', {outputs: _})", 'Graph: outputs', [NULL, NUMBER, STRING, ['an empty name', ['']], ['a name twice', ['y', 'y']]], (b) => new kiln.Graph('g', { outputs: b as string[] })),
    anyBad("graph.input('i', _)", "input 'i'", NOT_AN_OBJECT_OF_OURS, (b) => g.input('i', b as number[])),
    anyBad("graph.input(_, [2])", 'input', [NULL, NUMBER, EMPTY], (b) => g.input(b as string, [2])),
    anyBad("graph.param('p', [2], _)", "param 'p'", NOT_OPTIONS, (b) => g.param('p', [2], b as never)),
    anyBad("graph.state('s', [2], _)", "state 's'", NOT_OPTIONS, (b) => g.state('s', [2], b as never)),
    anyBad('graph.constant(_)', 'const', [NULL, STRING, ['an object', { value: 1 }]], (b) => g.constant(b as number)),
    anyBad("graph.output('o', _)", 'output', NOT_AN_OBJECT_OF_OURS, (b) => g.output('o', b as Tensor)),
    anyBad('graph.assign(w, _)', 'assign', NOT_AN_OBJECT_OF_OURS, (b) => g.assign(w, b as Tensor)),
    anyBad('graph.declareRange(_, 0, 1, ...)', 'declareRange', NOT_AN_OBJECT_OF_OURS, (b) => g.declareRange(b as Tensor, 0, 1, 'r')),
    anyBad('graph.get(_)', 'no input, param or state', [NULL, NUMBER, ['an unknown name', 'nope'], EMPTY], (b) => g.get(b as string)),
    anyBad('graph.node(_)', 'has no node', NOT_AN_OBJECT_OF_OURS, (b) => g.node(b as number)),
    anyBad('graph.atomically(_)', 'atomically', NOT_AN_OBJECT_OF_OURS, (b) => g.atomically(b as () => unknown)),
    anyBad('Graph.fromJSON(_)', 'Graph.fromJSON', [NULL, NUMBER, STRING, EMPTY, ['nodes: 7', { name: 'g', seed: 0, nodes: 7, outputs: {} }]], (b) => kiln.Graph.fromJSON(b as never)),
    anyBad('roleOf(_)', 'roleOf', [NULL, NUMBER], (b) => kiln.roleOf(b as never)),
    // Symbolic dims: names, size arithmetic, binding.
    anyBad('symbol(_)', 'symbol', [NULL, NUMBER, EMPTY, ['a name that is no identifier', '2b']], (b) => kiln.symbol(b as string)),
    anyBad('isSymbolic(_)', 'isSymbolic', [NULL, STRING, EMPTY, ['a fraction', 1.5]], (b) => kiln.isSymbolic(b as never)),
    ...(['dimAdd', 'dimSub', 'dimMul', 'dimDivide'] as const).flatMap((name) => [
      anyBad(`${name}(_, batch)`, name, [...NOT_A_DIM, ['NaN', NaN]], (b) => kiln[name](b as never, batch)),
      anyBad(`${name}(batch, _)`, name, NOT_A_DIM, (b) => kiln[name](batch, b as never)),
    ]),
    anyBad('dimProduct(_)', 'dimProduct', [NULL, NUMBER, STRING, EMPTY, ['a list holding null', [batch, null]]], (b) => kiln.dimProduct(b as never)),
    ...(['evaluateDim', 'substituteDim'] as const).flatMap((name) => [
      anyBad(`${name}(_, {batch: 2})`, name, NOT_A_DIM, (b) => kiln[name](b as never, { batch: 2 })),
      anyBad(`${name}(batch, _)`, name, [NULL, NUMBER, STRING, ['a size that is no integer', { batch: '2' }]], (b) => kiln[name](batch, b as never)),
    ]),
    anyBad('evaluateDim(batch, {})', 'evaluateDim', [['no size for batch', {}]], (b) => kiln.evaluateDim(batch, b as never)),
    anyBad('evaluatePlanSize(_, {batch: 2})', 'evaluatePlanSize', [NULL, EMPTY], (b) => kiln.evaluatePlanSize(b as never, { batch: 2 })),
    anyBad("evaluatePlanSize('784*batch', _)", 'evaluatePlanSize', [NULL, NUMBER, STRING], (b) => kiln.evaluatePlanSize('784*batch', b as never)),
    anyBad('graphDims(_)', 'graphDims', NOT_AN_OBJECT_OF_OURS, (b) => kiln.graphDims(b as Graph)),
    anyBad('bindDims(_, {batch: 2})', 'bindDims', NOT_AN_OBJECT_OF_OURS, (b) => kiln.bindDims(b as Graph, { batch: 2 })),
    anyBad('bindDims(symbolicGraph, _)', 'bindDims', [NULL, NUMBER, STRING, ['an unknown dim', { seq: 2 }], ['a size of 0', { batch: 0 }], ['a fraction', { batch: 1.5 }]], (b) => kiln.bindDims(symbolic, b as never)),
    anyBad('dimSize(_, batch)', 'dimSize', NOT_AN_OBJECT_OF_OURS, (b) => kiln.dimSize(b as Graph, batch)),
    anyBad('dimSize(graph, _)', 'dimSize', [NULL, STRING, EMPTY, ['-1', -1], ['a fraction', 1.5]], (b) => kiln.dimSize(g, b as never)),
    anyBad('dimSize(graph, batch, _)', 'dimSize', [NULL, NUMBER, ['bool', 'bool']], (b) => kiln.dimSize(g, batch, b as never)),
    // Ops: a Tensor where one belongs, and options that are options.
    ...UNARY.map((name) => tensorFirst(name)),
    ...BINARY.map((name) => anyBad(`${name}(x, _)`, name, [NULL, STRING, EMPTY], (b) => fn[name]!(x, b))),
    ...BINARY.map((name) => anyBad(`${name}(_, _)`, name, [NUMBER], (b) => fn[name]!(b, b))),
    ...REDUCTIONS.map((name) => tensorFirst(name)),
    ...REDUCTIONS.map((name) => anyBad(`${name}(x, _)`, name, [NULL, STRING, EMPTY], (b) => fn[name]!(x, b))),
    ...SHAPED.map((name) => tensorFirst(name, [6])),
    ...SHAPED.map((name) => anyBad(`${name}(x, _)`, name, [NULL, STRING, EMPTY], (b) => fn[name]!(x, b))),
    ...POOLS.map((name) => tensorFirst(name, { kernel: [2] })),
    ...POOLS.map((name) => anyBad(`${name}(x, _)`, name, NOT_OPTIONS, (b) => fn[name]!(x, b))),
    ...['conv1d', 'conv2d', 'convTranspose1d', 'convTranspose2d', 'matmul', 'gather', 'concat', 'cast', 'oneHot', 'embedding', 'cumsum', 'dropout', 'mse', 'softmaxCrossEntropy', 'batchNorm', 'attention', 'attentionWeights', 'modeSelect', 'clip', 'where', 'scatterAdd', 'sumToShape', 'broadcastBack', 'maxPoolGrad', 'maxPoolGather', 'avgPoolGrad', 'convWeightGrad1d', 'convWeightGrad2d'].map((name) => tensorFirst(name)),
    ...['conv2d', 'matmul', 'mse', 'attentionWeights', 'gelu', 'layerNorm', 'rmsNorm', 'cumsum', 'dropout', 'oneHot'].map((name) =>
      anyBad(`${name}(x, ..., _)`, name, NOT_OPTIONS, (b) => (name === 'conv2d' || name === 'matmul' || name === 'mse' || name === 'attentionWeights' ? fn[name]!(x, x, b) : name === 'cumsum' || name === 'oneHot' ? fn[name]!(x, 1, b) : name === 'dropout' ? fn[name]!(x, 0.5, b) : fn[name]!(x, b))),
    ),
    anyBad('attention(q, k, v, _)', 'attention', NOT_OPTIONS, (b) => kiln.attention(x, x, x, b as never)),
    anyBad('batchNorm(x, _)', 'batchNorm', NOT_OPTIONS, (b) => kiln.batchNorm(x, b as never)),
    anyBad('padWithInterior(_, widths)', 'pad', NOT_AN_OBJECT_OF_OURS, (b) => kiln.padWithInterior(b as Tensor, { before: [0], after: [0] })),
    anyBad('padWithInterior(x, _)', 'padWithInterior', NOT_AN_OBJECT_OF_OURS, (b) => kiln.padWithInterior(x, b as never)),
    anyBad('isColumnSum(_)', 'isColumnSum', [NULL, NUMBER], (b) => kiln.isColumnSum(b as never)),
    anyBad('attentionLayout(...)', 'attentionLayout', NOT_AN_OBJECT_OF_OURS, (b) => kiln.attentionLayout('attention', b as never, b as never, true)),
    anyBad('attentionStrides(_)', 'attentionStrides', NOT_AN_OBJECT_OF_OURS, (b) => kiln.attentionStrides(b as never, b as never, true)),
    // Builders taking a graph.
    ...(['batchNormLayer', 'causalMask', 'sinusoidalPositions', 'randomUniform', 'stepCounter', 'initialParams', 'printGraph', 'verify', 'programOf', 'interpret', 'runEntry', 'trainingProgram'] as const).map((name) =>
      anyBad(`${name}(_, ...)`, name, NOT_AN_OBJECT_OF_OURS, (b) => fn[name]!(b, 'n', 4, { stream: 's' })),
    ),
    anyBad("batchNormLayer(graph, 'bn', 4, _)", 'batchNormLayer', NOT_OPTIONS, (b) => kiln.batchNormLayer(g, 'bn', 4, b as never)),
    anyBad('randomUniform(graph, [2], _)', 'randomUniform', NOT_OPTIONS, (b) => kiln.randomUniform(g, [2], b as never)),
    anyBad('trainingProgram(graph, _)', 'trainingProgram', NOT_OPTIONS, (b) => kiln.trainingProgram(g, b as never)),
    anyBad('grad(_, [w])', 'grad', NOT_AN_OBJECT_OF_OURS, (b) => kiln.grad(b as Tensor, [w])),
    anyBad('grad(loss, _)', 'grad', NOT_AN_OBJECT_OF_OURS, (b) => kiln.grad(loss, b as Tensor[])),
    anyBad('vjp(_, [], [])', 'vjp', NOT_AN_OBJECT_OF_OURS, (b) => kiln.vjp(b as Tensor[], [], [])),
    // Optimizers.
    anyBad('sgd(_)', 'sgd', [NULL, NUMBER, STRING, EMPTY, ['a misspelled key', { lr: 0.1, momentun: 0.9 }]], (b) => kiln.sgd(b as never)),
    anyBad('adam(_)', 'adam', NOT_OPTIONS, (b) => kiln.adam(b as never)),
    anyBad('adamw(_)', 'adamw', NOT_OPTIONS, (b) => kiln.adamw(b as never)),
    anyBad('sgd({lr}).apply(_, [], [])', 'sgd.apply', NOT_AN_OBJECT_OF_OURS, (b) => kiln.sgd({ lr: 1 }).apply(b as Graph, [], [])),
    anyBad('clipGradNorm(_, 1)', 'clipGradNorm', NOT_AN_OBJECT_OF_OURS, (b) => kiln.clipGradNorm(b as Tensor[], 1)),
    anyBad('learningRate(_, step)', 'learningRate', [NULL, STRING, EMPTY], (b) => kiln.learningRate(b as never, kiln.stepCounter(g))),
    // The reference interpreter.
    anyBad('interpret(graph, _)', 'interpret', [NULL, NUMBER, STRING, ['a misspelled key', { feed: {} }], ['precision f16', { precision: 'f16' }], ['a param misspelled', { params: { W: [1, 2, 3, 4, 5, 6] } }]], (b) => kiln.interpret(g, b as never)),
    anyBad('evaluate(_)', 'evaluate', NOT_AN_OBJECT_OF_OURS, (b) => kiln.evaluate(b as Tensor[])),
    anyBad('evaluateNodes(graph, _)', 'evaluateNodes', NOT_AN_OBJECT_OF_OURS, (b) => kiln.evaluateNodes(g, b as number[])),
    anyBad("hostArray('f32', _, [1])", 'hostArray', NOT_AN_OBJECT_OF_OURS, (b) => kiln.hostArray('f32', b as number[], [1])),
    anyBad("hostArray(_, [1], [1])", 'hostArray', NOT_AN_OBJECT_OF_OURS, (b) => kiln.hostArray(b as never, [1], [1])),
    anyBad('runEntry(graph, _)', 'runEntry', NOT_AN_OBJECT_OF_OURS, (b) => kiln.runEntry(g, b as never)),
    anyBad('new ReferenceSession(_)', 'ReferenceSession', NOT_AN_OBJECT_OF_OURS, (b) => new kiln.ReferenceSession(b as never)),
    anyBad('new ReferenceSession(program, _)', 'ReferenceSession', NOT_OPTIONS, (b) => new kiln.ReferenceSession(program, b as never)),
    // The compiler and what reads its results.
    ...(['compile', 'compileStages', 'compileReport'] as const).map((name) => anyBad(`${name}(_)`, name, NOT_AN_OBJECT_OF_OURS, (b) => fn[name]!(b))),
    ...(['compile', 'compileStages', 'compileReport'] as const).map((name) =>
      anyBad(`${name}(graph, _)`, name, [...NOT_OPTIONS, ['precision', { precision: 'f16' }], ['a NaN limit', { limits: { maxBufferSize: NaN } }], ['a string limit', { limits: { maxBufferSize: '1' } }], ['a misspelled limit', { limits: { maxBuferSize: 1 } }], ['fuse: 1', { fuse: 1 }]], (b) => fn[name]!(g, b)),
    ),
    ...(['simplify', 'specializeModes'] as const).map((name) => anyBad(`${name}(_)`, name, NOT_AN_OBJECT_OF_OURS, (b) => fn[name]!(b))),
    ...(['printPlan', 'planMemory', 'memoryReport', 'checkMemoryPlan', 'validatePlan'] as const).map((name) =>
      anyBad(`${name}(_)`, name === 'validatePlan' ? 'invalid plan' : name, NOT_AN_OBJECT_OF_OURS, (b) => fn[name]!(b)),
    ),
    anyBad('checkPlanFitsDevice(_, limits)', 'checkPlanFitsDevice', NOT_AN_OBJECT_OF_OURS, (b) => kiln.checkPlanFitsDevice(b as never, {} as never)),
    anyBad('checkPlanFitsDevice(plan, _)', 'checkPlanFitsDevice', [NULL, NUMBER, STRING], (b) => kiln.checkPlanFitsDevice(plan, b as never)),
    anyBad('reportOfStages(_)', 'reportOfStages', NOT_AN_OBJECT_OF_OURS, (b) => kiln.reportOfStages(b as never)),
    anyBad('printStage(_, "plan")', 'printStage', NOT_AN_OBJECT_OF_OURS, (b) => kiln.printStage(b as never, 'plan')),
    anyBad('printStage(stages, _)', 'printStage', NOT_AN_OBJECT_OF_OURS, (b) => kiln.printStage(stages, b as never)),
    anyBad('printReport(_)', 'printReport', NOT_AN_OBJECT_OF_OURS, (b) => kiln.printReport(b as never)),
    anyBad('printReport(report, _)', 'printReport', NOT_OPTIONS, (b) => kiln.printReport(report, b as never)),
    anyBad('checkTuningTable(_)', 'tuning', NOT_AN_OBJECT_OF_OURS, (b) => kiln.checkTuningTable(b)),
    // ONNX and checkpoints.
    anyBad('importOnnx(_)', 'importOnnx', NOT_AN_OBJECT_OF_OURS, (b) => onnxEntry.importOnnx(b as Uint8Array)),
    anyBad('exportOnnx(_)', 'exportOnnx', NOT_AN_OBJECT_OF_OURS, (b) => onnxEntry.exportOnnx(b as never)),
    anyBad('exportOnnx(graph, _)', 'exportOnnx', NOT_OPTIONS, (b) => onnxEntry.exportOnnx(g, b as never)),
    anyBad('encodeSafetensors(_)', 'encodeSafetensors', [NULL, NUMBER, STRING], (b) => kiln.encodeSafetensors(b as never)),
    anyBad('encodeSafetensors({}, _)', 'encodeSafetensors', [NULL, NUMBER, STRING], (b) => kiln.encodeSafetensors({}, b as never)),
    anyBad('decodeSafetensors(_)', 'decodeSafetensors', NOT_AN_OBJECT_OF_OURS, (b) => kiln.decodeSafetensors(b as Uint8Array)),
    anyBad('decodeSafetensors(file, _)', 'decodeSafetensors', NOT_OPTIONS, (b) => kiln.decodeSafetensors(kiln.encodeSafetensors({}), b as never)),
    anyBad('fromTorchStateDict(_, plan)', 'fromTorchStateDict', NOT_AN_OBJECT_OF_OURS, (b) => kiln.fromTorchStateDict(b as Uint8Array, plan)),
    anyBad('fromTorchStateDict(file, _)', 'fromTorchStateDict', NOT_AN_OBJECT_OF_OURS, (b) => kiln.fromTorchStateDict(kiln.encodeSafetensors({}), b as never)),
    anyBad('fromTorchStateDict(file, plan, _)', 'fromTorchStateDict', NOT_OPTIONS, (b) => kiln.fromTorchStateDict(kiln.encodeSafetensors({}), plan, b as never)),
    anyBad('toTorchStateDict(_)', 'toTorchStateDict', [NULL, NUMBER, STRING], (b) => kiln.toTorchStateDict(b as never)),
    anyBad('toTorchStateDict({}, _)', 'toTorchStateDict', NOT_OPTIONS, (b) => kiln.toTorchStateDict({}, b as never)),
    anyBad('torchName(_)', 'torchName', [NULL, NUMBER, EMPTY], (b) => kiln.torchName(b as string)),
    // Layers.
    anyBad("nn.linear(_, 'fc', 2, 3)", 'nn.linear', NOT_AN_OBJECT_OF_OURS, (b) => kiln.nn.linear(b as Graph, 'fc', 2, 3)),
    anyBad('nn.linear(g, _, 2, 3)', 'nn.linear', [NULL, NUMBER, EMPTY, ['a dotted name', 'a.b']], (b) => kiln.nn.linear(g, b as string, 2, 3)),
    anyBad("nn.linear(g, 'fc', _, 3)", 'nn.linear', [NULL, STRING, ['zero', 0]], (b) => kiln.nn.linear(g, 'fc', b as number, 3)),
    anyBad("nn.linear(g, 'fc', 2, 3, _)", 'nn.linear', NOT_OPTIONS, (b) => kiln.nn.linear(g, 'fc', 2, 3, b as never)),
    anyBad("nn.conv2d(g, 'c', 1, 2, _)", 'nn.conv2d', [NULL, STRING, ['three sizes', [1, 2, 3]]], (b) => kiln.nn.conv2d(g, 'c', 1, 2, b as number)),
    anyBad("nn.conv1d(g, 'c', 1, 2, 3, _)", 'nn.conv1d', NOT_OPTIONS, (b) => kiln.nn.conv1d(g, 'c', 1, 2, 3, b as never)),
    anyBad("nn.embedding(g, 'e', _, 4)", 'nn.embedding', [NULL, STRING, ['zero', 0]], (b) => kiln.nn.embedding(g, 'e', b as number, 4)),
    anyBad("nn.batchNorm(g, 'bn', 4, _)", 'nn.batchNorm', NOT_OPTIONS, (b) => kiln.nn.batchNorm(g, 'bn', 4, b as never)),
    anyBad("nn.layerNorm(g, 'ln', _)", 'nn.layerNorm', [NULL, STRING, ['an empty list', []]], (b) => kiln.nn.layerNorm(g, 'ln', b as number)),
    anyBad("nn.rmsNorm(g, 'rms', 4, _)", 'nn.rmsNorm', NOT_OPTIONS, (b) => kiln.nn.rmsNorm(g, 'rms', 4, b as never)),
    anyBad('nn.dropout(_)', 'nn.dropout', [NULL, STRING, ['one', 1]], (b) => kiln.nn.dropout(b as number)),
    anyBad("nn.multiHeadAttention(g, 'a', 6, _)", 'nn.multiHeadAttention', [NULL, STRING, ['four (6 is no multiple)', 4]], (b) => kiln.nn.multiHeadAttention(g, 'a', 6, b as number)),
    anyBad('nn.sequential(_)', 'nn.sequential', [NULL, NUMBER, EMPTY], (b) => kiln.nn.sequential(b as never)),
    anyBad("nn.scope(g, 'b', _)", 'nn.scope', [NULL, NUMBER, EMPTY], (b) => kiln.nn.scope(g, 'b', b as never)),
    anyBad('g.scope(_, build)', 'scope', [NULL, NUMBER, EMPTY, ['a name with a slash', 'a/b']], (b) => g.scope(b as string, () => 0)),
    anyBad("g.scope('s', _)", 'scope', [NULL, NUMBER, EMPTY], (b) => g.scope('s', b as never)),
    anyBad('traceNodeLines(_)', 'traceNodeLines', [NULL, NUMBER, STRING], (b) => kiln.traceNodeLines(b as never)),
    // The device side, before any device is touched.
    anyBad('requestDevice(_)', 'requestDevice', NOT_OPTIONS, (b) => kiln.requestDevice(b as never)),
    anyBad('Session.create(_, plan)', 'Session.create', NOT_AN_OBJECT_OF_OURS, (b) => kiln.Session.create(b as never, plan)),
    anyBad('autotune(_)', 'autotune', NOT_AN_OBJECT_OF_OURS, (b) => kiln.autotune(b as never)),
    anyBad('autotuneAttention(_, {})', 'autotuneAttention', NOT_AN_OBJECT_OF_OURS, (b) => kiln.autotuneAttention(b as never, {} as never)),
    anyBad('timeKernels(_, [])', 'timeKernels', NOT_AN_OBJECT_OF_OURS, (b) => kiln.timeKernels(b as never, [])),
  ];
}

/** The error a call threw (or its promise rejected with), or undefined. */
async function errorOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('the public API refuses arguments it does not take with typed errors', () => {
  const table = rows(fixtures());
  for (const { call, names, bad, run } of table) {
    it(`${call} throws a KilnError naming ${names} for ${bad.map(([what]) => what).join(', ')}`, async () => {
      for (const [what, value] of bad) {
        const error = await errorOf(() => run(value as never));
        expect(error, `${call} with ${what}`).to.be.instanceOf(KilnError, `${call} with ${what}: ${String(error)}`);
        expect((error as Error).message, `${call} with ${what}`).to.include(names);
      }
    });
  }

  it('covers every function index.ts and onnx.ts export', () => {
    const called = table.map(({ call }) => call).join(' ');
    const notCalled = Object.entries({ ...kiln, ...onnxEntry })
      .filter(([name, value]) => typeof value === 'function' && !(value.prototype instanceof Error) && name !== 'KilnError')
      .map(([name]) => name)
      .filter((name) => !new RegExp(`\\b${name}\\b`).test(called));
    // Taking no arguments (or only an error message), they have nothing to refuse; Tensor and SymDim are classes whose objects kiln makes (ops, symbol()), not the user.
    expect(notCalled.sort()).to.deep.equal(['SymDim', 'Tensor', 'erf', 'opError', 'registeredOps', 'supportedOnnxOps']);
  });
});

describe('the runtime entry', () => {
  it("exports the main entry's own objects, so a plan runner and a compiler used together share classes", () => {
    const main = kiln as unknown as Record<string, unknown>;
    const different = Object.entries(runtimeEntry).filter(([name, value]) => main[name] !== value).map(([name]) => name);
    expect(different).to.deep.equal([]);
    expect(Object.keys(runtimeEntry)).to.include.members(['Session', 'requestDevice', 'encodeSafetensors', 'decodeSafetensors', 'validatePlan', 'checkPlanFitsDevice', 'KilnError', 'DeviceLimitError', 'NumericsError']);
  });
});
