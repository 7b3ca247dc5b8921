/**
 * REST Proxy v2's topics and produce (`POST /topics/{t}` with the embedded
 * format in the content type), over HTTP against a local Strand, read back
 * through the v3 fetch.
 */
import { createTopic, partitionPath, startTestStrand, type TestStrand } from '../support/localStrand';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const produceV2 = (topic: string, format: string, body: unknown) =>
  strand.http.request('POST', `/topics/${topic}`, { body: JSON.stringify(body), headers: { 'content-type': `application/vnd.kafka.${format}.v2+json` } });

describe('REST Proxy v2 produce', () => {
  test('json records are produced in order and answered with their partitions and offsets', async () => {
    await createTopic(strand.http, 'v2p-json', 2);
    const res = await produceV2('v2p-json', 'json', { records: [{ value: { n: 1 }, partition: 0 }, { key: 'k', value: { n: 2 }, partition: 1 }, { value: { n: 3 }, partition: 0 }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.kafka.v2+json');
    expect(res.json).toEqual({
      key_schema_id: null,
      value_schema_id: null,
      offsets: [
        { partition: 0, offset: 0, error_code: null, error: null },
        { partition: 1, offset: 0, error_code: null, error: null },
        { partition: 0, offset: 1, error_code: null, error: null },
      ],
    });
    const read = await strand.http.get(`${partitionPath('v2p-json', 0)}/records?offset=0&embedded_format=json`);
    expect(read.json.records.map((r: { value: { data: unknown } }) => r.value.data)).toEqual([{ n: 1 }, { n: 3 }]);
  });

  test('binary records carry base64 keys and values; a bad record reports its error and the others are produced', async () => {
    await createTopic(strand.http, 'v2p-bin', 1);
    const res = await produceV2('v2p-bin', 'binary', { records: [{ value: Buffer.from('a').toString('base64') }, { value: 'not base64!' }, { value: Buffer.from('b').toString('base64'), partition: 3 }, { value: Buffer.from('c').toString('base64') }] });
    expect(res.status).toBe(200);
    expect(res.json.offsets.map((o: { offset: number | null; error_code: number | null }) => [o.offset, o.error_code])).toEqual([[0, null], [null, 40002], [null, 40402], [1, null]]);
  });

  test('avro records are encoded with the schema given and answered with its id', async () => {
    await createTopic(strand.http, 'v2p-avro', 1);
    const schema = JSON.stringify({ type: 'record', name: 'V2', fields: [{ name: 'n', type: 'int' }] });
    const res = await produceV2('v2p-avro', 'avro', { value_schema: schema, records: [{ value: { n: 7 } }] });
    expect(res.status).toBe(200);
    expect(res.json.value_schema_id).toEqual(expect.any(Number));
    expect(res.json.offsets[0]).toEqual({ partition: 0, offset: 0, error_code: null, error: null });
  });

  test('a content type without an embedded format is 415, and an unknown topic is 404 in the v2 media type', async () => {
    await createTopic(strand.http, 'v2p-type', 1);
    const plain = await strand.http.request('POST', '/topics/v2p-type', { body: JSON.stringify({ records: [{ value: 1 }] }), headers: { 'content-type': 'application/json' } });
    expect(plain.status).toBe(415);
    const missing = await produceV2('v2p-nope', 'json', { records: [{ value: 1 }] });
    expect([missing.status, missing.json.error_code]).toEqual([404, 40403]);
    expect(missing.headers.get('content-type')).toBe('application/vnd.kafka.v2+json');
  });
});

describe('REST Proxy v2 topics', () => {
  test('GET /topics lists the names; GET /topics/{t} its configs and partitions, each led by broker 0', async () => {
    await createTopic(strand.http, 'v2t-list', 2, { 'retention.ms': '1000' });
    expect((await strand.http.get('/topics')).json).toContain('v2t-list');
    const topic = (await strand.http.get('/topics/v2t-list')).json;
    expect(topic).toMatchObject({ name: 'v2t-list', configs: expect.objectContaining({ 'retention.ms': '1000' }) });
    expect(topic.partitions).toEqual([
      { partition: 0, leader: 0, replicas: [{ broker: 0, leader: true, in_sync: true }] },
      { partition: 1, leader: 0, replicas: [{ broker: 0, leader: true, in_sync: true }] },
    ]);
  });
});
