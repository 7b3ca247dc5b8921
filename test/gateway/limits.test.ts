/**
 * The local gateway enforces what API Gateway (HTTP API) and Lambda enforce, and
 * answers as they do: each limit at its bound and one byte (or a moment) past it.
 * Stub handlers on test-only routes are injected into the gateway
 * (GatewayOptions.routes, handlerFor); the last block goes through the real
 * functions with Node's fetch.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  apiGatewayPayloadBytesMax,
  lambdaRequestPayloadBytesMax,
  lambdaResponsePayloadBytesMax,
  startGateway,
  type Gateway,
  type GatewayOptions,
} from '../../local/gateway';
import type { LambdaHandler } from '../../src/api/lambda';
import type { RouteSpec } from '../../src/api/routes';
import { requestBodyBytesMax } from '../../src/api/http';
import { recordBatchMediaType } from '../../src/api/produce';
import { apiGatewayIntegrationTimeoutMs, functionTimeoutSeconds } from '../../src/config/functionTimeouts';
import { HttpClient, createTopic, partitionPath, startTestStrand, topicPath, type HttpResult, type TestStrand } from '../support/localStrand';
import { expectError } from '../support/api';

const MiB = 1024 * 1024;
let strand: TestStrand;
const gateways: Gateway[] = [];

beforeAll(async () => {
  strand = await startTestStrand();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
afterAll(async () => {
  await strand?.dispose();
});

/** Test-only routes: one per function whose timeout a test reads. */
const probeRoutes: RouteSpec[] = [
  { method: 'POST', path: '/test/admin', fn: 'admin' },
  { method: 'POST', path: '/test/produce', fn: 'produce' },
];

interface Invocation {
  eventBytes: number;
  remainingMs: number;
}

/**
 * A stub function: records what it was invoked with, then, as the query asks,
 * waits `delayMs`, throws (`fail`), or answers with a result of `resultBytes` as JSON.
 */
function probe(seen: Invocation[]): LambdaHandler {
  return async (event, context) => {
    seen.push({ eventBytes: Buffer.byteLength(JSON.stringify(event)), remainingMs: context!.getRemainingTimeInMillis() });
    const q = event.queryStringParameters ?? {};
    if (q.delayMs) await new Promise((r) => setTimeout(r, Number(q.delayMs)));
    if (q.fail) throw new Error('the stub failed');
    if (q.resultBytes) return resultOfSize(Number(q.resultBytes));
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}', isBase64Encoded: false };
  };
}

/** A function result whose JSON is exactly `bytes` long. */
function resultOfSize(bytes: number): APIGatewayProxyStructuredResultV2 {
  const empty = { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: '', isBase64Encoded: false };
  return { ...empty, body: 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(empty))) };
}

async function stubGateway(seen: Invocation[], options: GatewayOptions = {}): Promise<HttpClient> {
  const handler = probe(seen);
  const gateway = await startGateway(strand.runtime, { routes: probeRoutes, handlerFor: () => handler, ...options });
  gateways.push(gateway);
  return new HttpClient(gateway.url);
}

const post = (http: HttpClient, path: string, body: string | Buffer = '', contentType = 'text/plain') =>
  http.request('POST', path, { body, headers: { 'content-type': contentType } });

