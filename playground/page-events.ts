/**
 * What happens on the page, for the views that follow it: main.ts emits, views subscribe.
 * A feature adds its view by listening here rather than by threading calls through main.ts.
 */

import type { Feed, HostTensor, Session } from '../runtime.js';
import { measured } from './next-task.js';
import type { Compiled } from './protocol.js';

export interface PageEvents {
  /** A compile started (the `generation`-th): training stops, Forward and Train wait for its session. */
  compiling: { readonly generation: number };
  /** A compile succeeded and the page now shows it. */
  compiled: { readonly compiled: Compiled; readonly entry: string };
  /** A compile failed: the views still show the last successful one. */
  failed: { readonly error: Error };
  /** The selection changed: an entry's kernel (by position) and/or a node of the simplified graph. */
  selection: { readonly entry: string; readonly kernel?: number; readonly node?: number };
  /** A session is ready on the device for the shown compile (or gone: undefined). */
  session: { readonly session: Session | undefined };
  /** A file (an .onnx model) replaced the editor's code: the example menu names it. */
  opened: { readonly file: string };
  /** Forward ran on step 0's feeds: what it was given and what it returned. */
  forward: { readonly step: number; readonly feeds: Readonly<Record<string, Feed>>; readonly outputs: Readonly<Record<string, HostTensor>> };
}

type Listener<K extends keyof PageEvents> = (event: PageEvents[K]) => void;

export class PageBus {
  private readonly listeners = new Map<keyof PageEvents, Set<Listener<never>>>();

  on<K extends keyof PageEvents>(name: K, listener: Listener<K>): void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
  }

  emit<K extends keyof PageEvents>(name: K, event: PageEvents[K]): void {
    // Each listener measured (`kiln: on compiled`, …), so a long task names the view that made it.
    for (const listener of this.listeners.get(name) ?? []) measured(`on ${name}`, () => (listener as Listener<K>)(event));
  }
}
