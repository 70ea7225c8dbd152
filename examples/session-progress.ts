/**
 * `Session.create` as the examples call it: on a terminal, one line rewritten with the
 * pipelines made so far while the session is created; pipelines that the first step of
 * another entry needs keep compiling afterwards, so the count at return is reported too.
 */

import { Session } from '../index.js';
import type { KilnDevice, Plan, PipelineProgress } from '../index.js';

export async function createSessionWithProgress(gpu: KilnDevice, plan: Plan): Promise<{ session: Session; pipelines: PipelineProgress }> {
  const tty = process.stdout.isTTY === true;
  let pipelines: PipelineProgress = { ready: 0, total: 0 };
  let creating = true;
  const session = await Session.create(gpu.device, plan, {
    onProgress: (progress) => {
      pipelines = progress;
      if (creating && tty) process.stdout.write(`\rcreating the session: pipelines ${progress.ready}/${progress.total}`);
    },
  });
  creating = false;
  if (tty) process.stdout.write('\r\x1b[2K');
  return { session, pipelines };
}
