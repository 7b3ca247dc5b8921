/**
 * Produce with JSON Schema and Protobuf data, as REST Proxy does it (v3
 * `"type": "JSONSCHEMA"` / `"PROTOBUF"`, v2 `application/vnd.kafka.jsonschema.v2+json`
 * and `…protobuf.v2+json`), and the v2 consumer's `protobuf` format.
 *
 * How: records produced over HTTP are fetched back as binary RecordBatches and
 * their bytes read by the test's own wire-format reader (./support.ts) with
 * protobufjs or JSON.parse on the payload — not through src/schemas — so the
 * stored bytes are what Confluent's KafkaJsonSchemaDeserializer and
 * KafkaProtobufDeserializer read: magic 0, the id, then the JSON text, or the
 * message indexes (the single byte 0 for the first message) and the message.
 * Topics validate their values broker-side, so every stored value also passed
 * Strand's own decoder. A refused record must leave the high watermark where it was.
 */
import * as protobuf from 'protobufjs';
import { recordsFrom } from '../../src/log/readPartition';
import { expectError, expectStatus, highWatermark } from '../support/api';
import { createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { readWire, registryRequest } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const produce = (topic: string, body: unknown) => strand.http.post(`${topicPath(topic)}/records`, body);
const validating = { 'confluent.value.schema.validation': 'true' };

async function registerTyped(subject: string, schema: string, schemaType: string): Promise<number> {
  const res = await registryRequest(strand.http, 'POST', `/subjects/${subject}/versions`, { schema, schemaType });
  expectStatus(res, 200);
  return res.json.id as number;
}

async function storedValues(topic: string): Promise<(Buffer | null)[]> {
  const res = await strand.http.get(`${partitionPath(topic, 0)}/records?offset=0`, { accept: 'application/vnd.kafka.record-batch.v2' });
  expectStatus(res, 200);
  if (res.body.length === 0) return [];
  return recordsFrom(res.body, 0).map((r) => r.value);
}

const person = { type: 'object', title: 'Person', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 }, tags: { type: 'array', items: { type: 'string' } } }, required: ['name'] };

const orderProto = `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Order {
  int64 order_id = 1;
  string customer_name = 2;
  repeated Item items = 3;
  map<string, int32> counts = 4;
  Status status = 5;
  bytes digest = 6;
  google.protobuf.Timestamp placed_at = 7;
  oneof payment { string card = 8; int32 cash = 9; }
  message Item { string sku = 1; double price = 2; }
  enum Status { NEW = 0; PAID = 1; }
}
message Refund { int64 order_id = 1; }
`;

/** The test's own protobufjs view of orderProto (field names as written). */
function orderType(): protobuf.Type {
  const root = new protobuf.Root();
  root.addJSON((protobuf.common.get('google/protobuf/timestamp.proto') as protobuf.INamespace).nested!);
  protobuf.parse(orderProto, root, { keepCase: true });
  root.resolveAll();
  return root.lookupType('shop.Order');
}

const orderData = {
  orderId: '9007199254740993',
  customer_name: 'Ada',
  items: [{ sku: 'a-1', price: 2.5 }],
  counts: { apples: 3 },
  status: 'PAID',
  digest: 'AQL/',
  placedAt: '2024-05-06T07:08:09.250Z',
  cash: 12,
};

