/**
 * REST Proxy v2 consumer instances in the `avro` and `jsonschema` formats,
 * against Confluent's kafka-rest (SchemaKafkaConsumerState, AvroConverter,
 * KafkaRestExceptionMapper): keys and values in Confluent's wire format are
 * decoded through the registry, Avro into Avro's JSON encoding (wrapped
 * unions), JSON Schema into the JSON after the prefix; bytes that cannot be
 * decoded are 408 / 40801, after the records before them.
 * How: Avro records are produced by the v2 avro produce (the registry encodes
 * them); JSON Schema and malformed records are written as raw bytes
 * (prefix + payload) with the v3 BINARY produce, as a Confluent serializer
 * would write them.
 */
import { createTopic, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { expectStatus } from '../support/api';
import { registryRequest } from '../schemas/support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const V2 = 'application/vnd.kafka.v2+json';
const order = {
  type: 'record',
  name: 'Order',
  namespace: 'com.example',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'amount', type: ['null', 'int', { type: 'record', name: 'Money', fields: [{ name: 'cents', type: 'long' }] }] },
    { name: 'raw', type: 'bytes' },
  ],
};
const orderJsonSchema = { type: 'object', properties: { id: { type: 'integer' }, items: { type: 'array', items: { type: 'string' } } }, required: ['id'] };

async function register(subject: string, body: Record<string, unknown>): Promise<number> {
  const res = await registryRequest(strand.http, 'POST', `/subjects/${subject}/versions`, body);
  expectStatus(res, 200);
  return res.json.id;
}

const wire = (id: number, payload: Buffer) => Buffer.concat([Buffer.from([0, id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), payload]);

/** Raw values, produced in order to partition 0 (the v3 BINARY embedding). */
async function produceRaw(topic: string, values: Buffer[]) {
  for (const v of values) {
    expectStatus(await strand.http.post(`${topicPath(topic)}/records`, { partition_id: 0, value: { type: 'BINARY', data: v.toString('base64') } }), 200);
  }
}

class V2Consumer {
  base = '';
  constructor(readonly format: 'avro' | 'jsonschema') {}

  call(method: string, suffix: string, json?: unknown, accept = V2) {
    return strand.http.request(method, this.base + suffix, { headers: { 'content-type': V2, accept }, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
  }

  /** An instance reading partition 0 of `topic` from the beginning. */
  async assigned(group: string, topic: string) {
    const res = await strand.http.request('POST', `/consumers/${group}`, { headers: { 'content-type': V2 }, body: JSON.stringify({ format: this.format, 'auto.offset.reset': 'earliest' }) });
    expectStatus(res, 200);
    this.base = new URL(res.json.base_uri).pathname;
    expectStatus(await this.call('POST', '/assignments', { partitions: [{ topic, partition: 0 }] }), 204);
    return this;
  }

  records(accept = `application/vnd.kafka.${this.format}.v2+json`) {
    return this.call('GET', '/records', undefined, accept);
  }
}

describe('the avro format: values decoded through the registry into Avro’s JSON encoding', () => {
  test('records produced with an Avro schema come back as kafka-rest renders them: unions wrapped by branch name, bytes as code points', async () => {
    await createTopic(strand.http, 'v2-avro', 1);
    const produced = await strand.http.request('POST', '/topics/v2-avro', {
      headers: { 'content-type': 'application/vnd.kafka.avro.v2+json' },
      body: JSON.stringify({
        value_schema: JSON.stringify(order),
        key_schema: '"string"',
        records: [
          { key: 'o-1', value: { id: 1, note: { string: 'first' }, amount: { int: 250 }, raw: '\u0000\u00ff' }, partition: 0 },
          { key: 'o-2', value: { id: 2, note: null, amount: { 'com.example.Money': { cents: 99 } }, raw: '' }, partition: 0 },
          { value: { id: 3, amount: null, raw: 'x' }, partition: 0 },
        ],
      }),
    });
    expectStatus(produced, 200);
    expect(produced.json.offsets.map((o: { error_code: unknown }) => o.error_code)).toEqual([null, null, null]);

    const c = await new V2Consumer('avro').assigned('g-v2-avro', 'v2-avro');
    const res = await c.records();
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toBe('application/vnd.kafka.avro.v2+json');
    expect(res.json.map((r: { key: unknown; value: unknown; offset: number }) => [r.offset, r.key, r.value])).toEqual([
      [0, 'o-1', { id: 1, note: { string: 'first' }, amount: { int: 250 }, raw: '\u0000\u00ff' }],
      [1, 'o-2', { id: 2, note: null, amount: { 'com.example.Money': { cents: 99 } }, raw: '' }],
      [2, null, { id: 3, note: null, amount: null, raw: 'x' }],
    ]);
    // An avro instance read as another embedded format is 406 / 40601, as before.
    const mismatch = await c.records('application/vnd.kafka.json.v2+json');
    expect([mismatch.status, mismatch.json.error_code]).toEqual([406, 40601]);
  });

  test('a subscribed avro instance decodes records of several schema ids in one call', async () => {
    await createTopic(strand.http, 'v2-avro-ids', 1);
    const v1 = await register('v2-avro-ids-value', { schema: JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'n', type: 'int' }] }) });
    const other = await register('v2-avro-ids-other', { schema: JSON.stringify({ type: 'record', name: 'B', fields: [{ name: 's', type: 'string' }] }) });
    await produceRaw('v2-avro-ids', [wire(v1, Buffer.from([0x04])), wire(other, Buffer.from([0x02, 0x68])), wire(v1, Buffer.from([0x06]))]);
    const create = await strand.http.request('POST', '/consumers/g-v2-avro-ids', { headers: { 'content-type': V2 }, body: JSON.stringify({ format: 'AVRO', 'auto.offset.reset': 'earliest' }) });
    expectStatus(create, 200);
    const c = new V2Consumer('avro');
    c.base = new URL(create.json.base_uri).pathname;
    expectStatus(await c.call('POST', '/subscription', { topics: ['v2-avro-ids'] }), 204);
    const res = await c.records();
    expectStatus(res, 200);
    expect(res.json.map((r: { value: unknown }) => r.value)).toEqual([{ n: 2 }, { s: 'h' }, { n: 3 }]);
  });
});

