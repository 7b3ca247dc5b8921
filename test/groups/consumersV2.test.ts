/**
 * REST Proxy v2 consumer instances end to end over HTTP, driven the way a REST
 * Proxy client drives them: vendor content types, base_uri from the create
 * response, records, commits, seeks, manual assignments, idle expiry.
 */
import { ManualClock } from '../../src/clock';
import { createTopic, produceString, startTestStrand, type HttpClient, type TestStrand } from '../support/localStrand';
import { expectStatus } from '../support/api';

const clock = new ManualClock();
let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand({ clock });
  await createTopic(strand.http, 'v2t', 3);
  for (let i = 0; i < 9; i++) {
    await strand.http.post('/v3/clusters/local/topics/v2t/records', { partition_id: i % 3, key: { type: 'STRING', data: `k${i}` }, value: { type: 'JSON', data: { n: i } } });
  }
});
afterAll(() => strand.dispose());

const V2 = 'application/vnd.kafka.v2+json';

/** A REST Proxy v2 client: every path after create comes from base_uri. */
class V2Consumer {
  base = '';
  constructor(
    private readonly http: HttpClient,
    private readonly format: 'json' | 'binary' = 'json',
  ) {}

  call(method: string, suffix: string, json?: unknown, accept = V2) {
    return this.http.request(method, this.base + suffix, {
      headers: { 'content-type': V2, accept },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
  }

  async create(group: string, config: Record<string, unknown>) {
    const res = await this.http.request('POST', `/consumers/${group}`, { headers: { 'content-type': V2 }, body: JSON.stringify({ format: this.format, ...config }) });
    if (res.status === 200) this.base = new URL(res.json.base_uri).pathname;
    return res;
  }

  async records() {
    const res = await this.call('GET', '/records', undefined, `application/vnd.kafka.${this.format}.v2+json`);
    if (res.status !== 200) throw new Error(`records: ${res.status} ${res.body.toString()}`);
    return res.json as { topic: string; partition: number; offset: number; key: unknown; value: unknown }[];
  }

  async assignment(): Promise<string[]> {
    const res = await this.call('GET', '/assignments');
    return res.json.partitions.map((p: { topic: string; partition: number }) => `${p.topic}:${p.partition}`).sort();
  }
}

function disjoint(...sets: string[][]) {
  const all = sets.flat();
  expect(new Set(all).size).toBe(all.length);
}

describe('REST Proxy v2 consumer instances', () => {
  test('create, subscribe, read, commit; a second instance shares the partitions with no overlap', async () => {
    const c1 = new V2Consumer(strand.http);
    const created = await c1.create('g-v2', { name: 'c1', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({ instance_id: 'c1', base_uri: `${strand.url}/consumers/g-v2/instances/c1` });
    expect((await c1.create('g-v2', { name: 'c1' })).json.error_code).toBe(40902);

    expect((await c1.call('POST', '/subscription', { topics: ['v2t'] })).status).toBe(204);
    expect((await c1.call('GET', '/subscription')).json).toEqual({ topics: ['v2t'] });
    const first = await c1.records();
    expect(first.map((r) => r.value as { n: number }).map((v) => v.n).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(first.find((r) => (r.value as { n: number }).n === 4)).toMatchObject({ topic: 'v2t', partition: 1, offset: 1, key: 'k4' });
    expect(await c1.records()).toEqual([]);

    // Commit what was consumed (no body), and an explicit offset (REST Proxy commits offset + 1).
    expect((await c1.call('POST', '/offsets')).status).toBe(200);
    const committed = await c1.call('GET', '/offsets');
    expect(committed.json.offsets.map((o: { partition: number; offset: number }) => [o.partition, o.offset])).toEqual([[0, 3], [1, 3], [2, 3]]);
    expect((await c1.call('POST', '/offsets', { offsets: [{ topic: 'v2t', partition: 0, offset: 1 }] })).status).toBe(200);
    expect((await strand.http.get('/v3/clusters/local/consumer-groups/g-v2/offsets')).json.offsets[0]).toMatchObject({ partition_id: 0, offset: 2 });

    const c2 = new V2Consumer(strand.http);
    await c2.create('g-v2', { name: 'c2', 'auto.offset.reset': 'earliest' });
    await c2.call('POST', '/subscription', { topics: ['v2t'] });
    for (let round = 0; round < 4; round++) {
      disjoint(await c1.assignment(), await c2.assignment());
    }
    const a1 = await c1.assignment();
    const a2 = await c2.assignment();
    expect([...a1, ...a2].sort()).toEqual(['v2t:0', 'v2t:1', 'v2t:2']);
    expect(a2.length).toBeGreaterThan(0);
    // c2 resumes from the group's committed offsets: partition 0 from 2, the others from 3 (nothing left).
    const resumed = await c2.records();
    if (a2.includes('v2t:0')) expect(resumed.map((r) => [r.partition, r.offset])).toEqual([[0, 2]]);
    else expect(resumed).toEqual([]);

    // The v3 view shows both instances as members.
    const consumers = await strand.http.get('/v3/clusters/local/consumer-groups/g-v2/consumers');
    expect(consumers.json.data.map((c: { consumer_id: string }) => c.consumer_id).sort()).toEqual(['c1', 'c2']);

    expect((await c1.call('DELETE', '')).status).toBe(204);
    expect((await c1.call('GET', '/records')).json.error_code).toBe(40403);
    for (let i = 0; i < 2; i++) await c2.assignment();
    expect(await c2.assignment()).toEqual(['v2t:0', 'v2t:1', 'v2t:2']);
    await c2.call('DELETE', '');
  });

  test('an idle instance expires after 5 minutes and releases its partitions', async () => {
    const a = new V2Consumer(strand.http);
    await a.create('g-idle', { name: 'a' });
    await a.call('POST', '/subscription', { topics: ['v2t'] });
    const b = new V2Consumer(strand.http);
    await b.create('g-idle', { name: 'b' });
    await b.call('POST', '/subscription', { topics: ['v2t'] });
    for (let i = 0; i < 3; i++) disjoint(await a.assignment(), await b.assignment());
    clock.advance(4 * 60_000);
    await b.assignment();
    clock.advance(60_000 + 1);
    for (let i = 0; i < 3; i++) await b.assignment();
    expect(await b.assignment()).toEqual(['v2t:0', 'v2t:1', 'v2t:2']);
    expect((await a.call('GET', '/assignments')).json.error_code).toBe(40403);
  });

  test('binary format, manual assignments and seeks', async () => {
    const c = new V2Consumer(strand.http, 'binary');
    await c.create('g-manual', { name: 'm', 'auto.commit.enable': 'false' });
    expect((await c.call('POST', '/assignments', { partitions: [{ topic: 'v2t', partition: 2 }] })).status).toBe(204);
    expect(await c.assignment()).toEqual(['v2t:2']);
    // auto.offset.reset defaults to latest: nothing yet.
    expect(await c.records()).toEqual([]);
    await c.call('POST', '/positions/beginning', { partitions: [{ topic: 'v2t', partition: 2 }] });
    const all = await c.records();
    expect(all.map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(Buffer.from(all[0]!.key as string, 'base64').toString()).toBe('k2');
    expect(JSON.parse(Buffer.from(all[0]!.value as string, 'base64').toString())).toEqual({ n: 2 });
    await c.call('POST', '/positions', { offsets: [{ topic: 'v2t', partition: 2, offset: 2 }] });
    expect((await c.records()).map((r) => r.offset)).toEqual([2]);
    await produceString(strand.http, 'v2t', 'late', { partition_id: 2 });
    await c.call('POST', '/positions/end', { partitions: [{ topic: 'v2t', partition: 2 }] });
    expect(await c.records()).toEqual([]);
    // A manually assigned instance commits standalone (the group has no members).
    expect((await c.call('POST', '/offsets', { offsets: [{ topic: 'v2t', partition: 2, offset: 3 }] })).status).toBe(200);
    expect((await c.call('GET', '/offsets')).json.offsets).toEqual([{ topic: 'v2t', partition: 2, offset: 4, metadata: '' }]);
    expect((await c.call('POST', '/assignments', { partitions: [{ topic: 'v2t', partition: 9 }] })).json.error_code).toBe(40402);
    expect((await strand.http.request('POST', '/consumers/g-manual', { headers: { 'content-type': V2 }, body: '{"format":"thrift"}' })).json.error_code).toBe(40002);
  });
});

describe('REST Proxy v2 bad commits and seeks change nothing', () => {
  const groupOffsets = async (group: string) => (await strand.http.get(`/v3/clusters/local/consumer-groups/${group}/offsets`)).json.offsets;

  test('a commit of more partitions than one commit may carry is 40002 and commits none of them', async () => {
    await createTopic(strand.http, 'v2wide', 100);
    const c = new V2Consumer(strand.http);
    await c.create('g-v2-bound', { name: 'm', 'auto.commit.enable': 'false' });
    // 100 valid partitions, then one that does not exist: before the bound, the first 100 were written and the request failed.
    const offsets = [...Array.from({ length: 100 }, (_, p) => ({ topic: 'v2wide', partition: p, offset: 1 })), { topic: 'v2wide', partition: 500, offset: 1 }];
    const res = await c.call('POST', '/offsets', { offsets });
    expect([res.status, res.json.error_code]).toEqual([400, 40002]);
    expect(await groupOffsets('g-v2-bound')).toEqual([]);
    // 100 partitions is one commit, accepted whole.
    expect((await c.call('POST', '/offsets', { offsets: offsets.slice(0, 100) })).status).toBe(200);
    expect(await groupOffsets('g-v2-bound')).toHaveLength(100);
  });

  test('a commit whose offset + 1 is past the safe integer range is 40002, not 500', async () => {
    const c = new V2Consumer(strand.http);
    await c.create('g-v2-huge', { name: 'm', 'auto.commit.enable': 'false' });
    const commit = (offset: number) => c.call('POST', '/offsets', { offsets: [{ topic: 'v2t', partition: 0, offset }] });
    for (const offset of [Number.MAX_SAFE_INTEGER, 1e300]) {
      const res = await commit(offset);
      expect([res.status, res.json.error_code]).toEqual([400, 40002]);
    }
    expect(await groupOffsets('g-v2-huge')).toEqual([]);
    expect((await commit(Number.MAX_SAFE_INTEGER - 1)).status).toBe(200);
    expect(await groupOffsets('g-v2-huge')).toEqual([expect.objectContaining({ partition_id: 0, offset: Number.MAX_SAFE_INTEGER })]);
  });

  test('seeking a partition the instance does not consume is 40002 and moves no position', async () => {
    const c = new V2Consumer(strand.http);
    await c.create('g-v2-seek', { name: 'm', 'auto.commit.enable': 'false' });
    expect((await c.call('POST', '/assignments', { partitions: [{ topic: 'v2t', partition: 2 }] })).status).toBe(204);
    expect(await c.records()).toEqual([]); // latest: positioned at the end
    const refused = [
      await c.call('POST', '/positions', { offsets: [{ topic: 'v2t', partition: 2, offset: 0 }, { topic: 'v2t', partition: 0, offset: 0 }] }),
      await c.call('POST', '/positions', { offsets: [{ topic: 'other', partition: 0, offset: 0 }] }),
      await c.call('POST', '/positions/beginning', { partitions: [{ topic: 'v2t', partition: 2 }, { topic: 'v2t', partition: 1 }] }),
      await c.call('POST', '/positions/end', { partitions: [{ topic: 'v2t', partition: 7 }] }),
    ];
    for (const res of refused) expect([res.status, res.json.error_code]).toEqual([400, 40002]);
    // v2t:2 was named beside the refused partitions but did not move.
    expect(await c.records()).toEqual([]);
    const huge = await c.call('POST', '/positions', { offsets: [{ topic: 'v2t', partition: 2, offset: 1e300 }] });
    expect([huge.status, huge.json.error_code]).toEqual([400, 40002]);
    // The same partition named many times is one position, read once.
    const repeated = Array.from({ length: 50 }, () => ({ topic: 'v2t', partition: 2 }));
    expect((await c.call('POST', '/positions/beginning', { partitions: repeated })).status).toBe(204);
    expect((await c.records())[0]).toMatchObject({ partition: 2, offset: 0 });
  });
});

describe('REST Proxy v2 records long poll', () => {
  test('records with a timeout waits for a record produced meanwhile; without data it returns [] after the timeout', async () => {
    await createTopic(strand.http, 'v2-poll', 1);
    const c = new V2Consumer(strand.http);
    expect((await c.create('v2-poll-group', { name: 'poller', 'auto.offset.reset': 'earliest' })).status).toBe(200);
    expect((await c.call('POST', '/subscription', { topics: ['v2-poll'] })).status).toBe(204);
    expect(await c.records()).toEqual([]);

    const waiting = c.call('GET', '/records?timeout=3000', undefined, 'application/vnd.kafka.json.v2+json');
    await new Promise((r) => setTimeout(r, 300));
    await produceString(strand.http, 'v2-poll', 'late', { partition_id: 0 });
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.json.map((r: { offset: number }) => r.offset)).toEqual([0]);

    const started = Date.now();
    const empty = await c.call('GET', '/records?timeout=600', undefined, 'application/vnd.kafka.json.v2+json');
    expect(empty.json).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect((await c.call('GET', '/records?timeout=20001', undefined, 'application/vnd.kafka.json.v2+json')).json.error_code).toBe(40002);
  });
});

describe("REST Proxy v2 answers as Confluent's does", () => {
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand();
    await createTopic(strand.http, 'v2-codes', 1);
  });
  afterAll(() => strand.dispose());

  test('an unknown instance is 404 / 40403 and an existing name 409 / 40902, in the v2 media type', async () => {
    const c = new V2Consumer(strand.http, 'json');
    expectStatus(await c.create('g-codes', { name: 'c' }), 200);
    const again = await new V2Consumer(strand.http, 'json').create('g-codes', { name: 'c' });
    expect([again.status, again.json.error_code]).toEqual([409, 40902]);
    expect(again.headers.get('content-type')).toBe(V2);
    const missing = await strand.http.request('GET', '/consumers/g-codes/instances/nobody/records', { headers: { accept: 'application/vnd.kafka.json.v2+json' } });
    expect([missing.status, missing.json.error_code]).toEqual([404, 40403]);
    expect(missing.headers.get('content-type')).toBe(V2);
  });

  test("records asked for in another embedded format than the instance's are 406 / 40601; its own format and the plain v2 type are fine", async () => {
    const c = new V2Consumer(strand.http, 'json');
    expectStatus(await c.create('g-format', { name: 'c' }), 200);
    expect((await c.call('POST', '/subscription', { topics: ['v2-codes'] })).status).toBe(204);
    const wrong = await c.call('GET', '/records', undefined, 'application/vnd.kafka.binary.v2+json');
    expect([wrong.status, wrong.json.error_code]).toEqual([406, 40601]);
    expect(wrong.headers.get('content-type')).toBe(V2);
    expect((await c.call('GET', '/records', undefined, 'application/vnd.kafka.json.v2+json')).status).toBe(200);
    expect((await c.call('GET', '/records', undefined, V2)).status).toBe(200);
  });
});

describe('a subscription and a manual assignment exclude each other (REST Proxy v2, Kafka\'s consumer)', () => {
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand();
    await createTopic(strand.http, 'v2-excl', 2);
  });
  afterAll(() => strand.dispose());

  test('assign while subscribed and subscribe while assigned are 409 / 40903 and change nothing; unsubscribe clears either', async () => {
    const c = new V2Consumer(strand.http, 'json');
    expectStatus(await c.create('g-excl', { name: 'c' }), 200);
    expect((await c.call('POST', '/subscription', { topics: ['v2-excl'] })).status).toBe(204);
    const assign = await c.call('POST', '/assignments', { partitions: [{ topic: 'v2-excl', partition: 0 }] });
    expect([assign.status, assign.json.error_code]).toEqual([409, 40903]);
    expect((await c.call('GET', '/subscription')).json.topics).toEqual(['v2-excl']);
    expect((await c.call('DELETE', '/subscription')).status).toBe(204);
    expect((await c.call('POST', '/assignments', { partitions: [{ topic: 'v2-excl', partition: 1 }] })).status).toBe(204);
    const subscribe = await c.call('POST', '/subscription', { topics: ['v2-excl'] });
    expect([subscribe.status, subscribe.json.error_code]).toEqual([409, 40903]);
    expect(await c.assignment()).toEqual(['v2-excl:1']);
    expect((await c.call('DELETE', '/subscription')).status).toBe(204);
    expect(await c.assignment()).toEqual([]);
    expect((await c.call('POST', '/subscription', { topics: ['v2-excl'] })).status).toBe(204);
  });
});
