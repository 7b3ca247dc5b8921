/**
 * Produce (REST Proxy v3): single records and records:batch, over HTTP against a
 * real local Strand (../shared/api.md). How: every produced record is fetched back
 * at its offset; every rejection is followed by a read of the high watermarks
 * showing nothing was written (invariant 3). Key hashing is checked against our
 * partitioner and cross-checked against kafkajs's default partitioner.
 */
import { partitionForKey } from '../../src/partitioner/murmur2';
import { cluster, createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus, highWatermark, highWatermarks, type FetchedJsonRecord } from '../support/api';
import { kafkajsMurmur2, kafkajsPartitionFor } from '../support/kafkajs';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const produce = (topic: string, record: unknown) => strand.http.post(`${topicPath(topic)}/records`, record);
const produceBatch = (topic: string, entries: unknown[]) => strand.http.post(`${topicPath(topic)}/records:batch`, { entries });

/** The one record at `offset`, fetched in embedded format `format`. */
async function recordAt(topic: string, partition: number, offset: number, format = 'binary'): Promise<FetchedJsonRecord> {
  const res = await strand.http.get(`${partitionPath(topic, partition)}/records?offset=${offset}&embedded_format=${format}`);
  expectStatus(res, 200);
  expect(res.json.records[0].offset).toBe(offset);
  return res.json.records[0];
}

describe('produce one record: data types', () => {
  test('BINARY key and value are base64 and round-trip byte for byte; the response carries types and sizes', async () => {
    await createTopic(strand.http, 'pr-binary');
    const key = Buffer.from([0x00, 0xff, 0x80, 0x7f]);
    const value = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]);
    const res = await produce('pr-binary', { key: { type: 'BINARY', data: b64(key) }, value: { type: 'BINARY', data: b64(value) } });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({
      error_code: 200,
      cluster_id: 'local',
      topic_name: 'pr-binary',
      partition_id: 0,
      offset: 0,
      key: { type: 'BINARY', size: 4 },
      value: { type: 'BINARY', size: 6 },
    });
    expect(typeof res.json.timestamp).toBe('string');
    const r = await recordAt('pr-binary', 0, 0, 'binary');
    expect(r.key).toEqual({ type: 'BINARY', data: b64(key) });
    expect(r.value).toEqual({ type: 'BINARY', data: b64(value) });
  });

  test('JSON data is stored as its UTF-8 JSON text and fetched back parsed', async () => {
    await createTopic(strand.http, 'pr-json');
    const value = { amount: 7, tags: ['a', 'b'], nested: { ok: true, none: null }, text: 'caf\u00e9' };
    const res = await produce('pr-json', { key: { type: 'JSON', data: 42 }, value: { type: 'JSON', data: value } });
    expectStatus(res, 200);
    const text = JSON.stringify(value);
    expect(res.json.key).toEqual({ type: 'JSON', size: 2 });
    expect(res.json.value).toEqual({ type: 'JSON', size: Buffer.byteLength(text) });
    const asJson = await recordAt('pr-json', 0, 0, 'json');
    expect(asJson.key).toEqual({ type: 'JSON', data: 42 });
    expect(asJson.value).toEqual({ type: 'JSON', data: value });
    const asString = await recordAt('pr-json', 0, 0, 'string');
    expect(asString.value).toEqual({ type: 'STRING', data: text });
    const asBinary = await recordAt('pr-json', 0, 0, 'binary');
    expect(asBinary.value).toEqual({ type: 'BINARY', data: b64(text) });
  });

  test('STRING data is stored as UTF-8 and fetched back as the same string', async () => {
    await createTopic(strand.http, 'pr-string');
    const value = 'h\u00e9llo \u{1f600} world';
    const res = await produce('pr-string', { key: { type: 'STRING', data: 'user-42' }, value: { type: 'STRING', data: value } });
    expectStatus(res, 200);
    expect(res.json.key).toEqual({ type: 'STRING', size: 7 });
    expect(res.json.value).toEqual({ type: 'STRING', size: Buffer.byteLength(value) });
    const r = await recordAt('pr-string', 0, 0, 'string');
    expect(r.key).toEqual({ type: 'STRING', data: 'user-42' });
    expect(r.value).toEqual({ type: 'STRING', data: value });
    expect((await recordAt('pr-string', 0, 0, 'binary')).value).toEqual({ type: 'BINARY', data: b64(value) });
  });

  test('an empty STRING value is an empty value, not null', async () => {
    await createTopic(strand.http, 'pr-empty-string');
    const res = await produce('pr-empty-string', { value: { type: 'STRING', data: '' } });
    expectStatus(res, 200);
    expect(res.json.value).toEqual({ type: 'STRING', size: 0 });
    expect((await recordAt('pr-empty-string', 0, 0, 'string')).value).toEqual({ type: 'STRING', data: '' });
  });

  test('a null value (tombstone) round-trips as null, with its key', async () => {
    await createTopic(strand.http, 'pr-tombstone');
    const a = await produce('pr-tombstone', { key: { type: 'STRING', data: 'gone' }, value: null });
    expectStatus(a, 200);
    expect(a.json.value).toBeNull();
    const b = await produce('pr-tombstone', { key: { type: 'STRING', data: 'gone' }, value: { type: 'BINARY', data: null } });
    expectStatus(b, 200);
    const c = await produce('pr-tombstone', {});
    expectStatus(c, 200);
    expect(c.json.key).toBeNull();
    expect(c.json.value).toBeNull();
    for (const offset of [0, 1]) {
      const r = await recordAt('pr-tombstone', 0, offset, 'string');
      expect(r.key).toEqual({ type: 'STRING', data: 'gone' });
      expect(r.value).toBeNull();
    }
    const empty = await recordAt('pr-tombstone', 0, 2, 'string');
    expect([empty.key, empty.value]).toEqual([null, null]);
  });

  test('headers keep their order, duplicate names, base64 values and null values', async () => {
    await createTopic(strand.http, 'pr-headers');
    const headers = [
      { name: 'trace', value: 'YWJj' },
      { name: 'nothing', value: null },
      { name: 'trace', value: b64('second') },
      { name: 'bytes', value: b64(Buffer.from([0, 255, 1])) },
    ];
    expectStatus(await produce('pr-headers', { headers, value: { type: 'STRING', data: 'v' } }), 200);
    const r = await recordAt('pr-headers', 0, 0, 'string');
    expect(r.headers).toEqual(headers);
    expect(Buffer.from(r.headers[0]!.value!, 'base64').toString()).toBe('abc');
  });
});

