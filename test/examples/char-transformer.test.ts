import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';

describe('examples/char-transformer.ts', () => {
  it('trains the character transformer on the GPU, reports losses next to the unigram entropy, and samples text', async function () {
    this.timeout(240000);
    const args = ['--import', 'tsx', 'examples/char-transformer.ts', '--steps', '3', '--batch', '2', '--sample', '4'];
    const { stdout } = await promisify(execFile)(process.execPath, args);
    expect(stdout).to.match(/^text: \d+ characters, vocabulary \d+; unigram entropy \d\.\d{3} nats\/char$/m);
    expect(stdout).to.match(/trainStep: \d+ dispatches, 1 submit/);
    const loss = Number(/^step 3: train loss (\d+\.\d{3}), held-out loss \d+\.\d{3} nats\/char/m.exec(stdout)?.[1]);
    expect(loss).to.be.within(1, 6);
    const sample = JSON.parse(/^sample: (".*")$/m.exec(stdout)![1]!) as string;
    expect(sample).to.have.length(4);
  });
});
