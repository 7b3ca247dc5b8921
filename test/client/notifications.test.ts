/**
 * The SDK consumer waits on the notice socket (client/noticeWaiter.ts): at the
 * end of its partitions it sends no request until a commit arrives, a record
 * produced while it waits is delivered, a dropped socket costs polling and
 * loses nothing, and a deployment without a socket is long-polled as before.
 * How: the consumer's requests are counted by wrapping its transport.
 */
import { StrandClient, type Consumer, type ConsumerConfig, type KafkaMessage } from '../../client';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { produceIndexed, until } from '../support/clientHarness';

/** Counts fetch requests (single-partition and multi-partition) and what they asked the server to wait. */
function countFetches(c: StrandClient) {
  const counts = { fetches: 0, longPolls: 0 };
  const original = c.transport.request.bind(c.transport);
  c.transport.request = (async (method: string, path: string, options?: { query?: Record<string, unknown>; json?: { max_wait_ms?: number } }) => {
    const single = method === 'GET' && /\/partitions\/\d+\/records$/.test(path);
    const multi = path.endsWith('/records:fetch');
    if (single || multi) {
      counts.fetches++;
      const wait = Number(single ? options?.query?.max_wait_ms : options?.json?.max_wait_ms);
      if (wait > 0) counts.longPolls++;
    }
    return original(method, path, options as never);
  }) as typeof c.transport.request;
  return counts;
}

async function consume(client: StrandClient, topic: string, partitions: number, config: ConsumerConfig): Promise<{ consumer: Consumer; got: KafkaMessage[] }> {
  const consumer = client.consumer(config);
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })), { fromBeginning: true });
  const got: KafkaMessage[] = [];
  await consumer.run({ partitionsConsumedConcurrently: partitions, eachMessage: async ({ message }) => void got.push(message) });
  return { consumer, got };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each([
  ['one fetch loop per partition', {}],
  ['multiPartitionFetch', { multiPartitionFetch: true }],
])('a waiting consumer (%s)', (_name, extra) => {
  let strand: TestStrand;
  let client: StrandClient;
  beforeAll(async () => {
    strand = await startTestStrand();
    client = new StrandClient({ url: strand.url, retry: { initialRetryTime: 10 } });
  });
  afterAll(() => strand.dispose());

  test('at the end of 12 partitions it sends no request while nothing arrives; a record produced while it waits arrives', async () => {
    const topic = `idle-${(extra as ConsumerConfig).multiPartitionFetch ? 'm' : 's'}`;
    await client.admin().createTopic(topic, { partitions: 12 });
    await produceIndexed(client, topic, 12, 12);
    const counts = countFetches(client);
    const { consumer, got } = await consume(client, topic, 12, { ...extra, maxWaitTimeInMs: 5_000 });
    try {
      await until(() => got.length === 12);
      await strand.notices.stream.drained();
      await settle(300); // the caught-up fetches and their arms
      const before = counts.fetches;
      await settle(1_500);
      expect(counts.fetches - before).toBe(0);
      expect(counts.longPolls).toBe(0);
      expect(strand.notices.socket.stats().open).toBe(1);

      const producedAt = Date.now();
      await produceIndexed(client, topic, 12, 1, 100); // partition 100 % 12 = 4
      await until(() => got.length === 13, 5_000);
      expect(Number(got[12]!.value!.toString())).toBe(100);
      expect(Date.now() - producedAt).toBeLessThan(2_000);
      // The woken partition fetched and caught up again; nothing else moved.
      expect(counts.fetches - before).toBeLessThanOrEqual(3);
    } finally {
      await consumer.close();
    }
    await until(() => strand.notices.socket.stats().open === 0, 2_000);
  });
});

