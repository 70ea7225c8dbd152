/**
 * The export round trip over the ONNX backend node tests: every test kiln imports is
 * imported, exported with exportOnnx and run in ONNX Runtime, and gives the test's
 * expected outputs within ONNX's tolerances (all of them: about 10 s on one core).
 */

import { expect } from 'chai';
import { NODE_TESTS, testDirs } from '../../scripts/onnx-backend-test.js';
import { runRoundTrip } from '../../scripts/onnx-roundtrip-test.js';

describe('ONNX export round trip: import → exportOnnx → ONNX Runtime', () => {
  it('reproduces the expected outputs of every node test kiln imports', async function () {
    this.timeout(300000);
    const dirs = testDirs([NODE_TESTS]);
    const results = [];
    for (const dir of dirs) results.push(await runRoundTrip(dir));
    const failed = results.filter((r) => r.status === 'fail').map((r) => `${r.name}: ${r.reason}`);
    expect(failed, 'round-trip failures').to.deep.equal([]);
    expect(results.filter((r) => r.status === 'pass').length).to.be.at.least(671);
  });
});