describe('produce one record: timestamps', () => {
  test('an RFC 3339 timestamp is stored and fetched back as that instant', async () => {
    await createTopic(strand.http, 'pr-ts-rfc3339');
    const res = await produce('pr-ts-rfc3339', { value: { type: 'STRING', data: 'v' }, timestamp: '2026-11-26T10:00:00Z' });
    expectStatus(res, 200);
    const ms = Date.parse('2026-11-26T10:00:00Z');
    expect(Date.parse(res.json.timestamp)).toBe(ms);
    const r = await recordAt('pr-ts-rfc3339', 0, 0);
    expect(r.timestamp).toBe(ms);
    expect(r.timestamp_type).toBe('CreateTime');
  });

  test('an RFC 3339 timestamp with fractional seconds and a zone offset keeps its milliseconds', async () => {
    await createTopic(strand.http, 'pr-ts-offset');
    expectStatus(await produce('pr-ts-offset', { value: null, timestamp: '2026-11-26T10:00:00.123+02:00' }), 200);
    expect((await recordAt('pr-ts-offset', 0, 0)).timestamp).toBe(Date.parse('2026-11-26T08:00:00.123Z'));
  });

  test('an epoch-milliseconds timestamp is fetched back with exactly that timestamp', async () => {
    await createTopic(strand.http, 'pr-ts-epoch');
    const ms = 1_700_000_000_123;
    const res = await produce('pr-ts-epoch', { value: { type: 'STRING', data: 'v' }, timestamp: ms });
    expectStatus(res, 200);
    expect(Date.parse(res.json.timestamp)).toBe(ms);
    expect((await recordAt('pr-ts-epoch', 0, 0)).timestamp).toBe(ms);
  });

  test('without a timestamp the record gets the current time', async () => {
    await createTopic(strand.http, 'pr-ts-now');
    const before = Date.now();
    const res = await produce('pr-ts-now', { value: { type: 'STRING', data: 'v' } });
    const after = Date.now();
    expectStatus(res, 200);
    const r = await recordAt('pr-ts-now', 0, 0);
    expect(r.timestamp).toBeGreaterThanOrEqual(before - 1000);
    expect(r.timestamp).toBeLessThanOrEqual(after + 1000);
    expect(Date.parse(res.json.timestamp)).toBe(r.timestamp);
  });

  test.each([
    ['text', 'yesterday'],
    ['a date without a time', '2026-11-26'],
    ['a negative number', -5],
    ['a boolean', true],
  ])('a timestamp that is %s is 40002 and nothing is written', async (_label, timestamp) => {
    const name = `pr-ts-bad-${_label.replace(/[^a-z]/g, '')}`;
    await createTopic(strand.http, name);
    expectError(await produce(name, { value: { type: 'STRING', data: 'v' }, timestamp }), 40002);
    expect(await highWatermark(strand.http, name)).toBe(0);
  });

  test('message.timestamp.type=LogAppendTime: records carry timestamp_type LogAppendTime and the server time, not the client\'s', async () => {
    await createTopic(strand.http, 'pr-log-append', 1, { 'message.timestamp.type': 'LogAppendTime' });
    const before = Date.now();
    const res = await produce('pr-log-append', { value: { type: 'STRING', data: 'v' }, timestamp: 1_000_000 });
    const after = Date.now();
    expectStatus(res, 200);
    const r = await recordAt('pr-log-append', 0, 0, 'string');
    expect(r.timestamp_type).toBe('LogAppendTime');
    expect(r.timestamp).toBeGreaterThanOrEqual(before - 1000);
    expect(r.timestamp).toBeLessThanOrEqual(after + 1000);
    expect(Date.parse(res.json.timestamp)).toBe(r.timestamp);
    expect(r.value).toEqual({ type: 'STRING', data: 'v' });
  });

  test('switching a topic to LogAppendTime with configs:alter applies to later records', async () => {
    await createTopic(strand.http, 'pr-log-append-alter');
    expectStatus(await produce('pr-log-append-alter', { value: null, timestamp: 1_000_000 }), 200);
    const alter = await strand.http.post(`${topicPath('pr-log-append-alter')}/configs:alter`, {
      data: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
    });
    expect(alter.status).toBe(204);
    expectStatus(await produce('pr-log-append-alter', { value: null, timestamp: 1_000_000 }), 200);
    const first = await recordAt('pr-log-append-alter', 0, 0);
    const second = await recordAt('pr-log-append-alter', 0, 1);
    expect([first.timestamp_type, first.timestamp]).toEqual(['CreateTime', 1_000_000]);
    expect(second.timestamp_type).toBe('LogAppendTime');
    expect(second.timestamp).toBeGreaterThan(1_000_000);
  });
});

