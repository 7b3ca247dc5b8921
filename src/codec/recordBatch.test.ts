import * as fc from 'fast-check';
import { CorruptBatchError } from '../errors';
import { crc32c } from './crc32c';
import fixtures from './fixtures/recordBatches.json';
import {
  DecodedRecord,
  EncodeBatchOptions,
  LogRecord,
  TimestampType,
  batchFieldOffsets,
  batchesPerBufferMax,
  checkProducedBatch,
  checkProducedBatchByWalk,
  checkRecordBatch,
  decodeRecordBatch,
  decodeRecordBatchByWalk,
  encodeRecordBatch,
  patchBaseOffset,
  patchBaseOffsets,
  sizeOfSingleRecordBatch,
  patchPartitionLeaderEpoch,
  readBatchHeader,
  recordBatchHeaderBytes,
  splitBatches,
  verifyBatchCrc,
  withLogAppendTime,
  withMaxTimestamp,
} from './recordBatch';
import { filterBatchRecords } from './compactBatch';
import { DecompressionBudget } from './compression';

// How: kafkajs 2.2.4 is the reference. Golden fixtures hold bytes it wrote
// (regenerate with `npx tsx src/codec/fixtures/generate.ts`); the cross-check
// tests also run its encoder and decoder live, in both directions.
const KafkajsDecoder = require('kafkajs/src/protocol/decoder');
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const { Types: KafkajsCompression } = require('kafkajs/src/protocol/message/compression');

const t0 = 1_700_000_000_000;
const b = (s: string) => Buffer.from(s, 'utf8');
const f = batchFieldOffsets;

function rec(key: string | null, value: string | null, timestamp = t0, headers: [string, string | null][] = []): LogRecord {
  return {
    key: key === null ? null : b(key),
    value: value === null ? null : b(value),
    headers: headers.map(([k, v]) => ({ key: k, value: v === null ? null : b(v) })),
    timestamp,
  };
}

/** Recomputes the CRC after a test has edited covered bytes, so later checks are reached. */
function resign(buf: Buffer, start = 0): Buffer {
  const end = start + 12 + buf.readInt32BE(start + f.batchLength);
  buf.writeUInt32BE(crc32c(buf, start + f.attributes, end), start + f.crc);
  return buf;
}

function strip(records: DecodedRecord[]): LogRecord[] {
  return records.map(({ key, value, headers, timestamp }) => ({ key, value, headers, timestamp }));
}

async function kafkajsDecode(buf: Buffer) {
  return kafkajsDecodeBatch(new KafkajsDecoder(buf));
}

/** Encodes with kafkajs the way its Produce v3 request does. */
async function kafkajsEncode(records: LogRecord[], gzip: boolean, baseOffset = 0): Promise<Buffer> {
  const firstTimestamp = records[0]!.timestamp;
  const encoded = records.map((r, i) => {
    const headers: Record<string, Buffer[]> = {};
    for (const h of r.headers) (headers[h.key] ??= []).push(h.value!);
    return KafkajsRecord({ offsetDelta: i, timestampDelta: r.timestamp - firstTimestamp, key: r.key, value: r.value, headers });
  });
  const encoder = await kafkajsRecordBatch({
    compression: gzip ? KafkajsCompression.GZIP : KafkajsCompression.None,
    firstOffset: String(baseOffset),
    firstTimestamp,
    maxTimestamp: Math.max(...records.map((r) => r.timestamp)),
    lastOffsetDelta: records.length - 1,
    records: encoded,
  });
  return encoder.buffer;
}

// ---------------------------------------------------------------------------

