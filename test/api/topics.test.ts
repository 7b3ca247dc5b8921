/**
 * Topics (REST Proxy v3), clusters, health and routing, over HTTP against a real
 * local Strand (../shared/api.md). How: each test uses its own topic names on one
 * Strand per file; every rejected request is followed by a read showing that
 * nothing changed (invariant 3).
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { topicPrefix } from '../../src/log/ObjectStore';
import { partitionKey } from '../../src/log/TopicCatalog';
import { cluster, createTopic, partitionPath, produceString, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { configsOf, expectError, expectStatus, highWatermark, highWatermarks, topicNames } from '../support/api';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const kafkaDefaults: Record<string, string> = {
  'retention.ms': '604800000',
  'retention.bytes': '-1',
  'cleanup.policy': 'delete',
  'max.message.bytes': '1048588',
  'message.timestamp.type': 'CreateTime',
};

const post = (path: string, json: unknown) => strand.http.post(path, json);

describe('health and routing', () => {
  test('GET /health is 200 {"status":"ok"}', async () => {
    const res = await strand.http.get('/health');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  test('an unknown route is 404', async () => {
    for (const path of ['/nope', '/v3', '/v3/clusters/local/topics/t/nope', '/v3/clusters/local/topics/t/partitions/0/nope']) {
      const res = await strand.http.get(path);
      expect([path, res.status]).toEqual([path, 404]);
    }
  });

  test('a known path with the wrong method is 405 and names the allowed methods', async () => {
    const res = await strand.http.request('PUT', `${cluster}/topics`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toMatch(/GET/);
    expect(res.headers.get('allow')).toMatch(/POST/);
    expect((await strand.http.request('DELETE', '/health')).status).toBe(405);
    expect((await strand.http.request('GET', `${topicPath('any')}/records`)).status).toBe(405);
  });
});

describe('clusters', () => {
  test('GET /v3/clusters lists the one cluster, with id "local"', async () => {
    const res = await strand.http.get('/v3/clusters');
    expect(res.status).toBe(200);
    expect(res.json.kind).toBe('KafkaClusterList');
    expect(res.json.data).toHaveLength(1);
    expect(res.json.data[0]).toMatchObject({ kind: 'KafkaCluster', cluster_id: 'local' });
  });

  test('GET /v3/clusters/local is the KafkaCluster', async () => {
    const res = await strand.http.get(cluster);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: 'KafkaCluster', cluster_id: 'local' });
  });

  test('an unknown cluster id is 404 / 40401 on every v3 route, and nothing is created', async () => {
    await createTopic(strand.http, 'cl-existing');
    const before = await topicNames(strand.http);
    const other = '/v3/clusters/other';
    const t = `${other}/topics/cl-existing`;
    const p = `${t}/partitions/0`;
    const attempts: [string, string, unknown?][] = [
      ['GET', other],
      ['GET', `${other}/topics`],
      ['POST', `${other}/topics`, { topic_name: 'cl-new' }],
      ['GET', t],
      ['PATCH', t, { partitions_count: 4 }],
      ['DELETE', t],
      ['GET', `${t}/configs`],
      ['POST', `${t}/configs:alter`, { data: [{ name: 'retention.ms', value: '1000' }] }],
      ['GET', `${t}/partitions`],
      ['GET', p],
      ['GET', `${p}/offsets?timestamp=0`],
      ['POST', `${t}/records`, { value: { type: 'STRING', data: 'x' } }],
      ['POST', `${t}/records:batch`, { entries: [{ id: '1', value: { type: 'STRING', data: 'x' } }] }],
      ['GET', `${p}/records?offset=0`],
    ];
    for (const [method, path, json] of attempts) {
      const res = await strand.http.request(method, path, json === undefined ? {} : { json });
      expectError(res, 40401);
    }
    const batch = await strand.http.request('POST', `${p}/batches`, {
      body: Buffer.alloc(70),
      headers: { 'content-type': 'application/vnd.kafka.record-batch.v2' },
    });
    expectError(batch, 40401);
    expect(await topicNames(strand.http)).toEqual(before);
    expect((await strand.http.get(topicPath('cl-existing'))).json.partitions_count).toBe(1);
    expect(await highWatermark(strand.http, 'cl-existing')).toBe(0);
    expect(await configsOf(strand.http, 'cl-existing')).toMatchObject({ 'retention.ms': { value: '604800000', is_default: true } });
  });
});

describe('create topic', () => {
  test('partitions_count defaults to 1 and the response is a KafkaTopic', async () => {
    const res = await post(`${cluster}/topics`, { topic_name: 'ct-defaults' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      kind: 'KafkaTopic',
      cluster_id: 'local',
      topic_name: 'ct-defaults',
      is_internal: false,
      partitions_count: 1,
    });
    expect(typeof res.json.replication_factor).toBe('number');
    const got = await strand.http.get(topicPath('ct-defaults'));
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ kind: 'KafkaTopic', topic_name: 'ct-defaults', partitions_count: 1, is_internal: false });
  });

  test('a new topic reports every supported config with Kafka\'s default, is_default true', async () => {
    await createTopic(strand.http, 'ct-config-defaults');
    const res = await strand.http.get(`${topicPath('ct-config-defaults')}/configs`);
    expect(res.status).toBe(200);
    expect(res.json.kind).toBe('KafkaTopicConfigList');
    const configs = await configsOf(strand.http, 'ct-config-defaults');
    for (const [name, value] of Object.entries(kafkaDefaults)) {
      expect([name, configs[name]]).toEqual([name, { value, is_default: true }]);
    }
  });

  test('configs given at creation are reported with is_default false', async () => {
    const res = await post(`${cluster}/topics`, {
      topic_name: 'ct-with-configs',
      partitions_count: 3,
      replication_factor: 3,
      configs: [
        { name: 'retention.ms', value: '-1' },
        { name: 'cleanup.policy', value: 'compact' },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.json.partitions_count).toBe(3);
    const configs = await configsOf(strand.http, 'ct-with-configs');
    expect(configs['retention.ms']).toEqual({ value: '-1', is_default: false });
    expect(configs['cleanup.policy']).toEqual({ value: 'compact', is_default: false });
    expect(configs['max.message.bytes']).toEqual({ value: '1048588', is_default: true });
  });

  test('the list holds the created topics as KafkaTopics', async () => {
    await createTopic(strand.http, 'ct-list-a', 2);
    await createTopic(strand.http, 'ct-list-b', 5);
    const res = await strand.http.get(`${cluster}/topics`);
    expect(res.status).toBe(200);
    expect(res.json.kind).toBe('KafkaTopicList');
    const byName = new Map((res.json.data as { topic_name: string }[]).map((t) => [t.topic_name, t]));
    expect(byName.get('ct-list-a')).toMatchObject({ kind: 'KafkaTopic', cluster_id: 'local', is_internal: false, partitions_count: 2 });
    expect(byName.get('ct-list-b')).toMatchObject({ kind: 'KafkaTopic', partitions_count: 5 });
  });

  test('a name of 249 legal characters is accepted', async () => {
    const name = `ct.249_-${'x'.repeat(241)}`;
    expect(name).toHaveLength(249);
    const res = await post(`${cluster}/topics`, { topic_name: name });
    expect(res.status).toBe(201);
    expect((await strand.http.get(topicPath(name))).json.topic_name).toBe(name);
  });

  test.each([
    ['.', '.'],
    ['..', '..'],
    ['a b', 'a b'],
    ['250 characters', 'y'.repeat(250)],
    ['the empty name', ''],
    ['a slash', 'a/b'],
    ['a non-ASCII letter', 'caf\u00e9'],
  ])('a topic name of %s is rejected with 40002 and nothing is created', async (_label, name) => {
    const before = await topicNames(strand.http);
    const res = await post(`${cluster}/topics`, { topic_name: name });
    expectError(res, 40002);
    expect(await topicNames(strand.http)).toEqual(before);
  });

  test.each([
    ['0', 0],
    ['-1', -1],
    ["'x'", 'x'],
    ['1.5', 1.5],
    ['null', null],
  ])('partitions_count %s is rejected with 40002 and nothing is created', async (_label, count) => {
    const before = await topicNames(strand.http);
    const res = await post(`${cluster}/topics`, { topic_name: 'ct-bad-count', partitions_count: count });
    expectError(res, 40002);
    expect(await topicNames(strand.http)).toEqual(before);
  });

  test('invalid JSON is 40001 and nothing is created', async () => {
    const before = await topicNames(strand.http);
    const res = await strand.http.request('POST', `${cluster}/topics`, {
      body: '{"topic_name": "ct-bad-json",',
      headers: { 'content-type': 'application/json' },
    });
    expectError(res, 40001);
    expect(await topicNames(strand.http)).toEqual(before);
  });

  test('a missing topic_name is 40001 and nothing is created', async () => {
    const before = await topicNames(strand.http);
    expectError(await post(`${cluster}/topics`, { partitions_count: 2 }), 40001);
    expectError(await strand.http.request('POST', `${cluster}/topics`, { headers: { 'content-type': 'application/json' } }), 40001);
    expect(await topicNames(strand.http)).toEqual(before);
  });

  test('a topic_name that is not a string is 40002', async () => {
    const before = await topicNames(strand.http);
    expectError(await post(`${cluster}/topics`, { topic_name: 42 }), 40002);
    expect(await topicNames(strand.http)).toEqual(before);
  });

  test('a non-JSON content type is 415 / 41501 and nothing is created', async () => {
    const before = await topicNames(strand.http);
    const res = await strand.http.request('POST', `${cluster}/topics`, {
      body: JSON.stringify({ topic_name: 'ct-text-plain' }),
      headers: { 'content-type': 'text/plain' },
    });
    expectError(res, 41501);
    const form = await strand.http.request('POST', `${cluster}/topics`, {
      body: 'topic_name=ct-form',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(form, 41501);
    expect(await topicNames(strand.http)).toEqual(before);
  });

  test('a REST Proxy vendor JSON content type is accepted', async () => {
    const res = await strand.http.request('POST', `${cluster}/topics`, {
      body: JSON.stringify({ topic_name: 'ct-vendor-json' }),
      headers: { 'content-type': 'application/vnd.kafka.v3+json' },
    });
    expect(res.status).toBe(201);
  });

  test('an existing topic name is 409 / 40902 and the existing topic is unchanged', async () => {
    await createTopic(strand.http, 'ct-dup', 2);
    await produceString(strand.http, 'ct-dup', 'kept', { partition_id: 1 });
    const res = await post(`${cluster}/topics`, { topic_name: 'ct-dup', partitions_count: 7, configs: [{ name: 'retention.ms', value: '1' }] });
    expectError(res, 40902);
    expect(res.json.message).toContain('ct-dup');
    expect((await strand.http.get(topicPath('ct-dup'))).json.partitions_count).toBe(2);
    expect(await highWatermarks(strand.http, 'ct-dup')).toEqual([0, 1]);
    expect((await configsOf(strand.http, 'ct-dup'))['retention.ms']).toEqual({ value: '604800000', is_default: true });
  });

  test('an unknown config name at creation is 40002 and nothing is created', async () => {
    const before = await topicNames(strand.http);
    const res = await post(`${cluster}/topics`, { topic_name: 'ct-bad-config', configs: [{ name: 'segment.wobble', value: '1' }] });
    expectError(res, 40002);
    expect(res.json.message).toContain('segment.wobble');
    expect(await topicNames(strand.http)).toEqual(before);
  });

  test.each([
    ['retention.ms', 'soon'],
    ['retention.ms', '-2'],
    ['retention.bytes', '1.5'],
    ['cleanup.policy', 'shred'],
    ['max.message.bytes', '-1'],
    ['message.timestamp.type', 'WallClock'],
  ])('config %s = %p is rejected with 40002 and nothing is created', async (name, value) => {
    const before = await topicNames(strand.http);
    const res = await post(`${cluster}/topics`, { topic_name: 'ct-bad-value', configs: [{ name, value }] });
    expectError(res, 40002);
    expect(await topicNames(strand.http)).toEqual(before);
  });

  test('a request body over 4 MiB is 413 / 41301 and nothing is created', async () => {
    const before = await topicNames(strand.http);
    const res = await post(`${cluster}/topics`, { topic_name: 'ct-huge', padding: 'p'.repeat(4 * 1024 * 1024) });
    expectError(res, 41301);
    expect(await topicNames(strand.http)).toEqual(before);
  });
});

describe('get topic', () => {
  test('an unknown topic is 404 / 40403 on every topic route', async () => {
    const before = await topicNames(strand.http);
    const t = topicPath('gt-missing');
    const p = partitionPath('gt-missing', 0);
    const attempts: [string, string, unknown?][] = [
      ['GET', t],
      ['PATCH', t, { partitions_count: 2 }],
      ['DELETE', t],
      ['GET', `${t}/configs`],
      ['POST', `${t}/configs:alter`, { data: [{ name: 'retention.ms', value: '1' }] }],
      ['GET', `${t}/partitions`],
      ['GET', p],
      ['GET', `${p}/offsets?timestamp=0`],
      ['POST', `${t}/records`, { value: { type: 'STRING', data: 'x' } }],
      ['POST', `${t}/records:batch`, { entries: [{ id: '1', value: { type: 'STRING', data: 'x' } }] }],
      ['GET', `${p}/records?offset=0`],
    ];
    for (const [method, path, json] of attempts) {
      const res = await strand.http.request(method, path, json === undefined ? {} : { json });
      expectError(res, 40403);
      expect(res.json.message).toContain('gt-missing');
    }
    const batch = await strand.http.request('POST', `${p}/batches`, {
      body: Buffer.alloc(70),
      headers: { 'content-type': 'application/vnd.kafka.record-batch.v2' },
    });
    expectError(batch, 40403);
    expect(await topicNames(strand.http)).toEqual(before);
  });
});

describe('grow partitions (PATCH)', () => {
  test.each([
    ['0', 0],
    ['-1', -1],
    ["'x'", 'x'],
  ])('PATCH partitions_count %s is 40002 and the count is unchanged', async (_label, count) => {
    const name = `pt-bad-${String(count).replace(/[^a-z0-9]/g, 'm')}`;
    await createTopic(strand.http, name, 2);
    expectError(await strand.http.patch(topicPath(name), { partitions_count: count }), 40002);
    expect((await strand.http.get(topicPath(name))).json.partitions_count).toBe(2);
  });

  test('PATCH grows partitions_count; new partitions are empty and writable, old data stays', async () => {
    await createTopic(strand.http, 'pt-grow', 1);
    await produceString(strand.http, 'pt-grow', 'first');
    const res = await strand.http.patch(topicPath('pt-grow'), { partitions_count: 3 });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: 'KafkaTopic', topic_name: 'pt-grow', partitions_count: 3 });
    expect((await strand.http.get(topicPath('pt-grow'))).json.partitions_count).toBe(3);
    expect(await highWatermarks(strand.http, 'pt-grow')).toEqual([1, 0, 0]);
    const produced = await produceString(strand.http, 'pt-grow', 'on two', { partition_id: 2 });
    expect(produced).toMatchObject({ partition_id: 2, offset: 0 });
    expect(await highWatermarks(strand.http, 'pt-grow')).toEqual([1, 0, 1]);
  });

  test('shrinking partitions_count is 40002 and the count is unchanged', async () => {
    await createTopic(strand.http, 'pt-shrink', 4);
    expectError(await strand.http.patch(topicPath('pt-shrink'), { partitions_count: 2 }), 40002);
    expect((await strand.http.get(topicPath('pt-shrink'))).json.partitions_count).toBe(4);
    expect(await highWatermarks(strand.http, 'pt-shrink')).toEqual([0, 0, 0, 0]);
  });

  test('PATCH on an unknown topic is 40403', async () => {
    expectError(await strand.http.patch(topicPath('pt-nope'), { partitions_count: 2 }), 40403);
  });

  test('PATCH without partitions_count is 40001, invalid JSON is 40001, text/plain is 41501', async () => {
    await createTopic(strand.http, 'pt-missing', 2);
    expectError(await strand.http.patch(topicPath('pt-missing'), {}), 40001);
    expectError(
      await strand.http.request('PATCH', topicPath('pt-missing'), { body: '{partitions_count: 3}', headers: { 'content-type': 'application/json' } }),
      40001,
    );
    expectError(
      await strand.http.request('PATCH', topicPath('pt-missing'), { body: '{"partitions_count": 3}', headers: { 'content-type': 'text/plain' } }),
      41501,
    );
    expect((await strand.http.get(topicPath('pt-missing'))).json.partitions_count).toBe(2);
  });
});

describe('delete topic', () => {
  test('DELETE is 204; the topic is gone from get and list, and a second DELETE is 40403', async () => {
    await createTopic(strand.http, 'dt-gone', 2);
    const res = await strand.http.delete(topicPath('dt-gone'));
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
    expectError(await strand.http.get(topicPath('dt-gone')), 40403);
    expect(await topicNames(strand.http)).not.toContain('dt-gone');
    expectError(await strand.http.delete(topicPath('dt-gone')), 40403);
  });

  test('its data is deleted from the store: no S3 object under the topic, no index item for any partition but its tombstone head', async () => {
    await createTopic(strand.http, 'dt-storage', 2);
    // Enough separate appends for the index to spill into chunk items too.
    for (let i = 0; i < 20; i++) await produceString(strand.http, 'dt-storage', `v${i}`, { partition_id: i % 2 === 0 ? 0 : 1 });
    for (let i = 0; i < 20; i++) await produceString(strand.http, 'dt-storage', `w${i}`, { partition_id: 0 });
    const topic = await strand.runtime.engine.topics.get('dt-storage');
    const { s3, ddb } = strand.runtime.clients;
    const objects = async () =>
      (await s3.send(new ListObjectsV2Command({ Bucket: strand.runtime.config.bucket, Prefix: topicPrefix(topic.topicId) }))).KeyCount ?? 0;
    const indexItems = async (p: number) =>
      (
        await ddb.send(
          new QueryCommand({
            TableName: strand.runtime.config.tables.log,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': partitionKey(topic, p) },
            ConsistentRead: true,
          }),
        )
      ).Items?.filter((item) => item.gone === undefined).length ?? 0;
    // What stays is one tombstone head per partition (it refuses late writes; DynamoDB TTL removes it).
    const tombstones = async (p: number) =>
      (await ddb.send(new QueryCommand({ TableName: strand.runtime.config.tables.log, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': partitionKey(topic, p) }, ConsistentRead: true }))).Items?.filter((item) => item.gone !== undefined).length ?? 0;
    expect(await objects()).toBeGreaterThan(0);
    expect(await indexItems(0)).toBeGreaterThan(1);
    expect(await indexItems(1)).toBeGreaterThan(0);

    expect((await strand.http.delete(topicPath('dt-storage'))).status).toBe(204);
    expect(await objects()).toBe(0);
    expect(await indexItems(0)).toBe(0);
    expect(await indexItems(1)).toBe(0);
    expect([await tombstones(0), await tombstones(1)]).toEqual([1, 1]);
  });

  test('its data is deleted: the same name created again has empty partitions at high watermark 0 and default configs', async () => {
    await createTopic(strand.http, 'dt-recreate', 2, { 'retention.ms': '1000' });
    for (let i = 0; i < 3; i++) await produceString(strand.http, 'dt-recreate', `old-${i}`, { partition_id: 0 });
    await produceString(strand.http, 'dt-recreate', 'old-p1', { partition_id: 1 });
    expect(await highWatermarks(strand.http, 'dt-recreate')).toEqual([3, 1]);

    expect((await strand.http.delete(topicPath('dt-recreate'))).status).toBe(204);
    await createTopic(strand.http, 'dt-recreate', 2);

    const partitions = await strand.http.get(`${topicPath('dt-recreate')}/partitions`);
    expect(partitions.json.data.map((p: { log_start_offset: number; high_watermark: number }) => [p.log_start_offset, p.high_watermark])).toEqual([
      [0, 0],
      [0, 0],
    ]);
    const fetched = await strand.http.get(`${partitionPath('dt-recreate', 0)}/records?offset=0`);
    expect(fetched.status).toBe(200);
    expect(fetched.json.records).toEqual([]);
    expectError(await strand.http.get(`${partitionPath('dt-recreate', 0)}/records?offset=1`), 41601);
    expect((await configsOf(strand.http, 'dt-recreate'))['retention.ms']).toEqual({ value: '604800000', is_default: true });

    const fresh = await produceString(strand.http, 'dt-recreate', 'new', { partition_id: 0 });
    expect(fresh.offset).toBe(0);
    const again = await strand.http.get(`${partitionPath('dt-recreate', 0)}/records?offset=0&embedded_format=string`);
    expect(again.json.records.map((r: { value: { data: string } }) => r.value.data)).toEqual(['new']);
  });
});

describe('topic configs', () => {
  test('configs:alter sets values (204) that GET reports with is_default false; others keep their defaults', async () => {
    await createTopic(strand.http, 'cf-alter');
    const res = await post(`${topicPath('cf-alter')}/configs:alter`, {
      data: [
        { name: 'retention.ms', value: '3600000' },
        { name: 'cleanup.policy', value: 'compact,delete' },
        { name: 'message.timestamp.type', value: 'LogAppendTime' },
      ],
    });
    expect(res.status).toBe(204);
    const configs = await configsOf(strand.http, 'cf-alter');
    expect(configs['retention.ms']).toEqual({ value: '3600000', is_default: false });
    expect(configs['cleanup.policy']).toEqual({ value: 'compact,delete', is_default: false });
    expect(configs['message.timestamp.type']).toEqual({ value: 'LogAppendTime', is_default: false });
    expect(configs['retention.bytes']).toEqual({ value: '-1', is_default: true });
    expect(configs['max.message.bytes']).toEqual({ value: '1048588', is_default: true });
  });

  test('an unknown config name is 40002 and nothing changes, not even the valid entries of the same request', async () => {
    await createTopic(strand.http, 'cf-unknown', 1, { 'retention.ms': '5000' });
    const before = await configsOf(strand.http, 'cf-unknown');
    const res = await post(`${topicPath('cf-unknown')}/configs:alter`, {
      data: [
        { name: 'retention.bytes', value: '1000' },
        { name: 'no.such.config', value: '1' },
      ],
    });
    expectError(res, 40002);
    expect(res.json.message).toContain('no.such.config');
    expect(await configsOf(strand.http, 'cf-unknown')).toEqual(before);
  });

  test('an invalid value is 40002 and nothing changes', async () => {
    await createTopic(strand.http, 'cf-bad-value');
    const before = await configsOf(strand.http, 'cf-bad-value');
    const res = await post(`${topicPath('cf-bad-value')}/configs:alter`, {
      data: [
        { name: 'retention.ms', value: '10' },
        { name: 'cleanup.policy', value: 'sometimes' },
      ],
    });
    expectError(res, 40002);
    expect(await configsOf(strand.http, 'cf-bad-value')).toEqual(before);
  });

  test('a value of null resets a config to its default (is_default true again)', async () => {
    await createTopic(strand.http, 'cf-reset', 1, { 'retention.ms': '5000', 'max.message.bytes': '2048' });
    const res = await post(`${topicPath('cf-reset')}/configs:alter`, { data: [{ name: 'retention.ms', value: null }] });
    expect(res.status).toBe(204);
    const configs = await configsOf(strand.http, 'cf-reset');
    expect(configs['retention.ms']).toEqual({ value: '604800000', is_default: true });
    expect(configs['max.message.bytes']).toEqual({ value: '2048', is_default: false });
  });

  test('configs:alter without data is 40001, invalid JSON is 40001, text/plain is 41501; nothing changes', async () => {
    await createTopic(strand.http, 'cf-bad-body', 1, { 'retention.ms': '5000' });
    const before = await configsOf(strand.http, 'cf-bad-body');
    const path = `${topicPath('cf-bad-body')}/configs:alter`;
    expectError(await post(path, {}), 40001);
    expectError(await post(path, { data: [{ value: '1' }] }), 40001);
    expectError(await strand.http.request('POST', path, { body: '{"data": [', headers: { 'content-type': 'application/json' } }), 40001);
    expectError(
      await strand.http.request('POST', path, {
        body: JSON.stringify({ data: [{ name: 'retention.ms', value: '1' }] }),
        headers: { 'content-type': 'text/plain' },
      }),
      41501,
    );
    expect(await configsOf(strand.http, 'cf-bad-body')).toEqual(before);
  });
});

describe('partitions', () => {
  test('the partition list holds one KafkaPartition per partition with its bounds', async () => {
    await createTopic(strand.http, 'pa-list', 3);
    await produceString(strand.http, 'pa-list', 'a', { partition_id: 1 });
    await produceString(strand.http, 'pa-list', 'b', { partition_id: 1 });
    await produceString(strand.http, 'pa-list', 'c', { partition_id: 2 });
    const res = await strand.http.get(`${topicPath('pa-list')}/partitions`);
    expect(res.status).toBe(200);
    expect(res.json.kind).toBe('KafkaPartitionList');
    expect(res.json.data).toHaveLength(3);
    res.json.data.forEach((p: Record<string, unknown>, i: number) => {
      expect(p).toMatchObject({ kind: 'KafkaPartition', cluster_id: 'local', topic_name: 'pa-list', partition_id: i, log_start_offset: 0 });
    });
    expect(res.json.data.map((p: { high_watermark: number }) => p.high_watermark)).toEqual([0, 2, 1]);
  });

  test('GET one partition is a KafkaPartition', async () => {
    await createTopic(strand.http, 'pa-one', 2);
    await produceString(strand.http, 'pa-one', 'x', { partition_id: 1 });
    const res = await strand.http.get(partitionPath('pa-one', 1));
    expect(res.status).toBe(200);
    expect(res.json).toEqual(
      expect.objectContaining({
        kind: 'KafkaPartition',
        cluster_id: 'local',
        topic_name: 'pa-one',
        partition_id: 1,
        log_start_offset: 0,
        high_watermark: 1,
      }),
    );
  });

  test('an unknown partition is 404 / 40402 on every partition route, and nothing is written', async () => {
    await createTopic(strand.http, 'pa-unknown', 2);
    const p = partitionPath('pa-unknown', 2);
    expectError(await strand.http.get(p), 40402);
    expectError(await strand.http.get(`${p}/offsets?timestamp=0`), 40402);
    expectError(await strand.http.get(`${p}/records?offset=0`), 40402);
    expectError(await strand.http.get(partitionPath('pa-unknown', 1000)), 40402);
    expectError(
      await strand.http.request('POST', `${p}/batches`, { body: Buffer.alloc(70), headers: { 'content-type': 'application/vnd.kafka.record-batch.v2' } }),
      40402,
    );
    expectError(await post(`${topicPath('pa-unknown')}/records`, { partition_id: 2, value: { type: 'STRING', data: 'x' } }), 40402);
    expect(await highWatermarks(strand.http, 'pa-unknown')).toEqual([0, 0]);
  });
});

describe('offsets by timestamp', () => {
  const t0 = 1_700_000_000_000;

  test('the offset is the first whose timestamp is at or after MS, or the high watermark when none is', async () => {
    await createTopic(strand.http, 'ts-basic');
    for (let i = 0; i < 4; i++) await produceString(strand.http, 'ts-basic', `v${i}`, { timestamp: t0 + i * 1000 });
    const at = async (ms: number) => {
      const res = await strand.http.get(`${partitionPath('ts-basic', 0)}/offsets?timestamp=${ms}`);
      expect(res.status).toBe(200);
      return res.json;
    };
    expect(await at(0)).toEqual({ partition_id: 0, offset: 0, timestamp: t0 });
    expect(await at(t0)).toEqual({ partition_id: 0, offset: 0, timestamp: t0 });
    expect(await at(t0 + 1)).toEqual({ partition_id: 0, offset: 1, timestamp: t0 + 1000 });
    expect(await at(t0 + 2000)).toEqual({ partition_id: 0, offset: 2, timestamp: t0 + 2000 });
    expect(await at(t0 + 2999)).toEqual({ partition_id: 0, offset: 3, timestamp: t0 + 3000 });
    expect((await at(t0 + 3001)).offset).toBe(4);
  });

  test('with timestamps out of order, the answer is the first offset (not the smallest timestamp) at or after MS', async () => {
    await createTopic(strand.http, 'ts-unordered');
    const res = await post(`${topicPath('ts-unordered')}/records:batch`, {
      entries: [t0 + 3000, t0 + 1000, t0 + 2000, t0 + 5000].map((ts, i) => ({ id: String(i), value: { type: 'STRING', data: `v${i}` }, timestamp: ts })),
    });
    expect(res.status).toBe(207);
    const offsetAt = async (ms: number) => (await strand.http.get(`${partitionPath('ts-unordered', 0)}/offsets?timestamp=${ms}`)).json;
    expect(await offsetAt(t0 + 1500)).toMatchObject({ offset: 0, timestamp: t0 + 3000 });
    expect(await offsetAt(t0 + 4000)).toMatchObject({ offset: 3, timestamp: t0 + 5000 });
    expect((await offsetAt(t0 + 6000)).offset).toBe(4);
  });

  test('an empty partition answers its high watermark, 0', async () => {
    await createTopic(strand.http, 'ts-empty');
    const res = await strand.http.get(`${partitionPath('ts-empty', 0)}/offsets?timestamp=${t0}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ partition_id: 0, offset: 0 });
  });

  test('the lookup walks spilled index chunks: 40 separate appends, each timestamp found at its offset', async () => {
    await createTopic(strand.http, 'ts-many');
    const count = 40;
    for (let i = 0; i < count; i++) await produceString(strand.http, 'ts-many', `v${i}`, { timestamp: t0 + i * 10 });
    for (const i of [0, 1, 7, 15, 16, 23, 30, 36, 39]) {
      const res = await strand.http.get(`${partitionPath('ts-many', 0)}/offsets?timestamp=${t0 + i * 10 - 5}`);
      expect([i, res.json]).toEqual([i, { partition_id: 0, offset: i, timestamp: t0 + i * 10 }]);
    }
    const after = await strand.http.get(`${partitionPath('ts-many', 0)}/offsets?timestamp=${t0 + count * 10}`);
    expect(after.json.offset).toBe(count);
  });

  test('a missing timestamp is 40001; a non-integer one is 40002', async () => {
    await createTopic(strand.http, 'ts-bad');
    expectError(await strand.http.get(`${partitionPath('ts-bad', 0)}/offsets`), 40001);
    expectError(await strand.http.get(`${partitionPath('ts-bad', 0)}/offsets?timestamp=`), 40001);
    expectError(await strand.http.get(`${partitionPath('ts-bad', 0)}/offsets?timestamp=yesterday`), 40002);
    expectError(await strand.http.get(`${partitionPath('ts-bad', 0)}/offsets?timestamp=1.5`), 40002);
  });
});

describe('validate_only: a dry run changes nothing (Confluent REST Proxy v3)', () => {
  test('a create with validate_only answers 200 with the topic it would make, and creates nothing', async () => {
    const res = await post(`${cluster}/topics`, { topic_name: 'vo-dry', partitions_count: 3, validate_only: true, configs: [{ name: 'retention.ms', value: '1' }] });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ kind: 'KafkaTopic', topic_name: 'vo-dry', partitions_count: 3 });
    expect(await topicNames(strand.http)).not.toContain('vo-dry');
    expectError(await strand.http.get(topicPath('vo-dry')), 40403);
    // The name is still free: a real create makes it.
    expectStatus(await post(`${cluster}/topics`, { topic_name: 'vo-dry', partitions_count: 1 }), 201);
  });

  test('a dry-run create gives the errors a create would: existing topic 40902, bad partitions, bad configs 40002', async () => {
    await createTopic(strand.http, 'vo-exists');
    expectError(await post(`${cluster}/topics`, { topic_name: 'vo-exists', validate_only: true }), 40902);
    expectError(await post(`${cluster}/topics`, { topic_name: 'vo-bad', partitions_count: 0, validate_only: true }), 40002);
    expectError(await post(`${cluster}/topics`, { topic_name: 'vo-bad', configs: [{ name: 'retention.ms', value: 'soon' }], validate_only: true }), 40002);
    expectError(await post(`${cluster}/topics`, { topic_name: 'bad name!', validate_only: true }), 40002);
    expect(await topicNames(strand.http)).not.toContain('vo-bad');
  });

  test('configs:alter with validate_only checks the configs and sets none of them', async () => {
    await createTopic(strand.http, 'vo-alter');
    const before = await configsOf(strand.http, 'vo-alter');
    expectStatus(await post(`${topicPath('vo-alter')}/configs:alter`, { data: [{ name: 'retention.ms', value: '1' }], validate_only: true }), 204);
    expect(await configsOf(strand.http, 'vo-alter')).toEqual(before);
    expectError(await post(`${topicPath('vo-alter')}/configs:alter`, { data: [{ name: 'retention.ms', value: 'x' }], validate_only: true }), 40002);
    expect(await configsOf(strand.http, 'vo-alter')).toEqual(before);
  });
});

describe("Kafka's other topic configs: accepted, checked, stored and reported, with no effect", () => {
  test("Confluent's own create example (compression.type) and a script's segment and replica settings are accepted and reported", async () => {
    const res = await post(`${cluster}/topics`, {
      topic_name: 'kc-script',
      partitions_count: 2,
      configs: [
        { name: 'compression.type', value: 'gzip' },
        { name: 'segment.bytes', value: '104857600' },
        { name: 'min.insync.replicas', value: '2' },
        { name: 'unclean.leader.election.enable', value: 'false' },
        { name: 'max.compaction.lag.ms', value: '9223372036854775807' },
        { name: 'min.cleanable.dirty.ratio', value: '0.1' },
      ],
    });
    expectStatus(res, 201);
    const configs = await configsOf(strand.http, 'kc-script');
    expect(configs['compression.type']).toEqual({ value: 'gzip', is_default: false });
    expect(configs['segment.bytes']).toEqual({ value: '104857600', is_default: false });
    expect(configs['max.compaction.lag.ms']).toEqual({ value: '9223372036854775807', is_default: false });
    expect(configs['segment.ms']).toEqual({ value: '604800000', is_default: true });
    expect(configs['retention.ms']).toEqual({ value: '604800000', is_default: true });
  });

  test('each config carries Confluent\'s synonyms and metadata', async () => {
    await createTopic(strand.http, 'kc-synonyms', 1, { 'segment.ms': '1000' });
    const res = await strand.http.get(`${topicPath('kc-synonyms')}/configs`);
    const segment = res.json.data.find((c: { name: string }) => c.name === 'segment.ms');
    expect(segment).toMatchObject({
      metadata: { self: `${topicPath('kc-synonyms')}/configs/segment.ms` },
      source: 'DYNAMIC_TOPIC_CONFIG',
      synonyms: [
        { name: 'segment.ms', value: '1000', source: 'DYNAMIC_TOPIC_CONFIG' },
        { name: 'segment.ms', value: '604800000', source: 'DEFAULT_CONFIG' },
      ],
    });
  });

  test.each([
    ['compression.type', 'brotli'],
    ['segment.bytes', '10'],
    ['min.cleanable.dirty.ratio', '1.5'],
    ['flush.ms', '9223372036854775808'],
    ['preallocate', 'maybe'],
    ['leader.replication.throttled.replicas', 'everyone'],
  ])('%s = %s is refused with 40002 and nothing changes', async (name, value) => {
    const topic = `kc-bad-${name.replace(/\./g, '-')}`;
    await createTopic(strand.http, topic);
    const before = await configsOf(strand.http, topic);
    expectError(await post(`${topicPath(topic)}/configs:alter`, { data: [{ name, value }] }), 40002);
    expect(await configsOf(strand.http, topic)).toEqual(before);
  });
});

describe("one config at a time, and every topic's configs (Confluent REST Proxy v3)", () => {
  test('GET, PUT and DELETE …/configs/{name} read, set and reset one config', async () => {
    await createTopic(strand.http, 'one-cfg');
    const path = `${topicPath('one-cfg')}/configs/retention.ms`;
    expect((await strand.http.get(path)).json).toMatchObject({ kind: 'KafkaTopicConfig', name: 'retention.ms', value: '604800000', is_default: true });
    expectStatus(await strand.http.request('PUT', path, { json: { value: '60000' } }), 204);
    expect((await strand.http.get(path)).json).toMatchObject({ value: '60000', is_default: false, source: 'DYNAMIC_TOPIC_CONFIG' });
    expectStatus(await strand.http.request('DELETE', path), 204);
    expect((await strand.http.get(path)).json).toMatchObject({ value: '604800000', is_default: true });
  });

  test('a bad value is 40002 and changes nothing; an unknown name is 404 on GET and 40002 on PUT', async () => {
    await createTopic(strand.http, 'one-cfg-bad');
    const path = `${topicPath('one-cfg-bad')}/configs/retention.ms`;
    expectError(await strand.http.request('PUT', path, { json: { value: 'forever' } }), 40002);
    expect((await strand.http.get(path)).json.is_default).toBe(true);
    expect((await strand.http.get(`${topicPath('one-cfg-bad')}/configs/no.such`)).status).toBe(404);
    expectError(await strand.http.request('PUT', `${topicPath('one-cfg-bad')}/configs/no.such`, { json: { value: '1' } }), 40002);
  });

  test('topics/-/configs lists the configs of every topic', async () => {
    await createTopic(strand.http, 'all-cfg-a', 1, { 'retention.ms': '1000' });
    await createTopic(strand.http, 'all-cfg-b');
    const res = await strand.http.get(`${cluster}/topics/-/configs`);
    expectStatus(res, 200);
    const retention = res.json.data.filter((c: { name: string; topic_name: string }) => c.name === 'retention.ms' && c.topic_name.startsWith('all-cfg-'));
    expect(retention.map((c: { topic_name: string; value: string }) => [c.topic_name, c.value]).sort()).toEqual([
      ['all-cfg-a', '1000'],
      ['all-cfg-b', '604800000'],
    ]);
  });
});

describe('the API as Kafka\'s one broker (REST Proxy v3 shapes that need brokers)', () => {
  test('every partition names broker 0 as its leader and only replica, in sync; the relationships resolve', async () => {
    await createTopic(strand.http, 'br-topic', 2);
    const partition = await strand.http.get(`${topicPath('br-topic')}/partitions/1`);
    expect(partition.json).toMatchObject({ leader: { related: `${topicPath('br-topic')}/partitions/1/replicas/0` }, replicas: { related: `${topicPath('br-topic')}/partitions/1/replicas` } });
    const replicas = await strand.http.get(partition.json.replicas.related);
    expect(replicas.json.data).toEqual([expect.objectContaining({ kind: 'KafkaReplica', broker_id: 0, is_leader: true, is_in_sync: true, partition_id: 1 })]);
    expect((await strand.http.get(partition.json.leader.related)).json).toMatchObject({ broker_id: 0, is_leader: true });
    expect((await strand.http.get(`${topicPath('br-topic')}/partitions/1/replicas/3`)).status).toBe(404);
  });

  test('the cluster lists one broker, its controller, at the host the request reached', async () => {
    const clusterRes = await strand.http.get(cluster);
    const broker = await strand.http.get(clusterRes.json.controller.related);
    expect(broker.json).toMatchObject({ kind: 'KafkaBroker', broker_id: 0, host: '127.0.0.1', port: Number(new URL(strand.url).port) });
    expect((await strand.http.get(`${cluster}/brokers`)).json.data).toHaveLength(1);
    expect((await strand.http.get(`${cluster}/brokers/1`)).status).toBe(404);
  });
});
