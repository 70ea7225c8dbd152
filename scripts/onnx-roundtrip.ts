/**
 * `npm run onnx:roundtrip [dirs...]`: every ONNX backend node test kiln imports, imported,
 * exported with exportOnnx and run in ONNX Runtime; prints each result and a summary
 * {"passed","failed","unsupported","total"} (unsupported: kiln does not import the test).
 */

import type { BackendTestResult } from './onnx-backend-test.js';
import { NODE_TESTS, testDirs } from './onnx-backend-test.js';
import { runRoundTrip } from './onnx-roundtrip-test.js';

const paths = process.argv.slice(2);
const dirs = testDirs(paths.length > 0 ? paths : [NODE_TESTS]);
const results: BackendTestResult[] = [];
for (const dir of dirs) {
  const result = await runRoundTrip(dir);
  results.push(result);
  if (result.status !== 'unsupported') console.log(`${result.status.padEnd(5)} ${result.name.padEnd(60)} ${result.reason ?? `max error ${result.maxError}`}`);
}
const count = (status: BackendTestResult['status']): number => results.filter((r) => r.status === status).length;
console.log(JSON.stringify({ passed: count('pass'), failed: count('fail'), unsupported: count('unsupported'), total: results.length }));
