/**
 * The worker's `compile`: runs the editor's code (with `kiln` and `data`, as the page did
 * before) and compiles what it returns, keeping every stage for the calls that follow
 * (worker/state.ts). The page gets plain data: the plan, the report, the simplified
 * graph's model and how long each stage took (the written graph is a stage: worker/stages.ts).
 */

import * as kiln from '../../index.js';
import { compileStages, reportOfStages } from '../../index.js';
import { playgroundData } from '../datasets.js';
import { graphModel } from '../graph-model.js';
import type { CompileArgs, Compiled, WorkerError } from '../protocol.js';
import { UserCodeError, runUserCode } from '../user-code.js';
import type { UserModel } from '../user-code.js';
import { kernelCosts } from './costs.js';
import type { Handled, HandlerContext } from './host.js';
import { modelOfOnnx } from './onnx-source.js';
import type { OnnxSource } from './onnx-source.js';
import { rememberCompile } from './state.js';

export async function compile(args: CompileArgs, context: HandlerContext): Promise<Handled<Compiled>> {
  const timings: Record<string, number> = {};
  const timed = async <T>(stage: string, make: () => T | Promise<T>): Promise<T> => {
    context.progress(stage);
    const start = performance.now();
    const made = await make();
    timings[stage] = performance.now() - start;
    return made;
  };
  const user = await timed('run code', () => userModelOf(args));
  const stages = await timed('compile', () =>
    compileStages(user.model, { fuse: args.fuse, ...(args.limits ? { limits: args.limits } : {}) }, (stage, milliseconds) => (timings[`compile: ${stage}`] = milliseconds)),
  );
  const shown = await timed('graph model', () => ({ report: reportOfStages(stages), model: graphModel(stages.simplified) }));
  rememberCompile({ user, stages, fuse: args.fuse, limits: args.limits });
  const params = 'params' in user ? { params: user.params } : {};
  return { result: { plan: stages.plan, ...shown, hasFeeds: user.feeds !== undefined, timings, costs: kernelCosts(stages), ...params } };
}

async function userModelOf(args: CompileArgs): Promise<UserModel | OnnxSource> {
  const { source } = args;
  if (source.kind === 'code') return runUserCode(source.code, { kiln, data: playgroundData });
  return modelOfOnnx(new Uint8Array(source.bytes), source.dims ?? {}, source.fileName);
}

/** What the page shows for an error thrown in the worker: the user's error and its editor line. */
export function describeError(error: unknown): WorkerError {
  const original = error instanceof UserCodeError ? error.original : error;
  const { name, message } = original instanceof Error ? original : new Error(String(original));
  const line = error instanceof UserCodeError ? error.line : undefined;
  return { name, message, ...(line === undefined ? {} : { line }) };
}
