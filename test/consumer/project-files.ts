/**
 * The files of the consumer test's temporary project, besides the browser app's own:
 * a Node consumer of the compiler and runtime entries, and the strict tsconfigs a new
 * project would have (strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes).
 */

/** The browser app's settings (its own tsconfig.json, bundler resolution) plus the optional-property check. */
export const APP_TSCONFIG = {
  extends: './tsconfig.json',
  compilerOptions: { exactOptionalPropertyTypes: true },
  exclude: ['node-consumer.ts'],
};

/** A Node project's settings: node16 resolution, which reads `exports` as Node does, and Node's types only. */
export const NODE_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'node16',
    moduleResolution: 'node16',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    verbatimModuleSyntax: true,
  },
  files: ['node-consumer.ts'],
};

/** What the Node consumer prints: relu(x) · w + b for x = [-1, 2, -3, 4]. */
export const NODE_CONSUMER_OUTPUT = { backend: 'node-dawn', y: [0, 2, 0, 4], z: [10] };

/**
 * Builds a graph with the compiler entry, compiles it, runs it on Dawn with the runtime
 * entry's Session, and prints what it computed; `z` reads a param the session was given.
 */
export const NODE_CONSUMER = `import { Graph, compile } from 'kiln-webgpu';
import type { Plan } from 'kiln-webgpu';
import { Session, requestDevice } from 'kiln-webgpu/runtime';
import type { HostTensor } from 'kiln-webgpu/runtime';

const g = new Graph('consumer');
const x = g.input('x', [1, 4]);
const w = g.param('w', [4, 1], { init: 'zeros' });
const y = x.relu();
g.output('y', y);
g.output('z', y.matmul(w));
const plan: Plan = compile(g);

const gpu = await requestDevice();
const session = await Session.create(gpu.device, plan);
await session.setParams({ w: [1, 1, 1, 2] });
const result: Record<string, HostTensor> = await session.forward({ x: [-1, 2, -3, 4] });
const read = (name: string): number[] => {
  const tensor = result[name];
  if (tensor === undefined) throw new Error(\`no output \${name}\`);
  return Array.from(tensor.data);
};
process.stdout.write(\`\${JSON.stringify({ backend: gpu.info.backend, y: read('y'), z: read('z') })}\\n\`);
session.destroy();
gpu.destroy();
`;
