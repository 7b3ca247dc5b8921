/**
 * Fetch by offset (extension), JSON and binary, over HTTP against a real local
 * Strand (../shared/api.md). How: records are produced in known batches (one
 * records:batch request is one RecordBatch), then read from chosen offsets; the
 * binary output is decoded by kafkajs's own RecordBatch decoder, not ours.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { partitionKey } from '../../src/log/TopicCatalog';
import { createTopic, partitionPath, produceString, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus, fetchAll, type FetchedJsonRecord } from '../support/api';
import { kafkajsDecodeBatches } from '../support/kafkajs';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const batchType = 'application/vnd.kafka.record-batch.v2';
const recordsPath = (topic: string, partition = 0) => `${partitionPath(topic, partition)}/records`;
const get = (topic: string, query: string, headers?: Record<string, string>) => strand.http.get(`${recordsPath(topic)}?${query}`, headers);
const offsetsOf = (records: FetchedJsonRecord[]) => records.map((r) => r.offset);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Appends `count` STRING records "<prefix>-<i>" to partition 0 in ONE request, hence one RecordBatch. */
async function appendBatch(topic: string, prefix: string, count: number, valueBytes = 0): Promise<void> {
  const entries = Array.from({ length: count }, (_, i) => ({
    id: String(i),
    partition_id: 0,
    key: { type: 'STRING', data: `k-${i}` },
    value: { type: 'STRING', data: `${prefix}-${i}`.padEnd(valueBytes, '.') },
  }));
  const res = await strand.http.post(`${topicPath(topic)}/records:batch`, { entries });
  expect(res.status).toBe(207);
  expect(res.json.failures).toEqual([]);
}

/** A topic whose partition 0 holds one batch at offsets 0..9 and one at 10..14. */
async function twoBatchTopic(name: string): Promise<void> {
  await createTopic(strand.http, name);
  await appendBatch(name, 'a', 10);
  await appendBatch(name, 'b', 5);
}

const valueAt = (offset: number) => (offset < 10 ? `a-${offset}` : `b-${offset - 10}`);

describe('fetch JSON: embedded formats', () => {
  test('embedded_format binary (the default) gives base64, string gives UTF-8 text, json gives the parsed value', async () => {
    await createTopic(strand.http, 'fe-formats');
    const value = { amount: 7, who: 'caf\u00e9' };
    const text = JSON.stringify(value);
    const produced = await strand.http.post(`${topicPath('fe-formats')}/records`, {
      key: { type: 'STRING', data: '"quoted"' },
      value: { type: 'JSON', data: value },
      headers: [{ name: 'h', value: 'YWJj' }],
    });
    expectStatus(produced, 200);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const byFormat = async (query: string) => {
      const res = await get('fe-formats', `offset=0${query}`);
      expectStatus(res, 200);
      expect(res.json.records).toHaveLength(1);
      return res.json.records[0] as FetchedJsonRecord;
    };
    const asDefault = await byFormat('');
    const asBinary = await byFormat('&embedded_format=binary');
    const asString = await byFormat('&embedded_format=string');
    const asJson = await byFormat('&embedded_format=json');
    expect(asBinary).toEqual(asDefault);
    expect([asBinary.key, asBinary.value]).toEqual([
      { type: 'BINARY', data: b64('"quoted"') },
      { type: 'BINARY', data: b64(text) },
    ]);
    expect([asString.key, asString.value]).toEqual([
      { type: 'STRING', data: '"quoted"' },
      { type: 'STRING', data: text },
    ]);
    expect([asJson.key, asJson.value]).toEqual([
      { type: 'JSON', data: 'quoted' },
      { type: 'JSON', data: value },
    ]);
    for (const r of [asBinary, asString, asJson]) {
      expect(r).toMatchObject({ offset: 0, timestamp_type: 'CreateTime', headers: [{ name: 'h', value: 'YWJj' }] });
      expect(typeof r.timestamp).toBe('number');
    }
  });

  test('the response carries cluster, topic, partition, bounds and next_offset', async () => {
    await twoBatchTopic('fe-shape');
    const res = await get('fe-shape', 'offset=0&embedded_format=string');
    expectStatus(res, 200);
    expect(res.json).toMatchObject({
      cluster_id: 'local',
      topic_name: 'fe-shape',
      partition_id: 0,
      high_watermark: 15,
      log_start_offset: 0,
      next_offset: 15,
    });
    expect(res.json.records.map((r: FetchedJsonRecord) => [r.offset, r.value!.data])).toEqual(range(0, 15).map((o) => [o, valueAt(o)]));
  });

  test('a value that is not JSON, fetched with embedded_format=json, is still delivered (as BINARY), not an error', async () => {
    await createTopic(strand.http, 'fe-not-json');
    await produceString(strand.http, 'fe-not-json', 'plain {text');
    const res = await get('fe-not-json', 'offset=0&embedded_format=json');
    expectStatus(res, 200);
    expect(res.json.records[0].value).toEqual({ type: 'BINARY', data: Buffer.from('plain {text').toString('base64') });
  });
});

