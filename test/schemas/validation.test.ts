/**
 * Broker-side schema validation (Confluent Server's
 * `confluent.value.schema.validation` / `confluent.key.schema.validation`):
 * produce refuses any key or value whose bytes do not carry a schema id
 * registered under `<topic>-value` / `<topic>-key`, on the JSON, batch and
 * binary endpoints. How: each refusal is checked to be 40002 naming the record
 * and to leave the high watermark unchanged; binary batches are built with
 * Strand's RecordBatch encoder around wire-format bytes made by the test.
 */
import * as avro from 'avsc';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { configsOf, expectError, expectStatus, highWatermark } from '../support/api';
import { cluster, createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { register, user } from './support';

let strand: TestStrand;
let valueId: number;
let keyId: number;
let foreignId: number;
beforeAll(async () => {
  strand = await startTestStrand();
  await createTopic(strand.http, 'guarded', 1, { 'confluent.value.schema.validation': 'true' });
  await createTopic(strand.http, 'guarded-keys', 1, { 'confluent.key.schema.validation': 'true' });
  valueId = await register(strand.http, 'guarded-value', user.v1);
  keyId = await register(strand.http, 'guarded-keys-key', 'string');
  foreignId = await register(strand.http, 'somewhere-else', { type: 'record', name: 'Foreign', fields: [{ name: 'f', type: 'int' }] });
});
afterAll(() => strand.dispose());

const userType = avro.Type.forSchema(user.v1 as avro.Schema);

/** Confluent framing, built by hand: magic 0, big-endian id, payload. */
function wire(id: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, payload]);
}

function batch(values: (Buffer | null)[], keys: (Buffer | null)[] = values.map(() => null)): Buffer {
  return encodeRecordBatch(values.map((value, i) => ({ key: keys[i]!, value, headers: [], timestamp: Date.now() })));
}

const postBatch = (topic: string, body: Buffer) =>
  strand.http.request('POST', `${partitionPath(topic, 0)}/batches`, { body, headers: { 'content-type': 'application/vnd.kafka.record-batch.v2' } });

describe('topic configs', () => {
  test('are listed with their defaults, take true/false only, and can be altered', async () => {
    const configs = await configsOf(strand.http, 'guarded');
    expect(configs['confluent.value.schema.validation']).toEqual({ value: 'true', is_default: false });
    expect(configs['confluent.key.schema.validation']).toEqual({ value: 'false', is_default: true });
    const bad = await strand.http.post(`${cluster}/topics`, { topic_name: 'bad-flag', configs: [{ name: 'confluent.value.schema.validation', value: 'yes' }] });
    expectError(bad, 40002);
    await createTopic(strand.http, 'later-guarded');
    expectStatus(await strand.http.post(`${topicPath('later-guarded')}/configs:alter`, { data: [{ name: 'confluent.value.schema.validation', value: 'true' }] }), 204);
    await new Promise((r) => setTimeout(r, 1100)); // the data path trusts topic metadata for up to a second
    expectError(await strand.http.post(`${topicPath('later-guarded')}/records`, { value: { type: 'STRING', data: 'x' } }), 40002);
  });
});

