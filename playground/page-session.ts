/**
 * Readies a GPU session for a compile on the page's device, with the pipelines' progress
 * in the status line (`pipelines N/M` while they compile: Session.create waits for init's,
 * the rest compile while the session runs).
 */

import type { CompileReport } from '../index.js';
import { Session } from '../runtime.js';
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
  let session: Session;
  try {
    session = await Session.create(gpu.device, compiled.plan, {
      onProgress: (latest) => {
        progress = latest;
        show();
      },
    });
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

/** `seed_mlp: init 12, forward 3, trainStep 10 kernels` */
export function kernelSummary(report: CompileReport): string {
  return `${report.name}: ${report.entries.map((e) => `${e.name} ${e.kernels.length}`).join(', ')} kernels`;
}
