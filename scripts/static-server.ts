/**
 * A small static file server on 127.0.0.1 for browser tests, benchmarks and the
 * playground. 127.0.0.1 is a secure context, so pages served here get WebGPU.
 * It serves in-memory files (fresh bundles) and directories mounted at URL prefixes,
 * and refuses any path that would leave a mounted directory.
 */

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';

export interface StaticServerOptions {
  /** Files served from memory, by URL path (`'/index.html'`); they win over mounts. */
  files?: Readonly<Record<string, string | Uint8Array>>;
  /** Directories served under URL prefixes: `{'/': 'playground', '/data/': '/usr/share/datasets'}`. */
  mounts?: Readonly<Record<string, string>>;
  /** The port to listen on; default 0, a free one. */
  port?: number;
  /**
   * Makes pages it serves cross-origin isolated: every response carries
   * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`,
   * so the page gets SharedArrayBuffer (WebAssembly threads). Its own files are same-origin,
   * so they load as before; a cross-origin resource would need a CORP header. Default false.
   */
  crossOriginIsolated?: boolean;
}

/** The response headers that make a document cross-origin isolated. */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

export interface StaticServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:40123/`. */
  readonly url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.gz': 'application/gzip',
};

/** Starts the server on 127.0.0.1, at a free port unless `options.port` names one. */
export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const files = new Map(Object.entries(options.files ?? {}));
  // Longest prefix first, so '/data/' wins over '/'.
  const extraHeaders = options.crossOriginIsolated ? CROSS_ORIGIN_ISOLATION_HEADERS : {};
  const mounts = Object.entries(options.mounts ?? {})
    .map(([prefix, dir]) => ({ prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, dir: resolve(dir) }))
    .sort((a, b) => b.prefix.length - a.prefix.length);

  const server = createServer((request, response) => {
    for (const [name, value] of Object.entries(extraHeaders)) response.setHeader(name, value);
    serve(request, response).catch((error: unknown) => {
      send(response, 500, `internal error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'only GET and HEAD');
    const path = requestPath(request.url ?? '/');
    // A refused path answers as a missing file does, so it reveals nothing about what exists.
    if (path === undefined) return send(response, 404, 'not found');
    const key = path.endsWith('/') ? `${path}index.html` : path;
    const inMemory = files.get(key);
    if (inMemory !== undefined) return sendBody(request, response, key, inMemory);
    const file = await mountedFile(key);
    if (file === 'forbidden' || file === undefined) return send(response, 404, 'not found');
    return sendBody(request, response, file, await readFile(file));
  }

  /** The file for a URL path, if it exists inside its mount (symlinks resolved and checked too). */
  async function mountedFile(path: string): Promise<string | 'forbidden' | undefined> {
    const mount = mounts.find((m) => path.startsWith(m.prefix));
    if (!mount) return undefined;
    const candidate = join(mount.dir, path.slice(mount.prefix.length));
    if (!isInside(mount.dir, candidate)) return 'forbidden';
    try {
      let real = await realpath(candidate);
      if ((await stat(real)).isDirectory()) real = await realpath(join(real, 'index.html'));
      if (!isInside(await realpath(mount.dir), real)) return 'forbidden';
      return real;
    } catch {
      return undefined;
    }
  }

  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', ready);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((done, fail) => {
        server.close((error) => (error ? fail(error) : done()));
        // A browser holds keep-alive connections open; without this, close waits for them.
        server.closeAllConnections();
      }),
  };
}

/**
 * The decoded URL path, or undefined when it is malformed or could climb out of a
 * directory (a `..` segment, a backslash, a NUL), however it was encoded.
 */
export function requestPath(url: string): string | undefined {
  const raw = url.split(/[?#]/, 1)[0]!;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (!path.startsWith('/') || path.includes('\\') || path.includes('\0')) return undefined;
  if (path.split('/').some((segment) => segment === '..')) return undefined;
  return path;
}

function isInside(dir: string, path: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function send(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`${message}\n`);
}

function sendBody(request: IncomingMessage, response: ServerResponse, name: string, body: string | Uint8Array): void {
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
