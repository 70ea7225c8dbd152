/**
 * Readies a GPU session for a compile on the page's device, with the pipelines' progress
 * in the status line (`pipelines N/M` while they compile: Session.create waits for init's,
 * the rest compile while the session runs).
 */

import type { CompileReport } from '../index.js';
import { Session } from '../runtime.js';
import { creationOrder } from '../runtime/session-pipelines.js';
import { createPipelines } from '../runtime/pipelines.js';
import { measured, nextTask } from './next-task.js';
import type { PageContext } from './page-context.js';
import type { Compiled } from './protocol.js';

/** The session, or undefined when there is no device, it failed (shown) or a newer compile overtook it (`current()` false). */
export async function readySession(context: PageContext, compiled: Compiled, current: () => boolean): Promise<Session | undefined> {
  const { gpu } = await context.device;
  const summary = kernelSummary(compiled.report);
  if (!gpu) {
    context.setStatus(`${summary} · no WebGPU here, so nothing runs (see the Adapter tab)`);
    return undefined;
  }
  let progress = { ready: 0, total: -1 };
  let created = false;
  const text = (): string => {
    const pipelines = progress.total < 0 ? 'compiling pipelines…' : `pipelines ${progress.ready}/${progress.total}`;
    if (!created) return `${summary} · ${pipelines}`;
    return progress.ready === progress.total ? `${summary} · ready` : `${summary} · ready · ${pipelines}`;
  };
  let shown = text();
  context.setStatus(shown);
  // Only over its own text: a training status written meanwhile stays.
  const show = (): void => {
    if (!current() || context.status() !== shown) return;
    shown = text();
    context.setStatus(shown);
  };
  if (!(await startPipelines(gpu.device, compiled.plan, current))) return undefined;
  let session: Session;
  try {
    // Measured to its first await: creating the pipelines and buffers is the part on this thread.
    session = await measured('Session.create', () => Session.create(gpu.device, compiled.plan, {
      onProgress: (latest) => {
        progress = latest;
        show();
      },
    }));
  } catch (error) {
    if (current()) context.showError(error);
    return undefined;
  }
  if (!current()) {
    session.destroy();
    return undefined;
  }
  created = true;
  show();
  return session;
}

/** Pipelines started per task before Session.create: starting each is a few ms on this thread (its WGSL module, layouts, error scopes). */
const PIPELINES_PER_TASK = 8;

/**
 * Starts making the plan's pipelines a few per task, in the order the session wants them;
 * Session.create then finds them started (the runtime keeps one per device and kernel)
 * instead of starting all of them in one long task (the transformer's 150: 250 ms). False
 * when a newer compile overtook this one.
 */
async function startPipelines(device: GPUDevice, plan: Compiled['plan'], current: () => boolean): Promise<boolean> {
  const order = creationOrder(plan);
  for (let i = 0; i < order.length; i += PIPELINES_PER_TASK) {
    // A failure is Session.create's to report: it gets the same pipeline, and names the kernel.
    measured('start pipelines', () => void createPipelines(device, order.slice(i, i + PIPELINES_PER_TASK).map((k) => plan.kernels[k]!)).catch(() => undefined));
    await nextTask();
    if (!current()) return false;
  }
  return true;
}

/** `seed_mlp: init 12, forward 3, trainStep 10 kernels` */
export function kernelSummary(report: CompileReport): string {
  return `${report.name}: ${report.entries.map((e) => `${e.name} ${e.kernels.length}`).join(', ')} kernels`;
}
