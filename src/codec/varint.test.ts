import * as fc from 'fast-check';
import { CorruptBatchError } from '../errors';
import { ByteReader, ByteWriter } from './bytes';
import {
  readVarintAt,
  readVarlongAt,
  sizeOfVarint,
  sizeOfVarlong,
  varintBytesMax,
  varlongBytesMax,
  writeVarint,
  writeVarlong,
} from './varint';

// How: known encodings from Kafka's ByteUtilsTest, round trips over the whole
// ranges with fast-check, and a comparison against kafkajs's Encoder.
const KafkajsEncoder = require('kafkajs/src/protocol/encoder');

function varint(v: number): Buffer {
  const buf = Buffer.alloc(varintBytesMax);
  return buf.subarray(0, writeVarint(buf, 0, v));
}

function varlong(v: number): Buffer {
  const buf = Buffer.alloc(varlongBytesMax);
  return buf.subarray(0, writeVarlong(buf, 0, v));
}

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('varint encoding', () => {
  it.each([
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-64, '7f'],
    [63, '7e'],
    [64, '8001'],
    [-65, '8101'],
    [8191, 'fe7f'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ])('zigzag-encodes %d as %s, as Kafka ByteUtils.writeVarint does', (value, expected) => {
    expect(varint(value).toString('hex')).toBe(expected);
    expect(sizeOfVarint(value)).toBe(expected.length / 2);
    expect(readVarintAt(hex(expected), 0, expected.length / 2)).toEqual({ value, bytes: expected.length / 2 });
  });

  it('round-trips every int32 and matches kafkajs byte for byte', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), (v) => {
        const bytes = varint(v);
        expect(bytes.length).toBe(sizeOfVarint(v));
        expect(readVarintAt(bytes, 0, bytes.length).value).toBe(v);
        expect(bytes.equals(new KafkajsEncoder().writeVarInt(v).buffer)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses to encode a value that is not an int32', () => {
    expect(() => varint(2147483648)).toThrow(/int32/);
    expect(() => varint(1.5)).toThrow(/int32/);
  });
});

describe('varlong encoding', () => {
  it.each([
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [1700000000000, '80a0abfef962'],
    [Number.MAX_SAFE_INTEGER, 'feffffffffffff1f'],
    [-Number.MAX_SAFE_INTEGER, 'fdffffffffffff1f'],
  ])('zigzag-encodes %d as %s (values from kafkajs Encoder.writeVarLong)', (value, expected) => {
    const bytes = hex(expected);
    expect(varlong(value).toString('hex')).toBe(bytes.toString('hex'));
    expect(sizeOfVarlong(value)).toBe(bytes.length);
    expect(readVarlongAt(bytes, 0, bytes.length)).toEqual({ value, bytes: bytes.length });
  });

  it('round-trips every safe integer and matches kafkajs byte for byte', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const bytes = varlong(v);
        expect(bytes.length).toBe(sizeOfVarlong(v));
        expect(readVarlongAt(bytes, 0, bytes.length).value).toBe(v);
        expect(bytes.equals(new KafkajsEncoder().writeVarLong(v).buffer)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses to encode a value that is not a safe integer', () => {
    expect(() => varlong(2 ** 53)).toThrow(/safe integer/);
    expect(() => varlong(Number.NaN)).toThrow(/safe integer/);
  });
});