describe('golden fixtures written by kafkajs', () => {
  const cases = fixtures.batches.map((fx) => ({
    ...fx,
    // JSON imports type compression as string; the generator writes 'none', 'gzip', 'lz4' or 'zstd'.
    options: fx.options as Required<Omit<EncodeBatchOptions, 'timestampType' | 'logAppendTime'>>,
    bytes: Buffer.from(fx.hex, 'hex'),
    logRecords: fx.records.map(
      (r): LogRecord => ({
        key: r.keyHex === null ? null : Buffer.from(r.keyHex, 'hex'),
        value: r.valueHex === null ? null : Buffer.from(r.valueHex, 'hex'),
        headers: r.headers.map((h) => ({ key: h.key, value: Buffer.from(h.valueHex, 'hex') })),
        timestamp: r.timestamp,
      }),
    ),
  }));

  it.each(cases)('decodes the $name fixture ($description)', ({ bytes, logRecords, options }) => {
    const { header, records } = decodeRecordBatch(bytes);
    expect(strip(records)).toEqual(logRecords);
    expect(records.map((r) => r.offset)).toEqual(logRecords.map((_, i) => options.baseOffset + i));
    expect(header).toMatchObject({
      baseOffset: options.baseOffset,
      sizeInBytes: bytes.length,
      compression: options.compression,
      partitionLeaderEpoch: options.partitionLeaderEpoch,
      producerId: options.producerId,
      producerEpoch: options.producerEpoch,
      baseSequence: options.baseSequence,
      isTransactional: options.isTransactional,
      isControl: false,
      recordCount: logRecords.length,
      lastOffsetDelta: logRecords.length - 1,
      baseTimestamp: logRecords[0]!.timestamp,
    });
  });

  it.each(cases.filter((c) => c.byteExact))('re-encodes the $name fixture to the same bytes', ({ bytes, logRecords, options }) => {
    expect(encodeRecordBatch(logRecords, options).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('includes gzip, lz4 (liblz4), zstd (libzstd) and uncompressed fixtures, and byte-exact ones', () => {
    for (const codec of ['gzip', 'lz4', 'zstd']) expect(cases.some((c) => c.options.compression === codec)).toBe(true);
    expect(cases.filter((c) => c.byteExact).length).toBeGreaterThanOrEqual(4);
  });
});

describe('cross-check with kafkajs', () => {
  const many = Array.from({ length: 200 }, (_, i) =>
    rec(i % 5 === 0 ? null : `key-${i}`, i % 11 === 0 ? null : `value-${i}`.repeat(i % 9), t0 + i * 37, i % 3 === 0 ? [['n', String(i)], ['n', 'again']] : []),
  );

  it.each([
    ['none', 'none'],
    ['gzip', 'gzip'],
  ] as const)('kafkajs decodes our %s batches: offsets, timestamps, keys, values, headers', async (_name, compression) => {
    const batch = encodeRecordBatch(many, { compression, baseOffset: 1_000_000 });
    const theirs = await kafkajsDecode(batch);
    expect(theirs.records).toHaveLength(many.length);
    expect(theirs.firstOffset).toBe('1000000');
    expect(theirs.maxTimestamp).toBe(String(t0 + 199 * 37));
    theirs.records.forEach((r: any, i: number) => {
      expect(r.offset).toBe(String(1_000_000 + i));
      expect(r.timestamp).toBe(String(many[i]!.timestamp));
      expect(r.key).toEqual(many[i]!.key);
      expect(r.value).toEqual(many[i]!.value);
      const headers: Record<string, Buffer | Buffer[]> = {};
      for (const h of many[i]!.headers) {
        const prior = headers[h.key];
        headers[h.key] = prior === undefined ? h.value! : ([] as Buffer[]).concat(prior, h.value!);
      }
      expect(r.headers).toEqual(headers);
    });
  });

  it('kafkajs reads our transactional and LogAppendTime flags', async () => {
    const batch = encodeRecordBatch([rec('a', '1', t0), rec('b', '2', t0 + 1)], {
      isTransactional: true,
      producerId: 42,
      producerEpoch: 7,
      baseSequence: 100,
      partitionLeaderEpoch: 3,
      timestampType: TimestampType.LogAppendTime,
      logAppendTime: t0 + 5000,
    });
    const theirs = await kafkajsDecode(batch);
    expect(theirs).toMatchObject({
      inTransaction: true,
      producerId: '42',
      producerEpoch: 7,
      firstSequence: 100,
      partitionLeaderEpoch: 3,
      timestampType: 1,
    });
    expect(theirs.records.map((r: any) => r.timestamp)).toEqual([String(t0 + 5000), String(t0 + 5000)]);
  });

  it.each([false, true])('we decode what kafkajs encodes (gzip: %s), many records with headers and nulls', async (gzip) => {
    const records = many.map((r) => ({ ...r, headers: r.headers.filter((h) => h.value !== null) }));
    const bytes = await kafkajsEncode(records, gzip, 77);
    const { header, records: ours } = decodeRecordBatch(bytes);
    expect(header.compression).toBe(gzip ? 'gzip' : 'none');
    expect(strip(ours)).toEqual(records);
    expect(ours.map((r) => r.offset)).toEqual(records.map((_, i) => 77 + i));
  });

  it('arbitrary records survive ours -> kafkajs and kafkajs -> ours', async () => {
    const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a)), { nil: null });
    const records = fc.array(
      fc.record({
        key: bytesOrNull,
        value: bytesOrNull,
        // kafkajs cannot write null header values; distinct ASCII keys keep its header object order.
        headers: fc.uniqueArray(fc.record({ key: fc.stringMatching(/^[a-z]{1,5}$/), value: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)) }), {
          maxLength: 3,
          selector: (h) => h.key,
        }),
        timestamp: fc.integer({ min: 0, max: 4_000_000_000_000 }),
      }),
      { minLength: 1, maxLength: 20 },
    );
    await fc.assert(
      fc.asyncProperty(records, fc.boolean(), async (rs, gzip) => {
        const ours = encodeRecordBatch(rs, { compression: gzip ? 'gzip' : 'none' });
        const theirs = await kafkajsDecode(ours);
        expect(theirs.records.map((r: any) => [r.key, r.value, Number(r.timestamp)])).toEqual(rs.map((r) => [r.key, r.value, r.timestamp]));
        expect(strip(decodeRecordBatch(await kafkajsEncode(rs, gzip)).records)).toEqual(rs);
      }),
      { numRuns: 50 },
    );
  });
});