function expectGatewayAnswer(res: HttpResult, status: number, message: string): void {
  expect({ status: res.status, json: res.json }).toEqual({ status, json: { message } });
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('request payloads: API Gateway 10 MiB, then Lambda 6 MiB of event JSON', () => {
  test('an event of exactly 6 MiB is invoked; one byte more is 500 Internal Server Error and the function never runs', async () => {
    const seen: Invocation[] = [];
    const http = await stubGateway(seen);
    // A text body appears verbatim in the event; the rest of the event is the same
    // size for every request whose Content-Length has as many digits.
    await post(http, '/test/admin', 'a'.repeat(1_000_000));
    const fits = lambdaRequestPayloadBytesMax - (seen[0]!.eventBytes - 1_000_000);

    expect((await post(http, '/test/admin', 'a'.repeat(fits))).status).toBe(200);
    expect(seen[1]!.eventBytes).toBe(lambdaRequestPayloadBytesMax);

    expectGatewayAnswer(await post(http, '/test/admin', 'a'.repeat(fits + 1)), 500, 'Internal Server Error');
    expect(seen).toHaveLength(2);
  });

  test('a binary body counts base64-encoded: 4 MiB of bytes fits, 4.5 MiB (6 MiB as base64) does not', async () => {
    const seen: Invocation[] = [];
    const http = await stubGateway(seen);
    expect((await post(http, '/test/admin', Buffer.alloc(4 * MiB), 'application/octet-stream')).status).toBe(200);
    expectGatewayAnswer(await post(http, '/test/admin', Buffer.alloc(4.5 * MiB), 'application/octet-stream'), 500, 'Internal Server Error');
    expect(seen).toHaveLength(1);
  });

  test('a body of exactly 10 MiB passes API Gateway (and is refused by Lambda); one byte more is 413 from API Gateway', async () => {
    const seen: Invocation[] = [];
    const http = await stubGateway(seen);
    expectGatewayAnswer(await post(http, '/test/admin', 'a'.repeat(apiGatewayPayloadBytesMax)), 500, 'Internal Server Error');
    expectGatewayAnswer(await post(http, '/test/admin', 'a'.repeat(apiGatewayPayloadBytesMax + 1)), 413, 'Request Entity Too Large');
    expect(seen).toHaveLength(0);
  });

  test('a body sent without a length is measured as it arrives: over 10 MiB is 413', async () => {
    const http = await stubGateway([]);
    const chunk = Buffer.alloc(MiB, 0x61);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > apiGatewayPayloadBytesMax) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${http.baseUrl}/test/admin`, { method: 'POST', body: stream, headers: { 'content-type': 'text/plain' }, duplex: 'half' } as RequestInit);
    expect({ status: res.status, json: await res.json() }).toEqual({ status: 413, json: { message: 'Request Entity Too Large' } });
  });
});

describe('response payloads: Lambda 6 MiB + 100 bytes of result JSON', () => {
  test('a result of exactly the bound is delivered; one byte more is 500 Internal Server Error', async () => {
    const http = await stubGateway([]);
    const at = await post(http, `/test/admin?resultBytes=${lambdaResponsePayloadBytesMax}`);
    expect(at.status).toBe(200);
    expect(at.body.length).toBe(resultOfSize(lambdaResponsePayloadBytesMax).body!.length);
    expectGatewayAnswer(await post(http, `/test/admin?resultBytes=${lambdaResponsePayloadBytesMax + 1}`), 500, 'Internal Server Error');
  });
});

describe('timeouts: each function its own, and API Gateway 30 s', () => {
  test("a handler's remaining time starts at its function's timeout, the one the CDK stack sets", async () => {
    const seen: Invocation[] = [];
    const http = await stubGateway(seen);
    await post(http, '/test/admin');
    await post(http, '/test/produce');
    const [admin, produce] = seen.map((s) => s.remainingMs);
    expect(admin).toBeLessThanOrEqual(functionTimeoutSeconds.admin * 1000);
    expect(admin).toBeGreaterThan(functionTimeoutSeconds.admin * 1000 - 200);
    expect(produce).toBeLessThanOrEqual(functionTimeoutSeconds.produce * 1000);
    expect(produce).toBeGreaterThan(functionTimeoutSeconds.produce * 1000 - 200);
    expect(apiGatewayIntegrationTimeoutMs).toBe(30_000);
  });

  test('an answer inside the function timeout is delivered; a handler still running at it is 500 Internal Server Error at the timeout', async () => {
    const timeoutMs = 500;
    const http = await stubGateway([], { functionTimeoutsMs: { admin: timeoutMs } });
    expect((await post(http, `/test/admin?delayMs=${timeoutMs - 300}`)).status).toBe(200);
    const past = await timed(() => post(http, `/test/admin?delayMs=${timeoutMs + 500}`));
    expectGatewayAnswer(past.value, 500, 'Internal Server Error');
    expect(past.ms).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(past.ms).toBeLessThan(timeoutMs + 1_000);
  });

  test('a function allowed longer than the integration timeout is cut by API Gateway: 503 Service Unavailable', async () => {
    const integrationTimeoutMs = 500;
    const http = await stubGateway([], { functionTimeoutsMs: { admin: 10_000 }, integrationTimeoutMs });
    expect((await post(http, `/test/admin?delayMs=${integrationTimeoutMs - 300}`)).status).toBe(200);
    const past = await timed(() => post(http, `/test/admin?delayMs=${integrationTimeoutMs + 500}`));
    expectGatewayAnswer(past.value, 503, 'Service Unavailable');
    expect(past.ms).toBeGreaterThanOrEqual(integrationTimeoutMs - 5);
    expect(past.ms).toBeLessThan(integrationTimeoutMs + 1_000);
  });

  test('a handler that throws is 500 Internal Server Error, as any Lambda function error', async () => {
    const http = await stubGateway([]);
    expectGatewayAnswer(await post(http, '/test/admin?fail=1'), 500, 'Internal Server Error');
  });
});

describe('oversized bodies get their answer through Node fetch, never a reset', () => {
  test('a 4.5 MiB JSON body to /records is 413 / 41301 from the function', async () => {
    await createTopic(strand.http, 'gw-records');
    const res = await strand.http.request('POST', `${topicPath('gw-records')}/records`, {
      body: Buffer.alloc(4.5 * MiB, 0x20),
      headers: { 'content-type': 'application/json' },
    });
    expectError(res, 41301);
  });

  test('a /batches body one byte over 4 MiB is 413 / 41301 from the function', async () => {
    await createTopic(strand.http, 'gw-batches');
    const res = await strand.http.request('POST', `${partitionPath('gw-batches', 0)}/batches`, {
      body: Buffer.alloc(requestBodyBytesMax + 1),
      headers: { 'content-type': recordBatchMediaType },
    });
    expectError(res, 41301);
  });

  test('a 4.5 MiB /batches body is over 6 MiB once base64-encoded: API Gateway answers 500, as on AWS', async () => {
    await createTopic(strand.http, 'gw-batches-b64');
    const res = await strand.http.request('POST', `${partitionPath('gw-batches-b64', 0)}/batches`, {
      body: Buffer.alloc(4.5 * MiB),
      headers: { 'content-type': recordBatchMediaType },
    });
    expectGatewayAnswer(res, 500, 'Internal Server Error');
  });

  test('a body over 10 MiB is 413 from API Gateway', async () => {
    const res = await strand.http.request('POST', `${topicPath('gw-records')}/records`, {
      body: Buffer.alloc(apiGatewayPayloadBytesMax + 1, 0x20),
      headers: { 'content-type': 'application/json' },
    });
    expectGatewayAnswer(res, 413, 'Request Entity Too Large');
  });
});