describe('produce one record: partition choice', () => {
  test('an explicit partition_id is where the record lands, at that partition\'s next offset', async () => {
    await createTopic(strand.http, 'pr-explicit', 3);
    const a = await produce('pr-explicit', { partition_id: 2, key: { type: 'STRING', data: 'k' }, value: { type: 'STRING', data: 'a' } });
    const b = await produce('pr-explicit', { partition_id: 2, value: { type: 'STRING', data: 'b' } });
    const c = await produce('pr-explicit', { partition_id: 0, value: { type: 'STRING', data: 'c' } });
    expect([a.json, b.json, c.json].map((r) => [r.partition_id, r.offset])).toEqual([
      [2, 0],
      [2, 1],
      [0, 0],
    ]);
    expect(await highWatermarks(strand.http, 'pr-explicit')).toEqual([1, 0, 2]);
    expect((await recordAt('pr-explicit', 2, 1, 'string')).value).toEqual({ type: 'STRING', data: 'b' });
  });

  test('keyed records land on toPositive(murmur2(key)) % n, as kafkajs\'s default partitioner places them', async () => {
    const n = 7;
    await createTopic(strand.http, 'pr-keyed', n);
    const keys = Array.from({ length: 24 }, (_, i) => `user-${i}`);
    const landed = new Set<number>();
    for (const key of keys) {
      const bytes = Buffer.from(key, 'utf8');
      const expected = partitionForKey(bytes, n);
      expect([key, kafkajsPartitionFor(bytes, n)]).toEqual([key, expected]);
      const res = await produce('pr-keyed', { key: { type: 'STRING', data: key }, value: { type: 'STRING', data: key } });
      expectStatus(res, 200);
      expect([key, res.json.partition_id]).toEqual([key, expected]);
      const r = await recordAt('pr-keyed', expected, res.json.offset, 'string');
      expect(r.key).toEqual({ type: 'STRING', data: key });
      landed.add(expected);
    }
    // The keys spread: a partitioner that ignored the key would not.
    expect(landed.size).toBeGreaterThan(3);
  });

  test('the same key always lands on the same partition; the hash is over the stored key bytes (BINARY and JSON keys too)', async () => {
    const n = 5;
    await createTopic(strand.http, 'pr-keyed-types', n);
    const cases: [unknown, Buffer][] = [
      [{ type: 'BINARY', data: b64(Buffer.from([1, 2, 3, 250])) }, Buffer.from([1, 2, 3, 250])],
      [{ type: 'JSON', data: { id: 'abc' } }, Buffer.from('{"id":"abc"}')],
      [{ type: 'STRING', data: '\u00e9t\u00e9' }, Buffer.from('\u00e9t\u00e9', 'utf8')],
    ];
    for (const [key, bytes] of cases) {
      // Hand-checked against kafkajs's murmur2 itself, not only its partitioner wrapper.
      const expected = (kafkajsMurmur2(bytes) & 0x7fffffff) % n;
      expect(partitionForKey(bytes, n)).toBe(expected);
      for (let i = 0; i < 3; i++) {
        const res = await produce('pr-keyed-types', { key, value: null });
        expectStatus(res, 200);
        expect(res.json.partition_id).toBe(expected);
      }
    }
  });

  test('a record without a key or partition goes to an existing partition', async () => {
    await createTopic(strand.http, 'pr-unkeyed', 4);
    for (let i = 0; i < 8; i++) {
      const res = await produce('pr-unkeyed', { value: { type: 'STRING', data: `v${i}` } });
      expectStatus(res, 200);
      expect(res.json.partition_id).toBeGreaterThanOrEqual(0);
      expect(res.json.partition_id).toBeLessThan(4);
    }
    expect((await highWatermarks(strand.http, 'pr-unkeyed')).reduce((a, b) => a + b, 0)).toBe(8);
  });
});

