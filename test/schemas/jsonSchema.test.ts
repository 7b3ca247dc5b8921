/**
 * JSON Schema without a server: parsing (dialects, identity), validating
 * values, and compatibility. How: each compatibility case is a pair (an
 * earlier schema, a change to it) with the verdict Confluent's rules give for
 * BACKWARD (the change reads the earlier schema's documents) and FORWARD (the
 * earlier schema reads the change's documents); the rule under test is named
 * in the case.
 */
import { readProblems } from '../../src/schemas/compatibility';
import { jsonSchemaProblem } from '../../src/schemas/jsonSchema';
import { parseSchema, type ParsedSchema } from '../../src/schemas/schemaTypes';
import type { ResolvedReference } from '../../src/schemas/references';

const parse = (schema: unknown, resolved: ResolvedReference[] = []) =>
  parseSchema(JSON.stringify(schema), 'JSON', resolved.map(({ name, subject, version }) => ({ name, subject, version })), resolved);

function jsonOf(p: ParsedSchema) {
  if (p.schemaType !== 'JSON') throw new Error('not JSON');
  return p.json;
}

const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, ...extra });

describe('parsing JSON Schema', () => {
  test('key order and whitespace do not make another schema', () => {
    const a = parse({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } });
    const b = parseSchema(`{ "properties": {"b": {"type":"integer"},\n "a": {"type": "string"}}, "type": "object" }`, 'JSON');
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.canonical).toBe(a.canonical);
    expect(parse(obj({ a: { type: 'number' } })).fingerprint).not.toBe(a.fingerprint);
  });

  test('the same text as Avro and as JSON Schema are two schemas', () => {
    expect(parseSchema('"string"', 'AVRO').fingerprint).not.toBe(parseSchema('true', 'JSON').fingerprint);
  });

  test('draft-07 (also without $schema), draft-06, 2019-09 and 2020-12 are taken; draft-04 and invalid schemas are 42201', () => {
    for (const $schema of ['http://json-schema.org/draft-07/schema#', 'http://json-schema.org/draft-06/schema#', 'https://json-schema.org/draft/2019-09/schema', 'https://json-schema.org/draft/2020-12/schema']) {
      expect(parse({ $schema, type: 'string' }).schemaType).toBe('JSON');
    }
    expect(() => parse({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'string' })).toThrow(expect.objectContaining({ registryCode: 42201 }));
    expect(() => parse({ type: 'nope' })).toThrow(expect.objectContaining({ registryCode: 42201 }));
    expect(() => parseSchema('[1]', 'JSON')).toThrow(expect.objectContaining({ registryCode: 42201 }));
    expect(() => parseSchema('{"type": ', 'JSON')).toThrow(expect.objectContaining({ registryCode: 42201 }));
  });

  test('unknown keywords are allowed and format is not checked', () => {
    const p = jsonOf(parse(obj({ e: { type: 'string', format: 'email', 'connect.index': 1 } })));
    expect(jsonSchemaProblem(p, { e: 'not an email' })).toBeUndefined();
  });

  test('a $ref to a reference name finds the referenced schema, also against the schema $id', () => {
    const address = { type: 'object', properties: { zip: { type: 'integer' } }, required: ['zip'] };
    const ref: ResolvedReference = { name: 'address.json', subject: 'address', version: 1, schema: JSON.stringify(address), schemaType: 'JSON' };
    const plain = jsonOf(parse(obj({ home: { $ref: 'address.json' } }), [ref]));
    expect(jsonSchemaProblem(plain, { home: { zip: 1 } })).toBeUndefined();
    expect(jsonSchemaProblem(plain, { home: { zip: 'x' } })).toMatch(/'\/home\/zip' must be integer/);
    const withId = jsonOf(parse({ $id: 'https://example.com/schemas/order.json', ...obj({ home: { $ref: 'address.json' } }) }, [ref]));
    expect(jsonSchemaProblem(withId, { home: {} })).toMatch(/required property 'zip'/);
    expect(() => parse(obj({ home: { $ref: 'missing.json' } }))).toThrow(expect.objectContaining({ registryCode: 42201 }));
  });
});

describe('validating JSON values', () => {
  test('a value is checked against types, required properties and closed content models', () => {
    const p = jsonOf(parse(obj({ id: { type: 'integer' }, name: { type: 'string' } }, { required: ['id'], additionalProperties: false })));
    expect(jsonSchemaProblem(p, { id: 1, name: 'a' })).toBeUndefined();
    expect(jsonSchemaProblem(p, { name: 'a' })).toMatch(/required property 'id'/);
    expect(jsonSchemaProblem(p, { id: 1.5 })).toMatch(/'\/id' must be integer/);
    expect(jsonSchemaProblem(p, { id: 1, extra: true })).toMatch(/additional properties/);
  });
});

