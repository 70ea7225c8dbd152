/**
 * `npm run conformance -- [dirs...] [--markdown file]`: runs ONNX backend test directories
 * on WebGPU through kiln's importer and prints a table (pass / fail with the max error /
 * unsupported with the reason) and a JSON summary {passed, failed, unsupported, total}.
 *
 * A directory is a test (it holds model.onnx) or a folder of tests. With none, it runs
 * every ONNX node test of Debian's libonnx-testdata and writes the full table to
 * docs/conformance.md (or to --markdown's file).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { requestDevice } from '../runtime/device.js';
import type { BackendTestResult } from './onnx-backend-test.js';
import { NODE_TESTS, TOLERANCE, runBackendTest, testDirs } from './onnx-backend-test.js';

/** An unsupported reason without the node's name, so equal causes group together. */
function reasonKey(reason: string): string {
  return reason
    .replace(/ node '[^']*'/, '')
    .replace(/ \(opset \d+\)/, '')
    .replace(/^(input|output)_\d+\.pb:/, 'test data:')
    .replace(/^(input|output) \d+ holds -?\d+/, '$1 holds a value')
    .replace(/^input '[^']*' is not a tensor/, 'an input is not a tensor')
    .replace(/(input \d+) '[^']*'/, '$1')
    .replace(/\{constants: \{[^}]*\}\}/, '{constants}');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function detail(r: BackendTestResult): string {
  if (r.status === 'pass') return `max error ${r.maxError}${r.fixedInputs ? ` (fixed: ${r.fixedInputs.join(', ')})` : ''}`;
  return `${r.maxError !== undefined ? `max error ${r.maxError}: ` : ''}${r.reason ?? ''}`;
}

function markdown(results: readonly BackendTestResult[], summary: Record<string, number>): string {
  const reasons = new Map<string, number>();
  for (const r of results) if (r.status === 'unsupported') reasons.set(reasonKey(r.reason!), (reasons.get(reasonKey(r.reason!)) ?? 0) + 1);
  const top = [...reasons].sort((a, b) => b[1] - a[1]);
  return [
    '# ONNX conformance',
    '',
    'The ONNX backend node tests of Debian\'s `libonnx-testdata` (`/usr/share/libonnx-testdata/data/node/`),',
    'imported with `importOnnx`, compiled and run on WebGPU, and compared with the stored outputs',
    `(|actual − expected| ≤ ${TOLERANCE.atol} + ${TOLERANCE.rtol}·|expected|, ONNX's defaults, for every test). Regenerate with \`npm run conformance\`.`,
    '',
    '- DOUBLE tensors are imported as f32 and INT64 as i32; a test whose integers do not fit i32 is unsupported.',
    '- Dynamic dimensions are bound to the sizes of the test\'s inputs (`dims`).',
    `- kiln's shapes are static: an input that gives a shape, axes or pads (Reshape's shape, Slice's starts, ...) is fixed to the`,
    `  test's values at import (\`constants\`), in ${results.filter((r) => r.fixedInputs).length} passing tests, marked "fixed: …" below.`,
    '',
    '```json',
    JSON.stringify(summary),
    '```',
    '',
    '## Reasons for unsupported tests',
    '',
    '| tests | reason |',
    '| ---: | --- |',
    ...top.map(([reason, count]) => `| ${count} | ${cell(reason)} |`),
    '',
    '## Every test',
    '',
    '| test | result | max error / reason |',
    '| --- | --- | --- |',
    ...results.map((r) => `| ${r.name} | ${r.status} | ${cell(detail(r))} |`),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const markdownAt = args.indexOf('--markdown');
  const markdownFile = markdownAt >= 0 ? args[markdownAt + 1] : undefined;
  const paths = markdownAt >= 0 ? [...args.slice(0, markdownAt), ...args.slice(markdownAt + 2)] : args;
  const dirs = testDirs(paths.length > 0 ? paths : [NODE_TESTS]);
  const { device } = await requestDevice();
  const results: BackendTestResult[] = [];
  for (const dir of dirs) {
    const result = await runBackendTest(dir, device);
    results.push(result);
    console.log(`${result.status.padEnd(11)} ${result.name.padEnd(60)} ${detail(result)}`);
  }
  const count = (status: BackendTestResult['status']): number => results.filter((r) => r.status === status).length;
  const summary = { passed: count('pass'), failed: count('fail'), unsupported: count('unsupported'), total: results.length };
  console.log(JSON.stringify(summary));
  const target = markdownFile ?? (paths.length === 0 ? 'docs/conformance.md' : undefined);
  if (target) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, markdown(results, summary));
  }
  device.destroy();
}

await main();