describe('produce one record: rejections change nothing', () => {
  test('invalid base64 in a BINARY value or key is 40002 and nothing is written', async () => {
    await createTopic(strand.http, 'pr-bad-base64');
    expectError(await produce('pr-bad-base64', { value: { type: 'BINARY', data: 'not base64!' } }), 40002);
    expectError(await produce('pr-bad-base64', { value: { type: 'BINARY', data: 'YWJ' } }), 40002);
    expectError(await produce('pr-bad-base64', { key: { type: 'BINARY', data: '@@@@' }, value: null }), 40002);
    expectError(await produce('pr-bad-base64', { value: { type: 'BINARY', data: 42 } }), 40002);
    expect(await highWatermark(strand.http, 'pr-bad-base64')).toBe(0);
  });

  test('a header value that is not base64 is 40002 and nothing is written', async () => {
    await createTopic(strand.http, 'pr-bad-header');
    expectError(await produce('pr-bad-header', { headers: [{ name: 'h', value: 'not base64!' }], value: null }), 40002);
    expectError(await produce('pr-bad-header', { headers: [{ value: 'YWJj' }], value: null }), 40001);
    expect(await highWatermark(strand.http, 'pr-bad-header')).toBe(0);
  });

  test('an unknown partition_id is 404 / 40402 and no partition grows', async () => {
    await createTopic(strand.http, 'pr-bad-partition', 3);
    expectError(await produce('pr-bad-partition', { partition_id: 3, value: { type: 'STRING', data: 'v' } }), 40402);
    expectError(await produce('pr-bad-partition', { partition_id: 1000, value: { type: 'STRING', data: 'v' } }), 40402);
    expectError(await produce('pr-bad-partition', { partition_id: -1, value: { type: 'STRING', data: 'v' } }), 40002);
    expectError(await produce('pr-bad-partition', { partition_id: 'one', value: { type: 'STRING', data: 'v' } }), 40002);
    expect(await highWatermarks(strand.http, 'pr-bad-partition')).toEqual([0, 0, 0]);
  });

  test('an unknown data type or a STRING that is not a string is 40002 and nothing is written', async () => {
    await createTopic(strand.http, 'pr-bad-type');
    expectError(await produce('pr-bad-type', { value: { type: 'AVRO', data: 'x' } }), 40002);
    expectError(await produce('pr-bad-type', { value: { type: 'STRING', data: 5 } }), 40002);
    expect(await highWatermark(strand.http, 'pr-bad-type')).toBe(0);
  });

  test('a record over the topic\'s max.message.bytes is 413 / 41302 and nothing is written', async () => {
    await createTopic(strand.http, 'pr-too-large', 1, { 'max.message.bytes': '300' });
    expectStatus(await produce('pr-too-large', { value: { type: 'STRING', data: 'x'.repeat(100) } }), 200);
    const res = await produce('pr-too-large', { value: { type: 'STRING', data: 'x'.repeat(400) } });
    expectError(res, 41302);
    expect(await highWatermark(strand.http, 'pr-too-large')).toBe(1);
  });

  test('a record over the default max.message.bytes (1048588) is 41302 and nothing is written', async () => {
    await createTopic(strand.http, 'pr-too-large-default');
    const res = await produce('pr-too-large-default', { value: { type: 'STRING', data: 'x'.repeat(1_100_000) } });
    expectError(res, 41302);
    expect(await highWatermark(strand.http, 'pr-too-large-default')).toBe(0);
  });

  test('a request body over 4 MiB is 413 / 41301 and nothing is written', async () => {
    await createTopic(strand.http, 'pr-body-too-large', 1, { 'max.message.bytes': String(2 ** 31 - 1) });
    const res = await produce('pr-body-too-large', { value: { type: 'STRING', data: 'x'.repeat(4 * 1024 * 1024 + 1) } });
    expectError(res, 41301);
    expect(await highWatermark(strand.http, 'pr-body-too-large')).toBe(0);
  });

  test('invalid JSON is 40001, a non-JSON content type is 41501; nothing is written', async () => {
    await createTopic(strand.http, 'pr-bad-body');
    const path = `${topicPath('pr-bad-body')}/records`;
    expectError(await strand.http.request('POST', path, { body: '{"value": ', headers: { 'content-type': 'application/json' } }), 40001);
    expectError(await strand.http.request('POST', path, { body: '', headers: { 'content-type': 'application/json' } }), 40001);
    expectError(
      await strand.http.request('POST', path, { body: JSON.stringify({ value: { type: 'STRING', data: 'v' } }), headers: { 'content-type': 'text/plain' } }),
      41501,
    );
    expectError(
      await strand.http.request('POST', path, { body: Buffer.from('abc'), headers: { 'content-type': 'application/octet-stream' } }),
      41501,
    );
    expect(await highWatermark(strand.http, 'pr-bad-body')).toBe(0);
  });

  test('an unknown topic is 40403 and an unknown cluster 40401; no topic is created', async () => {
    expectError(await produce('pr-never-created', { value: null }), 40403);
    expectError(await strand.http.post('/v3/clusters/elsewhere/topics/pr-never-created/records', { value: null }), 40401);
    expectError(await strand.http.get(topicPath('pr-never-created')), 40403);
  });
});