describe('the jsonschema format: the JSON after the schema prefix', () => {
  test('values written by a JSON Schema serializer come back as their JSON', async () => {
    await createTopic(strand.http, 'v2-jsonschema', 1);
    const id = await register('v2-jsonschema-value', { schema: JSON.stringify(orderJsonSchema), schemaType: 'JSON' });
    const values = [{ id: 1, items: ['a', 'b'] }, { id: 2, items: [] }];
    await produceRaw('v2-jsonschema', values.map((v) => wire(id, Buffer.from(JSON.stringify(v)))));
    const c = await new V2Consumer('jsonschema').assigned('g-v2-jsonschema', 'v2-jsonschema');
    const res = await c.records();
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toBe('application/vnd.kafka.jsonschema.v2+json');
    expect(res.json.map((r: { key: unknown; value: unknown }) => [r.key, r.value])).toEqual(values.map((v) => [null, v]));
  });
});

describe('bytes the format cannot decode are 408 / 40801, as kafka-rest answers a SerializationException', () => {
  test('the records before an undecodable one come first; then 40801 names it, and a seek past it goes on', async () => {
    await createTopic(strand.http, 'v2-undecodable', 1);
    const id = await register('v2-undecodable-value', { schema: JSON.stringify(orderJsonSchema), schemaType: 'JSON' });
    await produceRaw('v2-undecodable', [wire(id, Buffer.from('{"id":1}')), Buffer.from('{"id":2}'), wire(id, Buffer.from('{"id":3}'))]);
    const c = await new V2Consumer('jsonschema').assigned('g-v2-undecodable', 'v2-undecodable');
    const first = await c.records();
    expectStatus(first, 200);
    expect(first.json.map((r: { value: unknown }) => r.value)).toEqual([{ id: 1 }]);
    const failed = await c.records();
    expect([failed.status, failed.json.error_code]).toEqual([408, 40801]);
    expect(failed.json).toMatchObject({ topic: 'v2-undecodable', partition: 0, offset: 1, next_offset: 2 });
    expect(failed.json.message).toMatch(/^Error deserializing value for partition v2-undecodable-0 at offset 1: .*magic byte.*seek past the record/);
    expect(failed.headers.get('content-type')).toBe(V2);
    // The position stays at the record: the same call fails again until the client seeks past it.
    expect((await c.records()).status).toBe(408);
    expectStatus(await c.call('POST', '/positions', { offsets: [{ topic: 'v2-undecodable', partition: 0, offset: 2 }] }), 204);
    expect((await c.records()).json.map((r: { value: unknown }) => r.value)).toEqual([{ id: 3 }]);
  });

  test.each([
    ['an id the registry does not have', () => wire(999_999, Buffer.from('{}')), /schema id 999999 is not in the schema registry/],
    ['a JSON Schema id read as Avro', async () => wire(await register('v2-wrong-type-value', { schema: JSON.stringify(orderJsonSchema), schemaType: 'JSON' }), Buffer.from('{}')), /is a JSON schema; the instance's format avro reads AVRO schemas/],
    ['an Avro payload cut short', async () => wire(await register('v2-short-value', { schema: JSON.stringify(order) }), Buffer.from([0x02])), /not Avro of schema id \d+/],
  ])('%s', async (label, value, reason) => {
    const topic = `v2-bad-${label.replace(/[^a-z]+/gi, '-').replace(/-+$/, '')}`;
    await createTopic(strand.http, topic, 1);
    await produceRaw(topic, [await value()]);
    const c = await new V2Consumer('avro').assigned(`g-${topic}`, topic);
    const res = await c.records();
    expect([res.status, res.json.error_code]).toEqual([408, 40801]);
    expect(res.json.message).toMatch(reason);
  });
});