describe('batch encoding', () => {
  it('defaults to CreateTime, no compression, offset 0 and -1 for epoch, producer id, epoch and sequence', () => {
    const header = readBatchHeader(encodeRecordBatch([rec('k', 'v')]));
    expect(header).toMatchObject({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      magic: 2,
      attributes: 0,
      compression: 'none',
      timestampType: TimestampType.CreateTime,
      isTransactional: false,
      isControl: false,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      recordCount: 1,
      lastOffsetDelta: 0,
    });
  });

  it('baseTimestamp is the first record timestamp and maxTimestamp the greatest', () => {
    const header = readBatchHeader(encodeRecordBatch([rec('a', '1', t0), rec('b', '2', t0 + 9), rec('c', '3', t0 - 4)]));
    expect([header.baseTimestamp, header.maxTimestamp]).toEqual([t0, t0 + 9]);
  });

  it('LogAppendTime sets attribute bit 3 and writes logAppendTime as maxTimestamp', () => {
    const batch = encodeRecordBatch([rec('a', '1', t0)], { timestampType: TimestampType.LogAppendTime, logAppendTime: t0 + 1 });
    const header = readBatchHeader(batch);
    expect(header.attributes & 0x08).toBe(0x08);
    expect(header.maxTimestamp).toBe(t0 + 1);
    expect(decodeRecordBatch(batch).records[0]!.timestamp).toBe(t0 + 1);
  });

  it('sets gzip as attribute id 1 and transactional as bit 4', () => {
    const header = readBatchHeader(encodeRecordBatch([rec('a', '1')], { compression: 'gzip', isTransactional: true }));
    expect(header.attributes).toBe(0x11);
  });

  it('refuses an empty batch, LogAppendTime without a time, and unsafe numbers', () => {
    expect(() => encodeRecordBatch([])).toThrow(/at least one record/);
    expect(() => encodeRecordBatch([rec('a', '1')], { timestampType: TimestampType.LogAppendTime })).toThrow(/logAppendTime/);
    expect(() => encodeRecordBatch([rec('a', '1', 2 ** 53)])).toThrow(/safe integer/);
    expect(() => encodeRecordBatch([rec('a', '1')], { baseOffset: -1 })).toThrow(/baseOffset/);
    expect(() => encodeRecordBatch([rec('a', '1')], { producerEpoch: 40000 })).toThrow(/int16/);
  });

  it.each(['lz4', 'zstd'] as const)('writes %s batches too (every Kafka codec), which decode to the same records', (codec) => {
    const batch = encodeRecordBatch([rec('a', '1'), rec('b', '2')], { compression: codec });
    expect(readBatchHeader(batch).compression).toBe(codec);
    expect(decodeRecordBatch(batch).records.map((r) => r.value!.toString())).toEqual(['1', '2']);
  });
});

describe('CRC-32C integrity', () => {
  const batch = encodeRecordBatch([rec('key', 'value', t0, [['h', 'v']]), rec(null, 'second', t0 + 1)]);

  it('a valid batch passes the CRC-32C check', () => {
    expect(() => verifyBatchCrc(batch)).not.toThrow();
  });

  it('a flipped bit in the records fails the CRC-32C check', () => {
    const bad = Buffer.from(batch);
    bad[bad.length - 3]! ^= 0x10;
    expect(() => verifyBatchCrc(bad)).toThrow(/fails its CRC-32C check/);
    expect(() => decodeRecordBatch(bad)).toThrow(CorruptBatchError);
  });

  it('a flipped bit in any covered header field (attributes … recordCount) fails the check', () => {
    for (let at = f.attributes; at < recordBatchHeaderBytes; at++) {
      const bad = Buffer.from(batch);
      bad[at]! ^= 0x01;
      expect(() => decodeRecordBatch(bad)).toThrow(CorruptBatchError);
    }
  });

  it('a wrong stored CRC fails the check', () => {
    const bad = Buffer.from(batch);
    bad.writeUInt32BE((bad.readUInt32BE(f.crc) + 1) >>> 0, f.crc);
    expect(() => verifyBatchCrc(bad)).toThrow(/stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}/);
  });

  it('the CRC does not cover baseOffset or partitionLeaderEpoch', () => {
    const patched = Buffer.from(batch);
    patched.writeBigInt64BE(123n, f.baseOffset);
    patched.writeInt32BE(99, f.partitionLeaderEpoch);
    expect(() => verifyBatchCrc(patched)).not.toThrow();
  });
});

