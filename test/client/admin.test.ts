/**
 * SDK Admin and the client core against a real local Strand: topics, configs,
 * partitions, offsets by timestamp; typed errors from the contract's codes;
 * retries of 503 and network errors (through a proxy that answers 503 first);
 * headers and SigV4 signing reach the wire.
 */
import { createServer } from 'node:net';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import {
  InvalidRequestError,
  OffsetOutOfRangeError,
  StrandApiError,
  StrandClient,
  StrandConnectionError,
  TopicExistsError,
  UnknownPartitionError,
  UnknownTopicError,
} from '../../client';
import { backoffMs, retryPolicy } from '../../client/retry';
import { startProxy, type TestProxy } from './proxy';

let strand: TestStrand;
let client: StrandClient;
beforeAll(async () => {
  strand = await startTestStrand();
  client = new StrandClient({ url: strand.url, retry: { initialRetryTime: 10 } });
});
afterAll(() => strand.dispose());

describe('Admin: topics', () => {
  test('a created topic is listed and described with its partitions', async () => {
    const created = await client.admin().createTopic('adm-orders', { partitions: 3, configs: { 'retention.ms': 86_400_000 } });
    expect(created).toEqual({ name: 'adm-orders', partitions: 3, replicationFactor: 3, isInternal: false });
    expect(await client.admin().listTopics()).toContain('adm-orders');
    expect((await client.admin().describeTopic('adm-orders')).partitions).toBe(3);
    const parts = await client.admin().describePartitions('adm-orders');
    expect(parts).toEqual([0, 1, 2].map((partitionId) => ({ partitionId, logStartOffset: 0, highWatermark: 0 })));
  });

  test('createTopics answers false, not an error, for a topic that exists (kafkajs)', async () => {
    expect(await client.admin().createTopics({ topics: [{ topic: 'adm-twice', numPartitions: 2 }] })).toBe(true);
    expect(await client.admin().createTopics({ topics: [{ topic: 'adm-twice' }] })).toBe(false);
    await expect(client.admin().createTopic('adm-twice')).rejects.toBeInstanceOf(TopicExistsError);
  });

  test('configs are altered, reset with null, and described', async () => {
    await client.admin().createTopic('adm-configs');
    await client.admin().alterTopicConfigs('adm-configs', { 'retention.ms': 1000, 'cleanup.policy': 'compact' });
    let configs = await client.admin().describeTopicConfigs('adm-configs');
    expect(configs.find((c) => c.name === 'retention.ms')).toEqual({ name: 'retention.ms', value: '1000', isDefault: false });
    await client.admin().alterTopicConfigs('adm-configs', { 'retention.ms': null });
    configs = await client.admin().describeTopicConfigs('adm-configs');
    expect(configs.find((c) => c.name === 'retention.ms')?.isDefault).toBe(true);
    expect(configs.find((c) => c.name === 'cleanup.policy')?.value).toBe('compact');
  });

  test('partitions grow, and offsets by timestamp follow Kafka ListOffsets', async () => {
    await client.admin().createTopic('adm-grow', { partitions: 1 });
    expect((await client.admin().growPartitions('adm-grow', 4)).partitions).toBe(4);
    const producer = client.producer({ idempotent: false });
    await producer.send({ topic: 'adm-grow', messages: [{ value: 'a', partition: 0, timestamp: 1000 }, { value: 'b', partition: 0, timestamp: 2000 }] });
    await producer.close();
    expect(await client.admin().offsetForTimestamp('adm-grow', 0, 1500)).toBe(1);
    expect(await client.admin().fetchTopicOffsetsByTimestamp('adm-grow', 0)).toEqual([
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
      { partition: 2, offset: 0 },
      { partition: 3, offset: 0 },
    ]);
    expect((await client.admin().fetchTopicOffsets('adm-grow'))[0]).toEqual({ partition: 0, offset: 2, high: 2, low: 0 });
  });

  test('a deleted topic is gone', async () => {
    await client.admin().createTopic('adm-gone');
    await client.admin().deleteTopics({ topics: ['adm-gone'] });
    expect(await client.admin().listTopics()).not.toContain('adm-gone');
  });
});

