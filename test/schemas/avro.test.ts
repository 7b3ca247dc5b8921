/**
 * The Avro JSON conversion and the wire format, without a server. How: avsc
 * generates random values of each fixture schema; their Avro JSON encoding
 * (avsc's own `toString`) must encode back to exactly avsc's binary, and decode
 * back to the same JSON — so Strand's field-checking converter agrees with avsc.
 */
import * as avro from 'avsc';
import { AvroDataError, encodeAvroJson, fromAvroJson, toAvroJson } from '../../src/schemas/avro';
import { parseSchema } from '../../src/schemas/schemaTypes';
import { decodeWire, encodeWire } from '../../src/schemas/wireFormat';
import { order, readWire, user } from './support';

const schemas: [string, unknown][] = [
  ['order (enum, nested record, union, array, map, bytes)', order],
  ['user', user.v1],
  ['fixed and a union of records', {
    type: 'record', name: 'Mixed', fields: [
      { name: 'f', type: { type: 'fixed', name: 'Four', size: 4 } },
      { name: 'u', type: ['null', { type: 'record', name: 'A', fields: [{ name: 'a', type: 'int' }] }, { type: 'record', name: 'B', fields: [{ name: 'b', type: 'string' }] }] },
      { name: 'd', type: 'double' },
      { name: 'flag', type: 'boolean' },
    ],
  }],
];

describe('Avro JSON ⇄ binary agrees with avsc', () => {
  test.each(schemas)('%s: 200 random values round-trip byte for byte', (_name, schema) => {
    const type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true });
    for (let i = 0; i < 200; i++) {
      const value = type.random();
      const json = JSON.parse(type.toString(value));
      const bytes = encodeAvroJson(type, json, 'data');
      expect(bytes.equals(type.toBuffer(value))).toBe(true);
      expect(toAvroJson(type, type.fromBuffer(bytes))).toEqual(json);
    }
  });
});

describe('conversion rules', () => {
  const type = avro.Type.forSchema(order as avro.Schema, { wrapUnions: true });
  const base = { id: 1, status: 'NEW', address: { street: 's', zip: 1 } };

  test('defaults fill missing fields; a bare union value is taken when one branch fits', () => {
    const v = fromAvroJson(type, { ...base, note: 'bare' }, 'data') as Record<string, unknown>;
    expect(v.note).toEqual({ string: 'bare' });
    expect(v.items).toEqual([]);
    expect(v.digest).toEqual(Buffer.alloc(0));
  });

  test('bytes take code points 0-255 only; fixed needs its exact size', () => {
    expect(() => fromAvroJson(type, { ...base, digest: '\u0100' }, 'data')).toThrow(/'data\.digest' must be bytes: character 0 is above code point 255/);
    const fixed = avro.Type.forSchema({ type: 'fixed', name: 'F', size: 2 });
    expect(() => fromAvroJson(fixed, 'abc', 'k')).toThrow(/must be 2 bytes for fixed F, not 3/);
  });

  test('a value matching several union branches must be wrapped', () => {
    const u = avro.Type.forSchema(['int', 'long'], { wrapUnions: true });
    expect(() => fromAvroJson(u, 5, 'v')).toThrow(AvroDataError);
    expect(fromAvroJson(u, { long: 5 }, 'v')).toEqual({ long: 5 });
  });

  test('schema identity ignores whitespace, not content', () => {
    expect(parseSchema(JSON.stringify(user.v1, null, 2)).fingerprint).toBe(parseSchema(JSON.stringify(user.v1)).fingerprint);
    expect(parseSchema(JSON.stringify(user.removeField)).fingerprint).not.toBe(parseSchema(JSON.stringify(user.v1)).fingerprint);
  });
});

describe('wire format', () => {
  test('magic 0, big-endian id, payload; read back by the test reader', () => {
    const bytes = encodeWire(0x01020304, Buffer.from([9, 8]));
    expect([...bytes]).toEqual([0, 1, 2, 3, 4, 9, 8]);
    expect(readWire(bytes)).toEqual({ schemaId: 0x01020304, payload: Buffer.from([9, 8]) });
    expect(decodeWire(bytes)).toEqual({ schemaId: 0x01020304, payload: Buffer.from([9, 8]) });
    expect(decodeWire(Buffer.from([1, 0, 0, 0, 1]))).toEqual({ error: expect.stringMatching(/magic byte 0/) });
    expect(decodeWire(Buffer.from([0, 0]))).toEqual({ error: expect.stringMatching(/shorter than the 5-byte/) });
    expect(() => encodeWire(-1, Buffer.alloc(0))).toThrow(RangeError);
  });
});
