/**
 * Plain-HTTP long polls (v3 `max_wait_ms`, the multi-partition fetch, REST
 * Proxy v2 `records?timeout=`) wait on a doorbell (src/notify/doorbell.ts):
 * the function connects to the notice socket and reads no head while nothing
 * moves. Without a socket they poll within the read budget, one head read per
 * second. How: every DynamoDB read of the log table is counted.
 */
import { startTestStrand, type TestStrand } from '../support/localStrand';

const C = '/v3/clusters/local';

describe('plain-HTTP long polls and storage reads', () => {
  let strand: TestStrand;
  let headReads = 0;
  beforeAll(async () => {
    strand = await startTestStrand();
    const logTable = strand.runtime.config.tables.log;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (strand.runtime.clients.dynamodb.middlewareStack as any).add(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (next: (a: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
        if (/^(GetItem|Query)/.test(context.commandName ?? '') && args.input?.TableName === logTable) headReads++;
        return next(args);
      },
      { step: 'initialize', name: 'countLogReads' },
    );
    for (const [name, partitions] of [['lp-one', 1], ['lp-many', 12], ['lp-v2', 4], ['lp-poll', 1]] as const) {
      expect((await strand.http.request('POST', `${C}/topics`, { json: { topic_name: name, partitions_count: partitions } })).status).toBe(201);
    }
  });
  afterAll(() => strand.dispose());

  const produceLater = (topic: string, partition: number, ms: number) =>
    new Promise<void>((resolve, reject) =>
      setTimeout(() => {
        strand.http
          .request('POST', `${C}/topics/${topic}/records`, { json: { partition_id: partition, value: { type: 'STRING', data: 'late' } } })
          .then((r) => (r.status === 200 ? resolve() : reject(new Error(String(r.status)))), reject);
      }, ms),
    );

  test('a single-partition long poll reads the head a few times in all while it waits, and answers when a record arrives', async () => {
    const before = headReads;
    const started = Date.now();
    const [res] = await Promise.all([strand.http.request('GET', `${C}/topics/lp-one/partitions/0/records?offset=0&max_wait_ms=5000`), produceLater('lp-one', 0, 1_500)]);
    expect(res.status).toBe(200);
    expect(res.json.records?.length ?? res.json.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(2_500);
    // Polling every 100 ms would have read it 15 times by the produce alone.
    expect(headReads - before).toBeLessThanOrEqual(8);
  });

  test('a 12-partition fetch that waits 2 s with nothing arriving reads each head four times in all (plan, wait, arm, plan again), not every 100 ms', async () => {
    const before = headReads;
    const res = await strand.http.request('POST', `${C}/records:fetch`, {
      json: { partitions: Array.from({ length: 12 }, (_, p) => ({ topic_name: 'lp-many', partition_id: p, offset: 0 })), max_wait_ms: 2_000 },
    });
    expect(res.status).toBe(200);
    expect(headReads - before).toBeLessThanOrEqual(12 * 4);
  });

  test('a REST Proxy v2 instance waiting on 4 partitions for 2 s reads each head at most three times', async () => {
    const V2 = 'application/vnd.kafka.v2+json';
    const created = await strand.http.request('POST', '/consumers/lp-group', { headers: { 'content-type': V2 }, body: JSON.stringify({ name: 'c', format: 'json', 'auto.offset.reset': 'earliest' }) });
    expect(created.status).toBe(200);
    const base = new URL(created.json.base_uri).pathname;
    expect((await strand.http.request('POST', `${base}/subscription`, { headers: { 'content-type': V2 }, body: JSON.stringify({ topics: ['lp-v2'] }) })).status).toBe(204);
    // The first call joins and positions; the second one waits.
    await strand.http.request('GET', `${base}/records?timeout=100`, { headers: { accept: 'application/vnd.kafka.json.v2+json' } });
    const before = headReads;
    const started = Date.now();
    const res = await strand.http.request('GET', `${base}/records?timeout=2000`, { headers: { accept: 'application/vnd.kafka.json.v2+json' } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(headReads - before).toBeLessThanOrEqual(4 * 3 + 4);
  });

  test('without a notice socket a long poll reads the head at most once a second, and still answers when a record arrives', async () => {
    const saved = strand.runtime.config.notifications;
    strand.runtime.config.notifications = undefined;
    try {
      const before = headReads;
      const started = Date.now();
      const [res] = await Promise.all([strand.http.request('GET', `${C}/topics/lp-poll/partitions/0/records?offset=0&max_wait_ms=5000`), produceLater('lp-poll', 0, 2_500)]);
      expect(res.status).toBe(200);
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(2_500);
      expect(waited).toBeLessThan(4_000);
      // One read per second of waiting, plus the fetch's own reads before and after.
      expect(headReads - before).toBeLessThanOrEqual(Math.ceil(waited / 1_000) + 3);
    } finally {
      strand.runtime.config.notifications = saved;
    }
  });
});
