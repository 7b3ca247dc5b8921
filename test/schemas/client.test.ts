/**
 * The SDK's registry client against a real local Strand: registry calls with
 * Confluent's error codes as SchemaRegistryError, and encode/decode in the wire
 * format round-tripping through the SDK producer and consumer-side decode.
 */
import { SchemaRegistry, SchemaRegistryError, StrandClient, StrandUsageError, decodeWireFormat } from '../../client';
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
});
