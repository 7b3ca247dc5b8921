/**
 * The lambda target against a stand-in for Lambda's Invoke API (the REST call
 * the SDK makes: POST /2015-03-31/functions/{name}/invocations), so the SDK's
 * real request and response handling is exercised: the payload is the event,
 * RequestResponse, and a FunctionError or a non-2xx status fails the batch.
 */
import { createServer, type Server } from 'node:http';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { invokeLambdaTarget, lambdaRequestBytesMax } from './lambdaTarget';
import { DeliveryFailedError } from './targets';
import type { KafkaEvent } from './kafkaEvent';

const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:orders';
const target = { type: 'lambda' as const, functionArn: arn };
const event: KafkaEvent = {
  eventSource: 'aws:kafka',
  eventSourceArn: 'arn:aws:kafka:eu-west-1:000000000000:cluster/strand-c/trigger-t',
  bootstrapServers: '',
  records: { 'orders-0': [{ topic: 'orders', partition: 0, offset: 7, timestamp: 1, timestampType: 'CREATE_TIME', value: 'aGk=', headers: [] }] },
};

let server: Server;
let lambda: LambdaClient;
let answer: { status: number; headers: Record<string, string>; body: string; delayMs?: number };
const seen: { path: string; invocationType: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', invocationType: req.headers['x-amz-invocation-type'] as string | undefined, body: Buffer.concat(chunks).toString('utf8') });
      setTimeout(() => res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body), answer.delayMs ?? 0).unref();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  lambda = new LambdaClient({ endpoint: `http://127.0.0.1:${port}`, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, maxAttempts: 1 });
});
afterAll(async () => {
  lambda.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  seen.length = 0;
  answer = { status: 200, headers: {}, body: 'null' };
});

const invoke = (signal = new AbortController().signal) => invokeLambdaTarget(target, event, signal, lambda);

test('invokes the function RequestResponse with the event as the payload; a 200 without FunctionError succeeds', async () => {
  await expect(invoke()).resolves.toBeUndefined();
  expect(seen).toHaveLength(1);
  expect(decodeURIComponent(seen[0]!.path)).toBe(`/2015-03-31/functions/${arn}/invocations`);
  expect(seen[0]!.invocationType).toBe('RequestResponse');
  expect(JSON.parse(seen[0]!.body)).toEqual(event);
});

test('a FunctionError fails the batch with the function\'s error message', async () => {
  answer = { status: 200, headers: { 'x-amz-function-error': 'Unhandled' }, body: JSON.stringify({ errorType: 'Error', errorMessage: 'cannot process order 7' }) };
  const err = await invoke().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DeliveryFailedError);
  expect((err as Error).message).toBe('function error (Unhandled): Error: cannot process order 7');
});

test('an error status (throttled, no permission, no such function) fails the batch', async () => {
  answer = { status: 429, headers: { 'x-amzn-errortype': 'TooManyRequestsException' }, body: JSON.stringify({ message: 'Rate exceeded' }) };
  const err = await invoke().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DeliveryFailedError);
  expect((err as Error).message).toMatch(/^invoke arn:aws:lambda:eu-west-1:123456789012:function:orders failed: TooManyRequestsException/);
});

test('an abort (the runtime stopping, the dispatcher\'s time running out) fails the invocation at once', async () => {
  answer = { status: 200, headers: {}, body: 'null', delayMs: 2_000 };
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(new DeliveryFailedError('target did not answer within 50 ms')), 50);
  await expect(invoke(controller.signal)).rejects.toThrow('target did not answer within 50 ms');
  expect(Date.now() - started).toBeLessThan(1_500);
});

test('an event over Lambda\'s 6 MB request limit (one huge record) fails before any request', async () => {
  const huge: KafkaEvent = { ...event, records: { 'orders-0': [{ ...event.records['orders-0']![0]!, value: 'A'.repeat(lambdaRequestBytesMax) }] } };
  await expect(invokeLambdaTarget(target, huge, new AbortController().signal, lambda)).rejects.toThrow(/exceeds Lambda's 6291456-byte request limit/);
  expect(seen).toHaveLength(0);
});

test('the function\'s result is the answer: a batchItemFailures object is returned for the delivery step to read', async () => {
  const failures = { batchItemFailures: [{ itemIdentifier: 'orders-0@7' }] };
  answer = { status: 200, headers: {}, body: JSON.stringify(failures) };
  await expect(invoke()).resolves.toEqual(failures);
  // A result that is not a JSON object (a string, a number) is a plain success.
  answer = { status: 200, headers: {}, body: '"done"' };
  await expect(invoke()).resolves.toBeUndefined();
});