describe('varint decoding hardening', () => {
  it('a varint cut off mid-way is a CorruptBatchError naming the field', () => {
    expect(() => readVarintAt(hex('8080'), 0, 2, 'record 0: key length')).toThrow(CorruptBatchError);
    expect(() => readVarintAt(hex('8080'), 0, 2, 'record 0: key length')).toThrow(/record 0: key length is truncated/);
    expect(() => readVarintAt(hex(''), 0, 0)).toThrow(CorruptBatchError);
  });

  it('never reads past the given end even when the buffer continues', () => {
    expect(() => readVarintAt(hex('8001'), 0, 1)).toThrow(CorruptBatchError);
    expect(() => readVarlongAt(hex('8001'), 0, 1)).toThrow(CorruptBatchError);
  });

  it('a varint longer than 5 bytes, or with bits beyond 32, overflows', () => {
    expect(() => readVarintAt(hex('ffffffff1f'), 0, 5)).toThrow(/overflows 32 bits/);
    expect(() => readVarintAt(hex('ffffffff8f01'), 0, 6)).toThrow(/overflows 32 bits/);
  });

  it('a varlong beyond the safe-integer range or 10 bytes is rejected', () => {
    expect(() => readVarlongAt(hex('80808080808080804000'), 0, 10)).toThrow(/safe integer/);
    expect(() => readVarlongAt(hex('feffffffffffffff7f'), 0, 9)).toThrow(/safe integer/);
    expect(() => readVarlongAt(hex('ffffffffffffffffff01'), 0, 10)).toThrow(/safe integer/);
    // zigzag 2^54 - 1 is -2^53: one below the safe range.
    expect(() => readVarlongAt(hex('ffffffffffffff1f'), 0, 8)).toThrow(/safe integer/);
    expect(() => readVarlongAt(hex('8080808080808080808001'), 0, 11)).toThrow(CorruptBatchError);
  });

  it('arbitrary bytes decode to a value or throw CorruptBatchError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        for (const read of [readVarintAt, readVarlongAt]) {
          try {
            const { value, bytes: n } = read(bytes, 0, bytes.length);
            expect(Number.isSafeInteger(value)).toBe(true);
            expect(n).toBeGreaterThan(0);
            expect(n).toBeLessThanOrEqual(bytes.length);
          } catch (err) {
            expect(err).toBeInstanceOf(CorruptBatchError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('byte reader and writer', () => {
  it('writes big-endian fixed-width fields and reads them back', () => {
    const w = new ByteWriter(1, 64);
    w.int8(-2).int16(-300).int32(-70000).uint32(0xfedcba98).int64(-(2 ** 40)).varint(300).varlong(-5);
    const buf = w.finish();
    expect(buf.length).toBe(1 + 2 + 4 + 4 + 8 + 2 + 1);
    const r = new ByteReader(buf, 0, buf.length, 'test');
    expect([r.int8('a'), r.int16('b'), r.int32('c'), r.uint32('d'), r.int64('e'), r.varint('f'), r.varlong('g')]).toEqual([
      -2, -300, -70000, 0xfedcba98, -(2 ** 40), 300, -5,
    ]);
    expect(r.remaining).toBe(0);
  });

  it('an int64 outside the safe-integer range is a CorruptBatchError', () => {
    const buf = hex('0020000000000000 ffdfffffffffffff 001fffffffffffff ffe0000000000001');
    const r = new ByteReader(buf, 0, buf.length, 'test');
    expect(() => r.int64('x')).toThrow(/outside the safe integer range/);
    r.offset = 8;
    expect(() => r.int64('x')).toThrow(CorruptBatchError);
    r.offset = 16;
    expect(r.int64('x')).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.int64('x')).toBe(-Number.MAX_SAFE_INTEGER);
  });

  it('reading past the end is a CorruptBatchError that says where', () => {
    const r = new ByteReader(Buffer.alloc(10), 2, 5, 'record batch at offset 2');
    expect(r.int16('producerEpoch')).toBe(0);
    expect(() => r.int16('baseSequence')).toThrow(
      'record batch at offset 2 is truncated: baseSequence needs 2 bytes at offset 4 but only 1 remain',
    );
    expect(() => r.bytes(2, 'key')).toThrow(CorruptBatchError);
  });

  it('the writer refuses to grow past its bound', () => {
    const w = new ByteWriter(4, 8);
    w.int32(1).int32(2);
    expect(() => w.int8(3)).toThrow(/within the bound 8/);
  });
});
