/**
 * A tiny HTTP proxy for SDK tests: it sits between the client and a real local
 * Strand, and a test-supplied `intercept` may answer a request itself (a 503, a
 * fake endpoint) instead of forwarding it. Every request is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Intercept = (req: SeenRequest) => { status: number; json?: unknown; headers?: Record<string, string> } | undefined;

export interface TestProxy {
  url: string;
  seen: SeenRequest[];
  /** Answers instead of forwarding. */
  intercept: Intercept | undefined;
  /** Forwards, then answers this instead of the upstream response (a response lost on the way back). */
  afterForward: Intercept | undefined;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<TestProxy> {
  const proxy: TestProxy = { url: '', seen: [], intercept: undefined, afterForward: undefined, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      proxy.seen.push(seen);
      const answer = proxy.intercept?.(seen);
      if (answer) {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
      fetch(target + seen.path, { method: seen.method, headers, body: seen.body.length > 0 ? seen.body : undefined }).then(
        async (up) => {
          const body = Buffer.from(await up.arrayBuffer());
          const replaced = proxy.afterForward?.(seen);
          if (replaced) {
            res.writeHead(replaced.status, { 'content-type': 'application/json', ...replaced.headers });
            res.end(replaced.json === undefined ? '' : JSON.stringify(replaced.json));
            return;
          }
          const out: Record<string, string> = {};
          up.headers.forEach((v, k) => {
            if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
          });
          res.writeHead(up.status, out);
          res.end(body);
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
