/**
 * Group reads show only topics the caller may describe (issue 14, defect 8),
 * over HTTP against a real local Strand with STRAND_AUTH=keys, in the style of
 * ./apiKeys.test.ts. A group's committed offsets and lags used to list every
 * topic the group had committed, so a key with consume on the group learned the
 * names, offsets and lags of topics it had no rights on. Kafka's OffsetFetch
 * leaves those out; so do offsets, lags and the lag summary here.
 */
import { createHash } from 'node:crypto';
import { cluster, topicPath, startTestStrand, type HttpResult, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus } from '../support/api';

const bootstrap = `boot-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 32)}`;
const group = 'billing-1';
const groupPath = `${cluster}/consumer-groups/${group}`;
let strand: TestStrand;

function as(key: string, method: string, path: string, json?: unknown): Promise<HttpResult> {
  return strand.http.request(method, path, { json, headers: { authorization: `Bearer ${key}` } });
}

async function createKey(name: string, permissions: string[]): Promise<string> {
  const res = await as(bootstrap, 'POST', `${cluster}/api-keys`, { name, permissions });
  expectStatus(res, 201);
  return res.json.api_key;
}

const topicsIn = (rows: { topic_name: string }[]) => [...new Set(rows.map((r) => r.topic_name))].sort();

let oneTopic: string;
let bothTopics: string;
let groupOnly: string;

beforeAll(async () => {
  strand = await startTestStrand({ auth: 'keys', bootstrapAdminKey: bootstrap });
  // orders-1: 3 records, committed at 1 (lag 2). secret: 10 records, committed at 0 (lag 10, the largest).
  for (const [topic, records] of [['orders-1', 3], ['secret', 10]] as const) {
    expectStatus(await as(bootstrap, 'POST', `${cluster}/topics`, { topic_name: topic, partitions_count: 1 }), 201);
    for (let i = 0; i < records; i++) expectStatus(await as(bootstrap, 'POST', `${topicPath(topic)}/records`, { partition_id: 0, value: { type: 'STRING', data: `r${i}` } }), 200);
  }
  const commit = await as(bootstrap, 'POST', `${groupPath}/offsets:commit`, {
    offsets: [
      { topic_name: 'orders-1', partition_id: 0, offset: 1 },
      { topic_name: 'secret', partition_id: 0, offset: 0 },
    ],
  });
  expectStatus(commit, 200);
  oneTopic = await createKey('one-topic', ['consume:group:billing-*', 'consume:orders-1']);
  bothTopics = await createKey('both-topics', ['consume:group:billing-*', 'consume:orders-1', 'produce:secret']);
  groupOnly = await createKey('group-only', ['consume:group:billing-*']);
});
afterAll(() => strand.dispose());

describe('committed offsets show only topics the key may describe', () => {
  test('a key with consume on the group and one topic sees that topic\'s offsets only', async () => {
    const res = await as(oneTopic, 'GET', `${groupPath}/offsets`);
    expectStatus(res, 200);
    expect(res.json.offsets).toEqual([{ topic_name: 'orders-1', partition_id: 0, offset: 1, metadata: '' }]);
  });

  test('any permission on a topic makes it visible, as describing it does; a cluster admin sees every topic', async () => {
    expect(topicsIn((await as(bothTopics, 'GET', `${groupPath}/offsets`)).json.offsets)).toEqual(['orders-1', 'secret']);
    expect(topicsIn((await as(bootstrap, 'GET', `${groupPath}/offsets`)).json.offsets)).toEqual(['orders-1', 'secret']);
  });

  test('a key with rights on the group and no topic sees an empty list, not an error', async () => {
    const res = await as(groupOnly, 'GET', `${groupPath}/offsets`);
    expectStatus(res, 200);
    expect(res.json.offsets).toEqual([]);
  });
});

describe('lags and the lag summary show only topics the key may describe', () => {
  test('a key with consume on the group and one topic sees that topic\'s lags only', async () => {
    const res = await as(oneTopic, 'GET', `${groupPath}/lags`);
    expectStatus(res, 200);
    expect(res.json.data).toEqual([expect.objectContaining({ topic_name: 'orders-1', partition_id: 0, current_offset: 1, log_end_offset: 3, lag: 2 })]);
    expect(topicsIn((await as(bootstrap, 'GET', `${groupPath}/lags`)).json.data)).toEqual(['orders-1', 'secret']);
  });

  test('the summary\'s maximum and total cover only visible topics: a hidden topic\'s larger lag does not surface', async () => {
    const mine = await as(oneTopic, 'GET', `${groupPath}/lag-summary`);
    expectStatus(mine, 200);
    expect(mine.json).toMatchObject({ max_lag_topic_name: 'orders-1', max_lag: 2, total_lag: 2 });
    expect(JSON.stringify(mine.json)).not.toContain('secret');
    const all = await as(bootstrap, 'GET', `${groupPath}/lag-summary`);
    expect(all.json).toMatchObject({ max_lag_topic_name: 'secret', max_lag: 10, total_lag: 12 });
    expect((await as(groupOnly, 'GET', `${groupPath}/lag-summary`)).json).toMatchObject({ max_lag_topic_name: '', max_lag: 0, total_lag: 0 });
  });

  test('the group check itself is unchanged: no consume on the group is still 40301', async () => {
    const outsider = await createKey('outsider', ['consume:*']);
    for (const path of ['/offsets', '/lags', '/lag-summary']) expectError(await as(outsider, 'GET', `${groupPath}${path}`), 40301);
  });
});
