/**
 * The editor's ready examples, as the plain JavaScript a user would write: the body of an
 * async function that gets `kiln` (the public API) and `data` (datasets), and returns
 * `{ model, feeds }`.
 */

export interface Example {
  readonly id: string;
  readonly title: string;
  readonly code: string;
}

const SEED_MLP = `// The seed model: an MLP on Fashion-MNIST (784→128→ReLU→64→ReLU→10) with softmax
// cross-entropy, trained by SGD with momentum. Ctrl+Enter compiles; Train runs it.
const { Graph, trainingProgram, sgd } = kiln;
const batch = 64;

const g = new Graph('seed_mlp', { seed: 0 });
const images = g.input('images', [batch, 784]);
const labels = g.input('labels', [batch], 'i32');
const dense = (name, x, units) => {
  const fanIn = x.shape[1];
  const w = g.param(\`\${name}.w\`, [fanIn, units], { init: 'linearDefault' });
  const b = g.param(\`\${name}.b\`, [units], { init: { kind: 'linearDefault', fanIn } });
  return x.matmul(w).add(b);
};
const logits = dense('fc3', dense('fc2', dense('fc1', images, 128).relu(), 64).relu(), 10);
g.output('logits', logits);

const program = trainingProgram(g, {
  loss: logits.softmaxCrossEntropy(labels),
  optimizer: sgd({ lr: 0.01, momentum: 0.9 }),
});

// Fetched while the page shows the graph; the first step waits for it.
const train = data.fashionMnist('train');
return { model: program, feeds: data.batches(train, batch) };
`;

const REGULARIZED_MLP = `// An MLP on Fashion-MNIST with batch norm and dropout: training steps normalize with
// the batch's statistics, update the running ones and drop units; Forward uses the
// running statistics and keeps every unit. Each entry is compiled for its own mode.
const { Graph, trainingProgram, adam, batchNormLayer, dropout } = kiln;
const batch = 64;

const g = new Graph('regularized_mlp', { seed: 0 });
const images = g.input('images', [batch, 784]);
const labels = g.input('labels', [batch], 'i32');
const dense = (name, x, units) => {
  const w = g.param(\`\${name}.w\`, [x.shape[1], units], { init: 'heNormal' });
  return x.matmul(w);
};
const norm1 = batchNormLayer(g, 'bn1', 128);
const hidden = dropout(norm1(dense('fc1', images, 128)).relu(), 0.2);
const b2 = g.param('fc2.b', [10]);
const logits = dense('fc2', hidden, 10).add(b2);
g.output('logits', logits);

const program = trainingProgram(g, {
  loss: logits.softmaxCrossEntropy(labels),
  optimizer: adam({ lr: 1e-3 }),
});

const train = data.fashionMnist('train');
return { model: program, feeds: data.batches(train, batch) };
`;

const LOGISTIC_REGRESSION = `// Logistic regression on two Gaussian blobs in 2-D: one linear unit, the binary
// cross-entropy written out in kiln ops, plain SGD. No dataset to download.
const { Graph, trainingProgram, sgd } = kiln;
const batch = 100;

const g = new Graph('logistic_regression', { seed: 1 });
const x = g.input('x', [batch, 2]);
const y = g.input('y', [batch, 1]); // 1 for the blob around (1, 1), 0 for the one around (-1, -1)
const w = g.param('w', [2, 1], { init: 'glorotUniform' });
const b = g.param('b', [1]);
const logit = x.matmul(w).add(b);
g.output('probability', logit.sigmoid());

// Cross-entropy from the logit, stable for any |logit|: softplus(z) - y·z.
const loss = logit.softplus().sub(y.mul(logit)).mean();
const program = trainingProgram(g, { loss, optimizer: sgd({ lr: 0.5 }) });

const random = data.random(7);
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const feeds = () => {
  const xs = new Float32Array(batch * 2);
  const ys = new Float32Array(batch);
  for (let i = 0; i < batch; i++) {
    const label = i % 2;
    ys[i] = label;
    xs[2 * i] = 2 * label - 1 + gaussian();
    xs[2 * i + 1] = 2 * label - 1 + gaussian();
  }
  return { x: xs, y: ys };
};
return { model: program, feeds };
`;

const SMALL_CNN = `// A LeNet-style CNN on Fashion-MNIST: two 5×5 convolutions with ReLU and 2×2 max
// pooling (28 → 24 → 12 → 8 → 4), then three dense layers; Adam.
const { Graph, trainingProgram, adam } = kiln;
const batch = 32;

const g = new Graph('lenet', { seed: 0 });
const images = g.input('images', [batch, 1, 28, 28]);
const labels = g.input('labels', [batch], 'i32');
const conv = (name, x, channels) => {
  const fanIn = x.shape[1] * 25;
  const w = g.param(\`\${name}.w\`, [channels, x.shape[1], 5, 5], { init: 'linearDefault' });
  const b = g.param(\`\${name}.b\`, [channels, 1, 1], { init: { kind: 'linearDefault', fanIn } });
  return x.conv2d(w).add(b).relu().maxPool2d({ kernelSize: 2 });
};
const dense = (name, x, units) => {
  const fanIn = x.shape[1];
  const w = g.param(\`\${name}.w\`, [fanIn, units], { init: 'linearDefault' });
  const b = g.param(\`\${name}.b\`, [units], { init: { kind: 'linearDefault', fanIn } });
  return x.matmul(w).add(b);
};
const features = conv('conv2', conv('conv1', images, 6), 16).reshape([batch, 16 * 4 * 4]);
const logits = dense('fc3', dense('fc2', dense('fc1', features, 120).relu(), 84).relu(), 10);
g.output('logits', logits);

const program = trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer: adam({ lr: 1e-3 }) });

// Batches hold flat rows of 784 pixels: the same values as [batch, 1, 28, 28].
return { model: program, feeds: data.batches(data.fashionMnist('train'), batch) };
`;

