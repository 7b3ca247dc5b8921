import * as fc from 'fast-check';
import { crc32c, crc32cUpdate } from './crc32c';

// How: the standard check value, RFC 3720 (iSCSI) test patterns, and kafkajs's
// own CRC-32C implementation as a second opinion on arbitrary bytes.
const kafkajsCrc32c: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C');

describe('CRC-32C checksum', () => {
  it('has the Castagnoli check value 0xE3069283 for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it.each([
    ['32 zero bytes', Buffer.alloc(32, 0x00), 0x8a9136aa],
    ['32 0xff bytes', Buffer.alloc(32, 0xff), 0x62a8ab43],
    ['bytes 0..31 ascending', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
    ['bytes 31..0 descending', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
  ])('matches the RFC 3720 vector for %s', (_name, buf, expected) => {
    expect(crc32c(buf)).toBe(expected);
  });

  it('is 0 for no bytes', () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('agrees with kafkajs on arbitrary bytes and is an unsigned 32-bit number', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const ours = crc32c(bytes);
        expect(ours).toBe(kafkajsCrc32c(Buffer.from(bytes)));
        expect(ours >>> 0).toBe(ours);
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with kafkajs on long inputs at every alignment (the word loop)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 3000 }), fc.nat(7), (bytes, skew) => {
        // A view that starts `skew` bytes into its ArrayBuffer, as Buffer slices of a pooled allocation do.
        const backing = new Uint8Array(bytes.length + skew);
        backing.set(bytes, skew);
        const view = backing.subarray(skew);
        expect(crc32c(view)).toBe(kafkajsCrc32c(Buffer.from(bytes)));
      }),
      { numRuns: 300 },
    );
  });

  it('checksums exactly the [start, end) range it is given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (b % (bytes.length - start + 1));
        expect(crc32c(bytes, start, end)).toBe(crc32c(bytes.slice(start, end)));
      }),
    );
  });

  it('can be continued across chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(), (bytes, cut) => {
        const at = cut % (bytes.length + 1);
        expect(crc32cUpdate(crc32c(bytes, 0, at), bytes, at)).toBe(crc32c(bytes));
      }),
    );
  });

  it('rejects a range outside the buffer', () => {
    expect(() => crc32c(Buffer.alloc(4), 2, 5)).toThrow(/within 4 bytes/);
    expect(() => crc32c(Buffer.alloc(4), 3, 2)).toThrow(/within 4 bytes/);
  });
});
