/**
 * Sharing: the editor's code travels in the URL's hash (`#code=…`: UTF-8, deflated,
 * base64url), so a link opens the page with the same graph; `#example=…` names a
 * built-in example. The view travels beside it (`&entry=trainStep&kernel=3&node=27&
 * stage=fused&fused=0`), so the link reopens what was selected and shown. The hash never
 * reaches a server.
 */

/** What a link reopens besides the code: the entry, its selected kernel and node, the stage shown, fused or unfused kernels. */
export interface ShareView {
  readonly entry?: string;
  /** The selected kernel's position in the entry. */
  readonly kernel?: number;
  /** The selected node's id in the simplified graph. */
  readonly node?: number;
  /** The Stages tab's stage. */
  readonly stage?: string;
  /** false: the kernels pane shows the unfused plan. */
  readonly fused?: boolean;
}

/** What a hash holds: code or an example's id (and the view, when it names one), or nothing usable. */
export type SharedHash = ({ readonly code: string } | { readonly example: string }) & { readonly view?: ShareView };

/** Gives the page's view now, for links made without one (the Share button's, the address bar's). */
let currentView: () => ShareView = () => ({});

/** Makes links made without a view (`hashOfCode(code)`) keep `source()`'s: the page's selection and view. */
export function provideShareView(source: () => ShareView): void {
  currentView = source;
}

/** The hash for `code` (with its leading `#`), and `view` (by default the page's, see `provideShareView`). */
export async function hashOfCode(code: string, view: ShareView = currentView()): Promise<string> {
  const deflated = await transform(new TextEncoder().encode(code), new CompressionStream('deflate-raw'));
  return `#code=${toBase64Url(deflated)}${viewParams(view)}`;
}

/** The hash for a built-in example (with its leading `#`), and `view` when given. */
export function hashOfExample(id: string, view: ShareView = {}): string {
  return `#example=${encodeURIComponent(id)}${viewParams(view)}`;
}

/** `hash` (code or example) with its view replaced by `view`: the code is kept as it is, not re-encoded. */
export function withView(hash: string, view: ShareView): string {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const source = params.has('code') ? `code=${params.get('code')}` : params.has('example') ? `example=${encodeURIComponent(params.get('example')!)}` : undefined;
  return source === undefined ? hash : `#${source}${viewParams(view)}`;
}

/** What a hash holds: code, an example's id, or nothing usable; with the view it names. */
export async function readHash(hash: string): Promise<SharedHash | undefined> {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const view = viewOfHash(hash);
  const withShared = <T extends object>(source: T): T & { view?: ShareView } => (Object.keys(view).length > 0 ? { ...source, view } : source);
  const example = params.get('example');
  if (example) return withShared({ example });
  const encoded = params.get('code');
  if (!encoded) return undefined;
  try {
    return withShared({ code: new TextDecoder('utf-8', { fatal: true }).decode(await transform(fromBase64Url(encoded), new DecompressionStream('deflate-raw'))) });
  } catch {
    // A truncated or hand-edited link: the page falls back to the default example.
    return undefined;
  }
}

function viewParams(view: ShareView): string {
  const parts: string[] = [];
  if (view.entry !== undefined) parts.push(`entry=${encodeURIComponent(view.entry)}`);
  if (view.kernel !== undefined) parts.push(`kernel=${view.kernel}`);
  if (view.node !== undefined) parts.push(`node=${view.node}`);
  if (view.stage !== undefined) parts.push(`stage=${encodeURIComponent(view.stage)}`);
  if (view.fused === false) parts.push('fused=0');
  return parts.map((part) => `&${part}`).join('');
}

/** The view a hash names; a malformed number is left out rather than guessed. */
export function viewOfHash(hash: string): ShareView {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const count = (name: string): number | undefined => {
    const text = params.get(name);
    return text !== null && /^\d+$/.test(text) ? Number(text) : undefined;
  };
  const entry = params.get('entry') || undefined;
  const stage = params.get('stage') || undefined;
  const kernel = count('kernel');
  const node = count('node');
  const fused = params.get('fused');
  return {
    ...(entry === undefined ? {} : { entry }),
    ...(kernel === undefined ? {} : { kernel }),
    ...(node === undefined ? {} : { node }),
    ...(stage === undefined ? {} : { stage }),
    ...(fused === '0' ? { fused: false } : {}),
  };
}

async function transform(bytes: Uint8Array<ArrayBuffer>, stream: CompressionStream | DecompressionStream): Promise<Uint8Array<ArrayBuffer>> {
  const output = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(output).arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
