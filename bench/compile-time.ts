/**
 * Compile time against graph size: compiles graphs of about 1k, 10k and 100k nodes of four
 * families and prints the milliseconds each stage of `compileStages` took. Each pass
 * should be O(n log n) or better, so a row ten times larger should take about ten times
 * as long, not a hundred. A benchmark, not a test: it asserts nothing.
 *
 *   npm run bench:compile                                  # every family, 1k, 10k and 100k nodes
 *   npm run bench:compile -- --sizes 1000,10000 --families chain,mlp
 *
 * Families: `chain`, one long chain of elementwise ops (one loop kernel); `random`, the
 * fuzzer's random graphs (test/fuzz/random-graph.ts) side by side in one graph; `mlp`, a
 * deep narrow MLP's training step with Adam; `transformer`, the character transformer's
 * training step (examples/models/char-transformer.ts) with as many layers as it takes.
 * `build` is the time to build the graph (gradients and optimizer included), not a stage.
 */

import type { GraphJSON } from '../compiler/graph.js';
import { Graph } from '../compiler/graph.js';
import { adam } from '../compiler/optim.js';
import type { StageName } from '../compiler/plan.js';
import { STAGE_NAMES, compileStages } from '../compiler/plan.js';

/** The timed stages: the plan is made with the memory stage (the kernel stage with its memory planned). */
const TIMED_STAGES = STAGE_NAMES.filter((stage) => stage !== 'plan');
import type { TrainingProgram } from '../compiler/train.js';
import { trainingProgram } from '../compiler/train.js';
import { charTransformer } from '../examples/models/char-transformer.js';
import { randomGraph } from '../test/fuzz/random-graph.js';

type Source = Graph | TrainingProgram;

const UNARY_CYCLE = ['relu', 'neg', 'exp', 'tanh', 'sigmoid', 'abs'] as const;

function chain(nodes: number): Source {
  const g = new Graph('chain');
  let x = g.input('x', [64]);
  for (let i = 0; i < nodes - 2; i++) x = x[UNARY_CYCLE[i % UNARY_CYCLE.length]!]();
  g.output('y', x);
  return g;
}

/**
 * Random graphs of up to 60 steps, seeds 0, 1, 2, ..., copied into one graph until it has
 * `nodes` nodes (the generator evaluates each value as it builds, so one huge random graph
 * would take longer to make than to compile). Names take their graph's seed as a prefix.
 */
function random(nodes: number): Source {
  const json: GraphJSON = { name: 'random', seed: 0, nodes: [], outputs: {}, assignments: [] };
  for (let seed = 0; json.nodes.length < nodes; seed++) {
    const part = randomGraph(seed, { maxSteps: 60 }).graph.toJSON();
    const offset = json.nodes.length;
    for (const node of part.nodes) {
      json.nodes.push({
        ...node,
        id: node.id + offset,
        inputs: node.inputs.map((id) => id + offset),
        ...(node.name === undefined ? {} : { name: `g${seed}.${node.name}` }),
      });
    }
    for (const [name, id] of Object.entries(part.outputs)) json.outputs[`g${seed}.${name}`] = id + offset;
  }
  return Graph.fromJSON(json);
}

/** A training step of an MLP of `layers` dense layers of 16 units (ReLU), softmax cross-entropy, Adam. */
function mlpOfDepth(layers: number): TrainingProgram {
  const g = new Graph('mlp');
  let h = g.input('x', [32, 16]);
  const labels = g.input('labels', [32], 'i32');
  for (let l = 0; l < layers; l++) {
    const w = g.param(`w${l}`, [16, 16], { init: 'linearDefault' });
    const b = g.param(`b${l}`, [16], { init: { kind: 'linearDefault', fanIn: 16 } });
    h = h.matmul(w).add(b).relu();
  }
  g.output('logits', h);
  return trainingProgram(g, { loss: h.softmaxCrossEntropy(labels), optimizer: adam({ lr: 1e-3 }) });
}

const transformerOfDepth = (layers: number): TrainingProgram => charTransformer({ vocab: 43, batch: 4, context: 16, width: 32, layers });

/** The family member nearest `nodes` nodes, from the node count of two small depths (each layer adds the same nodes). */
function ofDepth(build: (depth: number) => TrainingProgram): (nodes: number) => Source {
  return (nodes) => {
    const [one, two] = [1, 2].map((depth) => build(depth).graph.nodes.length) as [number, number];
    return build(Math.max(1, Math.round((nodes - one) / (two - one)) + 1));
  };
}

const FAMILIES: Readonly<Record<string, (nodes: number) => Source>> = {
  chain,
  random,
  mlp: ofDepth(mlpOfDepth),
  transformer: ofDepth(transformerOfDepth),
};

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

const sizes = (option('sizes') ?? '1000,10000,100000').split(',').map(Number);
const families = (option('families') ?? Object.keys(FAMILIES).join(',')).split(',');
for (const family of families) {
  if (!FAMILIES[family]) throw new Error(`bench:compile: no family '${family}'; families: ${Object.keys(FAMILIES).join(', ')}`);
}

const columns = ['family', 'nodes', 'build', ...TIMED_STAGES, 'total ms', 'kernel count'];
const rows: string[][] = [];
const print = (cells: readonly string[]): void => console.log(`| ${cells.join(' | ')} |`);
print(columns);
print(columns.map(() => '---'));
for (const family of families) {
  for (const size of sizes) {
    const start = performance.now();
    const source = FAMILIES[family]!(size);
    const build = performance.now() - start;
    const times = new Map<StageName, number>();
    const stages = compileStages(source, {}, (stage, ms) => times.set(stage, ms));
    const graph = source instanceof Graph ? source : source.graph;
    const total = [...times.values()].reduce((a, b) => a + b, 0);
    const row = [family, String(graph.nodes.length), build.toFixed(0), ...TIMED_STAGES.map((s) => times.get(s)!.toFixed(0)), total.toFixed(0), String(stages.plan.kernels.length)];
    rows.push(row);
    print(row);
  }
}
