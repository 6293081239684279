/**
 * Pages for the browser tests and the bench: a small HTTP server on 127.0.0.1 that the
 * simulator's Chromium loads (pages are registered by path; `dir` serves committed files).
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2' };

export interface Pages {
  url(path: string): string;
  set(path: string, body: string, type?: string): void;
  close(): Promise<void>;
}

export async function servePages(opts: { dir?: string } = {}): Promise<Pages> {
  const pages = new Map<string, { body: string; type: string }>();
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const hit = pages.get(path);
    if (hit) return res.writeHead(200, { 'content-type': hit.type }).end(hit.body);
    if (opts.dir && !path.includes('..')) {
      const file = join(opts.dir, normalize(path));
      const body = await readFile(file).catch(() => undefined);
      if (body) return res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (p) => `${base}${p}`,
    set: (p, body, type = 'text/html; charset=utf-8') => void pages.set(p, { body, type }),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
