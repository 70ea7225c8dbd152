import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';

describe('examples/fashion-mnist-cnn.ts', () => {
  it('trains the LeNet CNN on the GPU for a few steps, reporting its plan and a test accuracy above chance', async function () {
    this.timeout(180000);
    const args = ['--import', 'tsx', 'examples/fashion-mnist-cnn.ts', '--epochs', '1', '--steps', '30', '--test-limit', '256'];
    const { stdout } = await promisify(execFile)(process.execPath, args);
    expect(stdout).to.match(/trainStep: \d+ dispatches, 0 parameter\/state copies, 1 submit/);
    expect(stdout).to.contain('epoch 1/1 [########################] 30/30 steps');
    const accuracy = Number(/test accuracy (\d+\.\d+)% on 256 images/.exec(stdout)?.[1]);
    // Ten classes: chance is 10%; 30 Adam steps reach well above it.
    expect(accuracy).to.be.above(25);
  });
});
