/**
 * Schema evolution across versions: producers on old and new versions of a
 * schema write to one topic, and consumers on either version read everything.
 * How: records are fetched as binary batches, the writer's schema id is read by
 * the test's own wire reader, the writer schema fetched from the registry by id
 * (as a Confluent deserializer does), and the payload decoded with an avsc
 * resolver from writer to the consumer's reader schema.
 */
import * as avro from 'avsc';
import { recordsFrom } from '../../src/log/readPartition';
import { expectStatus } from '../support/api';
import { createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { expectIncompatible, readWire, register, registryRequest, setCompatibility, user } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const typeOf = (schema: unknown) => avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true });

/** A Confluent-style deserializer: wire header → writer schema from the registry by id → resolve to the reader's schema. */
async function deserialize(bytes: Buffer, reader: avro.Type): Promise<Record<string, unknown>> {
  const { schemaId, payload } = readWire(bytes);
  const res = await registryRequest(strand.http, 'GET', `/schemas/ids/${schemaId}`);
  expectStatus(res, 200);
  const writer = typeOf(JSON.parse(res.json.schema));
  return { ...reader.fromBuffer(payload, reader.createResolver(writer)) };
}

async function storedValues(topic: string): Promise<Buffer[]> {
  const res = await strand.http.get(`${partitionPath(topic, 0)}/records?offset=0`, { accept: 'application/vnd.kafka.record-batch.v2' });
  expectStatus(res, 200);
  return recordsFrom(res.body, 0).map((r) => r.value!);
}

describe('old and new readers and writers on one topic', () => {
  test('FULL: a field added with a default is read by new readers (default filled) and old readers (field skipped)', async () => {
    await createTopic(strand.http, 'evolve-full');
    await setCompatibility(strand.http, 'evolve-full-value', 'FULL');
    const v1 = await register(strand.http, 'evolve-full-value', user.v1);
    const v2 = await register(strand.http, 'evolve-full-value', user.addFieldWithDefault);
    // An old producer, then a new one, then an old one again.
    for (const [id, data] of [
      [v1, { id: 1, name: 'old' }],
      [v2, { id: 2, name: 'new', email: 'n@x' }],
      [v1, { id: 3, name: 'old again' }],
    ] as const) {
      expectStatus(await strand.http.post(`${topicPath('evolve-full')}/records`, { value: { schema_id: id, data } }), 200);
    }
    const values = await storedValues('evolve-full');
    expect(values.map((v) => readWire(v).schemaId)).toEqual([v1, v2, v1]);

    const newReader = typeOf(user.addFieldWithDefault);
    const oldReader = typeOf(user.v1);
    expect(await Promise.all(values.map((v) => deserialize(v, newReader)))).toEqual([
      { id: 1, name: 'old', email: '' },
      { id: 2, name: 'new', email: 'n@x' },
      { id: 3, name: 'old again', email: '' },
    ]);
    expect(await Promise.all(values.map((v) => deserialize(v, oldReader)))).toEqual([
      { id: 1, name: 'old' },
      { id: 2, name: 'new' },
      { id: 3, name: 'old again' },
    ]);
  });

  test('BACKWARD: int promoted to long is read by the new reader; the old reader cannot read the new data, which is why FORWARD refuses it', async () => {
    await createTopic(strand.http, 'evolve-promote');
    const v1 = await register(strand.http, 'evolve-promote-value', user.v1);
    const v2 = await register(strand.http, 'evolve-promote-value', user.promoteIntToLong);
    expectStatus(await strand.http.post(`${topicPath('evolve-promote')}/records`, { value: { schema_id: v1, data: { id: 41, name: 'int' } } }), 200);
    expectStatus(await strand.http.post(`${topicPath('evolve-promote')}/records`, { value: { schema_id: v2, data: { id: 2 ** 40, name: 'long' } } }), 200);
    const values = await storedValues('evolve-promote');
    const newReader = typeOf(user.promoteIntToLong);
    expect(await Promise.all(values.map((v) => deserialize(v, newReader)))).toEqual([
      { id: 41, name: 'int' },
      { id: 2 ** 40, name: 'long' },
    ]);
    await expect(deserialize(values[1]!, typeOf(user.v1))).rejects.toThrow();

    await setCompatibility(strand.http, 'evolve-forward', 'FORWARD');
    await register(strand.http, 'evolve-forward', user.v1);
    expectIncompatible(await registryRequest(strand.http, 'POST', '/subjects/evolve-forward/versions', { schema: JSON.stringify(user.promoteIntToLong) }));
  });

  test('a field renamed with an alias: the new reader reads old data under the new name', async () => {
    await createTopic(strand.http, 'evolve-rename');
    const v1 = await register(strand.http, 'evolve-rename-value', user.v1);
    const v2 = await register(strand.http, 'evolve-rename-value', user.renameFieldWithAlias);
    expectStatus(await strand.http.post(`${topicPath('evolve-rename')}/records`, { value: { schema_id: v1, data: { id: 1, name: 'Ada' } } }), 200);
    expectStatus(await strand.http.post(`${topicPath('evolve-rename')}/records`, { value: { schema_id: v2, data: { id: 2, fullName: 'Grace' } } }), 200);
    const reader = typeOf(user.renameFieldWithAlias);
    expect(await Promise.all((await storedValues('evolve-rename')).map((v) => deserialize(v, reader)))).toEqual([
      { id: 1, fullName: 'Ada' },
      { id: 2, fullName: 'Grace' },
    ]);
  });
});
