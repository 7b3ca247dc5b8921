/**
 * Schema references, as Confluent's registry has them: a schema names other
 * registered schemas `{name, subject, version}` and is parsed with them in
 * scope; the referenced versions know who references them (`referencedby`)
 * and cannot be deleted while they do (42206). How: a real local Strand, one
 * referenced schema and one referring schema per type; deletes are tried
 * before and after the referrer is soft-deleted.
 */
import * as protobuf from 'protobufjs';
import { expectError, expectStatus } from '../support/api';
import { createTopic, topicPath, startTestStrand, type TestStrand } from '../support/localStrand';
import { registryRequest } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const req = (method: string, path: string, body?: unknown) => registryRequest(strand.http, method, path, body);

async function registerBody(subject: string, body: Record<string, unknown>): Promise<number> {
  const res = await req('POST', `/subjects/${subject}/versions`, body);
  expectStatus(res, 200);
  return res.json.id as number;
}

const address = { type: 'record', name: 'Address', namespace: 'com.example', fields: [{ name: 'zip', type: 'string' }] };
const customer = { type: 'record', name: 'Customer', namespace: 'com.example', fields: [{ name: 'home', type: 'com.example.Address' }] };

describe('references are resolved when parsing', () => {
  test('Avro: a named type from the referenced schema; the references are stored and returned with the schema', async () => {
    await registerBody('ref-address', { schema: JSON.stringify(address) });
    const references = [{ name: 'com.example.Address', subject: 'ref-address', version: 1 }];
    const id = await registerBody('ref-customer', { schema: JSON.stringify(customer), references });
    // Stored in canonical form, where a type in the record's own namespace is named short, as Java writes it.
    const canonical = { ...customer, fields: [{ name: 'home', type: 'Address' }] };
    expect((await req('GET', `/schemas/ids/${id}`)).json).toEqual({ schema: JSON.stringify(canonical), references });
    expect((await req('GET', '/subjects/ref-customer/versions/1')).json).toMatchObject({ id, references });
    // Lookup needs the same references: they are part of the schema's identity.
    expect((await req('POST', '/subjects/ref-customer', { schema: JSON.stringify(customer), references })).json).toMatchObject({ id, version: 1 });
    expectError(await req('POST', '/subjects/ref-customer', { schema: JSON.stringify(customer) }), 42201);
  });

  test('version -1 is pinned to the latest version when registered', async () => {
    await registerBody('pin-address', { schema: JSON.stringify({ ...address, name: 'Pinned' }) });
    const pinned = { type: 'record', name: 'UsesPinned', fields: [{ name: 'p', type: 'com.example.Pinned' }] };
    const id = await registerBody('pin-user', { schema: JSON.stringify(pinned), references: [{ name: 'Pinned', subject: 'pin-address', version: -1 }] });
    expect((await req('GET', `/schemas/ids/${id}`)).json.references).toEqual([{ name: 'Pinned', subject: 'pin-address', version: 1 }]);
  });

  test('JSON Schema: a $ref to the reference name', async () => {
    const addressJson = { type: 'object', properties: { zip: { type: 'string' } }, required: ['zip'] };
    await registerBody('ref-address-json', { schema: JSON.stringify(addressJson), schemaType: 'JSON' });
    const customerJson = { type: 'object', properties: { home: { $ref: 'address.json' } }, required: ['home'] };
    const references = [{ name: 'address.json', subject: 'ref-address-json', version: 1 }];
    const id = await registerBody('ref-customer-json', { schema: JSON.stringify(customerJson), schemaType: 'JSON', references });
    await createTopic(strand.http, 'ref-customer-json', 1, { 'confluent.value.schema.validation': 'true' });
    // The topic validates against the subject <topic>-value: register the same schema there.
    expect(await registerBody('ref-customer-json-value', { schema: JSON.stringify(customerJson), schemaType: 'JSON', references })).toBe(id);
    const produce = (value: unknown) => {
      const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), Buffer.from(JSON.stringify(value))]);
      bytes.writeUInt32BE(id, 1);
      return strand.http.post(`${topicPath('ref-customer-json')}/records`, { value: { type: 'BINARY', data: bytes.toString('base64') } });
    };
    expectStatus(await produce({ home: { zip: '12345' } }), 200);
    const refused = await produce({ home: {} });
    expectError(refused, 40002);
    expect(refused.json.message).toMatch(/required property 'zip'/);
  });

  test('Protobuf: import "<reference name>"', async () => {
    const addressProto = 'syntax = "proto3"; package com.example.common; message Address { string zip = 1; }';
    await registerBody('ref-address-proto', { schema: addressProto, schemaType: 'PROTOBUF' });
    const customerProto = 'syntax = "proto3"; package com.example; import "common/address.proto"; message Customer { com.example.common.Address home = 1; }';
    const references = [{ name: 'common/address.proto', subject: 'ref-address-proto', version: 1 }];
    const id = await registerBody('ref-customer-proto', { schema: customerProto, schemaType: 'PROTOBUF', references });
    expect(id).toBeGreaterThan(0);
    expectError(await req('POST', '/subjects/ref-customer-proto-2/versions', { schema: customerProto, schemaType: 'PROTOBUF' }), 42201);
    // The referenced file's types decode inside the referring message.
    const root = protobuf.parse(addressProto).root;
    protobuf.parse(customerProto, root);
    const Customer = root.lookupType('com.example.Customer');
    expect(Customer.decode(Customer.encode(Customer.fromObject({ home: { zip: '1' } })).finish()).toJSON()).toEqual({ home: { zip: '1' } });
  });

  test('a reference to a missing subject or version, or a malformed one, is 42201', async () => {
    const body = (references: unknown) => ({ schema: JSON.stringify(customer), references });
    expectError(await req('POST', '/subjects/ref-bad/versions', body([{ name: 'com.example.Address', subject: 'no-such-subject', version: 1 }])), 42201);
    expectError(await req('POST', '/subjects/ref-bad/versions', body([{ name: 'com.example.Address', subject: 'ref-address', version: 9 }])), 42201);
    expectError(await req('POST', '/subjects/ref-bad/versions', body([{ name: '', subject: 'ref-address', version: 1 }])), 42201);
    expectError(await req('POST', '/subjects/ref-bad/versions', body('not a list')), 42201);
    expectError(await req('GET', '/subjects/ref-bad/versions'), 40401);
  });
});

