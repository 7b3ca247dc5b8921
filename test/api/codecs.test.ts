/**
 * lz4 and zstd batches (issue 18) through a real local Strand: the binary
 * produce endpoint, the JSON and binary fetches, compaction, the request's
 * decompression budget, and the SDK's producer and consumer.
 * How: batches are written by kafkajs's own RecordBatch encoder with codecs
 * plugged in the way kafkajs users plug them in (`CompressionCodecs[type]`):
 * lz4js for lz4 (an LZ4 frame encoder independent of ours), and the golden
 * batches whose sections liblz4 and libzstd wrote (src/codec/fixtures); the
 * binary fetch is read back by kafkajs's decoder with lz4js and fzstd plugged
 * in, not by ours.
 */
import { decompress as fzstdDecompress } from 'fzstd';
import { encodeRecordBatch, readBatchHeader, recordBatchHeaderBytes, batchFieldOffsets, type LogRecord } from '../../src/codec/recordBatch';
import { crc32c } from '../../src/codec/crc32c';
import { zstdBlockBytes } from '../../src/codec/zstd';
import { runMaintenance } from '../../src/maintenance/runMaintenance';
import { decompressedBytesPerRequestMax } from '../../src/api/produce';
import fixtures from '../../src/codec/fixtures/recordBatches.json';
import { createTopic, partitionPath, startTestStrand, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus, fetchAll, highWatermark } from '../support/api';
import { kafkajsDecodeBatches } from '../support/kafkajs';
import { StrandClient } from '../../client';

/* eslint-disable @typescript-eslint/no-require-imports */
const { Types: KafkajsCompression, Codecs: kafkajsCodecs } = require('kafkajs/src/protocol/message/compression');
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const lz4js = require('lz4js') as { compress(b: Uint8Array): Uint8Array; decompress(b: Uint8Array): Uint8Array };
/* eslint-enable @typescript-eslint/no-require-imports */

kafkajsCodecs[KafkajsCompression.LZ4] = () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(lz4js.compress(encoder.buffer)),
  decompress: async (buffer: Buffer) => Buffer.from(lz4js.decompress(buffer)),
});
kafkajsCodecs[KafkajsCompression.ZSTD] = () => ({
  compress: async () => {
    throw new Error('no independent zstd encoder in the tests; the golden batches carry libzstd bytes');
  },
  decompress: async (buffer: Buffer) => Buffer.from(fzstdDecompress(buffer)),
});

let strand: TestStrand;
let client: StrandClient;
beforeAll(async () => {
  strand = await startTestStrand();
  client = new StrandClient({ url: strand.url, retry: { initialRetryTime: 10 } });
});
afterAll(async () => {
  await new Promise((r) => setTimeout(r, 300));
  await strand.dispose();
});

const batchType = 'application/vnd.kafka.record-batch.v2';
const t0 = 1_700_000_000_000;
const mib = 1024 * 1024;
const post = (topic: string, body: Buffer) => strand.http.request('POST', `${partitionPath(topic, 0)}/batches`, { body, headers: { 'content-type': batchType } });
const fetchBinary = (topic: string, offset = 0) => strand.http.get(`${partitionPath(topic, 0)}/records?offset=${offset}`, { accept: batchType });

async function kafkajsLz4Batch(rs: { key: string | null; value: string }[]): Promise<Buffer> {
  const encoder = await kafkajsRecordBatch({
    compression: KafkajsCompression.LZ4,
    firstOffset: '0',
    firstTimestamp: t0,
    maxTimestamp: t0 + rs.length - 1,
    lastOffsetDelta: rs.length - 1,
    records: rs.map((r, i) => KafkajsRecord({ offsetDelta: i, timestampDelta: i, key: r.key === null ? null : Buffer.from(r.key), value: Buffer.from(r.value), headers: {} })),
  });
  return encoder.buffer as Buffer;
}

const golden = (codec: 'lz4' | 'zstd') => fixtures.batches.find((b) => b.options.compression === codec)!;

describe('lz4 and zstd batches from Kafka clients', () => {
  test.each(['lz4', 'zstd'] as const)('the golden %s batch (kafkajs encoder, reference library) is appended, fetched as JSON and binary', async (codec) => {
    const topic = `codec-golden-${codec}`;
    const fx = golden(codec);
    await createTopic(strand.http, topic, 1);
    const res = await post(topic, Buffer.from(fx.hex, 'hex'));
    expectStatus(res, 200);
    expect(res.json.last_offset).toBe(fx.records.length - 1);
    const json = await fetchAll(strand.http, topic, 0, 0, '&embedded_format=binary');
    expect(json.map((r) => [r.key === null ? null : Buffer.from(r.key.data as string, 'base64').toString('hex'), Buffer.from(r.value!.data as string, 'base64').toString('hex')])).toEqual(
      fx.records.map((r) => [r.keyHex, r.valueHex]),
    );
    const binary = await fetchBinary(topic);
    expect(binary.status).toBe(200);
    expect(readBatchHeader(binary.body).compression).toBe(codec);
    const batches = await kafkajsDecodeBatches(binary.body);
    expect(batches.flatMap((b) => b.records.map((r) => r.value!.toString('hex')))).toEqual(fx.records.map((r) => r.valueHex));
  });

  test('an lz4 batch written by kafkajs with lz4js as its codec is appended and read back', async () => {
    await createTopic(strand.http, 'codec-lz4js', 1);
    const rs = Array.from({ length: 30 }, (_, i) => ({ key: i % 4 === 0 ? null : `k${i}`, value: `lz4js value ${i} `.repeat(i + 1) }));
    expectStatus(await post('codec-lz4js', await kafkajsLz4Batch(rs)), 200);
    const json = await fetchAll(strand.http, 'codec-lz4js', 0);
    expect(json.map((r) => r.value!.data)).toEqual(rs.map((r) => r.value));
  });

  test.each(['lz4', 'zstd'] as const)('our %s batches are read by kafkajs with the reference-compatible codec plugged in', async (codec) => {
    const topic = `codec-ours-${codec}`;
    await createTopic(strand.http, topic, 1);
    const rs: LogRecord[] = Array.from({ length: 50 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`ours ${i} `.repeat(30)), headers: [], timestamp: t0 + i }));
    expectStatus(await post(topic, encodeRecordBatch(rs, { compression: codec })), 200);
    const batches = await kafkajsDecodeBatches((await fetchBinary(topic)).body);
    expect(batches.flatMap((b) => b.records.map((r) => r.value!.toString()))).toEqual(rs.map((r) => r.value!.toString()));
  });
});

