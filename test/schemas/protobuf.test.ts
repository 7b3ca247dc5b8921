/**
 * Protobuf without a server: the canonical text, message indexes on the wire,
 * finding the indexed message, and compatibility. How: message indexes are
 * checked against bytes written by hand from Confluent's framing (zigzag
 * varints; the single byte 0 for the first message); each compatibility case
 * is a change to one schema with the verdicts Confluent's protobuf rules give
 * for BACKWARD (earlier → changed) and FORWARD (changed → earlier).
 */
import * as protobuf from 'protobufjs';
import { readProblems } from '../../src/schemas/compatibility';
import { messageAt, protobufProblem, type ProtobufParsed } from '../../src/schemas/protobufSchema';
import { parseSchema } from '../../src/schemas/schemaTypes';
import { decodeMessageIndexes, encodeMessageIndexes } from '../../src/schemas/wireFormat';

const parse = (text: string) => parseSchema(text, 'PROTOBUF');
function protoOf(text: string): ProtobufParsed {
  const p = parse(text);
  if (p.schemaType !== 'PROTOBUF') throw new Error('not PROTOBUF');
  return p.protobuf;
}

const order = `syntax = "proto3";
package com.example;

// An order, as the shop writes it.
message Order {
  int64 id = 1;
  string customer = 2;
  repeated Line lines = 3;
  message Line { string sku = 1; int32 quantity = 2; }
}

message Refund { int64 order_id = 1; }
`;

describe('the canonical text', () => {
  test('whitespace and comments do not make another schema; the canonical text parses again to itself', () => {
    const a = parse(order);
    const b = parse(order.replace(/\/\/.*\n/, '/* block\ncomment */').replace(/\n\s*/g, ' '));
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(parse(a.canonical).canonical).toBe(a.canonical);
    expect(a.canonical).not.toMatch(/shop/);
    expect(parse(order.replace('int32 quantity', 'int64 quantity')).fingerprint).not.toBe(a.fingerprint);
  });

  test('an unresolvable type, a syntax error or an import without a reference is 42201; well-known imports need no reference', () => {
    expect(() => parse('syntax = "proto3"; message A { Missing m = 1; }')).toThrow(expect.objectContaining({ registryCode: 42201 }));
    expect(() => parse('syntax = "proto3"; message A { int32 = 1; }')).toThrow(expect.objectContaining({ registryCode: 42201 }));
    expect(() => parse('syntax = "proto3"; import "other.proto"; message A {}')).toThrow(expect.objectContaining({ registryCode: 42201, message: expect.stringMatching(/other\.proto/) }));
    expect(parse('syntax = "proto3"; import "google/protobuf/timestamp.proto"; message A { google.protobuf.Timestamp at = 1; }').schemaType).toBe('PROTOBUF');
  });
});

describe('message indexes', () => {
  test("[0] is the single byte 0; others are a zigzag count then zigzag indexes, as Confluent's serializer writes them", () => {
    expect(encodeMessageIndexes([0])).toEqual(Buffer.from([0]));
    expect(encodeMessageIndexes([1])).toEqual(Buffer.from([2, 2]));
    expect(encodeMessageIndexes([0, 0])).toEqual(Buffer.from([4, 0, 0]));
    expect(decodeMessageIndexes(Buffer.from([0, 8, 1]), 64)).toEqual({ indexes: [0], message: Buffer.from([8, 1]) });
    expect(decodeMessageIndexes(Buffer.from([4, 0, 2, 8]), 64)).toEqual({ indexes: [0, 1], message: Buffer.from([8]) });
  });

  test('a count over the bound, a negative index or a truncated varint is refused', () => {
    expect(decodeMessageIndexes(Buffer.from([130, 1]), 64)).toEqual({ error: 'carries 65 message indexes (at most 64)' });
    expect(decodeMessageIndexes(Buffer.from([2, 1]), 64)).toEqual({ error: 'carries a negative message index (-1)' });
    expect(decodeMessageIndexes(Buffer.from([2, 0x80]), 64)).toEqual({ error: expect.stringMatching(/no readable message indexes/) });
  });

  test('indexes count top-level messages in declaration order, then nested ones', () => {
    const p = protoOf(order);
    expect((messageAt(p, [0]) as protobuf.Type).fullName).toBe('.com.example.Order');
    expect((messageAt(p, [1]) as protobuf.Type).fullName).toBe('.com.example.Refund');
    expect((messageAt(p, [0, 0]) as protobuf.Type).fullName).toBe('.com.example.Order.Line');
    expect(messageAt(p, [2])).toMatch(/message index 2 at depth 0/);
  });

  test("a message's bytes decode with its type; bytes that break the wire format do not", () => {
    const type = messageAt(protoOf(order), [0]) as protobuf.Type;
    const bytes = type.encode(type.fromObject({ id: 7, customer: 'c', lines: [{ sku: 'x', quantity: 2 }] })).finish();
    expect(protobufProblem(type, bytes)).toBeUndefined();
    expect(protobufProblem(type, bytes.subarray(0, bytes.length - 1))).toBeDefined();
    expect(protobufProblem(type, Buffer.from([0x0f]))).toBeDefined();
  });
});

