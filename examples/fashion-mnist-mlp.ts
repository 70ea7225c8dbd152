/**
 * `npm start`: kiln's seed model trained on the GPU. An MLP (784→128→ReLU→64→ReLU→10,
 * softmax cross-entropy, SGD lr 0.01 momentum 0.9) learns Fashion-MNIST; every step is
 * one submit of one compute pass, and weights never leave the GPU.
 *
 *   npm start -- --epochs 5 --batch 64 --steps 100 --test-limit 2000
 */

import { trainFashionMnist } from './fashion-mnist-training.js';
import { seedMlp } from './models/seed-mlp.js';

await trainFashionMnist(seedMlp, { epochs: 5, batch: 64, lr: 0.01, momentum: 0.9 });
