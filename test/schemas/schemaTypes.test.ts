/**
 * JSON Schema and Protobuf through the registry's HTTP API and on the produce
 * path, as Confluent's registry and Confluent Server take them. How: a real
 * local Strand; schemas are registered over HTTP, values are framed by the
 * test itself (magic byte 0, 4-byte id, then the JSON text, or the message
 * indexes and the protobuf bytes) and produced as BINARY to topics with
 * `confluent.value.schema.validation=true`.
 */
import * as protobuf from 'protobufjs';
import { expectError, expectStatus, highWatermark } from '../support/api';
import { createTopic, topicPath, startTestStrand, type TestStrand } from '../support/localStrand';
import { expectIncompatible, registryRequest, setCompatibility } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const req = (method: string, path: string, body?: unknown) => registryRequest(strand.http, method, path, body);

async function registerTyped(subject: string, schema: string, schemaType: string, references?: unknown): Promise<number> {
  const res = await req('POST', `/subjects/${subject}/versions`, { schema, schemaType, ...(references ? { references } : {}) });
  expectStatus(res, 200);
  return res.json.id as number;
}

const person = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } }, required: ['name'] };
const personProto = `syntax = "proto3";
package com.example;
message Person {
  string name = 1;
  int32 age = 2;
  message Pet { string name = 1; }
}
message Company { string name = 1; }
`;

function wire(id: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, payload]);
}

const produceBinary = (topic: string, bytes: Buffer) =>
  strand.http.post(`${topicPath(topic)}/records`, { value: { type: 'BINARY', data: bytes.toString('base64') } });

describe('JSON Schema in the registry', () => {
  test('registered with schemaType JSON, returned with it, found again when written in another key order and spacing', async () => {
    const id = await registerTyped('json-person', JSON.stringify(person), 'JSON');
    const got = await req('GET', `/schemas/ids/${id}`);
    expect(got.json.schemaType).toBe('JSON');
    expect(JSON.parse(got.json.schema)).toEqual(person);
    expect((await req('GET', `/schemas/ids/${id}/schema`)).json).toEqual(person);
    const reordered = `{"required": ["name"],\n  "properties": {"age": {"minimum": 0, "type": "integer"}, "name": {"type": "string"}}, "type": "object"}`;
    const found = await req('POST', '/subjects/json-person', { schema: reordered, schemaType: 'JSON' });
    expectStatus(found, 200);
    expect(found.json).toMatchObject({ subject: 'json-person', version: 1, id, schemaType: 'JSON' });
    expect(await registerTyped('json-person', reordered, 'JSON')).toBe(id);
    // Without schemaType the text is read as Avro, where it is no valid schema.
    expectError(await req('POST', '/subjects/json-person', { schema: JSON.stringify(person) }), 42201);
  });

  test('compatibility follows the subject level: a required property added is refused under BACKWARD', async () => {
    await registerTyped('json-compat', JSON.stringify(person), 'JSON');
    const stricter = { ...person, required: ['name', 'age'] };
    expectIncompatible(await req('POST', '/subjects/json-compat/versions', { schema: JSON.stringify(stricter), schemaType: 'JSON' }));
    const verbose = await req('POST', '/compatibility/subjects/json-compat/versions/latest?verbose=true', { schema: JSON.stringify(stricter), schemaType: 'JSON' });
    expect(verbose.json.is_compatible).toBe(false);
    expect(verbose.json.messages.join(' ')).toMatch(/required property 'age' added/);
    await setCompatibility(strand.http, 'json-compat', 'FORWARD');
    expectStatus(await req('POST', '/subjects/json-compat/versions', { schema: JSON.stringify(stricter), schemaType: 'JSON' }), 200);
  });

  test('a schema of another type than the latest version is incompatible', async () => {
    await registerTyped('mixed-types', JSON.stringify(person), 'JSON');
    expectIncompatible(await req('POST', '/subjects/mixed-types/versions', { schema: personProto, schemaType: 'PROTOBUF' }));
  });
});

