/**
 * Produce with schemas, as REST Proxy v3 does, and fetch with
 * embedded_format=avro. How: records produced over HTTP are fetched back as
 * binary RecordBatches, decoded with Strand's RecordBatch decoder, and their
 * keys and values read by the wire-format reader of ./support.ts plus avsc —
 * not by src/schemas — so the stored bytes are what a Confluent deserializer
 * reads. A refused record must leave the high watermark where it was.
 */
import * as avro from 'avsc';
import { recordsFrom } from '../../src/log/readPartition';
import { kafkajsPartitionFor } from '../support/kafkajs';
import { expectError, expectStatus, highWatermark } from '../support/api';
import { createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { goodOrder, order, readWire, register, registryRequest, user } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const produce = (topic: string, body: unknown) => strand.http.post(`${topicPath(topic)}/records`, body);

/** Every stored record of partition 0 as raw key/value bytes, from a binary fetch. */
async function storedRecords(topic: string): Promise<{ offset: number; key: Buffer | null; value: Buffer | null }[]> {
  const res = await strand.http.get(`${partitionPath(topic, 0)}/records?offset=0`, { accept: 'application/vnd.kafka.record-batch.v2' });
  expectStatus(res, 200);
  if (res.body.length === 0) return [];
  return recordsFrom(res.body, 0).map((r) => ({ offset: r.offset, key: r.key, value: r.value }));
}

const orderType = avro.Type.forSchema(order as avro.Schema, { wrapUnions: true });

describe('produce with a schema', () => {
  test('value by schema_id: stored as magic 0, the id big-endian, then Avro binary', async () => {
    await createTopic(strand.http, 'orders-id');
    const id = await register(strand.http, 'orders-id-value', order);
    const res = await produce('orders-id', { value: { schema_id: id, data: goodOrder } });
    expectStatus(res, 200);
    // Confluent's delivery report names the schema used: by id alone, no subject or version.
    expect(res.json.value).toEqual({ type: 'AVRO', size: expect.any(Number), schema_id: id });
    const [stored] = await storedRecords('orders-id');
    const wire = readWire(stored!.value!);
    expect(wire.schemaId).toBe(id);
    expect(res.json.value.size).toBe(stored!.value!.length);
    const decoded = orderType.fromBuffer(wire.payload);
    expect(decoded.id).toBe(7);
    expect(decoded.address).toEqual(expect.objectContaining({ street: 'Main St', zip: 12345 }));
    expect(decoded.note).toEqual({ string: 'leave at door' });
    expect(decoded.digest).toEqual(Buffer.from([1, 255]));
  });

  test('by subject name strategy and version: latest by default, an explicit version, an explicit subject; keys too', async () => {
    await createTopic(strand.http, 'users-v', 3);
    const v1 = await register(strand.http, 'users-v-value', user.v1);
    const v2 = await register(strand.http, 'users-v-value', user.addFieldWithDefault);
    const keyId = await register(strand.http, 'users-v-key', 'string');
    const other = await register(strand.http, 'custom-subject', user.v1);
    const bodies = [
      { partition_id: 0, value: { subject_name_strategy: 'TOPIC_NAME', data: { id: 1, name: 'a', email: 'a@x' } } },
      { partition_id: 0, value: { schema_version: 1, data: { id: 2, name: 'b' } } },
      { partition_id: 0, value: { type: 'AVRO', subject: 'custom-subject', schema_version: 1, data: { id: 3, name: 'c' } } },
      { partition_id: 0, key: { schema_id: keyId, data: 'user-4' }, value: { schema_version: -1, data: { id: 4, name: 'd' } } },
    ];
    const reports = [];
    for (const body of bodies) {
      const res = await produce('users-v', body);
      expectStatus(res, 200);
      reports.push(res.json);
    }
    // The delivery reports name the schema, subject and version each record was produced with.
    expect(reports.map((r) => r.value)).toEqual([
      { type: 'AVRO', size: expect.any(Number), schema_id: v2, subject: 'users-v-value', schema_version: 2 },
      { type: 'AVRO', size: expect.any(Number), schema_id: v1, subject: 'users-v-value', schema_version: 1 },
      { type: 'AVRO', size: expect.any(Number), schema_id: other, subject: 'custom-subject', schema_version: 1 },
      { type: 'AVRO', size: expect.any(Number), schema_id: v2, subject: 'users-v-value', schema_version: 2 },
    ]);
    expect(reports[3].key).toEqual({ type: 'AVRO', size: expect.any(Number), schema_id: keyId });
    const stored = await storedRecords('users-v');
    expect(stored.map((r) => readWire(r.value!).schemaId)).toEqual([v2, v1, other, v2]);
    const key = readWire(stored[3]!.key!);
    expect(key.schemaId).toBe(keyId);
    expect(avro.Type.forSchema('string').fromBuffer(key.payload)).toBe('user-4');
  });

  test('a keyed record with a schema lands on the partition of its wire-format key bytes', async () => {
    await createTopic(strand.http, 'keyed-avro', 4);
    const keyId = await register(strand.http, 'keyed-avro-key', 'string');
    const res = await produce('keyed-avro', { key: { schema_id: keyId, data: 'k1' }, value: { type: 'STRING', data: 'v' } });
    expectStatus(res, 200);
    const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), avro.Type.forSchema('string').toBuffer('k1')]);
    wire.writeUInt32BE(keyId, 1);
    expect(res.json.partition_id).toBe(kafkajsPartitionFor(wire, 4));
  });

  test('an inline AVRO schema is registered under <topic>-value and used', async () => {
    await createTopic(strand.http, 'inline');
    const schema = { type: 'record', name: 'Inline', fields: [{ name: 'n', type: 'int' }] };
    const res = await produce('inline', { value: { type: 'AVRO', schema: JSON.stringify(schema), data: { n: 5 } } });
    expectStatus(res, 200);
    const latest = await registryRequest(strand.http, 'GET', '/subjects/inline-value/versions/latest');
    expectStatus(latest, 200);
    const [stored] = await storedRecords('inline');
    expect(readWire(stored!.value!).schemaId).toBe(latest.json.id);
    // An inline schema that breaks the subject's compatibility is refused, and nothing is written.
    const bad = { type: 'record', name: 'Inline', fields: [{ name: 'n', type: 'string' }] };
    const refused = await produce('inline', { value: { type: 'AVRO', schema: JSON.stringify(bad), data: { n: 'x' } } });
    expectError(refused, 40002);
    expect(refused.json.message).toMatch(/incompatible/);
    expect(await highWatermark(strand.http, 'inline')).toBe(1);
  });

  test('data that does not fit its inline schema is 40002, and the schema is not registered either', async () => {
    await createTopic(strand.http, 'inline-bad-data');
    const schema = { type: 'record', name: 'Inline', fields: [{ name: 'n', type: 'int' }] };
    const refused = await produce('inline-bad-data', { value: { type: 'AVRO', schema: JSON.stringify(schema), data: { n: 'not an int' } } });
    expectError(refused, 40002);
    expectStatus(await registryRequest(strand.http, 'GET', '/subjects/inline-bad-data-value/versions'), 404);
    expect(await highWatermark(strand.http, 'inline-bad-data')).toBe(0);
  });

  test('null data with a schema is a null value (a tombstone), as Confluent serializers make it', async () => {
    await createTopic(strand.http, 'tomb');
    const id = await register(strand.http, 'tomb-value', user.v1);
    const res = await produce('tomb', { key: { type: 'STRING', data: 'k' }, value: { schema_id: id, data: null } });
    expectStatus(res, 200);
    expect((await storedRecords('tomb'))[0]!.value).toBeNull();
  });
});

