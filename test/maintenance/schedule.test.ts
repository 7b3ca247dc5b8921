/**
 * The local maintenance timer, as a user meets it: a topic with a short
 * retention, filled and left alone, drops its old data within seconds, newer
 * records stay readable at their offsets, and S3 keeps no object that nothing
 * references.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { topicPrefix } from '../../src/log/ObjectStore';
import { partitionKey } from '../../src/log/TopicCatalog';
import { createTopic, partitionPath, produceString, startTestStrand, type TestStrand } from '../support/localStrand';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduled maintenance', () => {
  let strand: TestStrand;
  beforeAll(async () => {
    // Objects of finished requests go after 2 s here instead of 10 minutes.
    strand = await startTestStrand({ maintenanceIntervalMs: 500, orphanGraceMs: 2000 });
  });
  afterAll(() => strand.dispose());

  test('a topic with retention.ms=2000 drops its old data within seconds and S3 holds nothing unreferenced', async () => {
    await createTopic(strand.http, 'short-lived', 1, { 'retention.ms': '2000' });
    for (let i = 0; i < 20; i++) await produceString(strand.http, 'short-lived', `old-${i}`, { partition_id: 0 });
    await sleep(2500);
    const fresh = await produceString(strand.http, 'short-lived', 'fresh', { partition_id: 0 });
    expect(fresh.offset).toBe(20);

    let start = 0;
    for (let i = 0; i < 40 && start < 20; i++) {
      await sleep(250);
      start = (await strand.http.get(`${partitionPath('short-lived', 0)}`)).json.log_start_offset;
    }
    expect(start).toBe(20);
    const res = await strand.http.get(`${partitionPath('short-lived', 0)}/records?offset=20&embedded_format=string`);
    expect(res.json.records.map((r: { offset: number; value: { data: string } }) => [r.offset, r.value.data])).toEqual([[20, 'fresh']]);
    expect((await strand.http.get(`${partitionPath('short-lived', 0)}/records?offset=5`)).json.error_code).toBe(41601);

    // Every object left is referenced by the index.
    const engine = strand.runtime.engine;
    const topic = await engine.topics.get('short-lived');
    await sleep(1000);
    const objects = await engine.context.objects.list(topicPrefix(topic.topicId));
    const head = await engine.context.index.readHead(partitionKey(topic, 0));
    const chunks = await engine.context.index.chunks(partitionKey(topic, 0));
    const referenced = new Set([...head.entries, ...chunks.flatMap((c) => c.entries)].map((e) => e.objectId));
    expect(objects.map((k) => k.slice(topicPrefix(topic.topicId).length)).sort()).toEqual([...referenced].sort());
    expect(objects).toHaveLength(1);
  });

  test('a group member whose session expired is removed by maintenance, without another call to its group', async () => {
    await createTopic(strand.http, 'grouped', 2);
    const hb = await strand.http.post('/v3/clusters/local/consumer-groups/sleepy/heartbeat', {
      member_epoch: 0,
      subscribed_topic_names: ['grouped'],
      session_timeout_ms: 1000,
    });
    expect(hb.status).toBe(200);
    // Read the stored group item itself: the API's reads already hide expired members.
    const storedMembers = async () => {
      const out = await strand.runtime.clients.ddb.send(
        new GetCommand({ TableName: strand.runtime.config.tables.groups, Key: { pk: 'sleepy' }, ConsistentRead: true }),
      );
      return Number(out.Item?.memberCount ?? 0);
    };
    expect(await storedMembers()).toBe(1);
    let members = 1;
    for (let i = 0; i < 20 && members > 0; i++) {
      await sleep(250);
      members = await storedMembers();
    }
    expect(members).toBe(0);
  });
});
