import fc from 'fast-check';
import { canonicalAvroText } from './avroCanonical';

/** The same JSON with every object's keys in a shuffled order. */
function shuffleKeys(v: unknown, pick: (n: number) => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, pick));
  if (v === null || typeof v !== 'object') return v;
  const keys = Object.keys(v);
  const out: Record<string, unknown> = {};
  while (keys.length > 0) {
    const [k] = keys.splice(pick(keys.length), 1);
    out[k!] = shuffleKeys((v as Record<string, unknown>)[k!], pick);
  }
  return out;
}

const user = {
  type: 'record',
  name: 'User',
  namespace: 'com.example',
  doc: 'a user',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'created', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'address', type: ['null', { type: 'record', name: 'Address', fields: [{ name: 'zip', type: 'string' }] }], default: null },
    { name: 'previous', type: ['null', 'Address'], default: null },
    { name: 'meta', type: { type: 'map', values: { type: 'string' } }, default: { b: '2', a: '1' } },
  ],
};

describe("an Avro schema's identity is the parsed schema, not its text", () => {
  test('keys in any order make one canonical form (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 64, maxLength: 64 }), (choices) => {
        let i = 0;
        const pick = (n: number) => choices[i++ % choices.length]! % n;
        expect(canonicalAvroText(shuffleKeys(user, pick))).toBe(canonicalAvroText(user));
      }),
    );
  });

  test('{"type":"int"} is "int", also inside fields, unions, arrays and maps', () => {
    expect(canonicalAvroText({ type: 'int' })).toBe(canonicalAvroText('int'));
    const a = { type: 'record', name: 'R', fields: [{ name: 'x', type: { type: 'string' } }, { name: 'u', type: ['null', { type: 'long' }] }] };
    const b = { type: 'record', name: 'R', fields: [{ name: 'x', type: 'string' }, { name: 'u', type: ['null', 'long'] }] };
    expect(canonicalAvroText(a)).toBe(canonicalAvroText(b));
  });

  test('a full name and a name with a namespace are one name; references by short or full name are one reference', () => {
    const full = { type: 'record', name: 'x.y.W', fields: [{ name: 'next', type: ['null', 'x.y.W'] }] };
    const split = { type: 'record', name: 'W', namespace: 'x.y', fields: [{ name: 'next', type: ['null', 'W'] }] };
    expect(canonicalAvroText(full)).toBe(canonicalAvroText(split));
    expect(JSON.parse(canonicalAvroText(full))).toEqual({ type: 'record', name: 'W', namespace: 'x.y', fields: [{ name: 'next', type: ['null', 'W'] }] });
  });

  test("it is written as Java's Schema.toString() writes it (Confluent's canonical string)", () => {
    expect(canonicalAvroText({ fields: [{ type: 'int', name: 'id' }], namespace: 'com.example', name: 'User', type: 'record' })).toBe(
      '{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"id","type":"int"}]}',
    );
  });

  test.each([
    ['a default', { ...user, fields: [{ name: 'id', type: 'int', default: 1 }] }, { ...user, fields: [{ name: 'id', type: 'int', default: 2 }] }],
    ['a logical type', { type: 'long', logicalType: 'timestamp-millis' }, 'long'],
    ['a doc', { ...user, doc: 'one' }, { ...user, doc: 'two' }],
    ['field order', { type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }, { name: 'b', type: 'int' }] }, { type: 'record', name: 'R', fields: [{ name: 'b', type: 'int' }, { name: 'a', type: 'int' }] }],
    ['a namespace', { type: 'record', name: 'R', namespace: 'a', fields: [] }, { type: 'record', name: 'R', namespace: 'b', fields: [] }],
  ])('schemas differing in %s stay different', (_what, a, b) => {
    expect(canonicalAvroText(a)).not.toBe(canonicalAvroText(b));
  });
});
