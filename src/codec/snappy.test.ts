import fc from 'fast-check';
import { CorruptBatchError } from '../errors';
import { compress, decompress } from './compression';
import { decodeRecordBatch, encodeRecordBatch, readBatchHeader } from './recordBatch';
import { snappyBlockBytes, snappyCompress, snappyDecompress } from './snappy';

describe('snappy compression', () => {
  test('output carries the xerial framing Kafka\'s Java client writes: magic, version 1, compatible 1', () => {
    const out = snappyCompress(Buffer.from('hello hello hello hello'));
    expect([...out.subarray(0, 16)]).toEqual([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(out.readInt32BE(16)).toBe(out.length - 20);
  });

  test('input larger than one block is split into 32 KiB blocks and reassembled', () => {
    const input = Buffer.alloc(snappyBlockBytes * 2 + 100, 'abcdefgh');
    const out = snappyCompress(input);
    expect(snappyDecompress(out, 1 << 20).equals(input)).toBe(true);
    const firstBlock = out.readInt32BE(16);
    expect(out.length).toBeGreaterThan(16 + 4 + firstBlock + 4);
  });

  test('any bytes round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100_000 }), (bytes) => {
        const input = Buffer.from(bytes);
        expect(decompress('snappy', compress('snappy', input)).equals(input)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  test('a bare snappy stream without framing is read too', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const raw = (require('snappyjs') as { compress(b: Buffer): Buffer }).compress(Buffer.from('unframed'));
    expect(snappyDecompress(raw, 100).toString()).toBe('unframed');
  });

  test('output beyond the bound is a CorruptBatchError, not an allocation', () => {
    const big = snappyCompress(Buffer.alloc(200_000));
    expect(() => snappyDecompress(big, 100_000)).toThrow(CorruptBatchError);
  });

  test('truncated or garbled input is a CorruptBatchError', () => {
    const good = snappyCompress(Buffer.from('x'.repeat(1000)));
    for (const bad of [good.subarray(0, good.length - 3), Buffer.concat([good.subarray(0, 20), Buffer.from([0xff, 0xff, 0xff])]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])]) {
      expect(() => snappyDecompress(bad, 1 << 20)).toThrow(CorruptBatchError);
    }
  });

  test('a snappy-compressed RecordBatch encodes with codec id 2 and decodes to the same records', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`value ${i} `.repeat(20)), headers: [], timestamp: 1_700_000_000_000 + i }));
    const batch = encodeRecordBatch(records, { compression: 'snappy' });
    expect(readBatchHeader(batch).compression).toBe('snappy');
    expect(readBatchHeader(batch).attributes & 0x07).toBe(2);
    expect(decodeRecordBatch(batch).records.map((r) => r.value!.toString())).toEqual(records.map((r) => r.value.toString()));
  });
});