/** [rule, earlier schema, changed schema, BACKWARD compatible, FORWARD compatible] */
const cases: [string, unknown, unknown, boolean, boolean][] = [
  ['an untyped property added to an open content model is compatible both ways', obj({ a: { type: 'string' } }), obj({ a: { type: 'string' }, b: {} }), true, true],
  ['a typed property added to an open content model is incompatible BACKWARD (old documents may carry it with any value)', obj({ a: { type: 'string' } }), obj({ a: { type: 'string' }, b: { type: 'integer' } }), false, true],
  ['an optional property added to a closed content model is BACKWARD compatible, not FORWARD', obj({ a: { type: 'string' } }, { additionalProperties: false }), obj({ a: { type: 'string' }, b: { type: 'integer' } }, { additionalProperties: false }), true, false],
  ['a property removed from a closed content model is FORWARD compatible, not BACKWARD', obj({ a: { type: 'string' }, b: { type: 'integer' } }, { additionalProperties: false }), obj({ a: { type: 'string' } }, { additionalProperties: false }), false, true],
  ['a required property added is incompatible BACKWARD', obj({ a: { type: 'string' } }, { required: [] }), obj({ a: { type: 'string' } }, { required: ['a'] }), false, true],
  ['a required property added with a default is compatible', obj({ a: { type: 'string' } }), obj({ a: { type: 'string', default: '' } }, { required: ['a'] }), true, true],
  ['a required property removed is incompatible FORWARD', obj({ a: { type: 'string' } }, { required: ['a'] }), obj({ a: { type: 'string' } }), true, false],
  ['a type changed is incompatible both ways', obj({ a: { type: 'string' } }), obj({ a: { type: 'boolean' } }), false, false],
  ['integer widened to number is BACKWARD compatible only', obj({ a: { type: 'integer' } }), obj({ a: { type: 'number' } }), true, false],
  ['a maxLength added narrows', obj({ a: { type: 'string' } }), obj({ a: { type: 'string', maxLength: 5 } }), false, true],
  ['a minimum raised narrows', obj({ a: { type: 'integer', minimum: 0 } }), obj({ a: { type: 'integer', minimum: 10 } }), false, true],
  ['an enum value added widens', { type: 'string', enum: ['A', 'B'] }, { type: 'string', enum: ['A', 'B', 'C'] }, true, false],
  ['the content model closed narrows', obj({ a: { type: 'string' } }), obj({ a: { type: 'string' } }, { additionalProperties: false }), false, true],
  ['array items narrowed', { type: 'array', items: { type: 'number' } }, { type: 'array', items: { type: 'integer' } }, false, true],
  ['a oneOf branch added widens', { oneOf: [{ type: 'string' }, { type: 'integer' }] }, { oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'boolean' }] }, true, false],
  ['a change inside $defs followed through $ref', { $defs: { n: { type: 'integer' } }, ...obj({ a: { $ref: '#/$defs/n' } }) }, { $defs: { n: { type: 'string' } }, ...obj({ a: { $ref: '#/$defs/n' } }) }, false, false],
  ['a recursive schema compared with itself ends, compatible', { $defs: { node: obj({ next: { $ref: '#/$defs/node' } }) }, $ref: '#/$defs/node' }, { $defs: { node: obj({ next: { $ref: '#/$defs/node' } }) }, $ref: '#/$defs/node' }, true, true],
];

describe('JSON Schema compatibility', () => {
  test.each(cases)('%s', (_rule, earlier, changed, backward, forward) => {
    const before = parse(earlier);
    const after = parse(changed);
    expect(readProblems(after, before).length === 0).toBe(backward);
    expect(readProblems(before, after).length === 0).toBe(forward);
  });

  test('a problem says where and what: the path and the rule', () => {
    const problems = readProblems(parse(obj({ a: { type: 'string' } }, { required: ['a'] })), parse(obj({ a: { type: 'string' } })));
    expect(problems).toEqual(["#: required property 'a' added"]);
  });

  test('a JSON schema against an Avro version is incompatible', () => {
    expect(readProblems(parse(true), parseSchema('"string"', 'AVRO'))).toEqual(['the schema type changed (AVRO → JSON)']);
  });
});