describe('in-place patches', () => {
  const records = [rec('a', '1', t0), rec('b', '2', t0 + 2)];

  it('patchBaseOffset moves every record offset without touching the CRC', () => {
    const batch = encodeRecordBatch(records);
    const crcBefore = batch.readUInt32BE(f.crc);
    patchBaseOffset(batch, 0, 2 ** 40);
    expect(batch.readUInt32BE(f.crc)).toBe(crcBefore);
    expect(decodeRecordBatch(batch).records.map((r) => r.offset)).toEqual([2 ** 40, 2 ** 40 + 1]);
  });

  it('patchBaseOffset patches a batch in the middle of a buffer and nothing else', () => {
    const first = encodeRecordBatch(records);
    const buf = Buffer.concat([first, encodeRecordBatch(records)]);
    patchBaseOffset(buf, first.length, 500);
    expect(splitBatches(buf).map((s) => s.header.baseOffset)).toEqual([0, 500]);
  });

  it('patchBaseOffsets numbers concatenated batches densely from the first base offset, CRCs intact', () => {
    const buf = Buffer.concat([encodeRecordBatch(records), encodeRecordBatch([rec('c', '3')]), encodeRecordBatch(records, { baseOffset: 77 })]);
    const slices = patchBaseOffsets(buf, 100);
    expect(slices.map((s) => s.header.baseOffset)).toEqual([0, 0, 77]); // the headers as they were read
    expect(splitBatches(buf).map((s) => s.header.baseOffset)).toEqual([100, 102, 103]);
    expect(decodeRecordBatch(buf, slices[2]!.start).records.map((r) => r.offset)).toEqual([103, 104]);
  });

  it('patchBaseOffset refuses a negative or unsafe offset', () => {
    const batch = encodeRecordBatch(records);
    expect(() => patchBaseOffset(batch, 0, -1)).toThrow(/baseOffset/);
    expect(() => patchBaseOffset(batch, 0, Number.MAX_SAFE_INTEGER)).toThrow(/safe integer/);
  });

  it('patchPartitionLeaderEpoch keeps the batch valid', () => {
    const batch = encodeRecordBatch(records);
    patchPartitionLeaderEpoch(batch, 0, 17);
    expect(decodeRecordBatch(batch).header.partitionLeaderEpoch).toBe(17);
  });

  it('withLogAppendTime stamps every record with the append time and re-signs the batch', async () => {
    const batch = encodeRecordBatch(records, { compression: 'gzip' });
    withLogAppendTime(batch, 0, t0 + 60_000);
    const { header, records: decoded } = decodeRecordBatch(batch);
    expect(header.timestampType).toBe(TimestampType.LogAppendTime);
    expect(header.maxTimestamp).toBe(t0 + 60_000);
    expect(header.baseTimestamp).toBe(t0);
    expect(decoded.map((r) => r.timestamp)).toEqual([t0 + 60_000, t0 + 60_000]);
    const theirs = await kafkajsDecode(batch);
    expect(theirs.records.map((r: any) => r.timestamp)).toEqual([String(t0 + 60_000), String(t0 + 60_000)]);
  });

  it('withLogAppendTime refuses to re-sign a corrupt batch', () => {
    const batch = encodeRecordBatch(records);
    batch[batch.length - 1]! ^= 0xff;
    expect(() => withLogAppendTime(batch, 0, t0)).toThrow(/CRC-32C/);
  });
});

describe('splitting concatenated batches', () => {
  const one = encodeRecordBatch([rec('a', '1')]);
  const two = encodeRecordBatch([rec('b', '2'), rec('c', '3')], { compression: 'gzip', baseOffset: 1 });

  it('walks every batch and reports where each starts', () => {
    const slices = splitBatches(Buffer.concat([one, two, one]));
    expect(slices.map((s) => s.start)).toEqual([0, one.length, one.length + two.length]);
    expect(slices.map((s) => s.header.recordCount)).toEqual([1, 2, 1]);
  });

  it('an empty buffer is corrupt', () => {
    expect(() => splitBatches(Buffer.alloc(0))).toThrow(/got 0 bytes/);
  });

  it('trailing garbage is corrupt', () => {
    expect(() => splitBatches(Buffer.concat([one, Buffer.from([0, 0, 0])]))).toThrow(/record batch at offset \d+ is truncated/);
  });

  it('a truncated last batch is corrupt', () => {
    const buf = Buffer.concat([one, two]);
    expect(() => splitBatches(buf.subarray(0, buf.length - 1))).toThrow(/truncated: batchLength/);
  });

  it('verifies each CRC by default and skips that when asked', () => {
    const buf = Buffer.concat([one, two]);
    buf[buf.length - 1]! ^= 1;
    expect(() => splitBatches(buf)).toThrow(/CRC-32C/);
    expect(splitBatches(buf, { verifyCrc: false })).toHaveLength(2);
  });

  it(`refuses more than ${batchesPerBufferMax} batches in one buffer`, () => {
    const tiny = encodeRecordBatch([rec(null, null)]);
    const many = Buffer.alloc(tiny.length * (batchesPerBufferMax + 1));
    for (let i = 0; i <= batchesPerBufferMax; i++) tiny.copy(many, i * tiny.length);
    expect(() => splitBatches(many, { verifyCrc: false })).toThrow(`buffer holds more than ${batchesPerBufferMax} record batches`);
    expect(splitBatches(many.subarray(tiny.length), { verifyCrc: false })).toHaveLength(batchesPerBufferMax);
  });
});

