/**
 * The console against an IAM-only deployment: a browser cannot sign SigV4, so
 * this local proxy does. It serves the console itself at /console (built as
 * `npm start` builds it) and forwards every other request to the API, signed
 * with your AWS credentials (the SDK's default chain: environment, SSO,
 * profiles, …), which need `execute-api:Invoke` on the API (Strand.grantInvoke).
 *
 *   npx tsx console/proxy.ts https://abc123.execute-api.eu-west-1.amazonaws.com
 *   # then open http://127.0.0.1:8083/console
 *
 * It listens on 127.0.0.1 only: whoever reaches it acts with your credentials.
 * PORT sets the port (default 8083), AWS_REGION the region when the API's
 * host does not name it (a custom domain).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner, type SigningOptions } from '../client/signing';
import { isConsolePath, serveConsole } from '../local/consoleAssets';

/** Request bodies the proxy forwards at most: API Gateway's own payload quota. */
export const proxyBodyBytesMax = 10 * 1024 * 1024;

/** Headers not forwarded: hop-by-hop ones, the browser's host and its own origin details. */
const droppedRequestHeaders = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'origin', 'referer', 'cookie', 'authorization', 'accept-encoding', 'content-length']);
const droppedResponseHeaders = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-encoding', 'content-length']);

export interface SigningProxyOptions {
  /** The API's base URL (the stack's ApiUrl output). */
  api: string;
  /** @default the region in the API's host (`….execute-api.<region>.amazonaws.com`) */
  region?: string;
  credentials?: SigningOptions['credentials'];
  /** 0 picks a free port. @default 8083 */
  port?: number;
}

export function regionOfApi(api: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(api.hostname)?.[1];
}

export async function startSigningProxy(options: SigningProxyOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const api = new URL(options.api);
  const region = options.region ?? regionOfApi(api);
  if (!region) throw new Error(`Cannot tell the region of ${api.host}: set AWS_REGION.`);
  const sign = createSigner({ region, credentials: options.credentials });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (isConsolePath(url.pathname)) {
      serveConsole(req, res, url.pathname).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= proxyBodyBytesMax) chunks.push(chunk);
    });
    req.on('end', async () => {
      try {
        if (size > proxyBodyBytesMax) {
          res.statusCode = 413;
          res.end(JSON.stringify({ message: 'Request Entity Too Large' }));
          return;
        }
        const target = new URL(api.pathname.replace(/\/$/, '') + url.pathname + url.search, api);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined && !droppedRequestHeaders.has(name)) headers[name] = Array.isArray(value) ? value.join(',') : value;
        }
        const body = size > 0 ? Buffer.concat(chunks) : undefined;
        const method = (req.method ?? 'GET').toUpperCase();
        const signed = await sign({ method, url: target, headers, body });
        const answer = await fetch(target, { method, headers: signed, body, redirect: 'manual' });
        res.statusCode = answer.status;
        answer.headers.forEach((value, name) => {
          if (!droppedResponseHeaders.has(name)) res.setHeader(name, value);
        });
        res.end(Buffer.from(await answer.arrayBuffer()));
      } catch (err) {
        res.statusCode = 502;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ message: `The signing proxy could not reach the API: ${String(err)}` }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8083, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (require.main === module) {
  const api = process.argv[2];
  if (!api) {
    console.error('Usage: npx tsx console/proxy.ts <API URL>   (the stack output ApiUrl)');
    process.exit(2);
  }
  startSigningProxy({ api, region: process.env.AWS_REGION, port: process.env.PORT ? Number(process.env.PORT) : 8083 }).then(
    (proxy) => console.log(`Strand console for ${api} at ${proxy.url}/console (requests signed with your AWS credentials; Ctrl-C stops it).`),
    (err: unknown) => {
      console.error(String(err));
      process.exit(1);
    },
  );
}