const TRANSFORMER_BLOCK = `// One pre-norm transformer block (causal self-attention and a GELU MLP, each with a
// residual) learning to continue arithmetic sequences: 3, 5, 7, … mod 16. The step varies
// per sequence, so each prediction must attend to the earlier tokens. Adam.
const { Graph, trainingProgram, adam, attention, embedding, layerNorm, sinusoidalPositions } = kiln;
const [batch, context, vocab, width, heads] = [16, 12, 16, 32, 2];
const headWidth = width / heads;

const g = new Graph('transformer_block', { seed: 0 });
const tokens = g.input('tokens', [batch, context], 'i32');
const targets = g.input('targets', [batch * context], 'i32');
const linear = (name, x, units) => {
  const fanIn = x.shape[x.rank - 1];
  const w = g.param(\`\${name}.w\`, [fanIn, units], { init: 'linearDefault' });
  const b = g.param(\`\${name}.b\`, [units], { init: { kind: 'linearDefault', fanIn } });
  return x.matmul(w).add(b);
};
const norm = (name, x) => layerNorm(x, {
  gamma: g.param(\`\${name}.gamma\`, [width], { init: 'ones' }),
  beta: g.param(\`\${name}.beta\`, [width]),
});
// [batch·context, width] ↔ [batch, heads, context, headWidth]
const splitHeads = (x) => x.reshape([batch, context, heads, headWidth]).transpose([0, 2, 1, 3]);
const joinHeads = (x) => x.transpose([0, 2, 1, 3]).reshape([batch * context, width]);

const table = g.param('embed', [vocab, width], { init: { kind: 'normal', std: 0.02 } });
let h = embedding(table, tokens).add(sinusoidalPositions(g, context, width)).reshape([batch * context, width]);
const x = norm('norm1', h);
const [q, k, v] = ['q', 'k', 'v'].map((name) => splitHeads(linear(name, x, width)));
h = h.add(linear('proj', joinHeads(attention(q, k, v, { causal: true })), width));
h = h.add(linear('down', linear('up', norm('norm2', h), 4 * width).gelu(), width));
const logits = linear('head', norm('final', h), vocab);
g.output('logits', logits);

const program = trainingProgram(g, { loss: logits.softmaxCrossEntropy(targets), optimizer: adam({ lr: 3e-3 }) });

const random = data.random(5);
const feeds = () => {
  const sequence = new Int32Array(batch * (context + 1));
  for (let row = 0; row < batch; row++) {
    const [start, step] = [Math.floor(random() * vocab), 1 + Math.floor(random() * 3)];
    for (let t = 0; t <= context; t++) sequence[row * (context + 1) + t] = (start + step * t) % vocab;
  }
  // Inputs are tokens 0…context-1 of each row, targets the tokens after them.
  const window = (offset) => Int32Array.from({ length: batch * context }, (_, i) => sequence[Math.floor(i / context) * (context + 1) + (i % context) + offset]);
  return { tokens: window(0), targets: window(1) };
};
return { model: program, feeds };
`;

const YOUR_OWN = `// Your own graph. Plain JavaScript (no TypeScript types); \`await\` works.
// In scope: kiln (Graph, trainingProgram, sgd, adam, every op ...) and data
// (fashionMnist(split), batches(split, size, seed), fashionMnistClasses, random(seed)).
// Return { model, feeds }: model is a Graph (forward only) or trainingProgram(...),
// feeds(step) gives each input's values as a flat array. Ctrl+Enter compiles.
const { Graph, trainingProgram, adam } = kiln;

const g = new Graph('mine', { seed: 0 });
const x = g.input('x', [32, 8]);
const target = g.input('target', [32, 1]);
const w1 = g.param('w1', [8, 16], { init: 'heUniform' });
const w2 = g.param('w2', [16, 1], { init: 'glorotUniform' });
const prediction = x.matmul(w1).gelu().matmul(w2);
g.output('prediction', prediction);

// Try a mistake: make w2 [15, 1] and compile, to see how kiln reports shapes.
const loss = prediction.sub(target).square().mean();
const program = trainingProgram(g, { loss, optimizer: adam({ lr: 0.01 }) });

const random = data.random(3);
const feeds = () => {
  const xs = Float32Array.from({ length: 32 * 8 }, () => 2 * random() - 1);
  const targets = Float32Array.from({ length: 32 }, (_, i) => Math.sin(3 * xs[8 * i]) + xs[8 * i + 1] ** 2);
  return { x: xs, target: targets };
};
return { model: program, feeds };
`;

export const EXAMPLES: readonly Example[] = [
  { id: 'seed-mlp', title: 'Seed MLP on Fashion-MNIST', code: SEED_MLP },
  { id: 'logistic-regression', title: 'Logistic regression', code: LOGISTIC_REGRESSION },
  { id: 'regularized-mlp', title: 'MLP with batch norm and dropout', code: REGULARIZED_MLP },
  { id: 'small-cnn', title: 'Small CNN (LeNet) on Fashion-MNIST', code: SMALL_CNN },
  { id: 'transformer-block', title: 'Transformer block', code: TRANSFORMER_BLOCK },
  { id: 'your-own', title: 'Your own', code: YOUR_OWN },
];

export const DEFAULT_EXAMPLE = EXAMPLES[0]!;