describe('v3 produce with type JSONSCHEMA', () => {
  test('by schema_id: stored as magic 0, the id, then the JSON text; the delivery report says JSONSCHEMA', async () => {
    await createTopic(strand.http, 'js-id', 1, validating);
    const id = await registerTyped('js-id-value', JSON.stringify(person), 'JSON');
    const res = await produce('js-id', { value: { type: 'JSONSCHEMA', schema_id: id, data: { name: 'Ada', age: 36 } } });
    expectStatus(res, 200);
    expect(res.json.value).toEqual({ type: 'JSONSCHEMA', size: expect.any(Number), schema_id: id });
    const [stored] = await storedValues('js-id');
    const wire = readWire(stored!);
    expect(wire.schemaId).toBe(id);
    expect(JSON.parse(wire.payload.toString('utf8'))).toEqual({ name: 'Ada', age: 36 });
    expect(res.json.value.size).toBe(stored!.length);
  });

  test('data the schema does not validate is 40002 naming where, and nothing is written', async () => {
    await createTopic(strand.http, 'js-bad', 1);
    const id = await registerTyped('js-bad-value', JSON.stringify(person), 'JSON');
    const cases: [unknown, RegExp][] = [
      [{ age: 3 }, /Field 'value\.data' does not match the JSON Schema: the document must have required property 'name'/],
      [{ name: 'x', age: -1 }, /'\/age' must be >= 0/],
      [{ name: 'x', tags: ['a', 2] }, /'\/tags\/1' must be string/],
    ];
    for (const [data, message] of cases) {
      const res = await produce('js-bad', { value: { schema_id: id, data } });
      expectError(res, 40002);
      expect(res.json.message).toMatch(message);
      expect(res.json.message).toMatch(new RegExp(`schema id ${id}`));
    }
    expect(await highWatermark(strand.http, 'js-bad')).toBe(0);
  });

  test('an inline JSONSCHEMA schema is registered as schemaType JSON under its subject; RECORD_NAME uses its title', async () => {
    await createTopic(strand.http, 'js-inline', 1, validating);
    const res = await produce('js-inline', { value: { type: 'JSONSCHEMA', schema: JSON.stringify(person), data: { name: 'Bo' } } });
    expectStatus(res, 200);
    const latest = await registryRequest(strand.http, 'GET', '/subjects/js-inline-value/versions/latest');
    expect(latest.json).toMatchObject({ schemaType: 'JSON', version: 1 });
    expect(res.json.value).toEqual({ type: 'JSONSCHEMA', size: expect.any(Number), schema_id: latest.json.id, subject: 'js-inline-value', schema_version: 1 });
    const byName = await produce('js-inline', { key: { type: 'JSONSCHEMA', subject_name_strategy: 'RECORD_NAME', schema: JSON.stringify(person), data: { name: 'k' } } });
    expectStatus(byName, 200);
    expect(byName.json.key).toMatchObject({ type: 'JSONSCHEMA', subject: 'Person', schema_version: 1 });
    // Data the inline schema refuses registers nothing.
    await createTopic(strand.http, 'js-inline-bad', 1);
    expectError(await produce('js-inline-bad', { value: { type: 'JSONSCHEMA', schema: JSON.stringify(person), data: { age: 1 } } }), 40002);
    expectStatus(await registryRequest(strand.http, 'GET', '/subjects/js-inline-bad-value/versions'), 404);
  });

  test('a type that is not the schema’s type is refused: JSONSCHEMA data with a Protobuf id', async () => {
    await createTopic(strand.http, 'js-mismatch', 1);
    const protoId = await registerTyped('js-mismatch-value', orderProto, 'PROTOBUF');
    const res = await produce('js-mismatch', { value: { type: 'JSONSCHEMA', schema_id: protoId, data: { name: 'x' } } });
    expectError(res, 40002);
    expect(res.json.message).toMatch(new RegExp(`'value.type' is JSONSCHEMA, but schema id ${protoId} is a PROTOBUF schema`));
    expectError(await produce('js-mismatch', { value: { type: 'PROTOBUF', data: {} } }), 40002);
  });
});

