/**
 * exportOnnx op by op: graphs using the ops the example models do not (interior padding,
 * reversed slices, masked attention, batch norm and dropout at inference, ...) run in ONNX
 * Runtime as on kiln's reference interpreter; the op table is complete; bad calls are
 * typed errors naming the op or param; the structural checker finds what it checks.
 */

import { expect } from 'chai';
import { Graph } from '../../compiler/graph.js';
import { OnnxExportError } from '../../compiler/errors.js';
import * as k from '../../compiler/ops/index.js';
import { padOp } from '../../compiler/ops/slice.js';
import { registeredOps } from '../../compiler/ops/op.js';
import { staticShape } from '../../compiler/shape.js';
import { batchNormLayer } from '../../compiler/ops/norm.js';
import { NO_ONNX_FORM, checkOnnxModel, exportOnnx, exportedOps } from '../../compiler/onnx/export/index.js';
import { onnx } from '../../compiler/onnx/index.js';
import { interpret } from '../../compiler/reference.js';
import { sgd } from '../../compiler/optim.js';
import { trainingProgram } from '../../compiler/train.js';
import { testData } from '../helpers.js';
import { maxAbsDifference, runInOrt } from './ort-helpers.js';

/** Exports `g` at `opset`, runs it in ORT on `feeds` and returns the largest difference from the reference over every output. */
async function ortDifference(g: Graph, feeds: Record<string, Float32Array | Int32Array>, opset?: number): Promise<number> {
  const bytes = exportOnnx(g, opset === undefined ? {} : { opset });
  const expected = interpret(g, { feeds });
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, data]) => {
    const node = g.get(name).node;
    return [name, { shape: staticShape('feed', node.shape), dtype: node.dtype, data }];
  }));
  const actual = await runInOrt(bytes, ortFeeds);
  let worst = 0;
  for (const [name, value] of Object.entries(expected)) {
    expect(actual[name]!.shape, name).to.deep.equal([...value.shape]);
    worst = Math.max(worst, maxAbsDifference(actual[name]!.data, value.data));
  }
  return worst;
}

const opTypes = (bytes: Uint8Array): string[] => [...new Set(onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType!))].sort();

function mixedGraph(): { g: Graph; feeds: Record<string, Float32Array | Int32Array> } {
  const g = new Graph('mixed');
  const x = g.input('x', [2, 3, 4, 5]);
  const ids = g.input('ids', [2, 3], 'i32');
  const spread = g.addNode(padOp, [x], { before: [0, 1, 0, 2], after: [1, 0, 0, 0], interior: [1, 0, 2, 0], value: -0.5 });
  g.output('spread', spread);
  g.output('reversed', x.slice([null, [null, null, -1], [3, 0, -2], null]));
  g.output('hot', ids.oneHot(4, { axis: 1 }));
  g.output('argmaxAll', x.argmax(undefined, true));
  g.output('scan', x.cumsum(2, { exclusive: true, reverse: true }));
  g.output('clipped', x.clip(null, 0.25).gelu({ approximate: 'tanh' }).elu(0.5));
  g.output('stats', x.logsumexp([1, 3]).add(x.prod(2).sum()).sub(x.min([0], true).max(3).mean()));
  const q = x.reshape([2, 3, 4, 5]);
  const keep = g.input('keep', [4, 4], 'i32').greater(0);
  g.output('attended', k.attention(q, q.mul(0.5), q.exp(), { mask: keep, causal: true }));
  g.output('weights', k.attentionWeights(q, q, { scale: 0.3 }));
  const w = g.param('w', [3, 2, 2, 2], { init: 'glorotUniform' });
  g.output('deconv', k.convTranspose2d(x, w, { stride: 2, padding: [[1, 0], [0, 1]], outputPadding: [1, 0] }).avgPool2d({ kernelSize: 2, padding: 1, countIncludePad: true }));
  const norm = batchNormLayer(g, 'bn', 3);
  g.output('normed', k.dropout(norm(x), 0.5).logSoftmax(1));
  const feeds = {
    x: Float32Array.from(testData(120, 7)),
    ids: Int32Array.of(0, 3, 5, -1, 2, 1),
    keep: Int32Array.from(testData(16, 8), (v) => (v > -0.5 ? 1 : 0)),
  };
  return { g, feeds };
}