describe('data that does not match the schema is refused with the field named, and nothing is written', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['a wrong type in a nested record', { ...goodOrder, address: { street: 'x', zip: 'abc' } }, /'value\.data\.address\.zip' must be an int/],
    ['a missing required field', { ...goodOrder, status: undefined }, /'value\.data\.status' is required/],
    ['an unknown field', { ...goodOrder, colour: 'red' }, /'value\.data\.colour' is not a field of record com\.example\.Order/],
    ['an enum symbol that does not exist', { ...goodOrder, status: 'LOST' }, /'value\.data\.status' must be one of NEW, PAID, SHIPPED/],
    ['a union value matching no branch', { ...goodOrder, note: 42 }, /'value\.data\.note' must be one of union \[null, string\]/],
    ['a bad array item', { ...goodOrder, items: ['a', 3] }, /'value\.data\.items\[1\]' must be a string/],
    ['a bad map value', { ...goodOrder, tags: { x: 'one' } }, /'value\.data\.tags\.x' must be an int/],
    ['a long beyond 2^53', { ...goodOrder, id: 2 ** 60 }, /'value\.data\.id' must be a long/],
  ];

  let id: number;
  beforeAll(async () => {
    await createTopic(strand.http, 'strict-orders');
    id = await register(strand.http, 'strict-orders-value', order);
  });

  test.each(bad)('%s', async (_what, data, message) => {
    const before = await highWatermark(strand.http, 'strict-orders');
    const res = await produce('strict-orders', { value: { schema_id: id, data } });
    expectError(res, 40002);
    expect(res.json.message).toMatch(message);
    expect(await highWatermark(strand.http, 'strict-orders')).toBe(before);
  });

  test('schema references that do not resolve are 40002: unknown id, unknown subject or version, no schema at all, two at once', async () => {
    const cases: [unknown, RegExp][] = [
      [{ schema_id: 999999, data: {} }, /schema id 999999 is not registered/],
      [{ subject: 'no-such-subject', data: {} }, /Subject 'no-such-subject' not found/],
      [{ schema_version: 9, data: {} }, /Version 9 of subject 'strict-orders-value' not found/],
      [{ type: 'AVRO', data: {} }, /no schema, schema_id or schema_version/],
      [{ schema_id: id, schema_version: 1, data: goodOrder }, /only one of/],
      [{ type: 'JSON', schema_id: id, data: goodOrder }, /must be AVRO/],
      [{ type: 'AVRO', schema: '{"type": "nope"}', data: 1 }, /Invalid Avro schema/],
      [{ subject_name_strategy: 'RECORD_NAME', data: goodOrder }, /RECORD_NAME needs the record's name/],
    ];
    for (const [value, message] of cases) {
      const res = await produce('strict-orders', { value });
      expectError(res, 40002);
      expect(res.json.message).toMatch(message);
    }
    expect(await highWatermark(strand.http, 'strict-orders')).toBe(0);
  });

  test('records:batch: a bad entry fails alone with 40002, the good ones are written', async () => {
    const res = await strand.http.post(`${topicPath('strict-orders')}/records:batch`, {
      entries: [
        { id: 'good-1', value: { schema_id: id, data: goodOrder } },
        { id: 'bad', value: { schema_id: id, data: { ...goodOrder, address: { street: 1, zip: 1 } } } },
        { id: 'good-2', value: { schema_id: id, data: { ...goodOrder, id: 8 } } },
      ],
    });
    expect(res.status).toBe(207);
    expect(res.json.successes.map((s: { id: string }) => s.id)).toEqual(['good-1', 'good-2']);
    expect(res.json.failures).toEqual([{ id: 'bad', error_code: 40002, message: expect.stringMatching(/'value\.data\.address\.street' must be a string/) }]);
    const stored = await storedRecords('strict-orders');
    expect(stored.map((r) => orderType.fromBuffer(readWire(r.value!).payload).id)).toEqual([7, 8]);
  });
});

describe('fetch with embedded_format=avro', () => {
  test('wire-format keys and values decode to Avro JSON with their schema id; other bytes come back as BINARY', async () => {
    await createTopic(strand.http, 'fetch-avro');
    const id = await register(strand.http, 'fetch-avro-value', order);
    const keyId = await register(strand.http, 'fetch-avro-key', 'string');
    expectStatus(await produce('fetch-avro', { key: { schema_id: keyId, data: 'k' }, value: { schema_id: id, data: goodOrder } }), 200);
    expectStatus(await produce('fetch-avro', { value: { type: 'STRING', data: 'plain' } }), 200);
    const res = await strand.http.get(`${partitionPath('fetch-avro', 0)}/records?offset=0&embedded_format=avro`);
    expectStatus(res, 200);
    const [first, second] = res.json.records;
    expect(first.key).toEqual({ type: 'AVRO', data: 'k', schema_id: keyId });
    expect(first.value).toEqual({
      type: 'AVRO',
      schema_id: id,
      data: { ...goodOrder, status: 'PAID' },
    });
    expect(second.value).toEqual({ type: 'BINARY', data: Buffer.from('plain').toString('base64') });
  });
});