describe('group members that listen on the notice socket', () => {
  let strand: TestStrand;
  let client: StrandClient;
  beforeAll(async () => {
    strand = await startTestStrand();
    client = new StrandClient({ url: strand.url, retry: { initialRetryTime: 10 } });
  });
  afterAll(() => strand.dispose());

  /** Heartbeat responses by member, from the client's transport. */
  function watchHeartbeats(c: StrandClient) {
    const seen: { member_id: string; heartbeat_interval_ms: number; at: number }[] = [];
    const original = c.transport.request.bind(c.transport);
    c.transport.request = (async (method: string, path: string, options?: unknown) => {
      const res = await original(method, path, options as never);
      if (path.endsWith('/heartbeat') && res.status === 200) seen.push({ ...(res.json as { member_id: string; heartbeat_interval_ms: number }), at: Date.now() });
      return res;
    }) as typeof c.transport.request;
    return seen;
  }

  test('heartbeat every 18 s instead of 5 s, and a joining member still gets its partitions within a second or two, by nudges', async () => {
    await client.admin().createTopic('nudged', { partitions: 4 });
    const heartbeats = watchHeartbeats(client);
    const got: { member: string; partition: number }[] = [];
    const member = async (name: string) => {
      const c = client.consumer({ groupId: 'nudged-group' });
      await c.subscribe({ topics: ['nudged'], fromBeginning: true });
      await c.run({ eachMessage: async ({ partition }) => void got.push({ member: name, partition }) });
      return c;
    };
    const a = await member('a');
    try {
      await until(() => heartbeats.length >= 1);
      expect(heartbeats[0]!.heartbeat_interval_ms).toBe(18_000);
      await settle(300);
      const joinedAt = Date.now();
      const b = await member('b');
      try {
        // b's partitions come from a: a must be told to give them up, then b to take them.
        await produceIndexed(client, 'nudged', 4, 40);
        await until(() => new Set(got.filter((g) => g.member === 'b').map((g) => g.partition)).size === 2, 5_000);
        expect(Date.now() - joinedAt).toBeLessThan(3_000);
        await until(() => got.length >= 40, 5_000);
        expect(new Set(got.filter((g) => g.member === 'a').map((g) => g.partition)).size).toBe(2);
        // Nobody heartbeats on a 5-second clock: after the rebalance, the next ones wait their 18 s.
        const settledAt = Date.now();
        await settle(1_500);
        expect(heartbeats.filter((h) => h.at > settledAt)).toEqual([]);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  });
});

describe('when the notice socket drops or is missing', () => {
  let strand: TestStrand;
  let client: StrandClient;
  beforeAll(async () => {
    // API Gateway closes every connection after 2 hours; here after 400 ms.
    strand = await startTestStrand({ noticeSocket: { lifetimeMsMax: 400 } });
    client = new StrandClient({ url: strand.url, retry: { initialRetryTime: 10 }, logger: { warn: () => {} } });
  });
  afterAll(() => strand.dispose());

  test('a consumer whose socket keeps closing reconnects and loses nothing produced meanwhile', async () => {
    await client.admin().createTopic('drops', { partitions: 3 });
    const { consumer, got } = await consume(client, 'drops', 3, { noticeFallbackPollMs: 100 });
    try {
      // Spread over longer than a drop plus one fallback poll (3 partitions × 1 s), so the consumer must reconnect.
      for (let i = 0; i < 8; i++) {
        await produceIndexed(client, 'drops', 3, 1, i);
        await settle(700);
      }
      await until(() => got.length === 8, 10_000);
      expect(got.map((m) => Number(m.value!.toString())).sort((a, b) => a - b)).toEqual(Array.from({ length: 8 }, (_, i) => i));
      expect(strand.notices.socket.stats().connections).toBeGreaterThanOrEqual(2);
    } finally {
      await consumer.close();
    }
  });

  test('against a deployment without a notice socket the consumer long-polls, as before', async () => {
    const saved = strand.runtime.config.notifications;
    strand.runtime.config.notifications = undefined;
    try {
      expect((await strand.http.request('GET', '/v3/clusters/local/notifications')).json.error_code).toBe(40401);
      await client.admin().createTopic('no-socket', { partitions: 2 });
      const plain = new StrandClient({ url: strand.url, retry: { initialRetryTime: 10 } });
      const counts = countFetches(plain);
      const opened = strand.notices.socket.stats().connections;
      const { consumer, got } = await consume(plain, 'no-socket', 2, { maxWaitTimeInMs: 300 });
      try {
        await settle(200);
        await produceIndexed(plain, 'no-socket', 2, 4);
        await until(() => got.length === 4);
        expect(counts.longPolls).toBeGreaterThan(0);
        // Neither the client nor its long polls (no socket configured: no doorbell) connected.
        expect(strand.notices.socket.stats().connections).toBe(opened);
      } finally {
        await consumer.close();
      }
    } finally {
      strand.runtime.config.notifications = saved;
    }
  });

  test('notifications: false long-polls even where a socket is offered', async () => {
    await client.admin().createTopic('opt-out', { partitions: 1 });
    const plain = new StrandClient({ url: strand.url, retry: { initialRetryTime: 10 } });
    const counts = countFetches(plain);
    const asked: string[] = [];
    const request = plain.transport.request.bind(plain.transport);
    plain.transport.request = ((method: string, path: string, options?: unknown) => {
      asked.push(path);
      return request(method, path, options as never);
    }) as typeof plain.transport.request;
    const { consumer, got } = await consume(plain, 'opt-out', 1, { notifications: false, maxWaitTimeInMs: 300 });
    try {
      await produceIndexed(plain, 'opt-out', 1, 2);
      await until(() => got.length === 2);
      expect(counts.longPolls).toBeGreaterThan(0);
      // The client never looked for the socket (its long polls' own server-side doorbells may connect to it).
      expect(asked.filter((p) => p.endsWith('/notifications'))).toEqual([]);
    } finally {
      await consumer.close();
    }
  });
});

describe('the notice socket behind IAM', () => {
  test("a signing client signs the WebSocket upgrade with SigV4 for execute-api, scoped to the socket's host", async () => {
    const client = new StrandClient({
      url: 'https://example.execute-api.eu-west-1.amazonaws.com',
      signing: { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
    });
    const headers = await client.transport.upgradeHeaders('wss://abc123.execute-api.eu-west-1.amazonaws.com/notices');
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host/);
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });
});