describe('values must carry a schema id registered under <topic>-value', () => {
  test('JSON records: a schema-encoded value is accepted; plain data, a foreign id, an unknown id are refused', async () => {
    expectStatus(await strand.http.post(`${topicPath('guarded')}/records`, { value: { schema_id: valueId, data: { id: 1, name: 'ok' } } }), 200);
    const before = await highWatermark(strand.http, 'guarded');
    const refusals: [unknown, RegExp][] = [
      [{ type: 'JSON', data: { id: 1, name: 'raw json' } }, /starts with byte 123, not the magic byte 0/],
      [{ type: 'BINARY', data: Buffer.from([0, 0]).toString('base64') }, /shorter than the 5-byte schema header/],
      [{ schema_id: foreignId, data: { f: 1 } }, new RegExp(`schema id ${foreignId}, which is not registered under subject 'guarded-value'`)],
      [{ type: 'BINARY', data: wire(424242, Buffer.alloc(1)).toString('base64') }, /schema id 424242, which is not registered under subject 'guarded-value'/],
      [{ type: 'BINARY', data: wire(valueId, Buffer.from([0xff])).toString('base64') }, new RegExp(`does not decode with schema id ${valueId}`)],
    ];
    for (const [value, message] of refusals) {
      const res = await strand.http.post(`${topicPath('guarded')}/records`, { value });
      expectError(res, 40002);
      expect(res.json.message).toMatch(message);
      expect(res.json.message).toMatch(/confluent\.value\.schema\.validation=true/);
    }
    expect(await highWatermark(strand.http, 'guarded')).toBe(before);
  });

  test('a null value (a tombstone) passes', async () => {
    expectStatus(await strand.http.post(`${topicPath('guarded')}/records`, { key: { type: 'STRING', data: 'k' }, value: null }), 200);
  });

  test('records:batch: refused entries fail alone and name themselves', async () => {
    const before = await highWatermark(strand.http, 'guarded');
    const res = await strand.http.post(`${topicPath('guarded')}/records:batch`, {
      entries: [
        { id: 'a', value: { schema_id: valueId, data: { id: 2, name: 'a' } } },
        { id: 'b', value: { type: 'STRING', data: 'no schema' } },
      ],
    });
    expect(res.status).toBe(207);
    expect(res.json.successes.map((s: { id: string }) => s.id)).toEqual(['a']);
    expect(res.json.failures).toEqual([{ id: 'b', error_code: 40002, message: expect.stringMatching(/^Entry 'b': the value starts with byte 110/) }]);
    expect(await highWatermark(strand.http, 'guarded')).toBe(before + 1);
  });

  test('binary batches: all records valid are appended; one bad record refuses the whole request and writes nothing', async () => {
    const good = wire(valueId, userType.toBuffer({ id: 3, name: 'bin' }));
    expectStatus(await postBatch('guarded', batch([good, good])), 200);
    const before = await highWatermark(strand.http, 'guarded');
    const res = await postBatch('guarded', batch([good, Buffer.from('raw'), good]));
    expectError(res, 40002);
    expect(res.json.message).toMatch(/^Batch at byte 0, record 1: the value/);
    const foreign = await postBatch('guarded', batch([wire(foreignId, Buffer.from([2]))]));
    expectError(foreign, 40002);
    expect(await highWatermark(strand.http, 'guarded')).toBe(before);
  });

  test('a soft-deleted version no longer admits its id', async () => {
    const id = await register(strand.http, 'guarded-value', user.addFieldWithDefault);
    const data = { schema_id: id, data: { id: 4, name: 'v2' } };
    expectStatus(await strand.http.post(`${topicPath('guarded')}/records`, { value: data }), 200);
    expectStatus(await strand.http.request('DELETE', '/subjects/guarded-value/versions/2'), 200);
    expectError(await strand.http.post(`${topicPath('guarded')}/records`, { value: { type: 'BINARY', data: wire(id, userType.toBuffer({ id: 5, name: 'x' })).toString('base64') } }), 40002);
  });
});

describe('keys must carry a schema id registered under <topic>-key', () => {
  test('keys are checked, values are not; an unkeyed record passes', async () => {
    const before = await highWatermark(strand.http, 'guarded-keys');
    expectStatus(await strand.http.post(`${topicPath('guarded-keys')}/records`, { key: { schema_id: keyId, data: 'k' }, value: { type: 'STRING', data: 'anything' } }), 200);
    expectStatus(await strand.http.post(`${topicPath('guarded-keys')}/records`, { value: { type: 'STRING', data: 'unkeyed' } }), 200);
    const res = await strand.http.post(`${topicPath('guarded-keys')}/records`, { key: { type: 'STRING', data: 'plain-key' }, value: { type: 'STRING', data: 'v' } });
    expectError(res, 40002);
    expect(res.json.message).toMatch(/^Record: the key .*subject 'guarded-keys-key' \(confluent\.key\.schema\.validation=true\)/);
    const bin = await postBatch('guarded-keys', batch([Buffer.from('v')], [Buffer.from('plain')]));
    expectError(bin, 40002);
    expect(await highWatermark(strand.http, 'guarded-keys')).toBe(before + 2);
  });
});
