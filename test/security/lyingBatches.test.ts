/**
 * Batches whose headers lie, and batches that inflate far (issue 14), posted to
 * the binary produce endpoint of a real local Strand.
 * How: valid batches (kafkajs's encoder, our own, the golden fixtures) with one
 * header field rewritten and the CRC-32C recomputed, so only the lie is wrong;
 * compression bombs built from zeros. Rules shown, each against Kafka's
 * LogValidator for client batches: a batch has exactly one offset per record
 * (42201 otherwise, the high watermark unmoved); a maxTimestamp that disagrees
 * with the records is rewritten to theirs, as Kafka does; producer fields are
 * held to producerOfBatches' rules (40002), and a batch without a producer id
 * may carry any epoch and sequence (kafkajs writes 0 and 0); a request whose
 * batches decompress past its budget is 413 / 41301 and writes nothing.
 */
import * as zlib from 'node:zlib';
import { batchFieldOffsets, decodeRecordBatch, encodeRecordBatch, recordBatchHeaderBytes, splitBatches, type LogRecord } from '../../src/codec/recordBatch';
import { crc32c } from '../../src/codec/crc32c';
import { decompressedBytesMax } from '../../src/codec/compression';
import { filterBatchRecords } from '../../src/codec/compactBatch';
import { decompressedBytesPerRequestMax } from '../../src/api/produce';
import fixtures from '../../src/codec/fixtures/recordBatches.json';
import { createTopic, partitionPath, startTestStrand, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus, fetchAll, highWatermark } from '../support/api';
import { kafkajsBatch, kafkajsDecodeBatches, type TestRecord } from '../support/kafkajs';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const batchType = 'application/vnd.kafka.record-batch.v2';
const t0 = 1_700_000_000_000;
const f = batchFieldOffsets;
const mib = 1024 * 1024;

const post = (topic: string, body: Buffer) =>
  strand.http.request('POST', `${partitionPath(topic, 0)}/batches`, { body, headers: { 'content-type': batchType } });

function records(prefix: string, count: number): TestRecord[] {
  return Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, value: `${prefix}-value-${i}`, timestamp: t0 + i * 10 }));
}

/** Recomputes the CRC-32C of the batch at `start`, so only the lie is wrong. */
function resign(buf: Buffer, start = 0): Buffer {
  const end = start + 12 + buf.readInt32BE(start + f.batchLength);
  buf.writeUInt32BE(crc32c(buf, start + f.attributes, end), start + f.crc);
  return buf;
}

/** Fresh topic holding 4 records, so a refusal can be seen not to move anything. */
async function topicWithFour(name: string, configs: Record<string, string> = {}): Promise<void> {
  await createTopic(strand.http, name, 1, configs);
  expectStatus(await post(name, await kafkajsBatch(records('before', 4))), 200);
}

async function expectRefused(topic: string, body: Buffer, errorCode: number): Promise<void> {
  expectError(await post(topic, body), errorCode);
  expect(await highWatermark(strand.http, topic)).toBe(4);
  expect((await fetchAll(strand.http, topic, 0)).map((r) => r.offset)).toEqual([0, 1, 2, 3]);
}

