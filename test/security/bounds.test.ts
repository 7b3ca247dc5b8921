/**
 * Named bounds on hostile input (issue 6, item 3), one request each over HTTP:
 * every bound is enforced with a 4xx from the contract, and the refused request
 * changes nothing.
 */
import { cluster, createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { expectError, highWatermark, topicNames } from '../support/api';
import { entriesPerBatchRequestMax, headersPerRecordMax } from '../../src/api/produce';
import { pathParameterCharsMax } from '../../src/api/request';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
  await createTopic(strand.http, 'bounds');
});
afterAll(() => strand.dispose());

describe('bounds on hostile input', () => {
  test(`records:batch takes at most ${entriesPerBatchRequestMax} entries`, async () => {
    const entries = Array.from({ length: entriesPerBatchRequestMax + 1 }, (_, i) => ({ id: String(i) }));
    expectError(await strand.http.post(`${topicPath('bounds')}/records:batch`, { entries }), 40002);
    expect(await highWatermark(strand.http, 'bounds')).toBe(0);
  });

  test(`a record takes at most ${headersPerRecordMax} headers`, async () => {
    const headers = Array.from({ length: headersPerRecordMax + 1 }, (_, i) => ({ name: `h${i}`, value: null }));
    expectError(await strand.http.post(`${topicPath('bounds')}/records`, { headers }), 40002);
    expect(await highWatermark(strand.http, 'bounds')).toBe(0);
  });

  test(`names in paths are at most ${pathParameterCharsMax} characters, on every kind of route`, async () => {
    const long = 'x'.repeat(pathParameterCharsMax + 1);
    expectError(await strand.http.get(topicPath(long)), 40002);
    expectError(await strand.http.get(`${cluster}/consumer-groups/${long}`), 40002);
    expectError(await strand.http.post(`${partitionPath(long, 0)}/batches`, {}), 40002);
    expectError(await strand.http.get(`/consumers/${long}/instances/i/offsets`), 40002);
    expectError(await strand.http.post(`${cluster}/topics`, { topic_name: long }), 40002);
    expect(await topicNames(strand.http)).toEqual(['bounds']);
  });

  test('a body over 4 MiB is refused before it is parsed', async () => {
    const res = await strand.http.request('POST', `${topicPath('bounds')}/records`, { body: Buffer.alloc(4 * 1024 * 1024 + 1, 0x20), headers: { 'content-type': 'application/json' } });
    expectError(res, 41301);
  });

  test('a topic create takes at most 100 configs; partitions are bounded', async () => {
    const configs = Array.from({ length: 101 }, () => ({ name: 'retention.ms', value: '1000' }));
    expectError(await strand.http.post(`${cluster}/topics`, { topic_name: 'bounds-configs', configs }), 40002);
    expectError(await strand.http.post(`${cluster}/topics`, { topic_name: 'bounds-parts', partitions_count: 1e9 }), 40002);
    expectError(await strand.http.patch(topicPath('bounds'), { partitions_count: 1e9 }), 40002);
    expect(await topicNames(strand.http)).toEqual(['bounds']);
  });
});