describe('v3 produce with type PROTOBUF', () => {
  test('by the latest version of <topic>-value: magic 0, the id, message index 0, then the message; JSON names and proto names both read', async () => {
    await createTopic(strand.http, 'pb-latest', 1, validating);
    const id = await registerTyped('pb-latest-value', orderProto, 'PROTOBUF');
    const res = await produce('pb-latest', { value: { type: 'PROTOBUF', subject_name_strategy: 'TOPIC_NAME', data: orderData } });
    expectStatus(res, 200);
    expect(res.json.value).toEqual({ type: 'PROTOBUF', size: expect.any(Number), schema_id: id, subject: 'pb-latest-value', schema_version: 1 });
    const [stored] = await storedValues('pb-latest');
    const wire = readWire(stored!);
    expect(wire.schemaId).toBe(id);
    expect(wire.payload[0]).toBe(0); // message indexes [0]: the first message, Order
    const decoded = orderType().toObject(orderType().decode(wire.payload.subarray(1)), { longs: String, enums: String, bytes: String, oneofs: true });
    expect(decoded).toEqual({
      order_id: '9007199254740993',
      customer_name: 'Ada',
      items: [{ sku: 'a-1', price: 2.5 }],
      counts: { apples: 3 },
      status: 'PAID',
      digest: 'AQL/',
      placed_at: { seconds: '1714979289', nanos: 250_000_000 },
      cash: 12,
      payment: 'cash',
    });
  });

  test('data that does not fit the message is 40002 naming the field, as JsonFormat refuses it; nothing is written', async () => {
    await createTopic(strand.http, 'pb-bad', 1);
    const id = await registerTyped('pb-bad-value', orderProto, 'PROTOBUF');
    const cases: [unknown, RegExp][] = [
      [{ colour: 'red' }, /'value\.data\.colour' is not a field of message shop\.Order/],
      [{ orderId: 'seven' }, /'value\.data\.orderId' must be an integer \(int64\)/],
      [{ items: [{ price: 'cheap' }] }, /'value\.data\.items\[0\]\.price' must be a number \(double\)/],
      [{ status: 'LOST' }, /'value\.data\.status' must be one of NEW, PAID/],
      [{ card: 'visa', cash: 1 }, /'value\.data\.cash' cannot be set: field card of the same oneof payment is already set/],
      [{ placedAt: 'yesterday' }, /'value\.data\.placedAt' must be an RFC 3339 timestamp/],
      [{ counts: { a: 2 ** 31 } }, /'value\.data\.counts\.a' must be a 32-bit integer/],
      [[1, 2], /'value\.data' must be an object \(message shop\.Order\)/],
    ];
    for (const [data, message] of cases) {
      const res = await produce('pb-bad', { value: { schema_id: id, data } });
      expectError(res, 40002);
      expect(res.json.message).toMatch(message);
    }
    expect(await highWatermark(strand.http, 'pb-bad')).toBe(0);
  });

  test('an inline PROTOBUF schema is registered as schemaType PROTOBUF; TOPIC_RECORD_NAME names its first message', async () => {
    await createTopic(strand.http, 'pb-inline', 1);
    const res = await produce('pb-inline', { value: { type: 'PROTOBUF', subject_name_strategy: 'TOPIC_RECORD_NAME', schema: orderProto, data: { orderId: 1 } } });
    expectStatus(res, 200);
    expect(res.json.value).toMatchObject({ type: 'PROTOBUF', subject: 'pb-inline-shop.Order', schema_version: 1 });
    const latest = await registryRequest(strand.http, 'GET', '/subjects/pb-inline-shop.Order/versions/latest');
    expect(latest.json).toMatchObject({ schemaType: 'PROTOBUF', id: res.json.value.schema_id });
  });

  test('null data is a null value; a keyed record lands on the partition of its wire-format key bytes', async () => {
    await createTopic(strand.http, 'pb-keyed', 1);
    const id = await registerTyped('pb-keyed-value', orderProto, 'PROTOBUF');
    const res = await produce('pb-keyed', { key: { type: 'STRING', data: 'k' }, value: { schema_id: id, data: null } });
    expectStatus(res, 200);
    expect(res.json.value).toBeNull();
    expect(await storedValues('pb-keyed')).toEqual([null]);
  });

  test('records:batch: a bad entry fails alone, the others are written', async () => {
    await createTopic(strand.http, 'pb-batch', 1);
    const id = await registerTyped('pb-batch-value', orderProto, 'PROTOBUF');
    const res = await strand.http.post(`${topicPath('pb-batch')}/records:batch`, {
      entries: [
        { id: 'a', value: { schema_id: id, data: { orderId: 1 } } },
        { id: 'b', value: { schema_id: id, data: { orderId: 'x' } } },
        { id: 'c', value: { type: 'PROTOBUF', schema_id: id, data: { order_id: 3 } } },
      ],
    });
    expect(res.status).toBe(207);
    expect(res.json.successes.map((s: { id: string; value: { type: string } }) => [s.id, s.value.type])).toEqual([
      ['a', 'PROTOBUF'],
      ['c', 'PROTOBUF'],
    ]);
    expect(res.json.failures).toEqual([{ id: 'b', error_code: 40002, message: expect.stringMatching(/'value\.data\.orderId' must be an integer/) }]);
    expect((await storedValues('pb-batch')).map((v) => String((orderType().decode(readWire(v!).payload.subarray(1)) as unknown as { order_id: unknown }).order_id))).toEqual(['1', '3']);
  });
});

describe('v2 produce in the jsonschema and protobuf formats', () => {
  const v2 = (format: string, topic: string, body: unknown) =>
    strand.http.request('POST', `/topics/${topic}`, { headers: { 'content-type': `application/vnd.kafka.${format}.v2+json` }, body: JSON.stringify(body) });

  test('application/vnd.kafka.jsonschema.v2+json with value_schema, then value_schema_id', async () => {
    await createTopic(strand.http, 'v2-js', 1, validating);
    const first = await v2('jsonschema', 'v2-js', { value_schema: JSON.stringify(person), records: [{ value: { name: 'a' }, partition: 0 }] });
    expectStatus(first, 200);
    const id = first.json.value_schema_id as number;
    expect(first.json).toEqual({ key_schema_id: null, value_schema_id: id, offsets: [{ partition: 0, offset: 0, error_code: null, error: null }] });
    const second = await v2('jsonschema', 'v2-js', { value_schema_id: id, records: [{ value: { name: 'b' } }, { value: { age: 1 } }] });
    expectStatus(second, 200);
    expect(second.json.offsets[0]).toMatchObject({ offset: 1, error_code: null });
    expect(second.json.offsets[1]).toMatchObject({ offset: null, error_code: 40002, error: expect.stringMatching(/must have required property 'name'/) });
    expect((await storedValues('v2-js')).map((v) => JSON.parse(readWire(v!).payload.toString()))).toEqual([{ name: 'a' }, { name: 'b' }]);
  });

  test('application/vnd.kafka.protobuf.v2+json with key_schema and value_schema_id', async () => {
    await createTopic(strand.http, 'v2-pb', 1, validating);
    const id = await registerTyped('v2-pb-value', orderProto, 'PROTOBUF');
    const res = await v2('protobuf', 'v2-pb', {
      key_schema: 'syntax = "proto3"; message Key { string id = 1; }',
      value_schema_id: id,
      records: [{ key: { id: 'k1' }, value: { orderId: 5, status: 1 }, partition: 0 }],
    });
    expectStatus(res, 200);
    expect(res.json.value_schema_id).toBe(id);
    expect(res.json.key_schema_id).toEqual(expect.any(Number));
    expect(res.json.offsets).toEqual([{ partition: 0, offset: 0, error_code: null, error: null }]);
    const [stored] = await storedValues('v2-pb');
    expect(orderType().toObject(orderType().decode(readWire(stored!).payload.subarray(1)), { longs: String, enums: String })).toEqual({ order_id: '5', status: 'PAID' });
    // A schema of another type than the format names fails the record.
    const jsId = await registerTyped('v2-pb-other', JSON.stringify(person), 'JSON');
    const wrong = await v2('protobuf', 'v2-pb', { value_schema_id: jsId, records: [{ value: { name: 'x' } }] });
    expect(wrong.json.offsets[0]).toMatchObject({ error_code: 40002, error: expect.stringMatching(/is PROTOBUF, but schema id \d+ is a JSONSCHEMA schema/) });
  });
});