describe('batch decoding hardening', () => {
  const valid = () => encodeRecordBatch([rec('key', 'value', t0, [['h', null]]), rec(null, 'v2', t0 + 1)]);

  it('a legacy magic (v0/v1) is rejected', () => {
    const bad = valid();
    bad.writeInt8(1, f.magic);
    expect(() => readBatchHeader(bad)).toThrow('record batch at offset 0 has magic 1; only magic 2 (RecordBatch v2) is supported');
  });

  it('a header shorter than 61 bytes is truncated', () => {
    expect(() => readBatchHeader(valid().subarray(0, 60))).toThrow(/the header needs 61 bytes but only 60 remain/);
    expect(() => readBatchHeader(valid().subarray(0, 5))).toThrow(CorruptBatchError);
  });

  it.each([
    ['negative', -1],
    ['smaller than the header', 48],
    ['beyond the buffer', 1000],
    ['beyond the bound', 0x7fffffff],
  ])('a batchLength %s is corrupt', (_name, length) => {
    const bad = valid();
    bad.writeInt32BE(length, f.batchLength);
    expect(() => readBatchHeader(bad)).toThrow(/batchLength/);
  });

  it('a start outside the buffer is corrupt', () => {
    expect(() => readBatchHeader(valid(), 1000)).toThrow(/outside the buffer/);
    expect(() => readBatchHeader(valid(), -1)).toThrow(CorruptBatchError);
  });

  it('a baseOffset beyond 2^53 or negative is corrupt', () => {
    const bad = valid();
    bad.writeBigInt64BE(2n ** 60n, f.baseOffset);
    expect(() => readBatchHeader(bad)).toThrow(/baseOffset .* outside the safe integer range/);
    bad.writeBigInt64BE(-5n, f.baseOffset);
    expect(() => readBatchHeader(bad)).toThrow(/negative baseOffset/);
  });

  it('a last offset (baseOffset + lastOffsetDelta) beyond 2^53 is corrupt', () => {
    const bad = valid();
    bad.writeBigInt64BE(2n ** 53n - 1n, f.baseOffset);
    expect(() => readBatchHeader(bad)).toThrow(/lastOffsetDelta 1 is not a safe integer/);
  });

  it('a record timestamp beyond 2^53 is corrupt', () => {
    const bad = encodeRecordBatch([rec('a', '1', t0), rec('b', '2', Number.MAX_SAFE_INTEGER - 1)]);
    bad.writeBigInt64BE(BigInt(Number.MAX_SAFE_INTEGER), f.baseTimestamp);
    expect(() => decodeRecordBatch(resign(bad))).toThrow(/record 1 timestamp overflows/);
  });

  it('a producerId outside the safe range is corrupt, -1 is fine', () => {
    const bad = valid();
    bad.writeBigInt64BE(-(2n ** 62n), f.producerId);
    expect(() => readBatchHeader(bad)).toThrow(/producerId/);
  });

  it.each([5, 6, 7])('compression id %d is corrupt', (id) => {
    const bad = valid();
    bad.writeInt16BE(id, f.attributes);
    expect(() => readBatchHeader(resign(bad))).toThrow(`unknown compression codec id ${id}`);
  });

  it.each([
    [3, 'lz4'],
    [4, 'zstd'],
  ])('a batch whose attributes claim codec %d but whose records are not %s frames is corrupt', (id, codec) => {
    const bad = valid();
    bad.writeInt16BE(id, f.attributes);
    expect(() => decodeRecordBatch(resign(bad))).toThrow(new RegExp(`${codec} records section .* does not decompress`));
  });

  it('a batch whose attributes claim snappy but whose records are not snappy is corrupt', () => {
    const bad = valid();
    bad.writeInt16BE(2, f.attributes);
    expect(() => decodeRecordBatch(resign(bad))).toThrow(/snappy records section .* does not decompress/);
  });

  it('a record count above the records present is corrupt', () => {
    const bad = valid();
    bad.writeInt32BE(3, f.recordCount);
    bad.writeInt32BE(2, f.lastOffsetDelta);
    expect(() => decodeRecordBatch(resign(bad))).toThrow(/record 2 .* truncated/);
  });

  it('a record count below the records present leaves bytes over, which is corrupt', () => {
    const bad = valid();
    bad.writeInt32BE(1, f.recordCount);
    expect(() => decodeRecordBatch(resign(bad))).toThrow(/bytes left over after 1 records/);
  });

  it('a record whose declared length runs past its headers is corrupt, for the check as for the decode', () => {
    // One record, then a padding byte inside it: the length says one byte more than the fields use.
    const one = encodeRecordBatch([rec('k', 'v')]);
    const at = recordBatchHeaderBytes;
    const length = one[at]! >>> 1; // a one-byte zigzag varint
    const padded = Buffer.concat([one.subarray(0, at), Buffer.from([(length + 1) << 1]), one.subarray(at + 1), Buffer.from([0])]);
    padded.writeInt32BE(padded.length - 12, f.batchLength);
    resign(padded);
    expect(() => decodeRecordBatch(padded)).toThrow(/1 bytes left over after the headers/);
    expect(() => checkRecordBatch(padded)).toThrow(/1 bytes left over after the headers/);
  });

  it('a huge record count is rejected before any allocation', () => {
    const bad = valid();
    bad.writeInt32BE(0x7fffffff, f.lastOffsetDelta);
    bad.writeInt32BE(1_000_000, f.recordCount);
    expect(() => decodeRecordBatch(resign(bad))).toThrow(/cannot fit/);
    bad.writeInt32BE(0x7fffffff, f.recordCount);
    expect(() => decodeRecordBatch(resign(bad))).toThrow(/recordCount 2147483647, outside/);
  });

  it('a negative record count or lastOffsetDelta is corrupt', () => {
    const bad = valid();
    bad.writeInt32BE(-1, f.recordCount);
    expect(() => readBatchHeader(bad)).toThrow(/recordCount -1/);
    const bad2 = valid();
    bad2.writeInt32BE(-1, f.lastOffsetDelta);
    expect(() => readBatchHeader(bad2)).toThrow(/negative lastOffsetDelta/);
  });

  it('offset deltas must increase and stay within lastOffsetDelta', () => {
    const bad = valid();
    bad.writeInt32BE(0, f.lastOffsetDelta);
    bad.writeInt32BE(1, f.recordCount);
    expect(() => decodeRecordBatch(resign(bad))).toThrow(CorruptBatchError);
    const batch = encodeRecordBatch([rec('a', '1'), rec('b', '2')]);
    // The second record starts right after the first; its offsetDelta byte is 3 bytes in
    // (length, attributes, timestampDelta). Rewrite 1 -> 0 (zigzag 02 -> 00).
    const firstLength = batch[recordBatchHeaderBytes]! >> 1;
    const second = recordBatchHeaderBytes + 1 + firstLength;
    expect(batch[second + 3]).toBe(0x02);
    batch[second + 3] = 0x00;
    expect(() => decodeRecordBatch(resign(batch))).toThrow(/record 1 has offsetDelta 0; expected above 0/);
  });

  it('a gzip section that does not decompress is corrupt', () => {
    const batch = encodeRecordBatch([rec('a', 'x'.repeat(100))], { compression: 'gzip' });
    batch.fill(0xaa, recordBatchHeaderBytes + 12, recordBatchHeaderBytes + 20);
    expect(() => decodeRecordBatch(resign(batch))).toThrow(/gzip records section/);
  });

  it('an empty batch (count 0, as compaction may leave) decodes to no records', () => {
    const batch = encodeRecordBatch([rec('a', '1')]);
    const empty = Buffer.from(batch.subarray(0, recordBatchHeaderBytes));
    empty.writeInt32BE(recordBatchHeaderBytes - 12, f.batchLength);
    empty.writeInt32BE(0, f.recordCount);
    expect(decodeRecordBatch(resign(empty)).records).toEqual([]);
  });
});

