/**
 * Binary record batches (extension): POST …/partitions/{p}/batches with Kafka
 * RecordBatch v2 bytes, over HTTP against a real local Strand (../shared/api.md).
 * How: batches are built by kafkajs's own encoder (what a Kafka producer sends),
 * read back over the JSON fetch and the binary fetch; every rejection is followed
 * by a read of the high watermark showing nothing was written (invariant 3).
 */
import { cluster, createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus, fetchAll, highWatermark } from '../support/api';
import { kafkajsBatch, kafkajsDecodeBatches, type TestRecord } from '../support/kafkajs';
import { StrandClient } from '../../client';
import { topicPrefix } from '../../src/log/ObjectStore';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const batchType = 'application/vnd.kafka.record-batch.v2';
const t0 = 1_700_000_000_000;

function postBatches(topic: string, partition: number, body: Buffer, contentType: string | undefined = batchType) {
  return strand.http.request('POST', `${partitionPath(topic, partition)}/batches`, {
    body,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
  });
}

function records(prefix: string, count: number, firstTimestamp = t0): TestRecord[] {
  return Array.from({ length: count }, (_, i): TestRecord => ({
    key: i % 3 === 2 ? null : `${prefix}-k${i}`,
    value: i % 4 === 3 ? null : `${prefix}-v${i}`,
    headers: i % 2 === 0 ? { trace: `${prefix}-h${i}` } : {},
    timestamp: firstTimestamp + i * 10,
  }));
}

/** What the JSON fetch (embedded_format=string) should show for `rs` appended at `base`. */
function expectedJson(rs: TestRecord[], base: number) {
  return rs.map((r, i) => ({
    offset: base + i,
    timestamp: r.timestamp,
    timestamp_type: 'CreateTime',
    key: r.key === null ? null : { type: 'STRING', data: r.key },
    value: r.value === null ? null : { type: 'STRING', data: r.value },
    headers: Object.entries(r.headers ?? {}).map(([name, value]) => ({ name, value: Buffer.from(value).toString('base64') })),
  }));
}

describe('binary batches: accepted', () => {
  test('a kafkajs batch is appended: 200 with base_offset, last_offset and log_append_time -1; records fetched back intact', async () => {
    await createTopic(strand.http, 'bb-basic');
    const rs = records('basic', 5);
    const res = await postBatches('bb-basic', 0, await kafkajsBatch(rs));
    expectStatus(res, 200);
    expect(res.json).toEqual(
      expect.objectContaining({ cluster_id: 'local', topic_name: 'bb-basic', partition_id: 0, base_offset: 0, last_offset: 4, log_append_time: -1 }),
    );
    expect(await highWatermark(strand.http, 'bb-basic')).toBe(5);
    expect(await fetchAll(strand.http, 'bb-basic', 0)).toEqual(expectedJson(rs, 0));
  });

  test('any base offset in the batch is accepted; the batch gets the partition\'s next offsets', async () => {
    await createTopic(strand.http, 'bb-any-base', 2);
    const first = records('first', 3);
    const second = records('second', 4);
    const a = await postBatches('bb-any-base', 1, await kafkajsBatch(first, { baseOffset: 123_456 }));
    const b = await postBatches('bb-any-base', 1, await kafkajsBatch(second, { baseOffset: 7 }));
    expectStatus(a, 200);
    expectStatus(b, 200);
    expect([a.json.base_offset, a.json.last_offset, b.json.base_offset, b.json.last_offset]).toEqual([0, 2, 3, 6]);
    expect(await fetchAll(strand.http, 'bb-any-base', 1)).toEqual([...expectedJson(first, 0), ...expectedJson(second, 3)]);
    expect(await highWatermark(strand.http, 'bb-any-base', 0)).toBe(0);
  });

  test('a gzip-compressed kafkajs batch is accepted and its records are fetched decompressed', async () => {
    await createTopic(strand.http, 'bb-gzip');
    const rs = records('gzip', 20);
    const res = await postBatches('bb-gzip', 0, await kafkajsBatch(rs, { gzip: true }));
    expectStatus(res, 200);
    expect([res.json.base_offset, res.json.last_offset]).toEqual([0, 19]);
    expect(await fetchAll(strand.http, 'bb-gzip', 0)).toEqual(expectedJson(rs, 0));
  });

  test('several concatenated batches are appended as one unit with contiguous offsets', async () => {
    await createTopic(strand.http, 'bb-concat');
    const parts = [records('one', 3), records('two', 2), records('three', 4)];
    const body = Buffer.concat([
      await kafkajsBatch(parts[0]!, { baseOffset: 0 }),
      await kafkajsBatch(parts[1]!, { baseOffset: 0, gzip: true }),
      await kafkajsBatch(parts[2]!, { baseOffset: 50 }),
    ]);
    const res = await postBatches('bb-concat', 0, body);
    expectStatus(res, 200);
    expect([res.json.base_offset, res.json.last_offset]).toEqual([0, 8]);
    expect(await fetchAll(strand.http, 'bb-concat', 0)).toEqual(expectedJson(parts.flat(), 0));
    // Fetched in binary, they are still three batches, at their real offsets.
    const bin = await strand.http.get(`${partitionPath('bb-concat', 0)}/records?offset=0`, { accept: batchType });
    const decoded = await kafkajsDecodeBatches(bin.body);
    expect(decoded.map((d) => [d.firstOffset, d.records.length])).toEqual([
      ['0', 3],
      ['3', 2],
      ['5', 4],
    ]);
  });

  test('the stored batch is returned byte for byte, with only its base offset set to the real offset', async () => {
    await createTopic(strand.http, 'bb-bytes');
    await postBatches('bb-bytes', 0, await kafkajsBatch(records('pad', 2)));
    const sent = await kafkajsBatch(records('exact', 3), { baseOffset: 999 });
    expectStatus(await postBatches('bb-bytes', 0, sent), 200);
    const bin = await strand.http.get(`${partitionPath('bb-bytes', 0)}/records?offset=2`, { accept: batchType });
    expect(bin.status).toBe(200);
    expect(bin.body.readBigInt64BE(0)).toBe(2n);
    expect(bin.body.subarray(8).equals(sent.subarray(8))).toBe(true);
  });

  test('on a LogAppendTime topic the response carries the append time and fetched records carry it as LogAppendTime', async () => {
    await createTopic(strand.http, 'bb-log-append', 1, { 'message.timestamp.type': 'LogAppendTime' });
    const before = Date.now();
    const res = await postBatches('bb-log-append', 0, await kafkajsBatch(records('lat', 3, 1_000)));
    const after = Date.now();
    expectStatus(res, 200);
    expect(res.json.log_append_time).toBeGreaterThanOrEqual(before);
    expect(res.json.log_append_time).toBeLessThanOrEqual(after);
    const fetched = await fetchAll(strand.http, 'bb-log-append', 0);
    expect(fetched.map((r) => [r.offset, r.timestamp_type, r.timestamp])).toEqual([0, 1, 2].map((o) => [o, 'LogAppendTime', res.json.log_append_time]));
    const bin = await strand.http.get(`${partitionPath('bb-log-append', 0)}/records?offset=0`, { accept: batchType });
    const [batch] = await kafkajsDecodeBatches(bin.body);
    expect(batch!.timestampType).toBe(1);
    expect(batch!.maxTimestamp).toBe(String(res.json.log_append_time));
  });
});

