/**
 * Runs the editor's code: plain JavaScript (the page has no TypeScript compiler), the body
 * of an async function that receives `kiln` (the public API) and `data` (datasets) and
 * returns `{ model, feeds }`. Errors come back with the line of the user's code they were
 * thrown from, so the editor can mark it. While the code runs, every node it builds records
 * the editor line that built it (`node.origin.line`), read from the stack the same way.
 */

import { Graph, traceNodeLines } from '../index.js';
import type { Feed, PlanEntry, TrainingProgram } from '../index.js';

export type Feeds = Readonly<Record<string, Feed>>;

export interface UserModel {
  /** A graph (entries init and forward) or a training program (also trainStep). */
  readonly model: Graph | TrainingProgram;
  /** The inputs of step `step` (forward runs step 0's), if the code gives them. */
  readonly feeds?: (step: number) => Feeds | Promise<Feeds>;
}

/** An error from the user's code, with the line (1-based, in the editor) it came from when known. */
export class UserCodeError extends Error {
  constructor(
    readonly original: unknown,
    readonly line: number | undefined,
  ) {
    super(original instanceof Error ? original.message : String(original));
    this.name = original instanceof Error ? original.name : 'Error';
  }
}

type AsyncFunctionConstructor = new (...argsAndBody: string[]) => (...args: unknown[]) => Promise<unknown>;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as AsyncFunctionConstructor;

/** The name stack traces give the user's code, so its frames can be told from kiln's. */
const SOURCE_NAME = 'kiln-model.js';
/** Stack frames kept while the user's code runs, so its own frame is among them. */
const USER_FRAME_DEPTH = 100;
const FRAME = new RegExp(`${SOURCE_NAME.replace('.', '\\.')}:(\\d+):\\d+`);

/** Runs `code` with `scope`'s entries as its parameters; see the module comment. */
export async function runUserCode(code: string, scope: Readonly<Record<string, unknown>>): Promise<UserModel> {
  const names = Object.keys(scope);
  let body: (...args: unknown[]) => Promise<unknown>;
  try {
    body = new AsyncFunction(...names, `${code}\n//# sourceURL=${SOURCE_NAME}`);
  } catch (error) {
    // The engine gives a syntax error no line; the editor's parser finds it.
    throw new UserCodeError(error, undefined);
  }
  let result: unknown;
  const offset = bodyLineOffset(names);
  startTracing(offset);
  try {
    result = await body(...Object.values(scope));
  } catch (error) {
    throw new UserCodeError(error, userLine(error, offset));
  } finally {
    stopTracing();
  }
  return checkResult(result);
}

/** The editor line of the innermost frame of the user's code in `error`'s stack. */
function userLine(error: unknown, offset: number): number | undefined {
  const match = error instanceof Error ? FRAME.exec(error.stack ?? '') : null;
  return match ? Number(match[1]) - offset : undefined;
}

/**
 * Runs of user code in progress. Two can overlap across their awaits, so what a run changes
 * stays until the last one ends: the line source (the body offset is the engine's header, the
 * same for both) and the stack depth.
 */
let tracingRuns = 0;
let savedFrames = Error.stackTraceLimit;

function startTracing(offset: number): void {
  if (tracingRuns++ > 0) return;
  // An error thrown deep in kiln (a layer inside a transactional builder call), or a node built
  // there, is more than the engine's default 10 frames from the user's line: keep enough to reach it.
  savedFrames = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(savedFrames, USER_FRAME_DEPTH);
  traceNodeLines(() => currentUserLine(offset));
}

function stopTracing(): void {
  if (--tracingRuns > 0) return;
  traceNodeLines(undefined);
  Error.stackTraceLimit = savedFrames;
}

/** A V8 stack frame, as `Error.prepareStackTrace` receives them (Chromium and Node). */
interface CallSite {
  getScriptNameOrSourceURL(): string | null;
  getLineNumber(): number | null;
}
type V8ErrorConstructor = ErrorConstructor & {
  prepareStackTrace?: (error: Error, frames: CallSite[]) => unknown;
  captureStackTrace?: (target: object) => void;
};

/**
 * The editor line of the innermost frame of the user's code on the stack now (a node being
 * built). It runs once per node, so on V8 it reads the frames as objects, which costs a third
 * of formatting the stack as text; other engines match the text.
 */
function currentUserLine(offset: number): number | undefined {
  const engine = Error as V8ErrorConstructor;
  if (typeof engine.captureStackTrace !== 'function') return userLine(new Error(), offset);
  const prepare = engine.prepareStackTrace;
  engine.prepareStackTrace = (_error, frames) => frames;
  const holder: { stack?: unknown } = {};
  let frames: unknown;
  try {
    engine.captureStackTrace(holder);
    // V8 hands the frames to prepareStackTrace when the stack is first read, so read it before restoring.
    frames = holder.stack;
  } finally {
    engine.prepareStackTrace = prepare;
  }
  if (!Array.isArray(frames)) return userLine(new Error(), offset);
  for (const frame of frames as CallSite[]) {
    if (frame.getScriptNameOrSourceURL() === SOURCE_NAME) {
      const line = frame.getLineNumber();
      return line === null ? undefined : line - offset;
    }
  }
  return undefined;
}

/** How many lines the engine puts before the body of a function built from source (`function anonymous(a,b\n) {\n`). */
function bodyLineOffset(names: readonly string[]): number {
  const probe = new Function(...names, `return new Error().stack;\n//# sourceURL=${SOURCE_NAME}`) as () => string;
  const match = FRAME.exec(probe() ?? '');
  return match ? Number(match[1]) - 1 : 0;
}

function checkResult(result: unknown): UserModel {
  const fix = 'Fix: end the code with `return { model, feeds }`, where model is a Graph or trainingProgram(...) and feeds(step) returns {inputName: values}.';
  if (result instanceof Graph || isTrainingProgram(result)) return { model: result };
  if (result === null || typeof result !== 'object') throw new UserCodeError(new TypeError(`The code returned ${result === null ? 'null' : typeof result}. ${fix}`), undefined);
  const { model, feeds } = result as { model?: unknown; feeds?: unknown };
  if (!(model instanceof Graph) && !isTrainingProgram(model)) throw new UserCodeError(new TypeError(`The returned model is not a Graph or training program. ${fix}`), undefined);
  if (feeds !== undefined && typeof feeds !== 'function') throw new UserCodeError(new TypeError(`feeds must be a function of the step. ${fix}`), undefined);
  return feeds === undefined ? { model } : { model, feeds: feeds as UserModel['feeds'] & object };
}

function isTrainingProgram(value: unknown): value is TrainingProgram {
  return value !== null && typeof value === 'object' && (value as TrainingProgram).graph instanceof Graph && 'trainStep' in value;
}

/** Step `step`'s feeds for a plan entry: the code's feeds, restricted to the entry's inputs (forward needs no labels). */
export async function entryFeeds(user: UserModel, entry: PlanEntry, step: number): Promise<Record<string, Feed>> {
  const inputs = Object.keys(entry.inputs);
  if (inputs.length === 0) return {};
  if (!user.feeds) {
    throw new Error(`The code gives no feeds, and this entry needs ${inputs.join(', ')}. Fix: return { model, feeds } with feeds(step) => ({ ${inputs.map((name) => `${name}: [...]`).join(', ')} }).`);
  }
  const all = await user.feeds(step);
  return Object.fromEntries(inputs.flatMap((name) => (all[name] === undefined ? [] : [[name, all[name]]])));
}
