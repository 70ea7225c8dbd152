import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';

describe('examples/fashion-mnist-mlp.ts (npm start)', () => {
  it('trains the seed MLP on the GPU, reporting the adapter, the plan and a test accuracy well above chance', async function () {
    this.timeout(120000);
    const args = ['--import', 'tsx', 'examples/fashion-mnist-mlp.ts', '--epochs', '1', '--steps', '40', '--test-limit', '640'];
    const { stdout } = await promisify(execFile)(process.execPath, args);
    expect(stdout).to.match(/adapter: .*node-dawn/);
    expect(stdout).to.match(/trainStep: \d+ dispatches, \d+ parameter\/state copies, 1 submit/);
    expect(stdout).to.contain('epoch 1/1 [########################] 40/40 steps');
    const accuracy = Number(/test accuracy (\d+\.\d+)% on 640 images/.exec(stdout)?.[1]);
    // Ten classes: chance is 10%; 40 steps of SGD reach well above it.
    expect(accuracy).to.be.above(30);
    expect(stdout).to.match(/trained 40 steps at \d+\.\d ms per step \(batch 64/);
  });
});