describe('referencedby and deleting a referenced version', () => {
  test('referencedby lists the ids of live referrers; the referenced version cannot be deleted (42206) until they are gone', async () => {
    await registerBody('rb-base', { schema: JSON.stringify({ ...address, name: 'Base' }) });
    const referring = { type: 'record', name: 'Referring', fields: [{ name: 'b', type: 'com.example.Base' }] };
    const references = [{ name: 'com.example.Base', subject: 'rb-base', version: 1 }];
    const id = await registerBody('rb-referrer', { schema: JSON.stringify(referring), references });
    expect((await req('GET', '/subjects/rb-base/versions/1/referencedby')).json).toEqual([id]);
    expect((await req('GET', '/subjects/rb-base/versions/latest/referencedby')).json).toEqual([id]);
    expectError(await req('DELETE', '/subjects/rb-base/versions/1'), 42206);
    expectError(await req('DELETE', '/subjects/rb-base'), 42206);
    expectStatus(await req('GET', '/subjects/rb-base/versions/1'), 200);
    // Once the referrer is soft-deleted, nothing live references the base.
    expectStatus(await req('DELETE', '/subjects/rb-referrer/versions/1'), 200);
    expect((await req('GET', '/subjects/rb-base/versions/1/referencedby')).json).toEqual([]);
    expectStatus(await req('DELETE', '/subjects/rb-base/versions/1'), 200);
    expectError(await req('GET', '/subjects/rb-nope/versions/1/referencedby'), 40401);
    expectError(await req('GET', '/subjects/rb-base/versions/7/referencedby'), 40402);
  });
});
