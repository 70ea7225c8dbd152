import { expect } from 'chai';
import * as kiln from '../../index.js';
import { UserCodeError, runUserCode } from '../../playground/user-code.js';

async function failure(code: string): Promise<UserCodeError> {
  try {
    await runUserCode(code, { kiln, data: {} });
  } catch (error) {
    expect(error).to.be.instanceOf(UserCodeError);
    return error as UserCodeError;
  }
  return expect.fail('the code ran without an error');
}

describe('playground/user-code', () => {
  it('runs the code as an async function body with its scope and returns the model and feeds', async () => {
    const code = `const g = new kiln.Graph('g');
const x = g.input('x', [2]);
g.output('y', x.mul(await Promise.resolve(scale)));
return { model: g, feeds: (step) => ({ x: [step, 1] }) };`;
    const result = await runUserCode(code, { kiln, scale: 3 });
    expect(result.model).to.be.instanceOf(kiln.Graph);
    expect(await result.feeds!(5)).to.deep.equal({ x: [5, 1] });
  });

  it('accepts a graph or a training program returned alone', async () => {
    const graph = await runUserCode(`const g = new kiln.Graph('g'); g.output('y', g.input('x', [1]).exp()); return g;`, { kiln });
    expect(graph.model).to.be.instanceOf(kiln.Graph);
    expect(graph.feeds).to.equal(undefined);
    const program = await runUserCode(
      `const g = new kiln.Graph('g'); const w = g.param('w', [2]);
       return kiln.trainingProgram(g, { loss: w.square().sum(), optimizer: kiln.sgd({ lr: 0.1 }) });`,
      { kiln },
    );
    expect(program.model).to.have.property('trainStep');
  });

  it('reports a ShapeError with its message and the editor line of the call that made it', async () => {
    const error = await failure(`const g = new kiln.Graph('g');
const x = g.input('x', [2, 3]);

const y = x.add(g.input('b', [4]));
return { model: g };`);
    expect(error.name).to.equal('ShapeError');
    expect(error.line).to.equal(4);
    expect(error.message).to.contain('add(f32[2,3], f32[4]): shapes cannot be broadcast');
    expect(error.original).to.be.instanceOf(kiln.ShapeError);
  });

  it('finds the line of an error thrown from a function the code defines and calls later', async () => {
    const error = await failure(`const g = new kiln.Graph('g');
const dense = (x, units) => {
  const w = g.param('w' + units, [5, units]);
  return x.matmul(w);
};
return { model: dense(g.input('x', [2, 3]), 4) };`);
    expect(error.name).to.equal('ShapeError');
    expect(error.line).to.equal(4);
    expect(error.message).to.match(/^matmul\(f32\[2,3\], f32\[5,4\]\)/);
  });

  it('leaves the line of a syntax error to the editor’s parser', async () => {
    const error = await failure('const = 3;');
    expect(error.name).to.equal('SyntaxError');
    expect(error.line).to.equal(undefined);
  });

  it('explains what to return when the result is not a model', async () => {
    expect((await failure('return 5;')).message).to.match(/^The code returned number\. Fix: end the code with `return \{ model, feeds \}`/);
    expect((await failure('return { model: 1 };')).message).to.contain('The returned model is not a Graph or training program.');
    expect((await failure(`const g = new kiln.Graph('g'); return { model: g, feeds: 3 };`)).message).to.contain('feeds must be a function of the step.');
  });
});