describe('produce records:batch', () => {
  test('207 with one success per entry; entries to one partition get contiguous offsets in entry order', async () => {
    await createTopic(strand.http, 'pb-contiguous', 3);
    await produce('pb-contiguous', { partition_id: 0, value: { type: 'STRING', data: 'before' } });
    const plan = [0, 1, 0, 2, 0, 1, 0];
    const res = await produceBatch(
      'pb-contiguous',
      plan.map((p, i) => ({ id: `e${i}`, partition_id: p, value: { type: 'STRING', data: `v${i}` } })),
    );
    expect(res.status).toBe(207);
    expect(res.json.failures).toEqual([]);
    expect(res.json.successes).toHaveLength(plan.length);
    const byId = new Map((res.json.successes as { id: string; partition_id: number; offset: number }[]).map((s) => [s.id, s]));
    const offsetsOf = (p: number) => plan.flatMap((q, i) => (q === p ? [byId.get(`e${i}`)!] : [])).map((s) => [s.partition_id, s.offset]);
    expect(offsetsOf(0)).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
    ]);
    expect(offsetsOf(1)).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(offsetsOf(2)).toEqual([[2, 0]]);
    for (const s of res.json.successes) expect(typeof s.timestamp).toBe('string');
    expect(await highWatermarks(strand.http, 'pb-contiguous')).toEqual([5, 2, 1]);
    for (const [i, p] of plan.entries()) {
      const s = byId.get(`e${i}`)!;
      expect((await recordAt('pb-contiguous', p, s.offset, 'string')).value).toEqual({ type: 'STRING', data: `v${i}` });
    }
  });

  test('keyed entries land where single keyed records do; ids may be numbers', async () => {
    const n = 4;
    await createTopic(strand.http, 'pb-keyed', n);
    const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'alpha'];
    const res = await produceBatch(
      'pb-keyed',
      keys.map((k, i) => ({ id: i, key: { type: 'STRING', data: k }, value: { type: 'JSON', data: { i } } })),
    );
    expect(res.status).toBe(207);
    expect(res.json.failures).toEqual([]);
    for (const s of res.json.successes as { id: string; partition_id: number }[]) {
      expect(s.partition_id).toBe(partitionForKey(Buffer.from(keys[Number(s.id)]!), n));
    }
  });

  test('a bad entry fails alone, with its id and code, while the others are appended', async () => {
    await createTopic(strand.http, 'pb-partial', 2);
    const res = await produceBatch('pb-partial', [
      { id: 'ok-1', partition_id: 0, value: { type: 'STRING', data: 'one' } },
      { id: 'bad-base64', partition_id: 0, value: { type: 'BINARY', data: '!!' } },
      { id: 'ok-2', partition_id: 0, value: { type: 'STRING', data: 'two' } },
      { id: 'bad-partition', partition_id: 9, value: { type: 'STRING', data: 'x' } },
      { id: 'bad-timestamp', partition_id: 1, value: { type: 'STRING', data: 'x' }, timestamp: 'noon' },
      { id: 'bad-type', value: { type: 'XML', data: '<x/>' } },
      { id: 'ok-3', partition_id: 1, value: { type: 'STRING', data: 'three' } },
    ]);
    expect(res.status).toBe(207);
    const failures = new Map((res.json.failures as { id: string; error_code: number; message: string }[]).map((f) => [f.id, f]));
    expect([...failures.keys()].sort()).toEqual(['bad-base64', 'bad-partition', 'bad-timestamp', 'bad-type']);
    expect(failures.get('bad-base64')!.error_code).toBe(40002);
    expect(failures.get('bad-partition')!.error_code).toBe(40402);
    expect(failures.get('bad-timestamp')!.error_code).toBe(40002);
    expect(failures.get('bad-type')!.error_code).toBe(40002);
    for (const f of failures.values()) expect(f.message.length).toBeGreaterThan(0);
    const successes = (res.json.successes as { id: string; partition_id: number; offset: number }[]).map((s) => [s.id, s.partition_id, s.offset]);
    expect(successes.sort()).toEqual([
      ['ok-1', 0, 0],
      ['ok-2', 0, 1],
      ['ok-3', 1, 0],
    ]);
    expect(await highWatermarks(strand.http, 'pb-partial')).toEqual([2, 1]);
    expect((await recordAt('pb-partial', 0, 1, 'string')).value).toEqual({ type: 'STRING', data: 'two' });
  });

  test('an entry over max.message.bytes fails alone with 41302; the other entries to its partition are appended', async () => {
    await createTopic(strand.http, 'pb-too-large', 1, { 'max.message.bytes': '300' });
    const res = await produceBatch('pb-too-large', [
      { id: 'small-1', value: { type: 'STRING', data: 'a' } },
      { id: 'big', value: { type: 'STRING', data: 'x'.repeat(400) } },
      { id: 'small-2', value: { type: 'STRING', data: 'b' } },
    ]);
    expect(res.status).toBe(207);
    expect(res.json.failures.map((f: { id: string; error_code: number }) => [f.id, f.error_code])).toEqual([['big', 41302]]);
    expect(res.json.successes.map((s: { id: string; offset: number }) => [s.id, s.offset])).toEqual([
      ['small-1', 0],
      ['small-2', 1],
    ]);
    expect(await highWatermark(strand.http, 'pb-too-large')).toBe(2);
  });

  test('entries that fit max.message.bytes one by one but not together are all appended, contiguously', async () => {
    await createTopic(strand.http, 'pb-split', 1, { 'max.message.bytes': '400' });
    const entries = Array.from({ length: 6 }, (_, i) => ({ id: `e${i}`, value: { type: 'STRING', data: `${i}`.repeat(150) } }));
    const res = await produceBatch('pb-split', entries);
    expect(res.status).toBe(207);
    expect(res.json.failures).toEqual([]);
    expect(res.json.successes.map((s: { id: string; offset: number }) => [s.id, s.offset])).toEqual(entries.map((e, i) => [e.id, i]));
    const fetched = await strand.http.get(`${partitionPath('pb-split', 0)}/records?offset=0&embedded_format=string`);
    expect(fetched.json.records.map((r: FetchedJsonRecord) => [r.offset, r.value!.data])).toEqual(entries.map((e, i) => [i, e.value.data]));
  });

  test('LogAppendTime topics report the server time for every entry', async () => {
    await createTopic(strand.http, 'pb-log-append', 1, { 'message.timestamp.type': 'LogAppendTime' });
    const before = Date.now();
    const res = await produceBatch('pb-log-append', [
      { id: 'a', value: null, timestamp: 5 },
      { id: 'b', value: null, timestamp: 6 },
    ]);
    expect(res.status).toBe(207);
    for (const s of res.json.successes) expect(Date.parse(s.timestamp)).toBeGreaterThanOrEqual(before - 1000);
    const r = await recordAt('pb-log-append', 0, 1);
    expect(r.timestamp_type).toBe('LogAppendTime');
    expect(r.timestamp).toBeGreaterThanOrEqual(before - 1000);
  });

  test('an empty batch is 422 / 42208, as Confluent answers, and nothing is written', async () => {
    await createTopic(strand.http, 'pb-empty', 2);
    expectError(await produceBatch('pb-empty', []), 42208);
    expect(await highWatermarks(strand.http, 'pb-empty')).toEqual([0, 0]);
  });

  test('two entries with one id are 422 / 42208 for the whole batch, and nothing is written', async () => {
    await createTopic(strand.http, 'pb-dup-ids', 2);
    const res = await produceBatch('pb-dup-ids', [
      { id: 'a', partition_id: 0, value: { type: 'STRING', data: '1' } },
      { id: 'b', partition_id: 1, value: { type: 'STRING', data: '2' } },
      { id: 'a', partition_id: 1, value: { type: 'STRING', data: '3' } },
    ]);
    expectError(res, 42208);
    expect(res.json.message).toContain("'a'");
    // A numeric id and its string form are one id too.
    expectError(await produceBatch('pb-dup-ids', [{ id: 1, value: null }, { id: '1', value: null }]), 42208);
    expect(await highWatermarks(strand.http, 'pb-dup-ids')).toEqual([0, 0]);
  });

  test('a body without entries is 40001, entries that are not a list 40002, invalid JSON 40001, text/plain 41501; nothing is written', async () => {
    await createTopic(strand.http, 'pb-bad-body');
    const path = `${topicPath('pb-bad-body')}/records:batch`;
    expectError(await strand.http.post(path, {}), 40001);
    expectError(await strand.http.post(path, { entries: { id: '1' } }), 40002);
    expectError(await strand.http.request('POST', path, { body: '{"entries": [', headers: { 'content-type': 'application/json' } }), 40001);
    expectError(
      await strand.http.request('POST', path, {
        body: JSON.stringify({ entries: [{ id: '1', value: null }] }),
        headers: { 'content-type': 'text/plain' },
      }),
      41501,
    );
    expect(await highWatermark(strand.http, 'pb-bad-body')).toBe(0);
  });

  test('an entry without an id is 40001 for the whole request and nothing is written', async () => {
    await createTopic(strand.http, 'pb-no-id');
    const res = await produceBatch('pb-no-id', [{ id: '1', value: null }, { value: null }]);
    expectError(res, 40001);
    expect(await highWatermark(strand.http, 'pb-no-id')).toBe(0);
  });

  test('an unknown topic is 40403, an unknown cluster 40401', async () => {
    expectError(await produceBatch('pb-never-created', [{ id: '1', value: null }]), 40403);
    expectError(await strand.http.post(`/v3/clusters/elsewhere/topics/pb-never-created/records:batch`, { entries: [{ id: '1', value: null }] }), 40401);
    expect((await strand.http.get(`${cluster}/topics/pb-never-created`)).status).toBe(404);
  });
});

