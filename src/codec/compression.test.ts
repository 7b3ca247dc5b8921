import * as zlib from 'node:zlib';
import * as fc from 'fast-check';
import { CorruptBatchError } from '../errors';
import { compress, compressionCodecFromId, compressionCodecIds, decompress } from './compression';

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

describe('unsupported codecs', () => {
  it.each(['lz4', 'zstd'] as const)('%s is recognised but rejected as unsupported', (codec) => {
    expect(() => compress(codec, Buffer.from('x'))).toThrow(`compression codec ${codec} is not supported`);
    expect(() => decompress(codec, Buffer.from('x'))).toThrow(CorruptBatchError);
  });
});
