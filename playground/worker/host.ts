/**
 * The worker's side of the protocol: a table of handlers, one per method, each run in turn
 * (a compile finishes before the layout that follows it starts). A handler gets its
 * arguments and a `progress` function for its call, and returns its result with the
 * buffers to transfer; a thrown error goes back as a WorkerError.
 */

import type { CallMessage, Method, ReplyMessage, WorkerApi, WorkerError } from '../protocol.js';

export interface HandlerContext {
  /** Reports how the call is going (shown by the page). */
  progress(stage: string, fraction?: number): void;
}

/** A handler's result and the buffers to hand over with it. */
export interface Handled<R> {
  readonly result: R;
  readonly transfer?: Transferable[];
}

export type Handler<M extends Method> = (args: WorkerApi[M]['args'], context: HandlerContext) => Promise<Handled<WorkerApi[M]['result']>> | Handled<WorkerApi[M]['result']>;

export type Handlers = { readonly [M in Method]: Handler<M> };

/** Serves `handlers` on the worker's global scope. `describeError` turns a thrown value into what the page shows. */
export function serve(handlers: Handlers, describeError: (error: unknown) => WorkerError): void {
  const scope = globalThis as unknown as { postMessage(message: ReplyMessage, transfer?: Transferable[]): void; addEventListener(type: 'message', listener: (event: MessageEvent<CallMessage>) => void): void };
  let queue: Promise<void> = Promise.resolve();
  scope.addEventListener('message', (event) => {
    const { id, method, args } = event.data;
    queue = queue.then(async () => {
      const context: HandlerContext = { progress: (stage, fraction) => scope.postMessage({ type: 'progress', id, stage, ...(fraction === undefined ? {} : { fraction }) }) };
      try {
        const handler = handlers[method] as Handler<Method> | undefined;
        if (!handler) throw new Error(`The playground worker has no method '${String(method)}'.`);
        const { result, transfer } = await handler(args as never, context);
        scope.postMessage({ type: 'result', id, result }, transfer ?? []);
      } catch (error) {
        scope.postMessage({ type: 'error', id, error: describeError(error) });
      }
    });
  });
}