describe('the v2 consumer’s protobuf format: Protobuf’s JSON mapping, as kafka-rest’s ProtobufConverter prints it', () => {
  const V2 = 'application/vnd.kafka.v2+json';
  const call = (method: string, path: string, json?: unknown, accept = V2) =>
    strand.http.request(method, path, { headers: { 'content-type': V2, accept }, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });

  test('lowerCamelCase names, int64 as strings, enums by name, bytes as base64, Timestamps as RFC 3339, defaults printed, unset messages and oneof members left out', async () => {
    await createTopic(strand.http, 'v2-pb-consume', 1);
    const id = await registerTyped('v2-pb-consume-value', orderProto, 'PROTOBUF');
    expectStatus(await produce('v2-pb-consume', { value: { schema_id: id, data: orderData } }), 200);
    expectStatus(await produce('v2-pb-consume', { value: { schema_id: id, data: {} } }), 200);
    // A Refund: message indexes [1], written by hand (prefix, count 1 and index 1 as zigzag varints, then the bytes).
    const refund = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 2, 2]), Buffer.from([8, 42])]);
    refund.writeUInt32BE(id, 1);
    expectStatus(await produce('v2-pb-consume', { value: { type: 'BINARY', data: refund.toString('base64') } }), 200);

    const created = await call('POST', '/consumers/g-v2-pb', { format: 'protobuf', 'auto.offset.reset': 'earliest' });
    expectStatus(created, 200);
    const base = new URL(created.json.base_uri).pathname;
    expectStatus(await call('POST', `${base}/assignments`, { partitions: [{ topic: 'v2-pb-consume', partition: 0 }] }), 204);
    const res = await call('GET', `${base}/records`, undefined, 'application/vnd.kafka.protobuf.v2+json');
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toBe('application/vnd.kafka.protobuf.v2+json');
    expect(res.json.map((r: { value: unknown }) => r.value)).toEqual([
      {
        orderId: '9007199254740993',
        customerName: 'Ada',
        items: [{ sku: 'a-1', price: 2.5 }],
        counts: { apples: 3 },
        status: 'PAID',
        digest: 'AQL/',
        placedAt: '2024-05-06T07:08:09.250Z',
        cash: 12,
      },
      { orderId: '0', customerName: '', items: [], counts: {}, status: 'NEW', digest: '' },
      { orderId: '42' },
    ]);
    // Read back through produce: the printed JSON is data a produce takes again.
    expectStatus(await produce('v2-pb-consume', { value: { schema_id: id, data: res.json[0].value } }), 200);
    const again = await call('GET', `${base}/records`, undefined, 'application/vnd.kafka.protobuf.v2+json');
    expect(again.json.map((r: { value: unknown }) => r.value)).toEqual([res.json[0].value]);
    // Bytes that are not Protobuf of their schema (a string field cut short) are 408 / 40801, as for the other schema formats.
    expectStatus(await produce('v2-pb-consume', { value: { type: 'BINARY', data: Buffer.concat([refund.subarray(0, 5), Buffer.from([0, 0x12, 0x05, 0x41])]).toString('base64') } }), 200);
    const failed = await call('GET', `${base}/records`);
    expect([failed.status, failed.json.error_code]).toEqual([408, 40801]);
    expect(failed.json.message).toMatch(/not Protobuf of schema id \d+/);
  });
});
