/**
 * The `kiln` command line (bin/kiln.mjs runs it). `kiln inspect <example>` compiles an
 * example and prints its compile report: kernels with their fusion kinds and reasons,
 * bindings, buffer lifetimes, peak memory, the simplified graph. `kiln profile` runs it
 * on this machine's adapter (scripts/kiln-profile.ts).
 */

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Graph } from '../compiler/graph.js';
import { compileReport } from '../compiler/report.js';
import { printReport } from '../compiler/report-print.js';
import type { TrainingProgram } from '../compiler/train.js';
import { seedMlp } from '../examples/models/seed-mlp.js';
import { leNet } from '../examples/models/lenet.js';
import { charTransformer } from '../examples/models/char-transformer.js';
import { loadCharCorpus } from '../examples/data/text-corpus.js';
import { STAGE_NAMES, compileStages } from '../compiler/plan.js';
import type { StageName } from '../compiler/plan.js';
import { printStage } from '../compiler/stages-print.js';
import { parseDims, profile } from './kiln-profile.js';

export const USAGE = `usage: kiln inspect <example> [--wgsl] [--json] [--unfused] [--stage <stage>]
       kiln profile <example> [--forward] [--unfused] [--dims <name=size,...>] [--compile]

  <example>   seed-mlp           the seed MLP's training program (batch 128)
              seed-mlp-forward   its forward graph only
              lenet              the LeNet CNN's training program (batch 64)
              char-transformer   the character transformer (batch 32, context 64)
              path/to/module.ts  a module whose default export is a Graph or a
                                 TrainingProgram (or a function returning one)

  --wgsl      print every kernel's WGSL
  --json      print the report as JSON
  --unfused   compile without fusion (one kernel per op), to compare
  --stage     print one stage of the compilation instead of the report:
              ${STAGE_NAMES.join(', ')}

  profile     compiles for this machine's adapter and times every kernel of the
              trainStep entry (or forward, with --forward) dispatched alone, slowest
              first, with its FLOPs and bytes and the GFLOP/s and GB/s achieved
  --dims      sizes of a symbolic plan's dims (batch=64); default its planning sizes
  --compile   time each kernel's pipeline creation alone instead, with its WGSL's size
`;

type Source = Graph | TrainingProgram;

const EXAMPLES: Readonly<Record<string, () => Source>> = {
  'seed-mlp': () => seedMlp({ batch: 128 }),
  // The training graph without its update edges: simplification then drops everything the logits don't need.
  'seed-mlp-forward': () => Graph.fromJSON({ ...seedMlp({ batch: 128 }).graph.toJSON(), assignments: [] }),
  lenet: () => leNet({ batch: 64 }),
  'char-transformer': () => charTransformer({ vocab: loadCharCorpus().vocab.length, batch: 32 }),
};

/** A usage mistake: reported with the usage text and exit status 2. */
class UsageError extends Error {}

interface Output {
  write(text: string): unknown;
}