describe('fetch JSON: offsets and max_bytes', () => {
  test('records start exactly at N even when N is in the middle of a batch', async () => {
    await twoBatchTopic('fe-mid');
    for (const n of [1, 3, 9, 10, 12, 14]) {
      const res = await get('fe-mid', `offset=${n}&embedded_format=string`);
      expectStatus(res, 200);
      expect([n, offsetsOf(res.json.records)]).toEqual([n, range(n, 15)]);
      expect(res.json.records.map((r: FetchedJsonRecord) => r.value!.data)).toEqual(range(n, 15).map(valueAt));
      expect(res.json.next_offset).toBe(15);
    }
  });

  test('at the high watermark the fetch is empty and next_offset is the high watermark', async () => {
    await twoBatchTopic('fe-at-hw');
    const res = await get('fe-at-hw', 'offset=15');
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ records: [], next_offset: 15, high_watermark: 15, log_start_offset: 0 });
  });

  test('an empty partition fetched at 0 is empty, with next_offset 0', async () => {
    await createTopic(strand.http, 'fe-empty');
    const res = await get('fe-empty', 'offset=0');
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ records: [], next_offset: 0, high_watermark: 0 });
  });

  test('a small max_bytes still returns at least one record, and fewer records than a large max_bytes', async () => {
    await twoBatchTopic('fe-max-bytes');
    const small = await get('fe-max-bytes', 'offset=0&max_bytes=1&embedded_format=string');
    const large = await get('fe-max-bytes', 'offset=0&max_bytes=4194304&embedded_format=string');
    expectStatus(small, 200);
    expectStatus(large, 200);
    expect(small.json.records.length).toBeGreaterThanOrEqual(1);
    expect(small.json.records.length).toBeLessThan(large.json.records.length);
    expect(small.json.records[0].offset).toBe(0);
    expect(small.json.next_offset).toBe(small.json.records[small.json.records.length - 1].offset + 1);
    expect(offsetsOf(large.json.records)).toEqual(range(0, 15));

    // Following next_offset with max_bytes=1 reads everything, each record once.
    const all = await fetchAll(strand.http, 'fe-max-bytes', 0, 0, '&max_bytes=1&embedded_format=string');
    expect(offsetsOf(all)).toEqual(range(0, 15));
  });

  test('a record larger than max_bytes is returned whole when it is the first one (Kafka\'s rule)', async () => {
    await createTopic(strand.http, 'fe-large-record');
    await produceString(strand.http, 'fe-large-record', 'L'.repeat(20_000));
    await produceString(strand.http, 'fe-large-record', 'small');
    const res = await get('fe-large-record', 'offset=0&max_bytes=100&embedded_format=string');
    expectStatus(res, 200);
    expect(res.json.records).toHaveLength(1);
    expect(res.json.records[0].value.data).toBe('L'.repeat(20_000));
    expect(res.json.next_offset).toBe(1);
  });
});

describe('fetch binary', () => {
  test('kafkajs decodes the batches with their REAL offsets; headers carry the high watermark and log start offset', async () => {
    await twoBatchTopic('fb-real-offsets');
    const res = await get('fb-real-offsets', 'offset=10', { accept: batchType });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(batchType);
    expect(res.headers.get('kafka-high-watermark')).toBe('15');
    expect(res.headers.get('kafka-log-start-offset')).toBe('0');
    const batches = await kafkajsDecodeBatches(res.body);
    expect(batches.map((b) => b.firstOffset)).toEqual(['10']);
    const records = batches.flatMap((b) => b.records);
    expect(records.map((r) => [r.offset, r.key!.toString(), r.value!.toString()])).toEqual(
      range(10, 15).map((o) => [String(o), `k-${o - 10}`, valueAt(o)]),
    );
  });

  test('from offset 0 kafkajs sees both batches at offsets 0 and 10, records 0..14', async () => {
    await twoBatchTopic('fb-from-zero');
    const res = await get('fb-from-zero', 'offset=0', { accept: batchType });
    expect(res.status).toBe(200);
    const batches = await kafkajsDecodeBatches(res.body);
    expect(batches.map((b) => [b.firstOffset, b.lastOffsetDelta])).toEqual([
      ['0', 9],
      ['10', 4],
    ]);
    expect(batches.flatMap((b) => b.records.map((r) => r.offset))).toEqual(range(0, 15).map(String));
  });

  test('from the middle of a batch the whole batch is returned at its real base offset (as a Kafka broker does)', async () => {
    await twoBatchTopic('fb-mid');
    const res = await get('fb-mid', 'offset=12', { accept: batchType });
    expect(res.status).toBe(200);
    const batches = await kafkajsDecodeBatches(res.body);
    expect(batches.map((b) => b.firstOffset)).toEqual(['10']);
    expect(batches[0]!.records.map((r) => r.offset)).toEqual(range(10, 15).map(String));
  });

  test('at the high watermark the binary fetch is 200 with an empty body and the headers', async () => {
    await twoBatchTopic('fb-at-hw');
    const res = await get('fb-at-hw', 'offset=15', { accept: batchType });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.headers.get('kafka-high-watermark')).toBe('15');
    expect(res.headers.get('kafka-log-start-offset')).toBe('0');
  });

  test('an offset past the high watermark asked for in binary is still 416 / 41601 with both bounds', async () => {
    await twoBatchTopic('fb-out-of-range');
    const res = await get('fb-out-of-range', 'offset=16', { accept: batchType });
    expectError(res, 41601);
    expect(res.json).toMatchObject({ log_start_offset: 0, high_watermark: 15 });
  });
});