describe('exportOnnx', () => {
  it('writes every kiln op as ONNX, or refuses it with a reason', () => {
    const sources = ['input', 'param', 'state', 'const'];
    const covered = [...exportedOps(), ...Object.keys(NO_ONNX_FORM), ...sources].sort();
    // Ops the test suite registers for its own checks (test/gpu/session.test.ts, …) are named test*.
    const libraryOps = registeredOps().filter((name) => !/^test[A-Z]/.test(name));
    expect(covered).to.deep.equal(libraryOps);
  });

  it('exports interior padding, reversed slices, oneHot, scans, masked attention, batch norm and dropout at inference as the reference computes them', async function () {
    this.timeout(30000);
    const { g, feeds } = mixedGraph();
    for (const opset of [13, 17, 18]) expect(await ortDifference(g, feeds, opset), `opset ${opset}`).to.be.at.most(1e-5);
    const types = opTypes(exportOnnx(g));
    expect(types).to.include.members(['BatchNormalization', 'ConvTranspose', 'AveragePool', 'CumSum', 'Softmax', 'Pad', 'Slice', 'Where']);
    expect(types).to.not.include('RandomUniform');
  });

  it('writes layer norm as LayerNormalization from opset 17, and as its definition before', () => {
    const g = new Graph('ln');
    const x = g.input('x', [4, 6]);
    g.output('y', x.layerNorm({ gamma: g.param('gamma', [6], { init: 'ones' }), beta: g.param('beta', [6]) }));
    expect(opTypes(exportOnnx(g))).to.deep.equal(['Identity', 'LayerNormalization']);
    expect(opTypes(exportOnnx(g, { opset: 16 }))).to.include.members(['ReduceMean', 'Sqrt', 'Reciprocal']);
  });

  it('refuses an op with no ONNX form, naming the op and node', () => {
    const g = new Graph('noise');
    g.output('r', k.randomUniform(g, [3], { stream: 'noise' }));
    expect(() => exportOnnx(g)).to.throw(OnnxExportError, "exportOnnx: randomUniform node %3 (f32[3]) cannot be exported: ONNX's RandomUniform draws other numbers than kiln's counter-based stream");
  });

  it('refuses programs without a forward entry or outputs, params missing, misshapen or unknown, and opsets it does not write', () => {
    const g = new Graph('mlp');
    const x = g.input('x', [2, 3]);
    const w = g.param('w', [3, 4]);
    const program = trainingProgram(g, { loss: x.matmul(w).square().mean(), optimizer: sgd({ lr: 0.1 }) });
    expect(() => exportOnnx({ graph: g, trainStep: program.trainStep } as never)).to.throw(OnnxExportError, "exportOnnx: the program over graph 'mlp' has no forward entry to export");
    expect(() => exportOnnx(g)).to.throw(OnnxExportError, "exportOnnx: graph 'mlp' has no outputs, so its forward entry computes nothing");
    g.output('y', x.matmul(w));
    expect(() => exportOnnx(g, { params: {} })).to.throw(OnnxExportError, "exportOnnx: no value for param 'w' (f32[3,4]), which the forward entry reads");
    expect(() => exportOnnx(g, { params: { w: new Float32Array(3) } })).to.throw(OnnxExportError, "exportOnnx: the value for param 'w' (f32[3,4]) has 3 numbers; it needs 12");
    const misshapen = { shape: [4, 3], dtype: 'f32', data: new Float32Array(12) };
    expect(() => exportOnnx(g, { params: { w: misshapen } })).to.throw(OnnxExportError, "exportOnnx: the value for param 'w' (f32[3,4]) is f32[4,3]; it must be f32[3,4]");
    expect(() => exportOnnx(g, { params: { v: [1] } })).to.throw(OnnxExportError, "exportOnnx: params has a value for 'v', but graph 'mlp' has no param or state of that name. Known: w.");
    expect(() => exportOnnx(g, { opset: 12 })).to.throw(OnnxExportError, 'exportOnnx: opset must be an integer from 13 to');
  });
});

describe('checkOnnxModel', () => {
  it('finds values read before they are defined, names defined twice, undeclared inputs and a missing opset', () => {
    const model = {
      irVersion: 8,
      opsetImport: [],
      graph: {
        name: 'broken',
        input: [{ name: 'x' }],
        output: [{ name: 'z', type: { tensorType: { elemType: 1, shape: { dim: [] } } } }],
        node: [
          { opType: 'Relu', name: 'a', input: ['y'], output: ['z'] },
          { opType: 'Neg', name: 'a', input: ['x'], output: ['y'] },
          { opType: 'Neg', name: 'b', input: ['x'], output: ['y'] },
        ],
      },
    };
    expect(checkOnnxModel(model)).to.deep.equal([
      'the model imports no default-domain opset',
      "graph input 'x' has no tensor element type",
      "node 0 (Relu 'a') reads 'y' before any graph input, initializer or earlier node defines it",
      "node 1 (Neg 'a') has the name of an earlier node",
      "output of node 2 (Neg 'b') 'y' defines a value that is already defined; ONNX values are defined once",
    ]);
  });

  it('finds initializers whose values do not fill their dims, raw or typed, and element types kiln does not read', () => {
    const model = {
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'initializers',
        initializer: [
          { name: 'raw', dims: [2, 3], dataType: 1, rawData: new Uint8Array(20) },
          { name: 'typed', dims: [4], dataType: 7, int64Data: [1, 2, 3] },
          { name: 'half', dims: [2], dataType: 10, int32Data: [0, 0] },
          { name: 'complex', dims: [1], dataType: 14 },
        ],
        node: [],
      },
    };
    expect(checkOnnxModel(model)).to.deep.equal([
      "initializer 'raw' holds 5 values; its dims [2,3] need 6",
      "initializer 'typed' holds 3 values; its dims [4] need 4",
      "initializer 'complex' has element type 14, which kiln does not read",
    ]);
  });
});
