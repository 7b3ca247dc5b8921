/**
 * The topic's `compression.type` as Kafka means it (issue 18): `producer`
 * stores batches as the producer compressed them; a codec, or `uncompressed`,
 * makes the server re-compress each produced batch whose codec differs, and
 * the JSON produce builds its batches in that codec.
 * How: kafkajs writes the produced gzip batches (its own encoder); the binary
 * fetch returns the stored batch, whose attributes are read here, and kafkajs's
 * decoder (fzstd plugged in for zstd, as a kafkajs user plugs a codec in) reads
 * the records back.
 */
import { decompress as fzstdDecompress } from 'fzstd';
import { readBatchHeader, splitBatches } from '../../src/codec/recordBatch';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus, fetchAll } from '../support/api';
import { kafkajsBatch, kafkajsDecodeBatches, type TestRecord } from '../support/kafkajs';

/* eslint-disable @typescript-eslint/no-require-imports */
const { Types: KafkajsCompression, Codecs: kafkajsCodecs } = require('kafkajs/src/protocol/message/compression');
/* eslint-enable @typescript-eslint/no-require-imports */
kafkajsCodecs[KafkajsCompression.ZSTD] = () => ({
  compress: async () => {
    throw new Error('not used: the server writes the zstd batches here');
  },
  decompress: async (buffer: Buffer) => Buffer.from(fzstdDecompress(buffer)),
});

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const batchType = 'application/vnd.kafka.record-batch.v2';
const t0 = 1_700_000_000_000;
const produceBatch = (topic: string, body: Buffer) => strand.http.request('POST', `${partitionPath(topic, 0)}/batches`, { body, headers: { 'content-type': batchType } });
const fetchBinary = (topic: string, offset = 0) => strand.http.get(`${partitionPath(topic, 0)}/records?offset=${offset}`, { accept: batchType });
const storedCodecs = async (topic: string) => {
  const res = await fetchBinary(topic);
  expectStatus(res, 200);
  return splitBatches(res.body).map((s) => s.header.compression);
};

const records: TestRecord[] = Array.from({ length: 25 }, (_, i) => ({
  key: i % 5 === 0 ? null : `key-${i}`,
  value: `a value that compresses well, number ${i} `.repeat(4),
  headers: i % 2 === 0 ? { trace: `t${i}` } : ({} as Record<string, string>),
  timestamp: t0 + i,
}));

describe("compression.type: the codec a topic's batches are stored in", () => {
  test('a gzip batch produced to a zstd topic is stored as zstd, with the same records, offsets and timestamps, and kafkajs reads it', async () => {
    await createTopic(strand.http, 'ct-zstd', 1, { 'compression.type': 'zstd' });
    const sent = await kafkajsBatch(records, { gzip: true });
    expect(readBatchHeader(sent).compression).toBe('gzip');
    const res = await produceBatch('ct-zstd', sent);
    expectStatus(res, 200);
    expect([res.json.base_offset, res.json.last_offset]).toEqual([0, records.length - 1]);

    const fetched = await fetchBinary('ct-zstd');
    const header = readBatchHeader(fetched.body);
    expect(header.compression).toBe('zstd');
    const original = readBatchHeader(sent);
    expect({ ...header, compression: undefined, crc: undefined, batchLength: undefined, sizeInBytes: undefined, attributes: header.attributes & ~7 }).toEqual({
      ...original,
      compression: undefined,
      crc: undefined,
      batchLength: undefined,
      sizeInBytes: undefined,
      attributes: original.attributes & ~7,
    });
    const [batch] = await kafkajsDecodeBatches(fetched.body);
    expect(batch!.records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value!.toString(), Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]))])).toEqual(
      records.map((r, i) => [String(i), String(r.timestamp), r.key, r.value, r.headers]),
    );
    const json = await fetchAll(strand.http, 'ct-zstd', 0);
    expect(json.map((r) => r.value!.data)).toEqual(records.map((r) => r.value));
  });

  test('`producer` keeps each batch as the producer compressed it', async () => {
    await createTopic(strand.http, 'ct-producer', 1);
    expectStatus(await produceBatch('ct-producer', await kafkajsBatch(records.slice(0, 3), { gzip: true })), 200);
    expectStatus(await produceBatch('ct-producer', await kafkajsBatch(records.slice(3, 6))), 200);
    expect(await storedCodecs('ct-producer')).toEqual(['gzip', 'none']);
  });

  test('`uncompressed` stores compressed batches decompressed', async () => {
    await createTopic(strand.http, 'ct-none', 1, { 'compression.type': 'uncompressed' });
    expectStatus(await produceBatch('ct-none', await kafkajsBatch(records, { gzip: true })), 200);
    expect(await storedCodecs('ct-none')).toEqual(['none']);
    expect((await fetchAll(strand.http, 'ct-none', 0)).map((r) => r.value!.data)).toEqual(records.map((r) => r.value));
  });

  test('every batch of a request is re-compressed, each keeping its own offsets', async () => {
    await createTopic(strand.http, 'ct-many', 1, { 'compression.type': 'lz4' });
    const body = Buffer.concat([
      encodeRecordBatch([{ key: null, value: Buffer.from('one'), headers: [], timestamp: t0 }], { compression: 'snappy' }),
      encodeRecordBatch([{ key: null, value: Buffer.from('two'), headers: [], timestamp: t0 }, { key: null, value: Buffer.from('three'), headers: [], timestamp: t0 }], { compression: 'lz4' }),
      encodeRecordBatch([{ key: null, value: Buffer.from('four'), headers: [], timestamp: t0 }]),
    ]);
    expectStatus(await produceBatch('ct-many', body), 200);
    expect(await storedCodecs('ct-many')).toEqual(['lz4', 'lz4', 'lz4']);
    expect((await fetchAll(strand.http, 'ct-many', 0)).map((r) => [r.offset, r.value!.data])).toEqual([
      [0, 'one'],
      [1, 'two'],
      [2, 'three'],
      [3, 'four'],
    ]);
  });

  test('the JSON produce builds its batches in the topic codec', async () => {
    await createTopic(strand.http, 'ct-json', 1, { 'compression.type': 'gzip' });
    const res = await strand.http.post(`${topicPath('ct-json')}/records:batch`, {
      entries: records.slice(0, 5).map((r, i) => ({ id: String(i), partition_id: 0, value: { type: 'STRING', data: r.value } })),
    });
    expectStatus(res, 207);
    expect(await storedCodecs('ct-json')).toEqual(['gzip']);
    expect((await fetchAll(strand.http, 'ct-json', 0)).map((r) => r.value!.data)).toEqual(records.slice(0, 5).map((r) => r.value));
  });

  test('a batch that re-compresses past max.message.bytes is 41302 and nothing is appended', async () => {
    await createTopic(strand.http, 'ct-large', 1, { 'compression.type': 'uncompressed', 'max.message.bytes': '2000' });
    const big = await kafkajsBatch([{ key: null, value: 'x'.repeat(10_000), timestamp: t0 }], { gzip: true });
    expect(big.length).toBeLessThan(2000);
    expectError(await produceBatch('ct-large', big), 41302);
    expect((await fetchBinary('ct-large')).body.length).toBe(0);
  });
});
