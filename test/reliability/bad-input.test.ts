/**
 * Bad input everywhere a user gives it, on the CPU: graph construction, plans, checkpoints,
 * ONNX files and feed values. Each case asserts the typed error and its message, and that
 * what the user was building still works afterwards. (The GPU session's side is in
 * bad-input-gpu.test.ts; many more cases live beside the code they check: see the report
 * of issue 10.)
 */

import { expect } from 'chai';
import { ArgumentError, CheckpointError, FeedError, GraphError, KilnError, OnnxError, PlanError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { embedding } from '../../compiler/ops/layers.js';
import { sgd } from '../../compiler/optim.js';
import { compile } from '../../compiler/plan.js';
import { trainingProgram } from '../../compiler/train.js';
import type { SizedBuffer } from '../../runtime/host-tensor.js';
import { interpret } from '../../compiler/reference.js';
import { importOnnx } from '../../compiler/onnx/index.js';
import { feedBytes } from '../../runtime/host-tensor.js';
import { validatePlan } from '../../compiler/plan-check.js';
import { decodeSafetensors, encodeSafetensors } from '../../runtime/safetensors.js';
import { INT64, modelBytes, node, tensor, value } from '../onnx/model-builder.js';
import { scalePlan } from '../scale-plan.js';

type ErrorClass = new (message: string) => KilnError;

/** y = relu(x) + 1 in a graph that the bad calls below must leave usable. */
function workingGraph(): Graph {
  const g = new Graph('g');
  g.output('y', g.input('x', [2]).relu().add(1));
  return g;
}

describe('bad input (CPU)', () => {
  describe('graph construction: a typed error at the call, and the graph is left as it was', () => {
    const cases: readonly (readonly [string, (g: Graph) => unknown, ErrorClass, string])[] = [
      ['a NaN dimension', (g) => g.input('n', [NaN]), ArgumentError, "input 'n': shape [NaN] has a bad dimension NaN; dimensions must be non-negative integers or dim names such as 'batch'."],
      ['an infinite dimension', (g) => g.param('p', [Infinity]), ArgumentError, "param 'p': shape [Infinity] has a bad dimension Infinity; dimensions must be non-negative integers or dim names such as 'batch'."],
      ['a shape that is not an array', (g) => g.input('n', 3 as unknown as number[]), ArgumentError, "input 'n': shape must be an array of sizes and dim names (e.g. ['batch', 784]), got 3."],
      [
        "an input named '__proto__' (a feed by that name would be lost)",
        (g) => g.input('__proto__', [2]),
        ArgumentError,
        "input '__proto__': the name cannot be used: {__proto__: values} sets an object's prototype, so feeds and outputs by this name would be lost; rename it.",
      ],
      ["an output named '__proto__'", (g) => g.output('__proto__', g.get('x')), ArgumentError, "output '__proto__': the name cannot be used"],
      ['an empty output name', (g) => g.output('', g.get('x')), ArgumentError, 'output: a name is required (a non-empty string).'],
      ['an output name that is not a string', (g) => g.output(7 as unknown as string, g.get('x')), ArgumentError, 'output: a name is required (a non-empty string).'],
      [
        "a param named '__metadata__' (a checkpoint could not hold it)",
        (g) => g.param('__metadata__', [2]),
        ArgumentError,
        "param '__metadata__': the name is reserved for metadata in safetensors checkpoints, so this param could not be saved; rename it.",
      ],
      ['a state named __metadata__', (g) => g.state('__metadata__', [], { dtype: 'i32' }), ArgumentError, "state '__metadata__': the name is reserved"],
      ['a param with the name of an input', (g) => g.param('x', [2]), GraphError, "param 'x': the name is already used by the input %0"],
      [
        'a value range that contradicts an earlier one',
        (g) => {
          const labels = g.input('labels', [3], 'i32');
          g.declareRange(labels, 0, 9, 'class labels of a 10-class loss');
          g.declareRange(labels, 20, 30, 'ids of a table');
        },
        GraphError,
        'declareRange: labels:i32[3] cannot be in [20, 30] (ids of a table) and in [0, 9] (class labels of a 10-class loss) at once.',
      ],
      ['a value range with min > max', (g) => g.declareRange(g.get('x'), 1, 0, 'r'), ArgumentError, 'declareRange: min and max must be numbers with min <= max, got 1 and 0.'],
    ];
    for (const [what, call, kind, message] of cases) {
      it(what, () => {
        const g = workingGraph();
        const nodes = g.nodes.length;
        let thrown: unknown;
        try {
          call(g);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).to.be.instanceOf(kind);
        expect((thrown as Error).message).to.include(message);
        // The labels input of the contradicting-range case is the only node a bad call may leave.
        expect(g.nodes.length - nodes).to.be.at.most(what.startsWith('a value range that') ? 1 : 0);
        expect([...g.outputs.keys()]).to.deep.equal(['y']);
        expect(Array.from(interpret(g, { feeds: { x: [-1, 2] } })['y']!.data)).to.deep.equal([1, 3]);
      });
    }

    it("rejects a training program output named '__proto__' (it would vanish from the entry's outputs)", () => {
      const g = workingGraph();
      const y = g.tensor(g.outputs.get('y')!).mul(g.param('scale', [2], { init: 'ones' }));
      expect(() => trainingProgram(g, { loss: y.sum(), optimizer: sgd({ lr: 1 }), outputs: { ['__proto__']: y } })).to.throw(
        ArgumentError,
        "trainingProgram: output '__proto__': the name cannot be used",
      );
    });

    it('rejects a graph name that is not a string at construction, not later when a session opens its plan', () => {
      expect(() => new Graph(42 as unknown as string)).to.throw(ArgumentError, 'Graph: the name must be a string, got number.');
    });

    it('keeps declared ranges through JSON, and intersects ranges declared twice', () => {
      const g = new Graph('ranges');
      const ids = g.input('ids', [4], 'i32');
      const logits = embedding(g.param('table', [7, 3]), ids).sum(-1);
      g.output('loss', logits.reshape([1, 4]).softmaxCrossEntropy(g.constant([0], { dtype: 'i32' })));
      g.declareRange(ids, 0, 100, 'ids of a lookup');
      expect(g.ranges.get(ids.id)).to.deep.equal({ min: 0, max: 6, reason: 'token ids of embedding over a vocabulary of 7; ids of a lookup' });
      expect(Graph.fromJSON(JSON.parse(JSON.stringify(g))).ranges.get(ids.id)).to.deep.equal(g.ranges.get(ids.id));
    });
  });

  describe('checked feeds (feedBytes, as Session.run with {checkFeeds: true} calls it)', () => {
    const labels: SizedBuffer = {
      id: 0, name: 'labels', role: 'input', dtype: 'i32', shape: [4], bytes: 16,
      valueRange: { min: 0, max: 9, reason: 'class labels of softmaxCrossEntropy over 10 classes' },
    };
    const images: SizedBuffer = { id: 1, name: 'images', role: 'input', dtype: 'f32', shape: [3], bytes: 12 };

    it('rejects a label outside the declared range, naming it, the range and who needs it', () => {
      expect(() => feedBytes("Session.trainStep: input 'labels'", labels, [0, 3, 10, 1], true)).to.throw(
        FeedError,
        "Session.trainStep: input 'labels': element 2 is 10, outside [0, 9] (the class labels of softmaxCrossEntropy over 10 classes), where the graph would ignore it without an error. Fix the data.",
      );
      expect(() => feedBytes('labels', labels, Int32Array.from([0, -1, 2, 3]), true)).to.throw(FeedError, /element 1 is -1, outside \[0, 9\]/);
    });

    it('rejects NaN and ±Infinity in f32 feeds, and still rejects a NaN label when unchecked', () => {
      expect(() => feedBytes('images', images, [0, NaN, 1], true)).to.throw(
        FeedError,
        'images: element 1 is NaN; checkFeeds rejects NaN and ±Infinity in f32 feeds. Fix the data, or run without checkFeeds to feed them on purpose.',
      );
      expect(() => feedBytes('images', images, Float32Array.from([0, 1, -Infinity]), true)).to.throw(FeedError, /element 2 is -Infinity/);
      expect(() => feedBytes('labels', labels, [0, NaN, 2, 3])).to.throw(FeedError, 'labels: i32[4] values must be integers in [-2147483648, 2147483647]; element 1 is NaN.');
    });

    it('accepts the same values unchecked (the graph defines their meaning), and in-range values checked', () => {
      expect(new Int32Array(feedBytes('labels', labels, [0, 3, 10, 1]))).to.deep.equal(Int32Array.from([0, 3, 10, 1]));
      expect(new Float32Array(feedBytes('images', images, [0, NaN, 1])).length).to.equal(3);
      expect(new Int32Array(feedBytes('labels', labels, [0, 9, 5, 1], true))).to.deep.equal(Int32Array.from([0, 9, 5, 1]));
    });

    it('rejects BigInt arrays with a FeedError instead of a TypeError', () => {
      expect(() => feedBytes('images', images, new BigInt64Array(3) as unknown as Int32Array)).to.throw(
        FeedError,
        'images: expected f32[3] as numbers; got a BigInt64Array. Convert it first, e.g. Int32Array.from(values, Number).',
      );
    });

    it('compile carries the ranges of softmax cross-entropy labels and embedding ids into the plan', () => {
      const g = new Graph('lm');
      const tokens = g.input('tokens', [2, 3], 'i32');
      const targets = g.input('targets', [6], 'i32');
      const logits = embedding(g.param('table', [5, 4], { init: 'normal' }), tokens).reshape([6, 4]);
      g.output('loss', logits.softmaxCrossEntropy(targets));
      const ranges = Object.fromEntries(compile(g).buffers.filter((b) => b.valueRange).map((b) => [b.name, b.valueRange]));
      expect(ranges).to.deep.equal({
        tokens: { min: -5, max: 4, reason: 'token ids of embedding over a vocabulary of 5' },
        targets: { min: 0, max: 3, reason: 'class labels of softmaxCrossEntropy over 4 classes' },
      });
    });

    it('carries a range declared on a view of an input (labels reshaped to the logits rows) to the input', () => {
      const g = new Graph('viewed_labels');
      const logits = g.input('logits', ['batch', 3, 4]);
      const labels = g.input('labels', ['batch', 3], 'i32');
      g.output('loss', logits.reshape([-1, 4]).softmaxCrossEntropy(labels.reshape([-1])));
      const labelsBuffer = compile(g).buffers.find((b) => b.name === 'labels')!;
      expect(labelsBuffer.valueRange).to.deep.equal({ min: 0, max: 3, reason: 'class labels of softmaxCrossEntropy over 4 classes' });
    });
  });

  describe('plans: fields the schema check added for issue 10', () => {
    /** scalePlan as JSON gives it back (every field writable, any value), with one change made by `edit`. */
    const edited = (edit: (plan: { buffers: Record<string, any>[]; kernels: Record<string, any>[] }) => void): unknown => {
      const plan = JSON.parse(JSON.stringify(scalePlan()));
      edit(plan);
      return plan;
    };
    const cases: readonly (readonly [string, unknown, string])[] = [
      ['an i32 constant holding a fraction', edited((p) => (p.buffers[4].data = [1, 2.5, 3, 4, 5, 6])), 'buffers[4].data[1]: 2.5 is not an i32 integer'],
      ['an i32 constant past 2^31', edited((p) => (p.buffers[4].data = [2 ** 31])), 'buffers[4].data[0]: 2147483648 is not an i32 integer'],
      ['a bool constant of 2', edited((p) => Object.assign(p.buffers[4], { dtype: 'bool', data: [2] })), 'buffers[4].data[0]: 2 is not a bool (0 or 1)'],
      ['a value range on a param', edited((p) => (p.buffers[1].valueRange = { min: 0, max: 1, reason: 'r' })), 'buffers[1].valueRange: only input buffers carry a value range'],
      ['a value range with min > max', edited((p) => (p.buffers[0].valueRange = { min: 3, max: 1, reason: 'r' })), 'buffers[0].valueRange: must be {min, max, reason} with numbers min <= max and a string reason, got {"min":3,"max":1,"reason":"r"}'],
      ['a value range without its reason', edited((p) => (p.buffers[0].valueRange = { min: 0, max: 1 })), 'buffers[0].valueRange: must be {min, max, reason} with numbers min <= max and a string reason, got {"min":0,"max":1}'],
      ['a param with the name of an input', edited((p) => (p.buffers[1].name = 'x')), "buffers[1].name: 'x' is also the name of buffer #0 (input); inputs, params and state need unique names"],
      ['WGSL that declares fewer bindings than the kernel binds', edited((p) => (p.kernels[1].wgsl = p.kernels[1].wgsl.split('\n').slice(0, -1).join('\n'))), 'kernels[1] (k2_mul).bindings[3]: buffer #2 (%2) is bound at @binding(3), which the WGSL does not declare'],
      ['WGSL that declares a binding twice', edited((p) => (p.kernels[1].wgsl = p.kernels[1].wgsl.replace('@binding(3)', '@binding(2)'))), 'kernels[1] (k2_mul).wgsl: declares @binding(2) twice (b2 and b3)'],
      ['WGSL that uses another bind group', edited((p) => (p.kernels[0].wgsl = p.kernels[0].wgsl.replace('@group(0)', '@group(1)'))), 'kernels[0] (init_1_w).wgsl: declares @group(1) @binding(0) var b0; kernels use group 0, and group 1 only for the size block (@group(1) @binding(0) var<uniform> kiln_dims)'],
      ['WGSL that is not a string', edited((p) => (p.kernels[0].wgsl = ['fn main() {}'])), 'kernels[0] (init_1_w).wgsl: must be a string'],
      ['an unknown kernel kind', edited((p) => (p.kernels[1].kind = 'magic')), 'kernels[1] (k2_mul).kind: unknown kind "magic" (loop, input, epilogue, sibling, row, single, init)'],
      ['a kernel reason that is not a string', edited((p) => (p.kernels[1].reason = 5)), 'kernels[1] (k2_mul).reason: must be a string'],
      ['an elementwise flag that is not a boolean', edited((p) => (p.kernels[1].elementwise = 'yes')), 'kernels[1] (k2_mul).elementwise: must be a boolean'],
    ];
    for (const [what, plan, message] of cases) {
      it(`rejects ${what}`, () => {
        expect(() => validatePlan(plan)).to.throw(PlanError, `invalid plan: ${message}. The plan is corrupted or was hand-edited; recompile it with compile().`);
      });
    }

    it('accepts what compile writes: ranges, every kernel kind, and bindings as declared', () => {
      const g = new Graph('cls');
      const logits = g.input('x', [5, 3]).matmul(g.param('w', [3, 4], { init: 'normal' }));
      g.output('loss', logits.softmaxCrossEntropy(g.input('labels', [5], 'i32')));
      for (const options of [{}, { fuse: false }, { memory: false }]) expect(() => validatePlan(JSON.parse(JSON.stringify(compile(g, options))))).not.to.throw();
    });
  });

  describe('checkpoints: garbled and lying files', () => {
    const good = encodeSafetensors({ w: { shape: [2], dtype: 'f32', data: Float32Array.from([1, 2]) } });
    const cases: readonly (readonly [string, () => Uint8Array, string])[] = [
      [
        'a header length of 2^64 − 1',
        () => {
          const file = good.slice();
          new DataView(file.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
          return file;
        },
        `safetensors: header length 18446744073709551615 runs past the end of the file (${good.length - 8} bytes follow it); the file is truncated or not safetensors.`,
      ],
      [
        'a header length shorter than the header (it cuts the JSON)',
        () => {
          const file = good.slice();
          new DataView(file.buffer).setBigUint64(0, 10n, true);
          return file;
        },
        'safetensors: the header is not valid JSON',
      ],
      ['random bytes', () => Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256), 'safetensors: header length'],
      ['a file cut inside the data', () => good.subarray(0, good.length - 3), "safetensors: data_offsets of 'w' [0, 8] run past the end of the data (5 bytes); the file is truncated."],
    ];
    for (const [what, file, message] of cases) {
      it(`rejects ${what} with a CheckpointError, and decodes a good file afterwards`, () => {
        expect(() => decodeSafetensors(file())).to.throw(CheckpointError, message);
        expect(Array.from(decodeSafetensors(good).tensors['w']!.data)).to.deep.equal([1, 2]);
      });
    }

    it('says how to pass an ArrayBuffer (what fetch gives)', () => {
      expect(() => decodeSafetensors(good.buffer as unknown as Uint8Array)).to.throw(
        CheckpointError,
        "decodeSafetensors: expected the file's bytes as a Uint8Array, got ArrayBuffer. Wrap an ArrayBuffer as new Uint8Array(buffer); readFileSync gives a Uint8Array.",
      );
    });
  });

  describe('ONNX files: sizes are bounded before anything is allocated', () => {
    const model = (nodes: ReturnType<typeof node>[], initializers: ReturnType<typeof tensor>[]): Uint8Array =>
      modelBytes({ nodes: [...nodes, node('Add', ['x', 'big'], ['y'])], inputs: [value('x', [1])], outputs: [value('y', [1])], initializers });
    const cases: readonly (readonly [string, Uint8Array, string])[] = [
      [
        'ConstantOfShape of a huge declared shape',
        model([node('ConstantOfShape', ['shape'], ['big'], {}, 'fill')], [tensor('shape', [2], [100000, 100000], INT64)]),
        "ConstantOfShape node 'fill' (opset 13): the output: dims [100000,100000] declare 10000000000 elements, more than the 67108864 one tensor may hold.",
      ],
      [
        'Range over 10^12 values',
        model([node('Range', ['start', 'limit', 'delta'], ['big'], {}, 'range')], [tensor('start', [], [0], INT64), tensor('limit', [], [1e12], INT64), tensor('delta', [], [1], INT64)]),
        "Range node 'range' (opset 13): the output: dims [1000000000000] declare 1000000000000 elements",
      ],
      [
        'Range with a zero step',
        model([node('Range', ['start', 'limit', 'delta'], ['big'], {}, 'range')], [tensor('start', [], [0], INT64), tensor('limit', [], [5], INT64), tensor('delta', [], [0], INT64)]),
        "Range node 'range' (opset 13): delta is 0; a range needs a finite, non-zero step.",
      ],
      [
        'Tile of a constant to a huge size (folded at import)',
        model([node('Tile', ['one', 'repeats'], ['big'], {}, 'tile')], [tensor('one', [1, 1], [1]), tensor('repeats', [2], [50000, 50000], INT64)]),
        "Tile node 'tile' (opset 13): folding %",
      ],
    ];
    for (const [what, bytes, message] of cases) {
      it(`rejects ${what} with an OnnxError, and imports a good model afterwards`, () => {
        expect(() => importOnnx(bytes)).to.throw(OnnxError, message);
        const good = model([node('Relu', ['b'], ['big'])], [tensor('b', [1], [-2])]);
        expect(Array.from(interpret(importOnnx(good).graph, { feeds: { x: [3] } })['y']!.data)).to.deep.equal([3]);
      });
    }

    it('rejects a huge dimension bound by the caller, and bytes that are not protobuf', () => {
      const dynamic = modelBytes({ nodes: [node('Relu', ['x'], ['y'])], inputs: [value('x', ['batch', 1 << 20])], outputs: [value('y', ['batch', 1 << 20])] });
      expect(() => importOnnx(dynamic, { dims: { batch: 1 << 20 } })).to.throw(OnnxError, "input 'x': dims [1048576,1048576] declare 1099511627776 elements, more than the 67108864 one tensor may hold.");
      const garbage = Uint8Array.from({ length: 200 }, (_, i) => (i * 7919 + 13) % 256);
      expect(() => importOnnx(garbage)).to.throw(OnnxError, /^importOnnx: the bytes are not a valid ONNX model \(.*\); the file may be truncated or not an \.onnx file\.$/);
      expect(() => importOnnx(new Uint8Array(0))).to.throw(OnnxError, 'importOnnx: the model has no graph.');
    });

    it('names a value that no node, input or initializer defines', () => {
      const bytes = modelBytes({ nodes: [node('Relu', ['nope'], ['y'])], inputs: [value('x', [1])], outputs: [value('y', [1])] });
      expect(() => importOnnx(bytes)).to.throw(OnnxError, "importOnnx: value 'nope' is used before any node, input or initializer defines it.");
    });
  });
});
