/**
 * Deeply nested JSON (issue 14, defect 7), over HTTP against a real local
 * Strand with API keys on. A record value or a registry body nested 500,000
 * levels deep overflowed the stack of the code that walks the parsed value (a
 * 500). Now a body deeper than `jsonNestingDepthMax`, and a schema text deeper
 * than `schemaNestingDepthMax`, are refused before they are parsed: 400 / 40002
 * on the v3 API, 422 / 42201 on the registry, and nothing changes. Bodies at
 * the bound still work, so the bound is the only thing that moved.
 */
import { createHash } from 'node:crypto';
import { cluster, startTestStrand, topicPath, type HttpResult, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus } from '../support/api';
import { registryType } from '../schemas/support';
import { jsonNestingDepthMax } from '../../src/api/request';
import { schemaNestingDepthMax } from '../../src/schemas/avro';
import { encodeRecordBatch } from '../../src/codec/recordBatch';

const bootstrap = `boot-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 32)}`;
const hostileDepth = 500_000;
let strand: TestStrand;
let reader: string;

/** `depth` arrays inside one another: `[[[…]]]`. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

function send(key: string, method: string, path: string, body: string, contentType = 'application/json'): Promise<HttpResult> {
  return strand.http.request(method, path, { body, headers: { authorization: `Bearer ${key}`, 'content-type': contentType } });
}
const registry = (key: string, path: string, body: string) => send(key, 'POST', path, body, registryType);

async function highWatermark(topic: string): Promise<number> {
  const res = await strand.http.request('GET', `${topicPath(topic)}/partitions/0`, { headers: { authorization: `Bearer ${bootstrap}` } });
  expectStatus(res, 200);
  return res.json.high_watermark;
}
async function subjects(): Promise<string[]> {
  const res = await strand.http.request('GET', '/subjects', { headers: { authorization: `Bearer ${bootstrap}` } });
  expectStatus(res, 200);
  return res.json;
}

/**
 * `records` Avro records inside one another, each the type of the one field of
 * the record outside, the innermost's field an array of ints: 3 JSON levels per
 * record (the record, `fields`, the field) plus 1, so 33 records are 100 levels.
 */
function nestedRecords(records: number): unknown {
  let type: unknown = { type: 'array', items: 'int' };
  for (let i = records - 1; i >= 0; i--) type = { type: 'record', name: `R${i}`, fields: [{ name: 'f', type }] };
  return type;
}

beforeAll(async () => {
  strand = await startTestStrand({ auth: 'keys', bootstrapAdminKey: bootstrap });
  expectStatus(await send(bootstrap, 'POST', `${cluster}/topics`, JSON.stringify({ topic_name: 'deep', partitions_count: 1 })), 201);
  // "Any key" may look schemas up and check compatibility: a key with no permission at all on the registry.
  const made = await send(bootstrap, 'POST', `${cluster}/api-keys`, JSON.stringify({ name: 'reader', permissions: ['consume:other'] }));
  expectStatus(made, 201);
  reader = made.json.api_key;
});
afterAll(() => strand.dispose());

describe(`a request body nests at most ${jsonNestingDepthMax} levels (400 / 40002)`, () => {
  test(`a JSON record value ${hostileDepth.toLocaleString('en')} levels deep is 40002 and appends nothing`, async () => {
    const res = await send(bootstrap, 'POST', `${topicPath('deep')}/records`, `{"value":{"type":"JSON","data":${nested(hostileDepth)}}}`);
    expectError(res, 40002);
    expect(res.json.message).toContain(`${jsonNestingDepthMax} levels`);
    expect(await highWatermark('deep')).toBe(0);
  });

  test('one deep entry refuses the whole records:batch with 40002, the other entries included', async () => {
    const entries = `[{"id":"1","value":{"type":"STRING","data":"fine"}},{"id":"2","value":{"type":"JSON","data":${nested(hostileDepth)}}}]`;
    expectError(await send(bootstrap, 'POST', `${topicPath('deep')}/records:batch`, `{"entries":${entries}}`), 40002);
    expect(await highWatermark('deep')).toBe(0);
  });

  test('the bound counts the whole body: a value that brings it to exactly the bound is stored, one level more is refused', async () => {
    // The body object and `value` are 2 levels; `data` brings the rest.
    const atBound = `{"value":{"type":"JSON","data":${nested(jsonNestingDepthMax - 2)}}}`;
    expectStatus(await send(bootstrap, 'POST', `${topicPath('deep')}/records`, atBound), 200);
    const over = `{"value":{"type":"JSON","data":${nested(jsonNestingDepthMax - 1)}}}`;
    expectError(await send(bootstrap, 'POST', `${topicPath('deep')}/records`, over), 40002);
    expect(await highWatermark('deep')).toBe(1);
  });

  test('brackets inside strings are text, not nesting', async () => {
    const res = await send(bootstrap, 'POST', `${topicPath('deep')}/records`, JSON.stringify({ value: { type: 'STRING', data: '['.repeat(10_000) } }));
    expectStatus(res, 200);
    expect(await highWatermark('deep')).toBe(2);
  });

  test('an inline Avro schema nested too deep in a produce request is 40002 and registers nothing', async () => {
    const schema = JSON.stringify(nestedRecords(40));
    const res = await send(bootstrap, 'POST', `${topicPath('deep')}/records`, JSON.stringify({ value: { type: 'AVRO', schema, data: {} } }));
    expectError(res, 40002);
    expect(res.json.message).toContain(`${schemaNestingDepthMax} levels`);
    expect(await subjects()).toEqual([]);
    expect(await highWatermark('deep')).toBe(2);
  });
});

