/**
 * Input a GPU session used to take the wrong way (issue 19, classes 5 and 8): an unfed
 * input named like an Object.prototype member, and a checkpoint with a tensor named
 * `__proto__` loaded strictly. Each is refused with a typed error that names it.
 */

import { expect } from 'chai';
import { CheckpointError, FeedError } from '../../compiler/errors.js';
import { Graph } from '../../compiler/graph.js';
import { compile } from '../../compiler/plan.js';
import { Session } from '../../runtime/session.js';
import { gpu } from '../gpu/harness.js';
import { rejectionOf } from '../gpu/runtime-fixtures.js';

describe('strict input to a GPU session', function () {
  this.timeout(60000);

  it("refuses to run with an input named 'constructor' unfed, naming it, and runs once it is fed", async () => {
    const g = new Graph('g');
    g.output('y', g.input('constructor', [2]).mul(2));
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(g, { limits }));
    try {
      const error = await rejectionOf(session.forward({}));
      expect(error).to.be.instanceOf(FeedError);
      expect((error as Error).message).to.equal("Session.forward: input 'constructor' (f32[2]) was not fed.");
      expect(Array.from((await session.forward({ constructor: [1, 2] }))['y']!.data)).to.deep.equal([2, 4]);
    } finally {
      session.destroy();
    }
  });

  it('refuses a strict load of a checkpoint with an extra tensor named __proto__', async () => {
    const g = new Graph('g');
    g.output('y', g.param('w', [2], { init: 'ones' }).mul(2));
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, ['__proto__']: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } });
    const headerBytes = new TextEncoder().encode(header);
    const file = new Uint8Array(8 + headerBytes.length + 12);
    new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    file.set(headerBytes, 8);
    const { device, limits } = await gpu();
    const session = await Session.create(device, compile(g, { limits }));
    try {
      const error = await rejectionOf(session.loadCheckpoint(file));
      expect(error).to.be.instanceOf(CheckpointError);
      expect((error as Error).message).to.include("it has '__proto__', which the plan has no param or state for");
      await session.loadCheckpoint(file, { strict: false });
      expect(Array.from((await session.getParams())['w']!.data)).to.deep.equal([0, 0]);
    } finally {
      session.destroy();
    }
  });
});