describe('Protobuf in the registry', () => {
  test('registered with schemaType PROTOBUF, returned as canonical .proto text, found again whatever its whitespace and comments', async () => {
    const id = await registerTyped('proto-person', personProto, 'PROTOBUF');
    const got = await req('GET', `/subjects/proto-person/versions/latest`);
    expect(got.json).toMatchObject({ id, schemaType: 'PROTOBUF' });
    expect(got.json.schema).toMatch(/^syntax = "proto3";\npackage com\.example;\nmessage Person \{\n {2}string name = 1;/);
    expect((await req('GET', `/schemas/ids/${id}/schema`)).json).toBe(got.json.schema);
    const respaced = `// people\n${personProto.replace(/\n/g, '\n\n    ')}`;
    expect((await req('POST', '/subjects/proto-person', { schema: respaced, schemaType: 'PROTOBUF' })).json).toMatchObject({ id, version: 1 });
  });

  test("compatibility follows Confluent's rules: a field's type changed across wire groups is refused, a field added is not", async () => {
    await registerTyped('proto-compat', personProto, 'PROTOBUF');
    expectIncompatible(await req('POST', '/subjects/proto-compat/versions', { schema: personProto.replace('int32 age', 'string age'), schemaType: 'PROTOBUF' }));
    expectStatus(await req('POST', '/subjects/proto-compat/versions', { schema: personProto.replace('int32 age = 2;', 'int32 age = 2; string email = 3;'), schemaType: 'PROTOBUF' }), 200);
  });

  test('an unsupported schema type is 42201', async () => {
    expectError(await req('POST', '/subjects/xml/versions', { schema: '<a/>', schemaType: 'XML' }), 42201);
  });
});

describe('broker-side validation of JSON Schema and Protobuf values', () => {
  let jsonId: number;
  let protoId: number;
  beforeAll(async () => {
    await createTopic(strand.http, 'people-json', 1, { 'confluent.value.schema.validation': 'true' });
    await createTopic(strand.http, 'people-proto', 1, { 'confluent.value.schema.validation': 'true' });
    jsonId = await registerTyped('people-json-value', JSON.stringify(person), 'JSON');
    protoId = await registerTyped('people-proto-value', personProto, 'PROTOBUF');
  });

  test('a JSON value the schema validates is accepted; invalid JSON, or JSON the schema refuses, is refused as Avro values are', async () => {
    expectStatus(await produceBinary('people-json', wire(jsonId, Buffer.from(JSON.stringify({ name: 'Ada', age: 36 })))), 200);
    const before = await highWatermark(strand.http, 'people-json');
    const refusals: [Buffer, RegExp][] = [
      [wire(jsonId, Buffer.from(JSON.stringify({ age: 36 }))), /required property 'name'/],
      [wire(jsonId, Buffer.from(JSON.stringify({ name: 'Ada', age: -1 }))), /'\/age' must be >= 0/],
      [wire(jsonId, Buffer.from('{"name": ')), /not JSON/],
      [wire(jsonId, Buffer.from([0xff, 0xfe])), /not UTF-8/],
      [wire(jsonId, Buffer.from('['.repeat(200))), /nested more than 100 levels/],
    ];
    for (const [bytes, why] of refusals) {
      const res = await produceBinary('people-json', bytes);
      expectError(res, 40002);
      expect(res.json.message).toMatch(new RegExp(`the value does not decode with schema id ${jsonId}`));
      expect(res.json.message).toMatch(why);
      expect(res.json.message).toMatch(/confluent\.value\.schema\.validation=true/);
    }
    expect(await highWatermark(strand.http, 'people-json')).toBe(before);
  });

  test('a Protobuf value decodes as the message its indexes name; bad indexes or bytes are refused', async () => {
    const root = protobuf.parse(personProto).root;
    const Person = root.lookupType('com.example.Person');
    const Pet = root.lookupType('com.example.Person.Pet');
    const personBytes = Buffer.from(Person.encode(Person.fromObject({ name: 'Ada', age: 36 })).finish());
    const petBytes = Buffer.from(Pet.encode(Pet.fromObject({ name: 'Rex' })).finish());
    expectStatus(await produceBinary('people-proto', wire(protoId, Buffer.concat([Buffer.from([0]), personBytes]))), 200);
    // [0, 0]: Person.Pet, the first message nested in the first message.
    expectStatus(await produceBinary('people-proto', wire(protoId, Buffer.concat([Buffer.from([4, 0, 0]), petBytes]))), 200);
    const before = await highWatermark(strand.http, 'people-proto');
    const refusals: [Buffer, RegExp][] = [
      [Buffer.concat([Buffer.from([2, 4]), personBytes]), /message indexes \[2\] names message index 2 at depth 0, but there are 2 messages there/],
      [Buffer.concat([Buffer.from([0]), personBytes.subarray(0, personBytes.length - 1)]), /as com\.example\.Person: /],
      [Buffer.from([0x80]), /no readable message indexes/],
    ];
    for (const [payload, why] of refusals) {
      const res = await produceBinary('people-proto', wire(protoId, payload));
      expectError(res, 40002);
      expect(res.json.message).toMatch(new RegExp(`the value does not decode with schema id ${protoId}`));
      expect(res.json.message).toMatch(why);
    }
    expect(await highWatermark(strand.http, 'people-proto')).toBe(before);
  });

  test('produce with data encodes with a JSON Schema id too (test/schemas/produceTypes.test.ts has the rest); type AVRO with it is refused', async () => {
    const res = await strand.http.post(`${topicPath('people-json')}/records`, { value: { schema_id: jsonId, data: { name: 'Ada' } } });
    expectStatus(res, 200);
    expect(res.json.value).toEqual({ type: 'JSONSCHEMA', size: expect.any(Number), schema_id: jsonId });
    const mismatch = await strand.http.post(`${topicPath('people-json')}/records`, { value: { type: 'AVRO', schema_id: jsonId, data: { name: 'Ada' } } });
    expectError(mismatch, 40002);
    expect(mismatch.json.message).toMatch(/is AVRO, but schema id \d+ is a JSONSCHEMA schema/);
  });
});