describe('fetch long poll', () => {
  test('max_wait_ms=2000 at the high watermark returns the record produced 300 ms later, without waiting the full time', async () => {
    await createTopic(strand.http, 'fl-arrives');
    await produceString(strand.http, 'fl-arrives', 'first');
    const started = Date.now();
    const fetching = get('fl-arrives', 'offset=1&max_wait_ms=2000&embedded_format=string');
    await new Promise((r) => setTimeout(r, 300));
    await produceString(strand.http, 'fl-arrives', 'late');
    const res = await fetching;
    const elapsed = Date.now() - started;
    expectStatus(res, 200);
    expect(res.json.records.map((r: FetchedJsonRecord) => [r.offset, r.value!.data])).toEqual([[1, 'late']]);
    expect(res.json.next_offset).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1800);
  });

  test('a binary long poll also returns the record that arrives', async () => {
    await createTopic(strand.http, 'fl-binary');
    const fetching = get('fl-binary', 'offset=0&max_wait_ms=2000', { accept: batchType });
    await new Promise((r) => setTimeout(r, 300));
    await produceString(strand.http, 'fl-binary', 'late');
    const res = await fetching;
    expect(res.status).toBe(200);
    const batches = await kafkajsDecodeBatches(res.body);
    expect(batches.flatMap((b) => b.records.map((r) => [r.offset, r.value!.toString()]))).toEqual([['0', 'late']]);
  });

  test('when nothing arrives the long poll returns empty after about max_wait_ms', async () => {
    await createTopic(strand.http, 'fl-nothing');
    await produceString(strand.http, 'fl-nothing', 'only');
    const started = Date.now();
    const res = await get('fl-nothing', 'offset=1&max_wait_ms=800');
    const elapsed = Date.now() - started;
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ records: [], next_offset: 1, high_watermark: 1 });
    expect(elapsed).toBeGreaterThanOrEqual(0.8 * 800);
    expect(elapsed).toBeLessThan(800 + 1500);
  });

  test('without max_wait_ms a fetch at the high watermark returns at once', async () => {
    await createTopic(strand.http, 'fl-no-wait');
    const started = Date.now();
    const res = await get('fl-no-wait', 'offset=0');
    expectStatus(res, 200);
    expect(res.json.records).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('fetch errors', () => {
  test('an offset past the high watermark is 416 / 41601 with log_start_offset and high_watermark in the body', async () => {
    await twoBatchTopic('fx-out-of-range');
    const res = await get('fx-out-of-range', 'offset=16');
    expectError(res, 41601);
    expect(res.json).toMatchObject({ log_start_offset: 0, high_watermark: 15 });
    const far = await get('fx-out-of-range', 'offset=1000000');
    expectError(far, 41601);
    expect(far.json).toMatchObject({ log_start_offset: 0, high_watermark: 15 });
  });

  test('an offset past the high watermark is 41601 even with max_wait_ms (no long poll)', async () => {
    await createTopic(strand.http, 'fx-out-of-range-wait');
    const started = Date.now();
    const res = await get('fx-out-of-range-wait', 'offset=1&max_wait_ms=2000');
    expectError(res, 41601);
    expect(res.json).toMatchObject({ log_start_offset: 0, high_watermark: 0 });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test.each([
    ['a missing offset', '', 40001],
    ['an empty offset', 'offset=', 40001],
    ["offset 'abc'", 'offset=abc', 40002],
    ['a negative offset', 'offset=-1', 40002],
    ['a fractional offset', 'offset=1.5', 40002],
    ['max_bytes over 4 MiB', 'offset=0&max_bytes=4194305', 40002],
    ['max_bytes 0', 'offset=0&max_bytes=0', 40002],
    ["max_bytes 'lots'", 'offset=0&max_bytes=lots', 40002],
    ['max_wait_ms over 20000', 'offset=0&max_wait_ms=20001', 40002],
    ['a negative max_wait_ms', 'offset=0&max_wait_ms=-1', 40002],
    ['an unknown embedded_format', 'offset=0&embedded_format=protobuf', 40002],
  ])('%s (?%s) is rejected with %i', async (_label, query, code) => {
    await createTopic(strand.http, `fx-query-${_label.replace(/[^a-z0-9]/g, '')}`);
    const res = await get(`fx-query-${_label.replace(/[^a-z0-9]/g, '')}`, query);
    expectError(res, code);
  });

  test('the bounds themselves are accepted: max_bytes 4194304, max_wait_ms 20000 (with data present)', async () => {
    await createTopic(strand.http, 'fx-bounds');
    await produceString(strand.http, 'fx-bounds', 'x');
    const res = await get('fx-bounds', 'offset=0&max_bytes=4194304&max_wait_ms=20000');
    expectStatus(res, 200);
    expect(res.json.records).toHaveLength(1);
  });

  test('an unknown partition is 40402, an unknown topic 40403, an unknown cluster 40401', async () => {
    await createTopic(strand.http, 'fx-unknown', 2);
    expectError(await strand.http.get(`${recordsPath('fx-unknown', 2)}?offset=0`), 40402);
    expectError(await strand.http.get(`${recordsPath('fx-never-created', 0)}?offset=0`), 40403);
    expectError(await strand.http.get('/v3/clusters/elsewhere/topics/fx-unknown/partitions/0/records?offset=0'), 40401);
  });
});

describe('fetch across many appends (the partition index spills into chunks)', () => {
  const topic = 'fm-many';
  const appends = 45;
  const valueOf = (o: number) => `m-${o}`;

  beforeAll(async () => {
    await createTopic(strand.http, topic);
    for (let i = 0; i < appends; i++) {
      const r = await produceString(strand.http, topic, valueOf(i), { partition_id: 0, key: { type: 'STRING', data: `key-${i}` } });
      expect(r.offset).toBe(i);
    }
  });

  test('the index did spill: chunk items exist beside the head (so the reads below cross chunks)', async () => {
    const t = await strand.runtime.engine.topics.get(topic);
    const out = await strand.runtime.clients.ddb.send(
      new QueryCommand({
        TableName: strand.runtime.config.tables.log,
        KeyConditionExpression: 'pk = :pk AND sk >= :zero',
        ExpressionAttributeValues: { ':pk': partitionKey(t, 0), ':zero': 0 },
        ConsistentRead: true,
      }),
    );
    expect(out.Items?.length ?? 0).toBeGreaterThan(0);
  });

  test.each([0, 1, 11, 12, 15, 16, 22, 30, 43, 44])('a fetch from offset %i returns every record from there, each at its offset', async (n) => {
    const records = await fetchAll(strand.http, topic, 0, n);
    expect(records.map((r) => [r.offset, r.value!.data, r.key!.data])).toEqual(range(n, appends).map((o) => [o, valueOf(o), `key-${o}`]));
  });

  test('one fetch from 0 with the default max_bytes (1 MiB) returns all 45 small records, across head and chunks', async () => {
    const res = await get(topic, 'offset=0&embedded_format=string');
    expectStatus(res, 200);
    expect(offsetsOf(res.json.records)).toEqual(range(0, appends));
    expect(res.json.next_offset).toBe(appends);
  });

  test('every offset, fetched with max_bytes=1, starts exactly there with the right record', async () => {
    for (let o = 0; o < appends; o++) {
      const res = await get(topic, `offset=${o}&max_bytes=1&embedded_format=string`);
      expectStatus(res, 200);
      expect([o, res.json.records[0].offset, res.json.records[0].value.data]).toEqual([o, o, valueOf(o)]);
      expect(res.json.next_offset).toBe(o + 1);
    }
  });

  test('the binary fetch from 0 decodes with kafkajs to offsets 0..44, one batch per append', async () => {
    const res = await get(topic, 'offset=0', { accept: batchType });
    expect(res.status).toBe(200);
    expect(res.headers.get('kafka-high-watermark')).toBe(String(appends));
    const batches = await kafkajsDecodeBatches(res.body);
    expect(batches.map((b) => b.firstOffset)).toEqual(range(0, appends).map(String));
    expect(batches.flatMap((b) => b.records.map((r) => [r.offset, r.value!.toString()]))).toEqual(range(0, appends).map((o) => [String(o), valueOf(o)]));
  });

  test('the binary fetch from the middle starts at the batch holding that offset', async () => {
    const res = await get(topic, 'offset=23', { accept: batchType });
    const batches = await kafkajsDecodeBatches(res.body);
    expect(batches.map((b) => b.firstOffset)).toEqual(range(23, appends).map(String));
  });
});
