/**
 * The console's SigV4 proxy (console/proxy.ts), for IAM-only deployments:
 * how — a plain HTTP server stands in for API Gateway and records what
 * reaches it; the proxy is given fixed credentials.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { regionOfApi, startSigningProxy } from '../../console/proxy';

let upstream: Server;
let upstreamUrl: string;
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise<void>((r) => upstream.close(() => r()));
});

describe('console SigV4 proxy', () => {
  test('the region comes from the API host', () => {
    expect(regionOfApi(new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/'))).toBe('eu-west-1');
    expect(regionOfApi(new URL('https://strand.example.com/'))).toBeUndefined();
  });

  test('forwards API requests signed with SigV4 (path, query and body intact) and serves the console itself', async () => {
    const proxy = await startSigningProxy({ api: upstreamUrl, region: 'eu-west-1', port: 0, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    try {
      const answer = await fetch(`${proxy.url}/v3/clusters/strand/topics/orders/records?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: 'no', authorization: 'Bearer not-forwarded' },
        body: '{"value":{"type":"STRING","data":"a"}}',
      });
      expect(answer.status).toBe(200);
      const request = seen.at(-1)!;
      expect(request).toMatchObject({ method: 'POST', url: '/v3/clusters/strand/topics/orders/records?x=1', body: '{"value":{"type":"STRING","data":"a"}}' });
      expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/);
      expect(request.headers['x-amz-date']).toBeDefined();
      expect(request.headers.cookie).toBeUndefined();

      const page = await fetch(`${proxy.url}/console`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/console/app.js');
      expect(seen.some((r) => r.url.startsWith('/console'))).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});
