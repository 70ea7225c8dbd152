import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';

describe('examples/start.ts (npm start)', () => {
  it('prints the MLP graph, a forward-pass loss near ln 10, and the WebGPU adapter', async function () {
    this.timeout(30000);
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/start.ts']);
    expect(stdout).to.contain('graph mlp {');
    expect(stdout).to.contain('param fc1.w:f32[784,128] ~ glorotUniform');
    const loss = Number(/loss = (\d+\.\d+)/.exec(stdout)?.[1]);
    expect(loss).to.be.within(1.5, 3.5);
    expect(stdout).to.match(/WebGPU adapter: .*node-dawn/);
  });
});