describe('bombs', () => {
  /** A batch of one record whose section is `section`, claiming codec `id`, correctly signed. */
  function withSection(id: number, section: Buffer): Buffer {
    const shell = encodeRecordBatch([{ key: null, value: Buffer.alloc(8), headers: [], timestamp: t0 }]);
    const f = batchFieldOffsets;
    const out = Buffer.concat([shell.subarray(0, recordBatchHeaderBytes), section]);
    out.writeInt32BE(out.length - 12, f.batchLength);
    out.writeInt16BE(id, f.attributes);
    out.writeUInt32BE(crc32c(out, f.attributes, out.length), f.crc);
    return out;
  }

  test.each(['lz4', 'zstd'] as const)('%s: a batch that inflates past the request\'s budget is 413 / 41301 and writes nothing', async (codec) => {
    const topic = `codec-bomb-${codec}`;
    await createTopic(strand.http, topic, 1, { 'max.message.bytes': String(8 * mib) });
    const bomb = encodeRecordBatch([{ key: null, value: Buffer.alloc(60 * mib), headers: [], timestamp: t0 }], { compression: codec });
    expect(bomb.length).toBeLessThan(mib);
    expect(60 * mib).toBeGreaterThan(decompressedBytesPerRequestMax(bomb.length));
    expectError(await post(topic, bomb), 41301);
    expect(await highWatermark(strand.http, topic)).toBe(0);
  });

  test('a zstd section of RLE blocks with no content size (a lie nothing declares) is 41301 too', async () => {
    await createTopic(strand.http, 'codec-bomb-rle', 1);
    const blocks = 600; // 75 MiB from 2.4 KB
    const frame = Buffer.concat([
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 13 << 3]),
      ...Array.from({ length: blocks }, (_, i) => {
        const v = (zstdBlockBytes << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
        return Buffer.from([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, 0]);
      }),
    ]);
    expectError(await post('codec-bomb-rle', withSection(4, frame)), 41301);
    expect(await highWatermark(strand.http, 'codec-bomb-rle')).toBe(0);
  });

  test('an lz4 section that is not an LZ4 frame is 42201', async () => {
    await createTopic(strand.http, 'codec-bad-lz4', 1);
    expectError(await post('codec-bad-lz4', withSection(3, Buffer.from('definitely not lz4'))), 42201);
  });
});

describe('compaction keeps the codec', () => {
  test.each(['lz4', 'zstd'] as const)('a compacted topic of %s batches keeps the latest value per key, and the codec on the wire', async (codec) => {
    const topic = `codec-compact-${codec}`;
    await createTopic(strand.http, topic, 1, { 'cleanup.policy': 'compact' });
    for (let round = 0; round < 3; round++) {
      const rs: LogRecord[] = Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from(`key-${i % 4}`), value: Buffer.from(`r${round}-v${i} `.repeat(10)), headers: [], timestamp: t0 + round * 10 + i }));
      expectStatus(await post(topic, encodeRecordBatch(rs, { compression: codec })), 200);
    }
    await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
    const json = await fetchAll(strand.http, topic, 0);
    expect(json.map((r) => [r.offset, r.key!.data, r.value!.data])).toEqual([
      [26, 'key-2', 'r2-v6 '.repeat(10)],
      [27, 'key-3', 'r2-v7 '.repeat(10)],
      [28, 'key-0', 'r2-v8 '.repeat(10)],
      [29, 'key-1', 'r2-v9 '.repeat(10)],
    ]);
    const binary = (await fetchBinary(topic)).body;
    const batches = await kafkajsDecodeBatches(binary);
    expect(batches.flatMap((b) => b.records.map((r) => Number(r.offset)))).toEqual([26, 27, 28, 29]);
    let at = 0;
    const codecs: string[] = [];
    while (at < binary.length) {
      const header = readBatchHeader(binary, at);
      if (header.recordCount > 0) codecs.push(header.compression);
      at += header.sizeInBytes;
    }
    expect(codecs.length).toBeGreaterThan(0);
    expect(new Set(codecs)).toEqual(new Set([codec]));
  });
});

describe('the SDK', () => {
  test.each(['lz4', 'zstd'] as const)('a producer with compression %s and a consumer round-trip records', async (codec) => {
    const topic = `codec-sdk-${codec}`;
    await client.admin().createTopic(topic, { partitions: 1 });
    const producer = client.producer({ compression: codec });
    const values = Array.from({ length: 200 }, (_, i) => `sdk ${codec} ${i} `.repeat(1 + (i % 7)));
    await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i % 10}`, value })) });
    await producer.close();
    expect(readBatchHeader((await fetchBinary(topic)).body).compression).toBe(codec);
    const consumer = client.consumer({ maxWaitTimeInMs: 200 });
    consumer.assign([{ topic, partition: 0 }], { fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    const started = Date.now();
    while (seen.length < values.length && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 20));
    await consumer.close();
    expect(seen).toEqual(values);
  });
});
