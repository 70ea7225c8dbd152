import { evaluatePlanSize } from '../../compiler/plan-format.js';
import { expect } from 'chai';
import * as kiln from '../../index.js';
import { ReferenceSession, compile } from '../../index.js';
import type { TrainingProgram } from '../../index.js';
import { loadFashionMnist } from '../../examples/data/fashion-mnist.js';
import { playgroundData } from '../../playground/datasets.js';
import { EXAMPLES } from '../../playground/examples.js';
import { runUserCode } from '../../playground/user-code.js';

/** The page's `data`, with Fashion-MNIST read from disk (its 10 000 test images: the same format, less to read) instead of fetched. */
const nodeData = { ...playgroundData, fashionMnist: () => loadFashionMnist('test') };

describe('playground/examples', function () {
  this.timeout(30000);

  for (const example of EXAMPLES) {
    it(`${example.id}: builds a training program that compiles, and whose feeds train it on the reference interpreter`, async () => {
      const { model, feeds } = await runUserCode(example.code, { kiln, data: nodeData });
      expect(model).to.have.property('trainStep');
      const program = model as TrainingProgram;
      const plan = compile(program);
      expect(plan.entries['trainStep']!.dispatches.length).to.be.greaterThan(0);
      // Every input the step needs is fed, with its buffer's size.
      const step0 = await feeds!(0);
      for (const [name, id] of Object.entries(plan.entries['trainStep']!.inputs)) {
        const size = plan.buffers[id]!.shape.reduce<number>((a, b) => a * evaluatePlanSize(b, {}), 1);
        expect(step0[name], name).to.have.property('length', size);
      }
      const session = new ReferenceSession(program);
      const losses = [];
      for (let step = 0; step < 2; step++) losses.push(session.trainStep((await feeds!(step)) as Record<string, ArrayLike<number>>)['loss']!.data[0]!);
      for (const loss of losses) expect(Number.isFinite(loss), `losses ${losses.join(', ')}`).to.equal(true);
      expect(losses[1], 'the first step updated the params').to.not.equal(losses[0]);
    });
  }

  it('batches a split in a fresh seeded shuffle each epoch, with full batches only', async () => {
    const split = { count: 5, images: Uint8Array.from({ length: 5 * 784 }, (_, i) => Math.floor(i / 784)), labels: Uint8Array.from([0, 1, 2, 3, 4]) };
    const batches = playgroundData.batches(split, 2, 9);
    const epoch = async (first: number) => [...Array.from((await batches(first)).labels), ...Array.from((await batches(first + 1)).labels)];
    const [one, two] = [await epoch(0), await epoch(2)];
    // Two batches of two per epoch: four distinct examples of the five, reshuffled the next epoch.
    expect(new Set(one).size).to.equal(4);
    expect(two).to.not.deep.equal(one);
    // The same seed gives the same order, from a split still loading too.
    expect(Array.from((await playgroundData.batches(Promise.resolve(split), 2, 9)(0)).labels)).to.deep.equal(one.slice(0, 2));
    // Pixels are scaled to [0, 1] and follow their labels.
    const { images, labels } = await batches(0);
    expect(images[784]).to.equal(Math.fround(labels[1]! / 255));
    let error: unknown;
    await playgroundData.batches(split, 6)(0).catch((e: unknown) => (error = e));
    expect(String(error)).to.equal('Error: data.batches: batch size must be an integer from 1 to 5, got 6.');
  });
});