describe('batches from clients: one offset per record, the records\' maxTimestamp (checkProducedBatch)', () => {
  // Kafka's LogValidator.validateBatch (AppendOrigin.CLIENT) is the reference: a v2
  // batch's offset range must equal its record count; maxTimestamp is recomputed.
  const oneRecord = () => encodeRecordBatch([rec('k', 'v')]);

  it('one record declaring lastOffsetDelta 2^31 - 1 is corrupt, decided on the header alone', () => {
    const liar = oneRecord();
    liar.writeInt32BE(0x7fffffff, f.lastOffsetDelta);
    resign(liar);
    // Decoding accepts it (offsets unused inside a batch are compaction's doing)...
    expect(decodeRecordBatch(liar).records).toHaveLength(1);
    // ...a client may not send it: it would move the high watermark by 2^31.
    expect(() => checkProducedBatch(liar)).toThrow(/lastOffsetDelta 2147483647 \(2147483648 offsets\) but recordCount 1/);
    // The CRC is not even looked at: a header that lies is refused before any other work.
    liar.writeUInt32BE(0, f.crc);
    expect(() => checkProducedBatch(liar)).toThrow(/recordCount 1; a batch from a client has one offset per record/);
  });

  it('a record count below lastOffsetDelta + 1, or zero, is corrupt', () => {
    const batch = encodeRecordBatch([rec('a', '1'), rec('b', '2')]);
    batch.writeInt32BE(5, f.lastOffsetDelta);
    expect(() => checkProducedBatch(resign(batch))).toThrow(CorruptBatchError);
    const empty = Buffer.from(oneRecord().subarray(0, recordBatchHeaderBytes));
    empty.writeInt32BE(recordBatchHeaderBytes - 12, f.batchLength);
    empty.writeInt32BE(0, f.recordCount);
    expect(() => checkProducedBatch(resign(empty))).toThrow(/holds no records/);
  });

  it('a compacted batch (offsets left unused) reads back but is not accepted from a client', () => {
    const batch = encodeRecordBatch([rec('a', '1'), rec('b', '2'), rec('c', '3')]);
    const compacted = filterBatchRecords(batch, 0, (r) => r.offset !== 1);
    expect(decodeRecordBatch(compacted).records.map((r) => r.offset)).toEqual([0, 2]);
    expect(() => checkProducedBatch(compacted)).toThrow(/lastOffsetDelta 2 \(3 offsets\) but recordCount 2/);
  });

  it('every kafkajs fixture is accepted, with the maxTimestamp it carries', () => {
    for (const fx of fixtures.batches) {
      const bytes = Buffer.from(fx.hex, 'hex');
      const { header, maxTimestamp } = checkProducedBatch(bytes);
      expect(header).toEqual(checkRecordBatch(bytes));
      expect(maxTimestamp).toBe(header.maxTimestamp);
    }
  });

  it('a maxTimestamp that disagrees with the records is answered with the records\' largest timestamp (Kafka rewrites it)', () => {
    const batch = encodeRecordBatch([rec('a', '1', t0 + 5), rec('b', '2', t0 + 90), rec('c', '3', t0)]);
    for (const lie of [t0, t0 + 10_000, -1, 0]) {
      const liar = Buffer.from(batch);
      liar.writeBigInt64BE(BigInt(lie), f.maxTimestamp);
      resign(liar);
      expect(checkProducedBatch(liar).maxTimestamp).toBe(t0 + 90);
      withMaxTimestamp(liar, 0, t0 + 90);
      expect(liar.equals(batch)).toBe(true);
    }
  });

  it('records whose timestamps are all below -1 give maxTimestamp -1 (NO_TIMESTAMP), as Kafka computes it', () => {
    const batch = encodeRecordBatch([rec('a', '1', -7), rec('b', '2', -3)]);
    expect(checkProducedBatch(batch).maxTimestamp).toBe(-1);
  });

  it('a LogAppendTime batch keeps its header\'s maxTimestamp', () => {
    const batch = encodeRecordBatch([rec('a', '1', t0)], { timestampType: TimestampType.LogAppendTime, logAppendTime: t0 + 5 });
    expect(checkProducedBatch(batch).maxTimestamp).toBe(t0 + 5);
  });

  it('withMaxTimestamp leaves a batch that already carries it byte for byte, and never re-signs a corrupt one', () => {
    const batch = encodeRecordBatch([rec('a', '1')]);
    const copy = Buffer.from(batch);
    withMaxTimestamp(copy, 0, t0);
    expect(copy.equals(batch)).toBe(true);
    copy[recordBatchHeaderBytes + 2]! ^= 0xff;
    expect(() => withMaxTimestamp(copy, 0, t0 + 1)).toThrow(/CRC-32C/);
  });

  it('a request\'s budget bounds the decompressed bytes of all its batches together', () => {
    const big = encodeRecordBatch([rec('k', 'x'.repeat(200_000))], { compression: 'gzip' });
    expect(big.length).toBeLessThan(2_000);
    const budget = new DecompressionBudget(500_000);
    checkProducedBatch(big, 0, budget);
    checkProducedBatch(big, 0, budget);
    expect(budget.remaining).toBeLessThan(200_000);
    expect(() => checkProducedBatch(big, 0, budget)).toThrow(expect.objectContaining({ code: 41301 }));
  });
});

