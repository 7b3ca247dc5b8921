import * as fc from 'fast-check';
import { CorruptBatchError } from '../errors';
import { ByteReader, ByteWriter } from './bytes';
import { RawRecord, decodeRecord, encodeRecord, headersPerRecordMax, sizeOfRecord } from './record';

// How: byte comparison with kafkajs's Record v0 encoder (which writes Record v2),
// then hand-built malformed records for each rule of DefaultRecord.readFrom.
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0');

function encode(record: RawRecord): Buffer {
  const w = new ByteWriter(16, 1 << 20);
  encodeRecord(w, record);
  return w.finish();
}

function decode(buf: Buffer): RawRecord {
  const r = new ByteReader(buf, 0, buf.length, 'test records');
  const record = decodeRecord(r, 0);
  expect(r.remaining).toBe(0);
  return record;
}

const base: RawRecord = { attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: null, headers: [] };

/** Builds a record from raw varint fields so malformed ones can be expressed. */
function rawRecord(build: (w: ByteWriter) => void, lengthAdjust = 0): Buffer {
  const body = new ByteWriter(16, 1 << 20);
  build(body);
  const bytes = body.finish();
  const w = new ByteWriter(16, 1 << 20);
  w.varint(bytes.length + lengthAdjust).bytes(bytes);
  return w.finish();
}

describe('record encoding', () => {
  it('writes the same bytes as kafkajs for a record with key, value and headers', () => {
    const ours = encode({
      ...base,
      timestampDelta: 12345,
      offsetDelta: 7,
      key: Buffer.from('key'),
      value: Buffer.from('value'),
      headers: [
        { key: 'a', value: Buffer.from('1') },
        { key: 'b', value: Buffer.from('') },
      ],
    });
    const theirs: Buffer = KafkajsRecord({
      offsetDelta: 7,
      timestampDelta: 12345,
      key: Buffer.from('key'),
      value: Buffer.from('value'),
      headers: { a: Buffer.from('1'), b: Buffer.from('') },
    }).buffer;
    expect(ours.toString('hex')).toBe(theirs.toString('hex'));
  });

  it('writes a null key and a null value as length -1', () => {
    // length 7: attributes 00, timestampDelta 00, offsetDelta 00, key 01 (-1), value 01 (-1), headers 00
    expect(encode(base).toString('hex')).toBe('0c000000010100');
  });

  it('round-trips arbitrary records, null header values included', () => {
    const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: null });
    const record = fc.record({
      attributes: fc.constant(0),
      timestampDelta: fc.maxSafeInteger(),
      offsetDelta: fc.integer({ min: 0, max: 2147483647 }),
      key: bytesOrNull,
      value: bytesOrNull,
      headers: fc.array(fc.record({ key: fc.string({ unit: 'binary', maxLength: 10 }), value: bytesOrNull }), { maxLength: 5 }),
    });
    fc.assert(
      fc.property(record, (r) => {
        const bytes = encode(r);
        expect(bytes.length).toBe(sizeOfRecord(r));
        expect(decode(bytes)).toEqual(r);
      }),
      { numRuns: 500 },
    );
  });
});

describe('record decoding hardening', () => {
  it('a key length below -1 is corrupt', () => {
    const buf = rawRecord((w) => w.int8(0).varlong(0).varint(0).varint(-2).varint(-1).varint(0));
    expect(() => decode(buf)).toThrow(/key has invalid length -2/);
  });

  it('a value longer than the record is corrupt', () => {
    const buf = rawRecord((w) => w.int8(0).varlong(0).varint(0).varint(-1).varint(100).bytes(Buffer.from('abc')).varint(0));
    expect(() => decode(buf)).toThrow(/value needs 100 bytes/);
  });

  it('a negative header count is corrupt', () => {
    const buf = rawRecord((w) => w.int8(0).varlong(0).varint(0).varint(-1).varint(-1).varint(-1));
    expect(() => decode(buf)).toThrow(/headersCount -1/);
  });

  it(`a header count above ${headersPerRecordMax} is corrupt without looping over it`, () => {
    const buf = rawRecord((w) => w.int8(0).varlong(0).varint(0).varint(-1).varint(-1).varint(2147483647));
    expect(() => decode(buf)).toThrow(/headersCount 2147483647/);
  });

  it('a header count that cannot fit in the remaining bytes is corrupt', () => {
    const buf = rawRecord((w) => w.int8(0).varlong(0).varint(0).varint(-1).varint(-1).varint(50).varint(0).varint(-1));
    expect(() => decode(buf)).toThrow(/cannot fit/);
  });

  it('a null header key is corrupt', () => {
    const buf = rawRecord((w) => w.int8(0).varlong(0).varint(0).varint(-1).varint(-1).varint(1).varint(-1).varint(-1));
    expect(() => decode(buf)).toThrow(/header 0 has negative key length -1/);
  });

  it('bytes left over after the headers are corrupt', () => {
    const buf = rawRecord((w) => w.int8(0).varlong(0).varint(0).varint(-1).varint(-1).varint(0).int8(0));
    expect(() => decode(buf)).toThrow(/1 bytes left over/);
  });

  it('a length beyond the remaining bytes is corrupt', () => {
    const buf = rawRecord((w) => w.int8(0).varlong(0).varint(0).varint(-1).varint(-1).varint(0), 5);
    expect(() => decode(buf)).toThrow(/declares length 11 but only 6 bytes remain/);
  });

  it('a negative or too-short length is corrupt', () => {
    expect(() => decode(Buffer.from('01', 'hex'))).toThrow(/declares length -1/);
    expect(() => decode(Buffer.from('0200', 'hex'))).toThrow(/declares length 1/);
  });

  it('any truncation of a valid record is a CorruptBatchError', () => {
    const buf = encode({ ...base, key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: null }] });
    for (let n = 0; n < buf.length; n++) {
      expect(() => decode(buf.subarray(0, n))).toThrow(CorruptBatchError);
    }
  });
});