describe('a batch has exactly one offset per record (Kafka: "Inconsistent batch offset range")', () => {
  test('one record declaring lastOffsetDelta 2^31 - 1 is 42201 and the high watermark does not move', async () => {
    await topicWithFour('lie-span');
    const liar = await kafkajsBatch(records('liar', 1));
    liar.writeInt32BE(0x7fffffff, f.lastOffsetDelta);
    await expectRefused('lie-span', resign(liar), 42201);
  });

  test.each([
    ['lastOffsetDelta one past the records', (n: number, b: Buffer) => b.writeInt32BE(n, f.lastOffsetDelta)],
    ['lastOffsetDelta short of the records', (n: number, b: Buffer) => b.writeInt32BE(n - 2, f.lastOffsetDelta)],
    ['recordCount short of the records', (n: number, b: Buffer) => b.writeInt32BE(n - 1, f.recordCount)],
    ['recordCount past the records (lastOffsetDelta agreeing)', (n: number, b: Buffer) => (b.writeInt32BE(n + 1, f.recordCount), b.writeInt32BE(n, f.lastOffsetDelta))],
    ['recordCount 0', (_n: number, b: Buffer) => b.writeInt32BE(0, f.recordCount)],
  ])('%s is 42201', async (name, lie) => {
    const topic = `lie-count-${name.replace(/[^a-z0-9]+/g, '-').slice(0, 40)}`;
    await topicWithFour(topic);
    const liar = await kafkajsBatch(records('liar', 3));
    lie(3, liar);
    await expectRefused(topic, resign(liar), 42201);
  });

  test('a lying batch among good ones refuses the whole request: nothing of it is written', async () => {
    await topicWithFour('lie-unit');
    const liar = encodeRecordBatch([{ key: null, value: Buffer.from('x'), headers: [], timestamp: t0 }], { compression: 'gzip' });
    liar.writeInt32BE(1000, f.lastOffsetDelta);
    const body = Buffer.concat([await kafkajsBatch(records('a', 2)), resign(liar), await kafkajsBatch(records('c', 2), { gzip: true })]);
    await expectRefused('lie-unit', body, 42201);
  });

  test('a compacted batch (offsets left unused) is not accepted from a client', async () => {
    await topicWithFour('lie-gap');
    // Offsets 0 and 2 of 3: what compaction leaves, written by hand.
    const full = encodeRecordBatch([0, 1, 2].map((i): LogRecord => ({ key: Buffer.from(`k${i}`), value: null, headers: [], timestamp: t0 })));
    await expectRefused('lie-gap', filterBatchRecords(full, 0, (r) => r.offset !== 1), 42201);
  });

  test('any base offset is accepted, up to 2^53 - 1: the batch gets the partition\'s next offsets', async () => {
    await topicWithFour('lie-base');
    const batch = await kafkajsBatch(records('base', 2));
    batch.writeBigInt64BE(2n ** 53n - 2n, f.baseOffset); // outside the CRC: no re-signing needed
    const res = await post('lie-base', batch);
    expectStatus(res, 200);
    expect([res.json.base_offset, res.json.last_offset]).toEqual([4, 5]);
    expect(await highWatermark(strand.http, 'lie-base')).toBe(6);
  });
});

describe('the records, not the header, give maxTimestamp (Kafka rewrites it for CreateTime)', () => {
  test('a maxTimestamp below the records\' is rewritten to theirs; the stored batch still passes its CRC and kafkajs reads it', async () => {
    await createTopic(strand.http, 'lie-max-ts');
    const sent = await kafkajsBatch(records('ts', 3)); // timestamps t0, t0 + 10, t0 + 20
    sent.writeBigInt64BE(BigInt(t0), f.maxTimestamp);
    expectStatus(await post('lie-max-ts', resign(sent)), 200);
    const bin = await strand.http.get(`${partitionPath('lie-max-ts', 0)}/records?offset=0`, { accept: batchType });
    const [slice] = splitBatches(bin.body, { verifyCrc: true });
    expect(slice!.header.maxTimestamp).toBe(t0 + 20);
    const [decoded] = await kafkajsDecodeBatches(bin.body);
    expect(decoded!.maxTimestamp).toBe(String(t0 + 20));
    expect(decoded!.records.map((r) => Number(r.timestamp))).toEqual([t0, t0 + 10, t0 + 20]);
  });

  test('a maxTimestamp far in the future is rewritten too (the index takes its time from the header)', async () => {
    await createTopic(strand.http, 'lie-max-ts-future');
    const sent = await kafkajsBatch(records('ts', 2));
    sent.writeBigInt64BE(BigInt(t0 + 10 ** 12), f.maxTimestamp);
    expectStatus(await post('lie-max-ts-future', resign(sent)), 200);
    const bin = await strand.http.get(`${partitionPath('lie-max-ts-future', 0)}/records?offset=0`, { accept: batchType });
    expect(decodeRecordBatch(bin.body).header.maxTimestamp).toBe(t0 + 10);
  });
});

describe('producer fields', () => {
  test('without a producer id, any epoch and sequence are accepted (kafkajs writes 0 and 0; Kafka ignores them)', async () => {
    await createTopic(strand.http, 'lie-no-producer');
    const plain = fixtures.batches.filter((fx) => !fx.options.isTransactional); // Strand has no transactions (40002)
    expect(plain.length).toBeGreaterThanOrEqual(4);
    for (const fx of plain) expectStatus(await post('lie-no-producer', Buffer.from(fx.hex, 'hex')), 200);
    const expected = plain.reduce((n, fx) => n + fx.records.length, 0);
    expect(await highWatermark(strand.http, 'lie-no-producer')).toBe(expected);
    const odd = await kafkajsBatch(records('odd', 2));
    odd.writeInt16BE(7, f.producerEpoch);
    odd.writeInt32BE(12345, f.baseSequence);
    expectStatus(await post('lie-no-producer', resign(odd)), 200);
    expect(await highWatermark(strand.http, 'lie-no-producer')).toBe(expected + 2);
  });

  test.each([
    ['an idempotent batch with baseSequence -1', { producerId: 3, producerEpoch: 0, baseSequence: -1 }],
    ['an idempotent batch with producerEpoch -1', { producerId: 3, producerEpoch: -1, baseSequence: 0 }],
    ['a producer id below -1', { producerId: -2, producerEpoch: 0, baseSequence: 0 }],
  ])('%s is 40002', async (name, producer) => {
    const topic = `lie-producer-${name.replace(/[^a-z0-9]+/g, '-').slice(0, 40)}`;
    await topicWithFour(topic);
    const batch = encodeRecordBatch([{ key: null, value: Buffer.from('p'), headers: [], timestamp: t0 }], producer);
    await expectRefused(topic, batch, 40002);
  });
});

