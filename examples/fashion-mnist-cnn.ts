/**
 * A LeNet-style CNN trained on Fashion-MNIST on the GPU (Adam, lr 2e-3 decayed along a
 * cosine to 1e-4 over the run): two 5×5 convolutions with max-pooling, then three dense
 * layers. Every step is one submit.
 *
 *   npx tsx examples/fashion-mnist-cnn.ts -- --epochs 4 --batch 64
 */

import { trainFashionMnist } from './fashion-mnist-training.js';
import { leNet } from './models/lenet.js';

await trainFashionMnist(leNet, { epochs: 4, batch: 64, lr: 2e-3, momentum: 0 });
