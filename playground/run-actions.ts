/**
 * Forward, Train and Stop: the page runs the shown compile's plan on its
 * device, with each step's feeds from the worker (the user's `feeds(step)` runs there).
 */

import type { Feed } from '../runtime.js';
import { byId } from './dom.js';
import type { PageShell } from './page-shell.js';
import type { TensorData } from './protocol.js';
import { RunView } from './run-view.js';

/** How often the loss curve and the status redraw while training. */
const REDRAW_MS = 100;

export function installRunActions(page: PageShell): void {
  const run = new RunView(byId('run-root'));
  let training = false;
  let stopRequested = false;

  const setRunnable = (ready: boolean): void => {
    const trainable = ready && page.compiled()?.plan.entries['trainStep'] !== undefined;
    byId<HTMLButtonElement>('forward-button').disabled = !ready;
    byId<HTMLButtonElement>('train-button').disabled = !trainable;
  };
  const feedsOf = async (entry: string, step: number): Promise<Record<string, Feed>> => {
    // A dataset downloading for them shows its bytes in the status, which returns to what it said once they are here.
    const before = page.status();
    let shown: string | undefined;
    const onProgress = ({ stage }: { stage: string }): void => page.setStatus((shown = stage));
    const tensors = await page.client.call('feeds', { entry, step }, { onProgress });
    if (shown !== undefined && page.status() === shown) page.setStatus(before);
    // The values alone: the worker checked a tensor's shape, the Session checks the rest against the plan.
    return Object.fromEntries(Object.entries(tensors).map(([name, tensor]: [string, TensorData]) => [name, tensor.data]));
  };

  page.bus.on('compiling', () => {
    stopRequested = true;
    setRunnable(false);
  });
  page.bus.on('compiled', ({ compiled }) => {
    run.reset(compiled.plan.entries['trainStep'] ? 'Train to see the loss.' : 'This graph has no trainStep (no trainingProgram): Forward runs it.');
  });
  page.bus.on('session', ({ session }) => setRunnable(session !== undefined));

  const forward = async (): Promise<void> => {
    const session = page.session();
    if (!session) return;
    try {
      const feeds = await feedsOf('forward', 0);
      const outputs = await session.forward(feeds);
      run.showOutputs(outputs, 'forward on step 0’s inputs');
      page.bus.emit('forward', { step: 0, feeds, outputs });
    } catch (error) {
      page.showError(error);
    }
  };

  const train = async (): Promise<void> => {
    const session = page.session();
    const compiled = page.compiled();
    if (!session || !compiled || training) return;
    if (!compiled.plan.entries['trainStep']) return page.showError(new Error('This graph has no trainStep: return trainingProgram(graph, {loss, optimizer}) as the model to train it.'));
    const steps = Math.max(1, Math.floor(Number(byId<HTMLInputElement>('train-steps-input').value) || 1));
    training = true;
    stopRequested = false;
    setRunnable(false);
    byId<HTMLButtonElement>('stop-button').disabled = false;
    page.setStatus('training: the first step waits for its data');
    let started = 0;
    let lastDraw = 0;
    let done = 0;
    const rate = (): number => (1000 * done) / Math.max(performance.now() - started, 1);
    try {
      await run.prepare();
      while (done < steps && !stopRequested) {
        const feeds = await feedsOf('trainStep', run.stepCount);
        // The clock starts once the first batch is at hand: a dataset's download is not training time.
        if (done === 0) started = performance.now();
        const { loss } = await session.trainStep(feeds, { outputs: ['loss'] });
        run.record(loss!.data[0]!);
        done++;
        if (performance.now() - lastDraw > REDRAW_MS) {
          lastDraw = performance.now();
          run.draw(rate());
          page.setStatus(`training: step ${done} of ${steps}`);
        }
      }
      if (done > 0) run.draw(rate());
      if (page.session() === session) page.setStatus(`trained ${run.stepCount} steps`);
    } catch (error) {
      page.showError(error);
    } finally {
      training = false;
      byId<HTMLButtonElement>('stop-button').disabled = true;
      if (page.session() === session) setRunnable(true);
    }
  };

  byId('forward-button').addEventListener('click', () => void forward());
  byId('train-button').addEventListener('click', () => void train());
  byId('stop-button').addEventListener('click', () => (stopRequested = true));
}