describe('streamed produce (Confluent REST Proxy v3): concatenated records in, one delivery report per record out', () => {
  const stream = (topic: string, records: unknown[], sep = '') =>
    strand.http.request('POST', `${topicPath(topic)}/records`, {
      body: records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join(sep),
      headers: { 'content-type': 'application/json' },
    });
  const reports = (body: Buffer) => body.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));

  test('records in one body are produced in order and answered in order, one report each', async () => {
    await createTopic(strand.http, 'ps-order', 2);
    const records = Array.from({ length: 6 }, (_, i) => ({ partition_id: i % 2, value: { type: 'STRING', data: `r${i}` } }));
    const res = await stream('ps-order', records);
    expect(res.status).toBe(200);
    const out = reports(res.body);
    expect(out).toHaveLength(6);
    expect(out.map((r) => [r.error_code, r.partition_id, r.offset])).toEqual([
      [200, 0, 0], [200, 1, 0], [200, 0, 1], [200, 1, 1], [200, 0, 2], [200, 1, 2],
    ]);
    expect((await recordAt('ps-order', 1, 2)).value).toEqual({ type: 'BINARY', data: Buffer.from('r5').toString('base64') });
  });

  test('a bad record reports its error inside the 200 stream, and the others are produced', async () => {
    await createTopic(strand.http, 'ps-errors', 1);
    const res = await stream('ps-errors', [{ value: { type: 'STRING', data: 'a' } }, { partition_id: 7, value: null }, '{"value": oops}', { value: { type: 'STRING', data: 'b' } }], '\n');
    expect(res.status).toBe(200);
    const out = reports(res.body);
    expect(out.map((r) => r.error_code)).toEqual([200, 40402, 40001, 200]);
    expect(out[3].offset).toBe(1);
    expect(await highWatermark(strand.http, 'ps-errors')).toBe(2);
  });

  test('one record alone is answered as before: a single JSON object', async () => {
    await createTopic(strand.http, 'ps-one', 1);
    const res = await stream('ps-one', [{ value: { type: 'STRING', data: 'x' } }]);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ error_code: 200, offset: 0 });
  });

  test('more records than one stream may carry is 40002 and nothing is written', async () => {
    await createTopic(strand.http, 'ps-many', 1);
    expectError(await stream('ps-many', Array.from({ length: 10_001 }, () => ({ value: null }))), 40002);
    expect(await highWatermark(strand.http, 'ps-many')).toBe(0);
  });
});
