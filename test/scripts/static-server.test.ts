import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { StaticServer } from '../../scripts/static-server.js';
import { requestPath, startStaticServer } from '../../scripts/static-server.js';

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

const isolation = (headers: IncomingHttpHeaders): Record<string, string | undefined> => ({
  coop: headers['cross-origin-opener-policy'] as string | undefined,
  coep: headers['cross-origin-embedder-policy'] as string | undefined,
});

/** A raw request: the path goes out byte for byte, unlike fetch, which would normalize `..`. */
function get(server: StaticServer, path: string, method = 'GET', onHeaders?: (headers: IncomingHttpHeaders) => void): Promise<Reply> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      onHeaders?.(res.headers);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('scripts/static-server', () => {
  let dir: string;
  let server: StaticServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-server-'));
    await mkdir(join(dir, 'site', 'docs'), { recursive: true });
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'site', 'index.html'), '<p>home</p>');
    await writeFile(join(dir, 'site', 'docs', 'index.html'), '<p>docs</p>');
    await writeFile(join(dir, 'site', 'app.js'), 'export {};');
    await writeFile(join(dir, 'data', 'train.gz'), 'data');
    await writeFile(join(dir, 'secret.txt'), 'SECRET');
    await symlink(join(dir, 'secret.txt'), join(dir, 'site', 'escape.txt'));
    server = await startStaticServer({
      files: { '/bundle.js': 'console.log(1);' },
      mounts: { '/': join(dir, 'site'), '/data': join(dir, 'data') },
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 at a free port', () => {
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('listens on the port asked for, and says so when it is taken', async () => {
    const port = Number(new URL(server.url).port);
    const taken = startStaticServer({ port });
    await taken.then(
      () => expect.fail('a second server on a taken port started'),
      (error: NodeJS.ErrnoException) => expect(error.code).to.equal('EADDRINUSE'),
    );
    const free = await startStaticServer();
    const freePort = Number(new URL(free.url).port);
    await free.close();
    const chosen = await startStaticServer({ port: freePort });
    expect(chosen.url).to.equal(`http://127.0.0.1:${freePort}/`);
    await chosen.close();
  });

  it('serves in-memory files with their content type', async () => {
    expect(await get(server, '/bundle.js')).to.deep.equal({ status: 200, type: 'text/javascript; charset=utf-8', body: 'console.log(1);' });
  });

  it('serves mounted directories, index.html for a directory, and the longest matching mount', async () => {
    expect((await get(server, '/')).body).to.equal('<p>home</p>');
    expect((await get(server, '/docs/')).body).to.equal('<p>docs</p>');
    expect((await get(server, '/docs')).body).to.equal('<p>docs</p>');
    expect((await get(server, '/app.js?v=2')).body).to.equal('export {};');
    expect(await get(server, '/data/train.gz')).to.deep.include({ status: 200, type: 'application/gzip', body: 'data' });
  });

  it('answers HEAD without a body, 404 for a missing file and 405 for other methods', async () => {
    expect(await get(server, '/app.js', 'HEAD')).to.deep.include({ status: 200, body: '' });
    expect((await get(server, '/missing.js')).status).to.equal(404);
    expect((await get(server, '/app.js', 'POST')).status).to.equal(405);
  });

  for (const path of [
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/docs/..%2f..%2fsecret.txt',
    '/data/..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '/app.js%00.html',
    '/%E0%A4%A',
  ]) {
    it(`refuses the path traversal ${path}`, async () => {
      const reply = await get(server, path);
      expect(reply.status).to.equal(404);
      expect(reply.body).not.to.contain('SECRET');
    });
  }

  it('refuses a symlink that leads out of its mount', async () => {
    const reply = await get(server, '/escape.txt');
    expect(reply.status).to.equal(404);
    expect(reply.body).not.to.contain('SECRET');
  });

  it('sends no cross-origin isolation headers unless asked', async () => {
    let headers: IncomingHttpHeaders = {};
    await get(server, '/bundle.js', 'GET', (h) => (headers = h));
    expect(isolation(headers)).to.deep.equal({ coop: undefined, coep: undefined });
  });

  it('makes its pages cross-origin isolated when asked: COOP and COEP on every response', async () => {
    const isolated = await startStaticServer({ crossOriginIsolated: true, files: { '/index.html': '<p>isolated</p>' }, mounts: { '/': join(dir, 'site') } });
    try {
      for (const [path, status] of [['/index.html', 200], ['/app.js', 200], ['/missing.js', 404]] as const) {
        let headers: IncomingHttpHeaders = {};
        const reply = await get(isolated, path, 'GET', (h) => (headers = h));
        expect(reply.status, path).to.equal(status);
        expect(isolation(headers), path).to.deep.equal({ coop: 'same-origin', coep: 'require-corp' });
      }
    } finally {
      await isolated.close();
    }
  });

  describe('requestPath', () => {
    it('decodes the path and drops the query and fragment', () => {
      expect(requestPath('/a%20b/c.js?x=1#top')).to.equal('/a b/c.js');
    });

    it('refuses .. segments however encoded, backslashes, NULs and bad escapes', () => {
      for (const url of ['/..', '/a/../b', '/%2E%2E/b', '/a%2f..%2fb', '/a\\b', '/a%00', '/%zz', 'relative']) {
        expect(requestPath(url), url).to.equal(undefined);
      }
    });

    it('allows names that merely contain dots', () => {
      expect(requestPath('/..hidden/a..b/...')).to.equal('/..hidden/a..b/...');
    });
  });
});