describe('typed errors', () => {
  test('an unknown topic is UnknownTopicError with code 40403 and status 404, not retriable', async () => {
    const err = await client.admin().describeTopic('adm-missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownTopicError);
    expect(err).toBeInstanceOf(StrandApiError);
    expect(err).toMatchObject({ code: 40403, status: 404, retriable: false, message: "Topic 'adm-missing' not found." });
  });

  test('an invalid value is InvalidRequestError (40002)', async () => {
    await expect(client.admin().createTopic('bad/name')).rejects.toMatchObject({ code: 40002, name: 'InvalidRequestError' });
    await expect(client.admin().createTopic('adm-x', { configs: { 'no.such.config': 1 } })).rejects.toBeInstanceOf(InvalidRequestError);
  });

  test('an unknown partition is UnknownPartitionError (40402)', async () => {
    await client.admin().createTopic('adm-one');
    await expect(client.admin().describePartition('adm-one', 7)).rejects.toBeInstanceOf(UnknownPartitionError);
  });

  test('an offset out of range carries logStartOffset and highWatermark', async () => {
    await client.admin().createTopic('adm-range');
    const err = (await client.transport
      .request('GET', `${client.clusterPath}/topics/adm-range/partitions/0/records`, { query: { offset: 5 } })
      .catch((e: unknown) => e)) as OffsetOutOfRangeError;
    expect(err).toBeInstanceOf(OffsetOutOfRangeError);
    expect([err.code, err.status, err.logStartOffset, err.highWatermark]).toEqual([41601, 416, 0, 0]);
  });

  test('an unknown cluster id is 40401', async () => {
    const other = new StrandClient({ url: strand.url, clusterId: 'elsewhere' });
    await expect(other.admin().listTopics()).rejects.toMatchObject({ code: 40401, name: 'UnknownClusterError' });
  });

  test('a refused connection is StrandConnectionError naming the URL, after bounded retries', async () => {
    const port = await freePort();
    const dead = new StrandClient({ url: `http://127.0.0.1:${port}`, retry: { retries: 2, initialRetryTime: 5 } });
    const retries: number[] = [];
    dead.transport.onRetry = (e) => retries.push(e.attempt);
    const err = (await dead.admin().listTopics().catch((e: unknown) => e)) as StrandConnectionError;
    expect(err).toBeInstanceOf(StrandConnectionError);
    expect(err.refused).toBe(true);
    expect(err.message).toContain(`http://127.0.0.1:${port}`);
    expect(retries).toEqual([1, 2]);
  });
});

describe('retries', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy(strand.url);
  });
  afterAll(() => proxy.close());

  test('503 twice, then the request is forwarded and succeeds', async () => {
    let refusals = 2;
    proxy.intercept = (req) =>
      req.path.endsWith('/topics') && refusals-- > 0 ? { status: 503, json: { error_code: 50301, message: 'busy' }, headers: { 'retry-after': '0' } } : undefined;
    const c = new StrandClient({ url: proxy.url, retry: { initialRetryTime: 5 } });
    const delays: number[] = [];
    c.transport.onRetry = (e) => delays.push(e.delayMs);
    proxy.seen.length = 0;
    expect(Array.isArray(await c.admin().listTopics())).toBe(true);
    expect(proxy.seen.map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
    expect(delays).toHaveLength(2);
  });

  test('429 is retried too; retries stop at the bound and the last error is thrown', async () => {
    proxy.intercept = () => ({ status: 429, json: { error_code: 42901, message: 'slow down' } });
    const c = new StrandClient({ url: proxy.url, retry: { retries: 3, initialRetryTime: 1 } });
    proxy.seen.length = 0;
    await expect(c.admin().listTopics()).rejects.toMatchObject({ code: 42901, status: 429, retriable: true, name: 'ThrottledError' });
    expect(proxy.seen).toHaveLength(4);
    proxy.intercept = undefined;
  });

  test('a 4xx is not retried', async () => {
    const c = new StrandClient({ url: proxy.url, retry: { initialRetryTime: 1 } });
    proxy.seen.length = 0;
    await expect(c.admin().describeTopic('adm-nope')).rejects.toBeInstanceOf(UnknownTopicError);
    expect(proxy.seen).toHaveLength(1);
  });

  test('backoff grows exponentially with jitter within ±factor, capped, and honours Retry-After', () => {
    const policy = retryPolicy({ initialRetryTime: 100, multiplier: 2, factor: 0.2, maxRetryTime: 1000 });
    expect(backoffMs(policy, 0, undefined, () => 0)).toBe(80);
    expect(backoffMs(policy, 0, undefined, () => 1)).toBe(120);
    expect(backoffMs(policy, 2, undefined, () => 0.5)).toBe(400);
    expect(backoffMs(policy, 10, undefined, () => 0.5)).toBe(1000);
    expect(backoffMs(policy, 0, 0.5, () => 0.5)).toBe(500);
  });

  test('static headers (an API key) and SigV4 signatures are sent', async () => {
    const c = new StrandClient({
      url: proxy.url,
      headers: { authorization: 'Bearer k-123' },
    });
    proxy.seen.length = 0;
    await c.admin().listTopics();
    expect(proxy.seen[0]!.headers.authorization).toBe('Bearer k-123');

    const signed = new StrandClient({
      url: proxy.url,
      signing: { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
    });
    proxy.seen.length = 0;
    await signed.admin().listTopics();
    const auth = String(proxy.seen[0]!.headers.authorization);
    expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    expect(proxy.seen[0]!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
