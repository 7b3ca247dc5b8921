/**
 * Protobuf's JSON mapping (src/schemas/protobufJson.ts) against the proto3
 * JSON mapping as protobuf-java's JsonFormat implements it — the printer with
 * includingDefaultValueFields (kafka-rest's ProtobufConverter) and the parser
 * (kafka-rest's produce). How: schemas parsed by the registry's own parser,
 * values encoded with the mapping then decoded by protobufjs directly (not by
 * the mapping), and printed values compared with what JsonFormat prints for
 * the same message (the expected JSON is written from the mapping's spec:
 * https://protobuf.dev/programming-guides/json/).
 */
import { protobufFromJson, protobufToJson, jsonNameOf } from '../../src/schemas/protobufJson';
import { parseSchema } from '../../src/schemas/schemaTypes';

function messageOf(proto: string, name?: string) {
  const parsed = parseSchema(proto, 'PROTOBUF');
  if (parsed.schemaType !== 'PROTOBUF') throw new Error('not protobuf');
  return name ? parsed.protobuf.root.lookupType(name) : parsed.protobuf.messages[0]!;
}

const roundTrip = (type: ReturnType<typeof messageOf>, data: unknown) => protobufToJson(type, type.decode(type.encode(protobufFromJson(type, data, 'data')).finish()));

describe('field names', () => {
  const type = messageOf('syntax = "proto3"; message M { string first_name = 1; int32 x_2y = 2; string plain = 3 [json_name = "Custom"]; }');

  test('printed as lowerCamelCase or json_name; parsed from either that or the proto name', () => {
    expect(type.fieldsArray.map(jsonNameOf)).toEqual(['firstName', 'x2y', 'Custom']);
    expect(roundTrip(type, { first_name: 'a', x2y: 1, plain: 'p' })).toEqual({ firstName: 'a', x2y: 1, Custom: 'p' });
    expect(roundTrip(type, { firstName: 'b', Custom: 'q' })).toEqual({ firstName: 'b', x2y: 0, Custom: 'q' });
  });

  test('the same field twice, under both names, is refused', () => {
    expect(() => protobufFromJson(type, { first_name: 'a', firstName: 'b' }, 'data')).toThrow(/'data\.firstName' sets field first_name a second time/);
  });
});

describe('scalars', () => {
  const type = messageOf(`syntax = "proto3"; message S {
    int32 i32 = 1; uint32 u32 = 2; int64 i64 = 3; uint64 u64 = 4; sint64 s64 = 5; fixed64 f64 = 6;
    float f = 7; double d = 8; bool b = 9; bytes raw = 10; string s = 11; }`);

  test('64-bit integers print as strings and parse from strings or numbers, past 2^53 exactly', () => {
    const out = roundTrip(type, { i64: '-9223372036854775808', u64: '18446744073709551615', s64: -5, f64: 7 }) as Record<string, unknown>;
    expect(out).toMatchObject({ i64: '-9223372036854775808', u64: '18446744073709551615', s64: '-5', f64: '7' });
    expect(() => protobufFromJson(type, { u64: -1 }, 'data')).toThrow(/'data\.u64' must be an unsigned 64-bit integer/);
    expect(() => protobufFromJson(type, { i64: '9223372036854775808' }, 'data')).toThrow(/out of its range/);
  });

  test('floats print as Java prints a float (0.1, not 0.10000000149011612); NaN and the infinities as strings', () => {
    expect(roundTrip(type, { f: 0.1, d: 'NaN' })).toMatchObject({ f: 0.1, d: 'NaN' });
    expect(roundTrip(type, { f: '-Infinity', d: 1e300 })).toMatchObject({ f: '-Infinity', d: 1e300 });
    expect(() => protobufFromJson(type, { f: 1e39 }, 'data')).toThrow(/must be a float, and 1e\+39 is out of its range/);
  });

  test('32-bit integers take numbers or integral strings, in range', () => {
    expect(roundTrip(type, { i32: '-7', u32: 4294967295 })).toMatchObject({ i32: -7, u32: 4294967295 });
    expect(() => protobufFromJson(type, { i32: 1.5 }, 'data')).toThrow(/'data\.i32' must be an integer \(int32\), not number 1\.5/);
    expect(() => protobufFromJson(type, { u32: -1 }, 'data')).toThrow(/unsigned 32-bit/);
  });

  test('bytes are base64 (URL-safe and unpadded taken); strings take any JSON primitive; bools take "true"', () => {
    expect(roundTrip(type, { raw: '-_8', s: 12, b: 'true' })).toMatchObject({ raw: '+/8=', s: '12', b: true });
    expect(() => protobufFromJson(type, { raw: 'not base64!' }, 'data')).toThrow(/must be base64/);
    expect(() => protobufFromJson(type, { s: {} }, 'data')).toThrow(/must be a string, not an object/);
  });

  test('every unset scalar prints its default', () => {
    expect(roundTrip(type, {})).toEqual({ i32: 0, u32: 0, i64: '0', u64: '0', s64: '0', f64: '0', f: 0, d: 0, b: false, raw: '', s: '' });
  });
});

