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
const { Graph, trainingProgram, sgd, nn } = kiln;
const batch = 64;

const g = new Graph('seed_mlp', { seed: 0 });
const images = g.input('images', [batch, 784]);
const labels = g.input('labels', [batch], 'i32');
// PyTorch's nn.Linear layers and initialization; the weights are fc1.kernel [in, out], fc1.bias, ...
const mlp = nn.sequential(nn.linear(g, 'fc1', 784, 128), nn.relu, nn.linear(g, 'fc2', 128, 64), nn.relu, nn.linear(g, 'fc3', 64, 10));
const logits = mlp(images);
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
const { Graph, trainingProgram, adam, nn } = kiln;
const batch = 64;

const g = new Graph('regularized_mlp', { seed: 0 });
const images = g.input('images', [batch, 784]);
const labels = g.input('labels', [batch], 'i32');
const model = nn.sequential(
  nn.linear(g, 'fc1', 784, 128, { bias: false }),
  nn.batchNorm(g, 'bn1', 128),
  nn.relu,
  nn.dropout(0.2),
  nn.linear(g, 'fc2', 128, 10),
);
const logits = model(images);
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
const { Graph, trainingProgram, adam, nn } = kiln;
const batch = 32;

const g = new Graph('lenet', { seed: 0 });
const images = g.input('images', [batch, 1, 28, 28]);
const labels = g.input('labels', [batch], 'i32');
const pool = (x) => x.relu().maxPool2d({ kernelSize: 2 });
const model = nn.sequential(
  nn.conv2d(g, 'conv1', 1, 6, 5), pool,
  nn.conv2d(g, 'conv2', 6, 16, 5), pool,
  nn.flatten,
  nn.linear(g, 'fc1', 16 * 4 * 4, 120), nn.relu,
  nn.linear(g, 'fc2', 120, 84), nn.relu,
  nn.linear(g, 'fc3', 84, 10),
);
const logits = model(images);
g.output('logits', logits);

const program = trainingProgram(g, { loss: logits.softmaxCrossEntropy(labels), optimizer: adam({ lr: 1e-3 }) });

// Batches hold flat rows of 784 pixels: the same values as [batch, 1, 28, 28].
return { model: program, feeds: data.batches(data.fashionMnist('train'), batch) };
`;

const TRANSFORMER_BLOCK = `// One pre-norm transformer block (causal self-attention and a GELU MLP, each with a
// residual) learning to continue arithmetic sequences: 3, 5, 7, … mod 16. The step varies
// per sequence, so each prediction must attend to the earlier tokens. Adam.
const { Graph, trainingProgram, adam, nn, sinusoidalPositions } = kiln;
const [batch, context, vocab, width, heads] = [16, 12, 16, 32, 2];

const g = new Graph('transformer_block', { seed: 0 });
const tokens = g.input('tokens', [batch, context], 'i32');
const targets = g.input('targets', [batch * context], 'i32');
const embed = nn.embedding(g, 'embed', vocab, width, { std: 0.02 });
const norm1 = nn.layerNorm(g, 'norm1', width);
const attn = nn.multiHeadAttention(g, 'attn', width, heads, { causal: true });
const norm2 = nn.layerNorm(g, 'norm2', width);
const mlp = nn.sequential(nn.linear(g, 'up', width, 4 * width), nn.gelu, nn.linear(g, 'down', 4 * width, width));
const head = nn.sequential(nn.layerNorm(g, 'final', width), nn.linear(g, 'head', width, vocab));

// The residual stream as rows [batch·context, width]; attention sees [batch, context, width].
const rows = (x) => x.reshape([batch * context, width]);
let h = rows(embed(tokens).add(sinusoidalPositions(g, context, width)));
h = h.add(rows(attn(norm1(h).reshape([batch, context, width]))));
h = h.add(mlp(norm2(h)));
const logits = head(h);
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