describe('a batch damaged at rest', () => {
  // Kafka's split of the work: the broker hands stored batches to consumers
  // unread and the consumer checks each CRC (check.crcs). Strand checks what it
  // decodes itself (the JSON fetch) and leaves the binary fetch to the client.
  test('the JSON fetch refuses it with 42201; the binary fetch returns the stored bytes, and the SDK consumer refuses them', async () => {
    await createTopic(strand.http, 'bb-rot');
    expectStatus(await postBatches('bb-rot', 0, await kafkajsBatch(records('rot', 3))), 200);
    const topic = await strand.runtime.engine.topics.get('bb-rot');
    const objects = strand.runtime.engine.context.objects;
    const [key] = await objects.list(topicPrefix(topic.topicId));
    const stored = (await objects.getWhole(key!, 1 << 20))!;
    stored[stored.length - 2] ^= 0x01; // inside the last record's value: covered by the CRC
    await objects.put(key!, stored);

    expectError(await strand.http.get(`${partitionPath('bb-rot', 0)}/records?offset=0`), 42201);
    const bin = await strand.http.get(`${partitionPath('bb-rot', 0)}/records?offset=0`, { accept: batchType });
    expectStatus(bin, 200);
    expect(bin.body.subarray(8)).toEqual(stored.subarray(8)); // all but the base offset, which the fetch patches
    const consumer = new StrandClient({ url: strand.url, logger: { warn: () => {} } }).consumer({ maxWaitTimeInMs: 100, retry: { retries: 1, initialRetryTime: 10 } });
    consumer.assign([{ topic: 'bb-rot', partition: 0 }], { fromBeginning: true });
    const crashed = new Promise<Error>((resolve) => consumer.on('crash', resolve));
    const delivered: unknown[] = [];
    await consumer.run({ eachMessage: async (m) => void delivered.push(m) });
    expect((await crashed).message).toMatch(/fails its CRC-32C check/);
    expect(delivered).toEqual([]);
    await consumer.close();
  });
});