describe('enums, repeated fields, maps, oneofs, nested and proto2 messages', () => {
  const type = messageOf(`syntax = "proto3"; message C {
    enum Kind { UNKNOWN = 0; BIG = 1; }
    Kind kind = 1; repeated Kind kinds = 2; map<int64, string> by_id = 3; map<bool, int32> flags = 4;
    oneof choice { string name = 5; C child = 6; } C next = 7; optional int32 maybe = 8; }`);

  test('enums by name or number, printed by name; maps keyed by integers and bools; a recursive message', () => {
    const out = roundTrip(type, { kind: 1, kinds: ['BIG', 0], byId: { '-9007199254740993': 'x' }, flags: { true: 1 }, child: { name: 'c' }, next: { kind: 'BIG' } });
    expect(out).toEqual({
      kind: 'BIG',
      kinds: ['BIG', 'UNKNOWN'],
      byId: { '-9007199254740993': 'x' },
      flags: { true: 1 },
      child: { kind: 'UNKNOWN', kinds: [], byId: {}, flags: {}, name: 'c' },
      next: { kind: 'BIG', kinds: [], byId: {}, flags: {} },
    });
  });

  test('unset message fields, oneof members and proto3 optional fields are left out; set ones print even at their default', () => {
    expect(roundTrip(type, {})).toEqual({ kind: 'UNKNOWN', kinds: [], byId: {}, flags: {} });
    expect(roundTrip(type, { maybe: 0, name: '' })).toEqual({ kind: 'UNKNOWN', kinds: [], byId: {}, flags: {}, maybe: 0, name: '' });
  });

  test('refusals name the field: an unknown enum name, two oneof members, a non-array, a bad map key, null in a list', () => {
    const cases: [unknown, RegExp][] = [
      [{ kind: 'HUGE' }, /'data\.kind' must be one of UNKNOWN, BIG/],
      [{ name: 'a', child: {} }, /'data\.child' cannot be set: field name of the same oneof choice is already set/],
      [{ kinds: 'BIG' }, /'data\.kinds' must be an array/],
      [{ byId: { x: 'y' } }, /'data\.byId\.x' must be an integer \(int64\)/],
      [{ flags: { yes: 1 } }, /'data\.flags\.yes' must be a bool map key/],
      [{ kinds: [null] }, /'data\.kinds\[0\]' must not be null/],
      [{ next: { nope: 1 } }, /'data\.next\.nope' is not a field of message C/],
    ];
    for (const [data, message] of cases) expect(() => protobufFromJson(type, data, 'data')).toThrow(message);
  });

  test('null leaves a field unset', () => {
    expect(roundTrip(type, { kind: null, next: null, kinds: null })).toEqual({ kind: 'UNKNOWN', kinds: [], byId: {}, flags: {} });
  });

  test('proto2: a missing required field is refused; an unset optional prints its declared default', () => {
    const p2 = messageOf('syntax = "proto2"; message P { required string id = 1; optional int32 n = 2 [default = 5]; }');
    expect(() => protobufFromJson(p2, { n: 1 }, 'data')).toThrow(/'data\.id' is required \(message P\)/);
    expect(roundTrip(p2, { id: 'x' })).toEqual({ id: 'x', n: 5 });
  });
});

describe('well-known types', () => {
  const type = messageOf(`syntax = "proto3"; package w;
    import "google/protobuf/timestamp.proto"; import "google/protobuf/duration.proto"; import "google/protobuf/wrappers.proto";
    import "google/protobuf/struct.proto"; import "google/protobuf/field_mask.proto"; import "google/protobuf/any.proto"; import "google/protobuf/empty.proto";
    message W {
      google.protobuf.Timestamp at = 1; google.protobuf.Duration took = 2; google.protobuf.Int64Value big = 3; google.protobuf.StringValue label = 4;
      google.protobuf.Struct meta = 5; google.protobuf.Value any_json = 6; google.protobuf.ListValue list = 7; google.protobuf.FieldMask mask = 8;
      google.protobuf.Any packed = 9; google.protobuf.Empty nothing = 10; }
    message Inner { string note_text = 1; }`);

  test('each in its own JSON form, both ways', () => {
    const data = {
      at: '1999-12-31T23:59:59.5+01:00',
      took: '-1.000000001s',
      big: '9007199254740993',
      label: '',
      meta: { a: [1, 'two', null, { b: false }] },
      anyJson: null,
      list: [1, [2]],
      mask: 'noteText,a.bC',
      packed: { '@type': 'type.googleapis.com/w.Inner', noteText: 'hi' },
      nothing: {},
    };
    expect(roundTrip(type, data)).toEqual({
      at: '1999-12-31T22:59:59.500Z',
      took: '-1.000000001s',
      big: '9007199254740993',
      label: '',
      meta: { a: [1, 'two', null, { b: false }] },
      anyJson: null,
      list: [1, [2]],
      mask: 'noteText,a.bC',
      packed: { '@type': 'type.googleapis.com/w.Inner', noteText: 'hi' },
      nothing: {},
    });
  });

  test('an Any of a well-known type carries its JSON under "value"; timestamps keep 0, 3, 6 or 9 fractional digits', () => {
    const data = { packed: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '3s' }, at: '0001-01-01T00:00:00.000001Z' };
    expect(roundTrip(type, data)).toMatchObject({ packed: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '3s' }, at: '0001-01-01T00:00:00.000001Z' });
  });

  test('malformed values are refused with the field named', () => {
    for (const at of ['2024-13-01', '2024-02-30T00:00:00Z', '2024-01-01T24:00:00Z']) expect(() => protobufFromJson(type, { at }, 'data')).toThrow(/'data\.at' must be an RFC 3339 timestamp/);
    expect(() => protobufFromJson(type, { took: '5m' }, 'data')).toThrow(/'data\.took' must be a duration/);
    expect(() => protobufFromJson(type, { packed: { '@type': 'type.googleapis.com/x.Nope' } }, 'data')).toThrow(/'data\.packed\.@type' names type 'type\.googleapis\.com\/x\.Nope', which the schema does not define/);
  });
});
