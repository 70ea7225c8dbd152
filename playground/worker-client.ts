/**
 * The page's side of the worker: `call(method, args)` posts a call and resolves with its
 * result (or rejects with a WorkerCallError carrying the user's line), `onProgress` hears
 * how a call is going. Calls run in the worker one after another, in the order made.
 */

import type { CallMessage, Method, ProgressMessage, ReplyMessage, WorkerApi, WorkerError } from './protocol.js';

/** An error thrown in the worker, with the editor line it came from when known. */
export class WorkerCallError extends Error {
  readonly line: number | undefined;
  constructor(error: WorkerError) {
    super(error.message);
    this.name = error.name;
    this.line = error.line;
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  onProgress?: (progress: ProgressMessage) => void;
}

export class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly worker: Worker) {
    worker.addEventListener('message', (event: MessageEvent<ReplyMessage>) => this.receive(event.data));
    worker.addEventListener('error', (event) => this.failAll(new Error(`The playground's worker failed: ${event.message || 'it could not start (see the console)'}.`)));
  }

  /** Calls `method` in the worker; `transfer` lists buffers handed over (not copied). */
  call<M extends Method>(method: M, args: WorkerApi[M]['args'], options: { transfer?: Transferable[]; onProgress?: (progress: ProgressMessage) => void } = {}): Promise<WorkerApi[M]['result']> {
    const id = this.nextId++;
    const message: CallMessage<M> = { type: 'call', id, method, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
      this.worker.postMessage(message, options.transfer ?? []);
    });
  }

  private receive(message: ReplyMessage): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'result') pending.resolve(message.result);
    else pending.reject(new WorkerCallError(message.error));
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