const message = (fields: string, extra = '') => `syntax = "proto3"; package p; message M { ${fields} } ${extra}`;

/** [rule, earlier, changed, BACKWARD compatible, FORWARD compatible] */
const cases: [string, string, string, boolean, boolean][] = [
  ['a field added or removed is compatible', message('int32 a = 1;'), message('int32 a = 1; string b = 2;'), true, true],
  ['a field renamed is compatible (fields are matched by number)', message('int32 a = 1;'), message('int32 renamed = 1;'), true, true],
  ['a type changed within its wire group is compatible (int32 → int64)', message('int32 a = 1;'), message('int64 a = 1;'), true, true],
  ['string ⇄ bytes is compatible', message('string a = 1;'), message('bytes a = 1;'), true, true],
  ['a scalar type changed across wire groups is incompatible (int32 → string)', message('int32 a = 1;'), message('string a = 1;'), false, false],
  ['a scalar changed to a message is incompatible', message('int32 a = 1;', 'message N {}'), message('N a = 1;', 'message N {}'), false, false],
  ['a message field changed to another message is incompatible', message('N a = 1;', 'message N {} message O {}'), message('O a = 1;', 'message N {} message O {}'), false, false],
  ['a numeric field made repeated is incompatible', message('int32 a = 1;'), message('repeated int32 a = 1;'), false, false],
  ['a message removed is BACKWARD incompatible; FORWARD, the same change reads as one added', message('int32 a = 1;', 'message N {}'), message('int32 a = 1;'), false, true],
  ['a field removed from a oneof is incompatible', message('oneof o { int32 a = 1; string b = 2; }'), message('oneof o { int32 a = 1; }'), false, true],
  ['two existing fields moved into a new oneof is incompatible', message('int32 a = 1; string b = 2;'), message('oneof o { int32 a = 1; string b = 2; }'), false, true],
  ['a proto2 required field added is incompatible', 'syntax = "proto2"; message M { optional int32 a = 1; }', 'syntax = "proto2"; message M { optional int32 a = 1; required int32 b = 2; }', false, false],
  ['an enum value added is compatible', message('E e = 1;', 'enum E { A = 0; }'), message('E e = 1;', 'enum E { A = 0; B = 1; }'), true, true],
];

describe('Protobuf compatibility', () => {
  test.each(cases)('%s', (_rule, earlier, changed, backward, forward) => {
    const before = parse(earlier);
    const after = parse(changed);
    expect(readProblems(after, before).length === 0).toBe(backward);
    expect(readProblems(before, after).length === 0).toBe(forward);
  });

  test("a problem names the field and Confluent's difference", () => {
    expect(readProblems(parse(message('string a = 1;')), parse(message('int32 a = 1;')))).toEqual([
      'M.a (field 1): the field\'s type changed (int32 → string) (FIELD_SCALAR_KIND_CHANGED)',
    ]);
  });
});
