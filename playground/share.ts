/**
 * Sharing: the editor's code travels in the URL's hash (`#code=…`: UTF-8, deflated,
 * base64url), so a link opens the page with the same graph; `#example=…` names a
 * built-in example. The hash never reaches a server.
 */

/** The hash for `code` (with its leading `#`). */
export async function hashOfCode(code: string): Promise<string> {
  const deflated = await transform(new TextEncoder().encode(code), new CompressionStream('deflate-raw'));
  return `#code=${toBase64Url(deflated)}`;
}

/** What a hash holds: code, an example's id, or nothing usable. */
export async function readHash(hash: string): Promise<{ code: string } | { example: string } | undefined> {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const example = params.get('example');
  if (example) return { example };
  const encoded = params.get('code');
  if (!encoded) return undefined;
  try {
    return { code: new TextDecoder('utf-8', { fatal: true }).decode(await transform(fromBase64Url(encoded), new DecompressionStream('deflate-raw'))) };
  } catch {
    // A truncated or hand-edited link: the page falls back to the default example.
    return undefined;
  }
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