describe('binary batches: rejected, and nothing is written', () => {
  let good: Buffer;
  beforeAll(async () => {
    good = await kafkajsBatch(records('good', 4));
  });

  /** Posts `body` to a fresh partition that already holds one batch, and checks the high watermark did not move. */
  async function expectRejected(topic: string, body: Buffer, errorCode: number, contentType?: string) {
    await createTopic(strand.http, topic);
    expectStatus(await postBatches(topic, 0, good), 200);
    expectError(await postBatches(topic, 0, body, contentType), errorCode);
    expect(await highWatermark(strand.http, topic)).toBe(4);
    expect((await fetchAll(strand.http, topic, 0)).map((r) => r.offset)).toEqual([0, 1, 2, 3]);
  }

  test.each([
    ['application/octet-stream'],
    ['application/json'],
    ['text/plain'],
  ])('Content-Type %s is 415 / 41501', async (contentType) => {
    await expectRejected(`bb-ct-${contentType.replace(/[^a-z]/g, '')}`, good, 41501, contentType);
  });

  test('no Content-Type is 41501', async () => {
    await createTopic(strand.http, 'bb-ct-none');
    const res = await strand.http.request('POST', `${partitionPath('bb-ct-none', 0)}/batches`, { body: good, headers: { 'content-type': '' } });
    expectError(res, 41501);
    expect(await highWatermark(strand.http, 'bb-ct-none')).toBe(0);
  });

  test('a flipped CRC byte is 422 / 42201', async () => {
    const body = Buffer.from(good);
    body[18] ^= 0x01; // CRC-32C: bytes 17..20
    await expectRejected('bb-crc', body, 42201);
  });

  test('a flipped byte in the records (covered by the CRC) is 42201', async () => {
    const body = Buffer.from(good);
    body[body.length - 3] ^= 0x20;
    await expectRejected('bb-crc-records', body, 42201);
  });

  test('a truncated batch is 42201', async () => {
    await expectRejected('bb-truncated', good.subarray(0, good.length - 1), 42201);
  });

  test('a body shorter than a batch header is 42201', async () => {
    await expectRejected('bb-header-only', good.subarray(0, 40), 42201);
  });

  test('bad magic (a legacy v1 message set) is 42201', async () => {
    const body = Buffer.from(good);
    body[16] = 1; // magic
    await expectRejected('bb-magic', body, 42201);
  });

  test('trailing bytes after a valid batch are 42201', async () => {
    await expectRejected('bb-trailing', Buffer.concat([good, Buffer.from([0, 0, 0])]), 42201);
  });

  test('one corrupt batch among several rejects the whole unit: 42201 and none of them is written', async () => {
    const bad = await kafkajsBatch(records('bad', 2));
    bad[20] ^= 0xff;
    await expectRejected('bb-unit', Buffer.concat([await kafkajsBatch(records('a', 2)), bad, await kafkajsBatch(records('c', 2))]), 42201);
  });

  test('an empty body is 42201', async () => {
    await createTopic(strand.http, 'bb-empty');
    expectError(await postBatches('bb-empty', 0, Buffer.alloc(0)), 42201);
    expect(await highWatermark(strand.http, 'bb-empty')).toBe(0);
  });

  test('a batch over the topic\'s max.message.bytes is 413 / 41302', async () => {
    await createTopic(strand.http, 'bb-too-large', 1, { 'max.message.bytes': '500' });
    const small = await kafkajsBatch([{ key: null, value: 'small' }]);
    expectStatus(await postBatches('bb-too-large', 0, small), 200);
    const big = await kafkajsBatch([{ key: null, value: 'x'.repeat(600) }]);
    expectError(await postBatches('bb-too-large', 0, big), 41302);
    expect(await highWatermark(strand.http, 'bb-too-large')).toBe(1);
  });

  test('a transactional batch is 40002 (Strand has no transactions)', async () => {
    await expectRejected('bb-transactional', await kafkajsBatch(records('txn', 2), { transactional: true }), 40002);
  });

  test('a body over 4 MiB is 413 / 41301', async () => {
    await createTopic(strand.http, 'bb-body-too-large', 1, { 'max.message.bytes': String(2 ** 31 - 1) });
    const res = await postBatches('bb-body-too-large', 0, Buffer.alloc(4 * 1024 * 1024 + 1));
    expectError(res, 41301);
    expect(await highWatermark(strand.http, 'bb-body-too-large')).toBe(0);
  });

  test('an unknown partition is 40402, an unknown topic 40403, an unknown cluster 40401', async () => {
    await createTopic(strand.http, 'bb-unknown', 2);
    expectError(await postBatches('bb-unknown', 2, good), 40402);
    expectError(await postBatches('bb-never-created', 0, good), 40403);
    const res = await strand.http.request('POST', '/v3/clusters/elsewhere/topics/bb-unknown/partitions/0/batches', {
      body: good,
      headers: { 'content-type': batchType },
    });
    expectError(res, 40401);
    expect(await highWatermark(strand.http, 'bb-unknown', 0)).toBe(0);
    expect(await highWatermark(strand.http, 'bb-unknown', 1)).toBe(0);
    expectError(await strand.http.get(topicPath('bb-never-created')), 40403);
    expect((await strand.http.get(`${cluster}/topics`)).json.data.map((t: { topic_name: string }) => t.topic_name)).not.toContain('bb-never-created');
  });
});
