import { DecompressionBudget, type CompressionCodec } from './compression';
import { recompressBatch, recompressBatches } from './recompressBatch';
import { TimestampType, decodeRecordBatch, encodeRecordBatch, readBatchHeader, splitBatches, type LogRecord } from './recordBatch';

const t0 = 1_700_000_000_000;
const codecs: CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const records: LogRecord[] = Array.from({ length: 20 }, (_, i) => ({
  key: i % 3 === 0 ? null : Buffer.from(`k${i}`),
  value: Buffer.from(`value ${i} `.repeat(i + 1)),
  headers: i % 2 === 0 ? [{ key: 'h', value: Buffer.from([i]) }] : [],
  timestamp: t0 + i * 7,
}));
const budget = () => new DecompressionBudget(64 * 1024 * 1024);

/** The header fields re-compression must not touch. */
function keptFields(batch: Buffer) {
  const { compression: _c, crc: _crc, batchLength: _l, sizeInBytes: _s, attributes, ...rest } = readBatchHeader(batch);
  return { ...rest, otherAttributes: attributes & ~0x07 };
}

describe('re-compressing a batch to the topic codec', () => {
  test.each(codecs.flatMap((from) => codecs.map((to) => [from, to] as const)))('%s → %s keeps the records, offsets, timestamps and producer fields', (from, to) => {
    const batch = encodeRecordBatch(records, { compression: from, baseOffset: 5, producerId: 42, producerEpoch: 3, baseSequence: 9, partitionLeaderEpoch: 2 });
    const out = recompressBatch(batch, 0, to, budget());
    expect(readBatchHeader(out).compression).toBe(to);
    expect(keptFields(out)).toEqual(keptFields(batch));
    // decodeRecordBatch verifies the recomputed CRC.
    expect(decodeRecordBatch(out).records).toEqual(decodeRecordBatch(batch).records);
  });

  test('a batch already in the codec is returned as it is, not copied', () => {
    const batch = encodeRecordBatch(records, { compression: 'zstd' });
    const same = recompressBatch(batch, 0, 'zstd', budget());
    expect(same.buffer).toBe(batch.buffer);
    expect(same.byteOffset).toBe(batch.byteOffset);
    expect(same.equals(batch)).toBe(true);
    expect(recompressBatches(batch, 'zstd', budget())).toBe(batch);
  });

  test('the LogAppendTime bit and timestamp survive', () => {
    const batch = encodeRecordBatch(records, { compression: 'gzip', timestampType: TimestampType.LogAppendTime, logAppendTime: t0 + 1_000 });
    const out = recompressBatch(batch, 0, 'lz4', budget());
    const decoded = decodeRecordBatch(out);
    expect(decoded.header.timestampType).toBe(TimestampType.LogAppendTime);
    expect(decoded.records.every((r) => r.timestamp === t0 + 1_000)).toBe(true);
  });

  test('several batches back to back are each re-compressed, in order', () => {
    const body = Buffer.concat([
      encodeRecordBatch(records.slice(0, 5), { compression: 'gzip' }),
      encodeRecordBatch(records.slice(5, 10), { compression: 'zstd' }),
      encodeRecordBatch(records.slice(10), { compression: 'none' }),
    ]);
    const out = recompressBatches(body, 'zstd', budget());
    const slices = splitBatches(out);
    expect(slices.map((s) => s.header.compression)).toEqual(['zstd', 'zstd', 'zstd']);
    expect(slices.flatMap((s) => decodeRecordBatch(out, s.start).records.map((r) => r.value!.toString()))).toEqual(records.map((r) => r.value!.toString()));
  });

  test("decompression is charged to the request's budget", () => {
    const big: LogRecord[] = [{ key: null, value: Buffer.alloc(2 * 1024 * 1024), headers: [], timestamp: t0 }];
    const batch = encodeRecordBatch(big, { compression: 'gzip' });
    expect(() => recompressBatch(batch, 0, 'zstd', new DecompressionBudget(1024 * 1024))).toThrow(/decompress to more than/);
  });
});
