/**
 * The real `@kafkajs/confluent-schema-registry` client against a local Strand,
 * for Avro, JSON Schema and Protobuf: register, look the schema up again when
 * written in another form (keys in another order, other whitespace, comments),
 * encode, produce the bytes to a topic that validates them, fetch them back
 * and decode. How: the client is pointed at Strand's URL unchanged, as its
 * users point it at Confluent's registry; the fetched bytes are read with
 * `embedded_format=binary`.
 *
 * One difference is the client's, not Strand's: its Protobuf encoder writes no
 * message indexes (magic byte, id, then the message), which Confluent's
 * deserializers and broker-side validation do not read as Confluent's framing.
 * The test adds the index byte `0` (the first message) before producing to a
 * validating topic; the client's decoder skips it.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { expectError, expectStatus } from '../support/api';
import { createTopic, topicPath, startTestStrand, type TestStrand } from '../support/localStrand';

let strand: TestStrand;
let registry: SchemaRegistry;
beforeAll(async () => {
  strand = await startTestStrand();
  registry = new SchemaRegistry({ host: strand.url });
});
afterAll(() => strand.dispose());

async function produceAndFetch(topic: string, value: Buffer): Promise<Buffer> {
  const res = await strand.http.post(`${topicPath(topic)}/records`, { value: { type: 'BINARY', data: value.toString('base64') } });
  expectStatus(res, 200);
  const fetched = await strand.http.get(`${topicPath(topic)}/partitions/0/records?offset=${res.json.offset}&embedded_format=binary`);
  expectStatus(fetched, 200);
  return Buffer.from(fetched.json.records[0].value.data, 'base64');
}

async function validatingTopic(name: string): Promise<void> {
  await createTopic(strand.http, name, 1, { 'confluent.value.schema.validation': 'true' });
}

describe('@kafkajs/confluent-schema-registry against Strand', () => {
  test('Avro: register, look up the same schema in another key order and spacing, encode, produce, fetch, decode', async () => {
    await validatingTopic('kjs-avro');
    const schema = { type: 'record', name: 'User', namespace: 'com.example', fields: [{ name: 'id', type: 'int' }, { name: 'name', type: 'string' }] };
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: 'kjs-avro-value' });
    const reordered = `{"fields": [{"type": "int", "name": "id"}, {"type": "string", "name": "name"}],\n "namespace": "com.example", "name": "User", "type": "record"}`;
    expect(await registry.getRegistryIdBySchema('kjs-avro-value', { type: SchemaType.AVRO, schema: reordered })).toBe(id);
    expect(await registry.getLatestSchemaId('kjs-avro-value')).toBe(id);
    const value = await registry.encode(id, { id: 1, name: 'Ada' });
    expect(await registry.decode(await produceAndFetch('kjs-avro', value))).toEqual({ id: 1, name: 'Ada' });
  });

  test('JSON Schema: register, look up in another form, encode, produce (validated by Strand), fetch, decode', async () => {
    await validatingTopic('kjs-json');
    const schema = { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } }, required: ['id'] };
    const { id } = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(schema) }, { subject: 'kjs-json-value' });
    const reordered = `{ "required": ["id"], "type": "object",\n  "properties": { "name": {"type": "string"}, "id": {"type": "integer"} } }`;
    expect(await registry.getRegistryIdBySchema('kjs-json-value', { type: SchemaType.JSON, schema: reordered })).toBe(id);
    const value = await registry.encode(id, { id: 2, name: 'Grace' });
    expect(await registry.decode(await produceAndFetch('kjs-json', value))).toEqual({ id: 2, name: 'Grace' });
    // What the client would refuse to encode, Strand refuses to store.
    const invalid = Buffer.concat([value.subarray(0, 5), Buffer.from('{"name": "no id"}')]);
    expectError(await strand.http.post(`${topicPath('kjs-json')}/records`, { value: { type: 'BINARY', data: invalid.toString('base64') } }), 40002);
  });

  test('Protobuf: register, look up with other whitespace and comments, encode, produce with the index byte, fetch, decode', async () => {
    await validatingTopic('kjs-proto');
    const schema = 'syntax = "proto3";\npackage com.example;\n\nmessage User {\n  int32 id = 1;\n  string name = 2;\n}\n';
    const { id } = await registry.register({ type: SchemaType.PROTOBUF, schema }, { subject: 'kjs-proto-value' });
    const respaced = '// users\nsyntax="proto3"; package com.example; message User { int32 id=1; /* the name */ string name=2; }';
    expect(await registry.getRegistryIdBySchema('kjs-proto-value', { type: SchemaType.PROTOBUF, schema: respaced })).toBe(id);
    const encoded = await registry.encode(id, { id: 3, name: 'Linus' });
    const framed = Buffer.concat([encoded.subarray(0, 5), Buffer.from([0]), encoded.subarray(5)]);
    const decoded = (await registry.decode(await produceAndFetch('kjs-proto', framed))) as { toJSON(): unknown };
    expect(decoded.toJSON()).toEqual({ id: 3, name: 'Linus' });
  });

  test('references through the client: an Avro schema naming a type from a referenced subject', async () => {
    const address = { type: 'record', name: 'Address', namespace: 'com.example', fields: [{ name: 'zip', type: 'string' }] };
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(address) }, { subject: 'kjs-address' });
    const customer = { type: 'record', name: 'Customer', namespace: 'com.example', fields: [{ name: 'home', type: 'com.example.Address' }] };
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(customer), references: [{ name: 'com.example.Address', subject: 'kjs-address', version: 1 }] },
      { subject: 'kjs-customer' },
    );
    const value = await registry.encode(id, { home: { zip: '12345' } });
    // A fresh client finds the schema and its reference from the registry alone.
    expect(await new SchemaRegistry({ host: strand.url }).decode(value)).toEqual({ home: { zip: '12345' } });
  });
});