describe('properties', () => {
  const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)), { nil: null });
  const logRecord = fc.record({
    key: bytesOrNull,
    value: bytesOrNull,
    headers: fc.array(fc.record({ key: fc.string({ unit: 'binary', maxLength: 8 }), value: bytesOrNull }), { maxLength: 3 }),
    timestamp: fc.integer({ min: -1, max: 2 ** 45 }),
  });
  const options = fc.record({
    baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
    compression: fc.constantFrom('none' as const, 'gzip' as const),
    producerId: fc.integer({ min: -1, max: 2 ** 50 }),
    producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
    baseSequence: fc.integer({ min: -1, max: 0x7fffffff }),
    partitionLeaderEpoch: fc.integer({ min: -1, max: 0x7fffffff }),
    isTransactional: fc.boolean(),
  });

  it('the size of a record alone as a batch is what encoding it gives', () => {
    fc.assert(fc.property(logRecord, (record) => expect(sizeOfSingleRecordBatch(record)).toBe(encodeRecordBatch([record]).length)), { numRuns: 300 });
  });

  it('encode then decode returns the same records, offsets and header fields', () => {
    fc.assert(
      fc.property(fc.array(logRecord, { minLength: 1, maxLength: 12 }), options, (records, opts) => {
        const batch = encodeRecordBatch(records, opts);
        const { header, records: decoded } = decodeRecordBatch(batch);
        expect(strip(decoded)).toEqual(records);
        expect(decoded.map((r) => r.offset)).toEqual(records.map((_, i) => opts.baseOffset + i));
        expect(header).toMatchObject({ ...opts, recordCount: records.length, sizeInBytes: batch.length });
        expect(header.maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp)));
      }),
      { numRuns: 150 },
    );
  });

  /** Returns normally or throws CorruptBatchError; anything else fails the property. */
  function decodesOrCorrupt(buf: Buffer): void {
    checkAgreesWithDecode(buf);
    try {
      for (const slice of splitBatches(buf, { verifyCrc: false })) decodeRecordBatch(buf, slice.start);
    } catch (err) {
      if (!(err instanceof CorruptBatchError)) throw err;
    }
    try {
      splitBatches(buf);
    } catch (err) {
      if (!(err instanceof CorruptBatchError)) throw err;
    }
  }

  /** decodeRecordBatch and checkRecordBatch (fast scan first) give the full walk's verdict: the same records and header, or the same error. */
  function checkAgreesWithDecode(buf: Buffer): void {
    const verdict = (f: () => unknown) => {
      try {
        return { ok: f() };
      } catch (err) {
        return { error: String(err) };
      }
    };
    for (const start of [0, ...(buf.length > recordBatchHeaderBytes ? [1] : [])]) {
      // The reference: the record-by-record walk, without the fast scan.
      const reference = verdict(() => decodeRecordBatchByWalk(buf, start));
      expect(verdict(() => decodeRecordBatch(buf, start))).toEqual(reference);
      expect(verdict(() => checkRecordBatch(buf, start))).toEqual('ok' in reference ? { ok: (reference.ok as { header: unknown }).header } : reference);
      // The produce path's check (fast scan first) agrees with its own full-walk reference.
      const producedReference = verdict(() => checkProducedBatchByWalk(buf, start));
      expect(verdict(() => checkProducedBatch(buf, start))).toEqual(producedReference);
      expect(verdict(() => checkProducedBatch(buf, start, new DecompressionBudget(1 << 30)))).toEqual(producedReference);
      // It accepts a subset of what decoding accepts.
      if ('ok' in producedReference) expect('ok' in reference).toBe(true);
    }
  }

  it('checking and decoding a valid batch agree with the full walk', () => {
    fc.assert(
      fc.property(fc.array(logRecord, { minLength: 1, maxLength: 12 }), options, (records, opts) => {
        const batch = encodeRecordBatch(records, opts);
        const reference = decodeRecordBatchByWalk(batch);
        expect(decodeRecordBatch(batch)).toEqual(reference);
        expect(checkRecordBatch(batch)).toEqual(reference.header);
        // What the encoder writes is what a client may send: accepted, its maxTimestamp kept.
        expect(checkProducedBatch(batch)).toEqual({ header: reference.header, maxTimestamp: reference.header.maxTimestamp });
        expect(checkProducedBatchByWalk(batch)).toEqual(checkProducedBatch(batch));
      }),
      { numRuns: 100 },
    );
  });

  it('a client batch is accepted exactly when decoding accepts it and it has one offset per record; its maxTimestamp is the records\' largest', () => {
    const lie = fc.record({ lastOffsetDelta: fc.option(fc.integer({ min: 0, max: 0x7fffffff })), maxTimestamp: fc.option(fc.integer({ min: -5, max: 2 ** 46 })) });
    fc.assert(
      fc.property(fc.array(logRecord, { minLength: 1, maxLength: 6 }), fc.constantFrom('none' as const, 'gzip' as const), lie, (records, compression, l) => {
        const buf = encodeRecordBatch(records, { compression });
        if (l.lastOffsetDelta !== null) buf.writeInt32BE(l.lastOffsetDelta, f.lastOffsetDelta);
        if (l.maxTimestamp !== null) buf.writeBigInt64BE(BigInt(l.maxTimestamp), f.maxTimestamp);
        resign(buf);
        checkAgreesWithDecode(buf);
        const dense = buf.readInt32BE(f.lastOffsetDelta) === records.length - 1;
        if (!dense) expect(() => checkProducedBatch(buf)).toThrow(CorruptBatchError);
        else expect(checkProducedBatch(buf).maxTimestamp).toBe(Math.max(-1, ...records.map((r) => r.timestamp)));
      }),
      { numRuns: 500 },
    );
  });

  const sample = fc
    .tuple(fc.array(logRecord, { minLength: 1, maxLength: 4 }), fc.constantFrom('none' as const, 'gzip' as const))
    .map(([records, compression]) => encodeRecordBatch(records, { compression }));
  const mutation = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) });

  it('mutated or truncated bytes of a valid batch decode or throw CorruptBatchError, nothing else', () => {
    fc.assert(
      fc.property(sample, fc.array(mutation, { maxLength: 4 }), fc.option(fc.nat()), fc.boolean(), (batch, edits, cut, resignAfter) => {
        const buf = Buffer.from(batch);
        for (const { at, byte } of edits) buf[at % buf.length] = byte;
        // Re-signing lets edits past the CRC reach the record and gzip decoders.
        if (resignAfter && buf.length >= recordBatchHeaderBytes) {
          const length = buf.readInt32BE(f.batchLength);
          if (length >= 49 && length + 12 <= buf.length) resign(buf);
        }
        decodesOrCorrupt(cut === null ? buf : buf.subarray(0, cut % (buf.length + 1)));
      }),
      { numRuns: 2000 },
    );
  });

  it('edits inside the records of an uncompressed batch (CRC fixed): checking agrees with decoding', () => {
    // Aims at the fast scan of the produce path, which must never accept what the full check refuses.
    const plainSample = fc.array(logRecord, { minLength: 1, maxLength: 6 }).map((records) => encodeRecordBatch(records));
    fc.assert(
      fc.property(plainSample, fc.array(mutation, { minLength: 1, maxLength: 3 }), (batch, edits) => {
        const buf = Buffer.from(batch);
        const recordsBytes = buf.length - recordBatchHeaderBytes;
        for (const { at, byte } of edits) buf[recordBatchHeaderBytes + (at % recordsBytes)] = byte;
        checkAgreesWithDecode(resign(buf));
      }),
      { numRuns: 3000 },
    );
  });

  it('arbitrary bytes behind a valid-looking header decode or throw CorruptBatchError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: -2, max: 40 }), (tail, codec, count) => {
        const header = Buffer.from(encodeRecordBatch([rec('a', '1')]).subarray(0, recordBatchHeaderBytes));
        const buf = Buffer.concat([header, tail]);
        buf.writeInt32BE(buf.length - 12, f.batchLength);
        buf.writeInt16BE(codec === 3 ? 1 : 0, f.attributes);
        buf.writeInt32BE(count, f.recordCount);
        buf.writeInt32BE(Math.max(count - 1, 0), f.lastOffsetDelta);
        decodesOrCorrupt(resign(buf));
      }),
      { numRuns: 2000 },
    );
  });
});