/** Runs the command line `args` (without `node` and the script); returns the exit status. */
export async function main(args: readonly string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  try {
    const { command, target, flags, stage, dims } = parseArgs(args);
    if (target === undefined) {
      out.write(USAGE);
      return 0;
    }
    const options = flags.has('--unfused') ? { fuse: false } : {};
    if (command === 'profile') {
      const source = await loadSource(target);
      out.write(await profile(source, { forward: flags.has('--forward'), compile: flags.has('--compile'), compileOptions: options, ...(dims ? { dims } : {}) }));
      return 0;
    }
    if (stage !== undefined) {
      out.write(printStage(compileStages(await loadSource(target), options), stage));
      return 0;
    }
    const { report } = compileReport(await loadSource(target), options);
    out.write(flags.has('--json') ? `${JSON.stringify(report, null, 2)}\n` : printReport(report, { wgsl: flags.has('--wgsl') }));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`kiln: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    err.write(`kiln: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const COMMAND_FLAGS: Readonly<Record<string, readonly string[]>> = {
  inspect: ['--wgsl', '--json', '--unfused', '--stage'],
  profile: ['--forward', '--unfused', '--dims', '--compile'],
};

interface Args {
  command: string | undefined;
  target: string | undefined;
  flags: Set<string>;
  stage?: StageName;
  dims?: Record<string, number>;
}

/** The value after option `name` (`--stage fusion`), and the arguments without it. */
function optionValue(args: readonly string[], name: string): { value: string | undefined; rest: readonly string[] } {
  const at = args.indexOf(name);
  return at < 0 ? { value: undefined, rest: args } : { value: args[at + 1], rest: [...args.slice(0, at + 1), ...args.slice(at + 2)] };
}

function parseArgs(args: readonly string[]): Args {
  const { value: stage, rest: withoutStage } = optionValue(args, '--stage');
  if (args.includes('--stage') && !STAGE_NAMES.includes(stage as StageName)) {
    throw new UsageError(`--stage takes one of ${STAGE_NAMES.join(', ')}${stage === undefined ? '' : `, got '${stage}'`}`);
  }
  const { value: dimsText, rest } = optionValue(withoutStage, '--dims');
  let dims: Record<string, number> | undefined;
  if (withoutStage.includes('--dims')) {
    try {
      dims = parseDims(dimsText ?? '');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const flags = new Set(rest.filter((arg) => arg.startsWith('--')));
  const words = rest.filter((arg) => !arg.startsWith('--'));
  const command = words[0];
  if (flags.has('--help') || command === undefined) return { command, target: undefined, flags };
  const allowed = COMMAND_FLAGS[command];
  if (!allowed) throw new UsageError(`unknown command '${command}'`);
  const unknown = [...flags].filter((flag) => !allowed.includes(flag));
  if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.join(', ')}`);
  if (words.length !== 2) throw new UsageError(`${command} takes one example: a name or a module path`);
  return { command, target: words[1], flags, ...(stage === undefined ? {} : { stage: stage as StageName }), ...(dims ? { dims } : {}) };
}

async function loadSource(target: string): Promise<Source> {
  const example = EXAMPLES[target];
  if (example) return example();
  if (!/[\\/.]/.test(target)) throw new UsageError(`no example named '${target}' (examples: ${Object.keys(EXAMPLES).join(', ')})`);
  const module = (await import(pathToFileURL(resolve(target)).href)) as { default?: unknown };
  const exported = typeof module.default === 'function' ? await (module.default as () => unknown)() : module.default;
  const source = adopt(exported);
  if (source) return source;
  throw new UsageError(`${target}: the default export must be a Graph or a TrainingProgram (or a function returning one), got ${describe(exported)}`);
}

/**
 * The value as a source this compiler takes. A graph built by another copy of kiln (the
 * published bundle, or the same file loaded twice by different loaders) is not an
 * instance of this Graph class, so it is rebuilt from its JSON, which keeps node ids.
 */
function adopt(value: unknown): Source | undefined {
  if (value instanceof Graph) return value;
  if (isGraphLike(value)) return Graph.fromJSON(value.toJSON());
  if (typeof value !== 'object' || value === null) return undefined;
  const candidate = value as Partial<TrainingProgram>;
  const graph = adopt(candidate.graph);
  if (!(graph instanceof Graph) || typeof candidate.forward !== 'object' || typeof candidate.trainStep !== 'object') return undefined;
  return { ...(value as TrainingProgram), graph };
}

function isGraphLike(value: unknown): value is Pick<Graph, 'toJSON'> {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Graph>;
  return typeof candidate.toJSON === 'function' && typeof candidate.node === 'function' && Array.isArray(candidate.nodes);
}

function describe(value: unknown): string {
  if (value === undefined) return 'no default export';
  if (value === null || typeof value !== 'object') return String(value);
  return `an object (${value.constructor?.name ?? 'no class'})`;
}
