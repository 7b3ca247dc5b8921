/**
 * The SDK's registry client against a real local Strand: registry calls with
 * Confluent's error codes as SchemaRegistryError, and encode/decode in the wire
 * format round-tripping through the SDK producer and consumer-side decode.
 */
import * as protobuf from 'protobufjs';
import { SchemaRegistry, SchemaRegistryError, StrandClient, StrandUsageError, decodeWireFormat } from '../../client';
import { SchemaDataError } from '../../client/schemaRegistry';
import { createTopic, startTestStrand, type TestStrand } from '../support/localStrand';
import { readWire, user } from './support';

let strand: TestStrand;
let client: StrandClient;
let registry: SchemaRegistry;
beforeAll(async () => {
  strand = await startTestStrand();
  client = new StrandClient({ url: strand.url, retry: { retries: 0 } });
  registry = new SchemaRegistry(client);
});
afterAll(() => strand.dispose());

describe('SchemaRegistry client', () => {
  test('register, getById, latest, lookup, subjects and versions', async () => {
    const { id } = await registry.register('sdk-value', user.v1);
    expect(await registry.register('sdk-value', JSON.stringify(user.v1))).toEqual({ id });
    expect(JSON.parse((await registry.getById(id)).schema)).toEqual(user.v1);
    const { id: id2 } = await registry.register('sdk-value', user.addFieldWithDefault);
    expect(await registry.latest('sdk-value')).toEqual(expect.objectContaining({ subject: 'sdk-value', version: 2, id: id2 }));
    expect((await registry.lookup('sdk-value', user.v1)).version).toBe(1);
    expect(await registry.subjects()).toContain('sdk-value');
    expect(await registry.versions('sdk-value')).toEqual([1, 2]);
  });

  test('compatibility: check with reasons, levels, and 409 on an incompatible register', async () => {
    await registry.register('sdk-compat', user.v1);
    expect(await registry.checkCompatibility('sdk-compat', user.addFieldWithDefault)).toEqual({ isCompatible: true, messages: [] });
    const no = await registry.checkCompatibility('sdk-compat', user.changeType, 'latest');
    expect(no.isCompatible).toBe(false);
    expect(no.messages.length).toBeGreaterThan(0);
    expect(await registry.getCompatibility('sdk-compat')).toBe('BACKWARD');
    await registry.setCompatibility('FORWARD', 'sdk-compat');
    expect(await registry.getCompatibility('sdk-compat')).toBe('FORWARD');
    const err = await registry.register('sdk-compat', user.removeField).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaRegistryError);
    expect(err).toMatchObject({ code: 409, status: 409 });
  });

  test("registry errors carry Confluent's codes", async () => {
    await expect(registry.latest('sdk-none')).rejects.toMatchObject({ name: 'SchemaRegistryError', code: 40401 });
    await expect(registry.getById(987654)).rejects.toMatchObject({ code: 40403 });
    await expect(registry.register('sdk-bad', '{"type":"nope"}')).rejects.toMatchObject({ code: 42201 });
  });

  test('encode → produce through the SDK producer → fetch → decode', async () => {
    await createTopic(strand.http, 'sdk-wire');
    const { id } = await registry.register('sdk-wire-value', user.addFieldWithDefault);
    const value = await registry.encode(id, { id: 9, name: 'Nine' });
    expect(readWire(value).schemaId).toBe(id);
    expect(decodeWireFormat(value).schemaId).toBe(id);
    const producer = client.producer();
    await producer.send({ topic: 'sdk-wire', messages: [{ value }] });
    await producer.close();
    const res = await strand.http.get('/v3/clusters/local/topics/sdk-wire/partitions/0/records?offset=0&embedded_format=binary');
    const stored = Buffer.from(res.json.records[0].value.data, 'base64');
    expect(await registry.decode(stored)).toEqual({ schemaId: id, data: { id: 9, name: 'Nine', email: '' } });
    await expect(registry.encode(id, { id: 'x', name: 'n' })).rejects.toThrow(/Field 'data\.id' must be an int/);
    await expect(registry.encode(id, { id: 'x' })).rejects.toBeInstanceOf(StrandUsageError);
    await expect(registry.decode(Buffer.from('plain'))).rejects.toBeInstanceOf(StrandUsageError);
  });

  test('JSON Schema: register with schemaType, encode validates and writes the JSON text, decode reads it back', async () => {
    const schema = { type: 'object', properties: { n: { type: 'integer', minimum: 0 } }, required: ['n'] };
    const { id } = await registry.register('sdk-json-value', schema, { schemaType: 'JSON' });
    expect((await registry.lookup('sdk-json-value', JSON.stringify(schema), { schemaType: 'JSON' })).id).toBe(id);
    const value = await registry.encode(id, { n: 3 });
    expect(readWire(value)).toEqual({ schemaId: id, payload: Buffer.from('{"n":3}') });
    expect(await registry.decode(value)).toEqual({ schemaId: id, data: { n: 3 } });
    await expect(registry.encode(id, { n: -1 })).rejects.toThrow(/Field 'data' does not match the JSON Schema: '\/n' must be >= 0 \(schema id \d+\)/);
    await expect(registry.typeOf(id)).rejects.toBeInstanceOf(StrandUsageError);
  });

  test('Protobuf with a reference: the import is resolved from the registry; encode writes message index 0, decode prints the JSON mapping', async () => {
    const address = 'syntax = "proto3";\npackage geo;\nmessage Address { string zip_code = 1; }\n';
    await registry.register('sdk-address', address, { schemaType: 'PROTOBUF' });
    const orderProto = 'syntax = "proto3";\npackage shop;\nimport "geo/address.proto";\nmessage Order { int64 order_id = 1; geo.Address ship_to = 2; }\n';
    const references = [{ name: 'geo/address.proto', subject: 'sdk-address', version: 1 }];
    const { id } = await registry.register('sdk-proto-value', orderProto, { schemaType: 'PROTOBUF', references });
    expect(await registry.getById(id)).toMatchObject({ schemaType: 'PROTOBUF', references });
    const value = await registry.encode(id, { orderId: '12', shipTo: { zipCode: '02139' } });
    const wire = readWire(value);
    expect(wire.schemaId).toBe(id);
    expect(wire.payload[0]).toBe(0);
    // The test's own protobufjs reading of the message after the index byte.
    const root = new protobuf.Root();
    protobuf.parse(address, root, { keepCase: true });
    protobuf.parse(orderProto, root, { keepCase: true });
    const Order = root.lookupType('shop.Order');
    expect(Order.toObject(Order.decode(wire.payload.subarray(1)), { longs: String })).toEqual({ order_id: '12', ship_to: { zip_code: '02139' } });
    expect(await registry.decode(value)).toEqual({ schemaId: id, data: { orderId: '12', shipTo: { zipCode: '02139' } } });
    await expect(registry.encode(id, { shipTo: { zip: 1 } })).rejects.toThrow(/Field 'data\.shipTo\.zip' is not a field of message geo\.Address/);
    await expect(registry.decode(Buffer.concat([value.subarray(0, 5), Buffer.from([2, 8])]))).rejects.toBeInstanceOf(SchemaDataError);
  });
});