describe(`the schema registry refuses deep bodies and schemas with 422 / 42201, in Confluent's shape`, () => {
  const deepBody = `{"schema":"\\"int\\"","extra":${nested(hostileDepth)}}`;

  test('register, lookup and compatibility check with a deep body are 42201 and change nothing; any key reaches the last two', async () => {
    expectError(await registry(bootstrap, '/subjects/x/versions', deepBody), 42201);
    expectError(await registry(reader, '/subjects/x', deepBody), 42201);
    expectError(await registry(reader, '/compatibility/subjects/x/versions/latest', deepBody), 42201);
    expect(await subjects()).toEqual([]);
  });

  test(`a schema text nested more than ${schemaNestingDepthMax} levels is 42201 on register, lookup and check`, async () => {
    // 256 KiB of brackets: the deepest text the size bound lets through.
    const brackets = JSON.stringify({ schema: nested(100_000) });
    const records = JSON.stringify({ schema: JSON.stringify(nestedRecords(40)) });
    for (const body of [brackets, records]) {
      const res = await registry(bootstrap, '/subjects/x/versions', body);
      expectError(res, 42201);
      expect(res.json.message).toContain(`${schemaNestingDepthMax} levels`);
      expectError(await registry(reader, '/subjects/x', body), 42201);
      expectError(await registry(reader, '/compatibility/subjects/x/versions/latest', body), 42201);
    }
    expect(await subjects()).toEqual([]);
  });

  test(`records nested to exactly ${schemaNestingDepthMax} levels (33 records) register, and a reader may check against them`, async () => {
    const schema = JSON.stringify(nestedRecords(33));
    const registered = await registry(bootstrap, '/subjects/nested/versions', JSON.stringify({ schema }));
    expectStatus(registered, 200);
    const checked = await registry(reader, '/compatibility/subjects/nested/versions/latest', JSON.stringify({ schema }));
    expectStatus(checked, 200);
    expect(checked.json.is_compatible).toBe(true);
    expect(await subjects()).toEqual(['nested']);
  });
});

describe('a stored record nested too deep for JSON is still delivered, never a 500', () => {
  test('produced as bytes through /batches, the JSON fetch answers it as BINARY and the next record as JSON', async () => {
    expectStatus(await send(bootstrap, 'POST', `${cluster}/topics`, JSON.stringify({ topic_name: 'deep-stored', partitions_count: 1 })), 201);
    const batch = encodeRecordBatch([
      { key: null, value: Buffer.from(nested(200_000)), headers: [], timestamp: 1 },
      { key: null, value: Buffer.from('{"ok":true}'), headers: [], timestamp: 1 },
    ]);
    const produced = await strand.http.request('POST', `${topicPath('deep-stored')}/partitions/0/batches`, {
      body: batch,
      headers: { authorization: `Bearer ${bootstrap}`, 'content-type': 'application/vnd.kafka.record-batch.v2' },
    });
    expectStatus(produced, 200);
    const res = await strand.http.request('GET', `${topicPath('deep-stored')}/partitions/0/records?offset=0&embedded_format=json`, {
      headers: { authorization: `Bearer ${bootstrap}` },
    });
    expectStatus(res, 200);
    expect(res.json.records.map((r: { value: { type: string } }) => r.value.type)).toEqual(['BINARY', 'JSON']);
    expect(res.json.records[1].value.data).toEqual({ ok: true });
  });
});
