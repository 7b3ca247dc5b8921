import * as zlib from 'node:zlib';
import * as fc from 'fast-check';
import { CorruptBatchError, ErrorCode } from '../errors';
import { DecompressionBudget, compress, compressionCodecFromId, compressionCodecIds, decompress, decompressedBytesMax } from './compression';

describe('compression codec ids', () => {
  it('uses Kafka attribute ids 0..4 for none, gzip, snappy, lz4, zstd', () => {
    expect(compressionCodecIds).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
    for (const [codec, id] of Object.entries(compressionCodecIds)) expect(compressionCodecFromId(id)).toBe(codec);
  });

  it.each([5, 6, 7])('an unknown codec id %d is a CorruptBatchError', (id) => {
    expect(() => compressionCodecFromId(id)).toThrow(CorruptBatchError);
    expect(() => compressionCodecFromId(id)).toThrow(`unknown compression codec id ${id}`);
  });
});

describe('gzip compression', () => {
  it('round-trips arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const buf = Buffer.from(bytes);
        expect(decompress('gzip', compress('gzip', buf)).equals(buf)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('reads gzip written by kafkajs (zlib.gzip)', async () => {
    const kafkajsGzip = require('kafkajs/src/protocol/message/compression/gzip');
    const plain = Buffer.from('kafkajs wrote this '.repeat(50));
    const compressed: Buffer = await kafkajsGzip.compress({ buffer: plain });
    expect(decompress('gzip', compressed).equals(plain)).toBe(true);
  });

  it('none passes bytes through unchanged', () => {
    const buf = Buffer.from('plain');
    expect(compress('none', buf)).toBe(buf);
    expect(decompress('none', buf)).toBe(buf);
  });

  it('garbage, truncation and a broken trailer are CorruptBatchErrors', () => {
    const good = compress('gzip', Buffer.from('hello hello hello hello'));
    expect(() => decompress('gzip', Buffer.from('not gzip at all'))).toThrow(CorruptBatchError);
    expect(() => decompress('gzip', good.subarray(0, good.length - 3))).toThrow(CorruptBatchError);
    const badTrailer = Buffer.from(good);
    badTrailer[badTrailer.length - 5]! ^= 0xff; // the CRC-32 in gzip's trailer
    expect(() => decompress('gzip', badTrailer)).toThrow(/does not decompress/);
    expect(() => decompress('gzip', Buffer.alloc(0))).toThrow(CorruptBatchError);
  });

  it('a gzip bomb beyond the output bound is a CorruptBatchError, not an allocation', () => {
    // How: 16 MiB of zeros compresses to ~16 KiB; a 1 MiB bound must stop it early.
    const bomb = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(() => decompress('gzip', bomb, 1024 * 1024)).toThrow(CorruptBatchError);
  });
});

describe('a decompression budget shared by the sections of one request', () => {
  const mib = 1024 * 1024;

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('%s sections are charged what they inflate to; the one that would pass the budget is 41301', (codec) => {
    const bomb = compress(codec, Buffer.alloc(3 * mib));
    expect(bomb.length).toBeLessThan(mib / 4);
    const budget = new DecompressionBudget(8 * mib);
    budget.decompress(codec, bomb);
    budget.decompress(codec, bomb);
    expect(budget.remaining).toBe(2 * mib);
    expect(() => budget.decompress(codec, bomb)).toThrow(expect.objectContaining({ code: ErrorCode.BodyTooLarge }));
  });

  it('uncompressed sections count too, and a spent budget refuses the next section before any work', () => {
    const budget = new DecompressionBudget(10);
    expect(budget.decompress('none', Buffer.alloc(10)).length).toBe(10);
    expect(() => budget.decompress('none', Buffer.alloc(1))).toThrow(/decompress to more than 10 bytes/);
  });

  it('a budget larger than the per-batch ceiling leaves that ceiling in force (42201, the batch alone is corrupt)', () => {
    const budget = new DecompressionBudget(4 * decompressedBytesMax);
    const section = zlib.gzipSync(Buffer.alloc(decompressedBytesMax + 1));
    expect(() => budget.decompress('gzip', section)).toThrow(expect.objectContaining({ code: ErrorCode.CorruptBatch }));
  });

  it('a section that is corrupt, not large, stays 42201 under a tight budget', () => {
    const budget = new DecompressionBudget(1024);
    expect(() => budget.decompress('gzip', Buffer.from('not gzip at all'))).toThrow(expect.objectContaining({ code: ErrorCode.CorruptBatch }));
  });

  it('the 10-bomb request of issue 14 stops at the budget: under a second of inflation, not seven', () => {
    // How: ten ~65 KB gzip batches of 64 MiB each (the per-batch ceiling) against a 32 MiB budget.
    const bomb = zlib.gzipSync(Buffer.alloc(decompressedBytesMax));
    const budget = new DecompressionBudget(32 * mib);
    const started = process.hrtime.bigint();
    let refused = 0;
    for (let i = 0; i < 10; i++) {
      try {
        budget.decompress('gzip', bomb);
      } catch (err) {
        expect(err).toMatchObject({ code: ErrorCode.BodyTooLarge });
        refused++;
        break;
      }
    }
    expect(refused).toBe(1);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
  });
});

describe('every Kafka codec', () => {
  it.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const)('%s round-trips arbitrary bytes, and empty input', (codec) => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.constantFrom(...'abc xyz'), { maxLength: 3000 }).map((cs) => Buffer.from(cs.join('')))), (bytes) => {
        const buf = Buffer.from(bytes);
        expect(decompress(codec, compress(codec, buf)).equals(buf)).toBe(true);
      }),
      { numRuns: 100 },
    );
    expect(decompress(codec, compress(codec, Buffer.alloc(0))).length).toBe(0);
  });

  it.each(['gzip', 'lz4', 'zstd'] as const)('%s: garbage is a CorruptBatchError naming the codec', (codec) => {
    expect(() => decompress(codec, Buffer.from('x'))).toThrow(CorruptBatchError);
    expect(() => decompress(codec, Buffer.from('x'))).toThrow(codec);
  });
});