describe('a request decompresses to a bounded number of bytes, all its batches together', () => {
  /** One record of `bytes` zeros, gzip: a ~1000:1 batch. */
  const gzipBomb = (bytes: number) => encodeRecordBatch([{ key: null, value: Buffer.alloc(bytes), headers: [], timestamp: t0 }], { compression: 'gzip' });

  test('ten gzip batches of 60 MiB each (a ~600 KB request, issue 14\'s 7 s of CPU) are 413 / 41301, quickly, and write nothing', async () => {
    await topicWithFour('bomb-gzip');
    const bomb = gzipBomb(60 * mib);
    expect(bomb.length).toBeLessThan(70_000);
    const body = Buffer.concat(Array.from({ length: 10 }, () => bomb));
    const started = Date.now();
    const res = await post('bomb-gzip', body);
    const elapsed = Date.now() - started;
    expectError(res, 41301);
    expect(res.json.message).toMatch(/decompress to more than 33554432 bytes/);
    // The budget (32 MiB here) stops inflation early; generous for a loaded machine, far below 7 s.
    expect(elapsed).toBeLessThan(4_000);
    expect(await highWatermark(strand.http, 'bomb-gzip')).toBe(4);
  });

  test('a single batch that would inflate past 64 MiB is refused once the request\'s 32 MiB are spent, not after 64', async () => {
    await topicWithFour('bomb-ceiling');
    const over = encodeRecordBatch([{ key: null, value: Buffer.alloc(1024), headers: [], timestamp: t0 }]);
    // A gzip section that inflates past 64 MiB behind a valid header.
    const section = zlib.gzipSync(Buffer.alloc(decompressedBytesMax + 1));
    const bomb = Buffer.concat([over.subarray(0, recordBatchHeaderBytes), section]);
    bomb.writeInt32BE(bomb.length - 12, f.batchLength);
    bomb.writeInt16BE(1, f.attributes);
    // A request this small has the 32 MiB floor as its budget: the budget speaks first.
    expect(decompressedBytesPerRequestMax(bomb.length)).toBeLessThan(decompressedBytesMax);
    await expectRefused('bomb-ceiling', resign(bomb), 41301);
  });

  test('snappy batches that inflate past the budget are 41301 too', async () => {
    await topicWithFour('bomb-snappy', { 'max.message.bytes': String(8 * mib) });
    // snappy's ratio is at most ~21:1, so a snappy request passes the 16:1 bound only when large.
    const bomb = encodeRecordBatch([{ key: null, value: Buffer.alloc(60 * mib), headers: [], timestamp: t0 }], { compression: 'snappy' });
    expect(bomb.length).toBeLessThan(4 * mib);
    expect(60 * mib).toBeGreaterThan(decompressedBytesPerRequestMax(bomb.length));
    await expectRefused('bomb-snappy', bomb, 41301);
  });

  test('legitimate compressible records fill a request and pass: JSON log lines gzip about 5:1', async () => {
    await createTopic(strand.http, 'bomb-legit', 1, { 'max.message.bytes': String(4 * mib) });
    // Log lines with varying fields: the ratio real producers see, not zeros.
    const line = (i: number) => JSON.stringify({ ts: t0 + i, level: ['info', 'warn', 'error'][i % 3], user: `u${(i * 7919) % 100_003}`, latency_ms: (i * 31) % 977, path: `/api/v1/items/${(i * 104_729) % 1_000_003}` });
    const rs: LogRecord[] = Array.from({ length: 150_000 }, (_, i) => ({ key: null, value: Buffer.from(line(i)), headers: [], timestamp: t0 + i }));
    const batch = encodeRecordBatch(rs, { compression: 'gzip' });
    const inflated = zlib.gunzipSync(batch.subarray(recordBatchHeaderBytes)).length;
    expect(batch.length).toBeLessThan(4 * mib);
    expect(batch.length).toBeGreaterThan(2 * mib); // most of a 4 MiB request
    expect(inflated / batch.length).toBeGreaterThan(3);
    expect(inflated).toBeLessThan(decompressedBytesPerRequestMax(batch.length));
    const res = await post('bomb-legit', batch);
    expectStatus(res, 200);
    expect(res.json.last_offset).toBe(150_000 - 1);
  });
});
