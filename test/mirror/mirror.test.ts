/**
 * The mirror between two local Strands (`east` → `west`), over HTTP. How: topics
 * are produced on the source, the mirror makes passes (`run({ once: true })`),
 * and the target's partitions are read back whole, headers included, to
 * compare with the source record by record.
 */
import { Mirror } from '../../src/mirror/mirror';
import { sourceOffsetHeader } from '../../src/mirror/partitionCopy';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MemoryStateStore, stateTopicName } from '../../src/mirror/mirrorState';
import { headSortKey } from '../../src/log/PartitionIndex';
import { copiedOffsets, produce, range, readPartition, useClusters } from './support';

const clusters = useClusters('east', 'west');
const east = () => clusters[0]!;
const west = () => clusters[1]!;

describe('copying', () => {
  test('topics chosen by regex with excludes go to <source>.<topic>: every record with its key, value, headers and timestamp, same partition, same order', async () => {
    const src = east().client.admin();
    await src.createTopic('orders', { partitions: 3 });
    await src.createTopic('orders-audit', { partitions: 1 });
    await src.createTopic('payments', { partitions: 2 });
    await src.createTopic('internal-x', { partitions: 1 });
    for (const p of [0, 1, 2]) await produce(east().client, 'orders', p, 20 + p * 7, `o${p}`);
    await produce(east().client, 'orders-audit', 0, 5);
    await produce(east().client, 'payments', 1, 9);
    await produce(east().client, 'internal-x', 0, 3);

    const mirror = new Mirror({ source: east().client, target: west().client, topics: 'orders.*|payments', exclude: '.*-audit', state: 'memory' });
    const report = await mirror.run({ once: true });
    expect(report.errors).toEqual([]);
    expect(report.caughtUp).toBe(true);

    const topics = await west().client.admin().listTopics();
    expect(topics).toEqual(expect.arrayContaining(['east.orders', 'east.payments']));
    expect(topics).not.toContain('east.orders-audit');
    expect(topics).not.toContain('east.internal-x');
    expect((await west().client.admin().describeTopic('east.orders')).partitions).toBe(3);
    expect((await west().client.admin().describeTopic('east.payments')).partitions).toBe(2);

    for (const p of [0, 1, 2]) {
      const source = await readPartition(east().client, 'orders', p);
      const target = await readPartition(west().client, 'east.orders', p);
      expect(target).toHaveLength(source.length);
      target.forEach((t, i) => {
        const s = source[i]!;
        expect(t.key).toEqual(s.key);
        expect(t.value).toEqual(s.value);
        expect(t.timestamp).toBe(s.timestamp);
        expect(t.headers.slice(0, -1)).toEqual(s.headers);
        expect(t.headers[t.headers.length - 1]).toEqual({ key: sourceOffsetHeader, value: Buffer.from(String(s.offset)) });
      });
    }
    expect(await copiedOffsets(west().client, 'east.payments', 1)).toEqual(range(0, 9));
    expect(await copiedOffsets(west().client, 'east.payments', 0)).toEqual([]);

    // More records, another pass: only the new ones are copied, after the old ones.
    await produce(east().client, 'orders', 1, 4, 'more', 27);
    const again = await mirror.run({ once: true });
    expect(again.copied).toBe(4);
    expect(await copiedOffsets(west().client, 'east.orders', 1)).toEqual(range(0, 31));
  });

  test('identity naming keeps names; a mirror started afresh on the same target resumes from the target, copying nothing twice', async () => {
    await east().client.admin().createTopic('dr-ledger', { partitions: 2 });
    await produce(east().client, 'dr-ledger', 0, 12);
    await produce(east().client, 'dr-ledger', 1, 3);
    const options = { source: east().client, target: west().client, topics: 'dr-.*', topicNaming: 'identity' as const, name: 'east-dr', state: 'memory' as const };
    expect((await new Mirror(options).run({ once: true })).errors).toEqual([]);
    expect(await copiedOffsets(west().client, 'dr-ledger', 0)).toEqual(range(0, 12));
    await produce(east().client, 'dr-ledger', 0, 5, 'v', 12);
    // A new instance with no saved state at all: the tail of each target partition says where it was.
    const report = await new Mirror(options).run({ once: true });
    expect(report.copied).toBe(5);
    expect(await copiedOffsets(west().client, 'dr-ledger', 0)).toEqual(range(0, 17));
    expect(await copiedOffsets(west().client, 'dr-ledger', 1)).toEqual(range(0, 3));
  });

  test('configs follow (created with them, changes and resets synced, timestamp type left out) and so does partition growth', async () => {
    const src = east().client.admin();
    await src.createTopic('cfg', { partitions: 1, configs: { 'retention.ms': 3_600_000, 'cleanup.policy': 'compact', 'message.timestamp.type': 'LogAppendTime' } });
    await produce(east().client, 'cfg', 0, 3);
    const mirror = new Mirror({ source: east().client, target: west().client, topics: 'cfg', state: 'memory' });
    await mirror.run({ once: true });
    const configs = async () => Object.fromEntries((await west().client.admin().describeTopicConfigs('east.cfg')).filter((c) => !c.isDefault).map((c) => [c.name, c.value]));
    expect(await configs()).toEqual({ 'retention.ms': '3600000', 'cleanup.policy': 'compact' });

    await src.alterTopicConfigs('cfg', { 'retention.ms': 7_200_000, 'cleanup.policy': null, 'max.message.bytes': 500_000 });
    await src.growPartitions('cfg', 3);
    await produce(east().client, 'cfg', 2, 4);
    const report = await mirror.run({ once: true });
    expect(report.errors).toEqual([]);
    expect(await configs()).toEqual({ 'retention.ms': '7200000', 'max.message.bytes': '500000' });
    expect((await west().client.admin().describeTopic('east.cfg')).partitions).toBe(3);
    expect(await copiedOffsets(west().client, 'east.cfg', 2)).toEqual(range(0, 4));
    // LogAppendTime on the source: the copies keep the source's (append) timestamps, as CreateTime.
    const s = await readPartition(east().client, 'cfg', 0);
    const t = await readPartition(west().client, 'east.cfg', 0);
    expect(t.map((r) => r.timestamp)).toEqual(s.map((r) => r.timestamp));
  });
});

describe('active-active', () => {
  test('two clusters mirroring each other with prefixed names create no loops', async () => {
    await east().client.admin().createTopic('aa-events', { partitions: 1 });
    await west().client.admin().createTopic('aa-events', { partitions: 1 });
    await produce(east().client, 'aa-events', 0, 4, 'east');
    await produce(west().client, 'aa-events', 0, 6, 'west');
    const eastToWest = new Mirror({ source: east().client, target: west().client, topics: 'aa-.*|east\\.aa-.*|west\\.aa-.*', state: 'memory' });
    const westToEast = new Mirror({ source: west().client, target: east().client, topics: 'aa-.*|east\\.aa-.*|west\\.aa-.*', state: 'memory' });
    for (let round = 0; round < 3; round++) {
      expect((await eastToWest.run({ once: true })).errors).toEqual([]);
      const back = await westToEast.run({ once: true });
      expect(back.errors).toEqual([]);
      expect(back.status.skippedTopics).toEqual(expect.arrayContaining([{ topic: 'east.aa-events', reason: expect.stringMatching(/loop prevention/) }]));
    }
    const eastTopics = (await east().client.admin().listTopics()).filter((t) => t.includes('aa-'));
    const westTopics = (await west().client.admin().listTopics()).filter((t) => t.includes('aa-'));
    expect(eastTopics).toEqual(['aa-events', 'west.aa-events']);
    expect(westTopics).toEqual(['aa-events', 'east.aa-events']);
    expect(await copiedOffsets(west().client, 'east.aa-events', 0)).toEqual(range(0, 4));
    expect(await copiedOffsets(east().client, 'west.aa-events', 0)).toEqual(range(0, 6));
  });
});

describe('state and status', () => {
  test('the state topic on the target keeps progress and status; status shows lag in records and seconds', async () => {
    await east().client.admin().createTopic('lagging', { partitions: 1 });
    await produce(east().client, 'lagging', 0, 10);
    const options = { source: east().client, target: west().client, topics: 'lagging', name: 'lag-test', fetchBytes: 1 };
    // A deadline already past: the pass copies nothing and reports how far behind it is.
    const behind = await new Mirror(options).pass(Date.now() - 1);
    expect(behind.caughtUp).toBe(false);
    const p = behind.status.partitions.find((x) => x.targetTopic === 'east.lagging')!;
    expect(p).toEqual(expect.objectContaining({ sourceHighWatermark: 10, nextSourceOffset: 0, lagRecords: 10 }));
    expect(p.lagSeconds).toBeGreaterThan(1_000_000); // the records' timestamps are from 2020
    expect(behind.status.state).toBe('copying');

    const done = await new Mirror(options).run({ once: true });
    expect(done.caughtUp).toBe(true);
    expect(done.status.state).toBe('caught-up');
    expect(done.status.partitions.find((x) => x.targetTopic === 'east.lagging')).toEqual(expect.objectContaining({ lagRecords: 0, lagSeconds: 0 }));
    expect(await west().client.admin().listTopics()).toContain(stateTopicName('lag-test'));
    const loaded = await new Mirror(options).store.load();
    expect(loaded.identity?.producerId).toEqual(expect.any(Number));
    expect(loaded.status?.state).toBe('caught-up');
    expect(loaded.partitions['p/east.lagging/0']).toEqual(expect.objectContaining({ nextSourceOffset: 10, nextTargetOffset: 10 }));
  });
});

describe('the target dropping the mirror\'s producer state', () => {
  test('refused twice at the same place, the mirror takes a new epoch and goes on: nothing lost, nothing twice', async () => {
    await east().client.admin().createTopic('epoch', { partitions: 1 });
    await produce(east().client, 'epoch', 0, 6);
    const state = new MemoryStateStore();
    const options = { source: east().client, target: west().client, topics: 'epoch', state };
    await new Mirror(options).run({ once: true });
    // As the target's leader does after 24 hours idle: the head forgets the producer (its p.* and q.* attributes).
    const runtime = west().strand.runtime;
    const topic = await runtime.engine.topics.get('east.epoch');
    const key = { pk: `${topic.topicId}#0`, sk: headSortKey };
    const head = (await runtime.clients.ddb.send(new GetCommand({ TableName: runtime.config.tables.log, Key: key, ConsistentRead: true }))).Item!;
    const producerAttributes = Object.keys(head).filter((k) => /^[pq]\./.test(k));
    expect(producerAttributes.length).toBeGreaterThan(0);
    await runtime.clients.ddb.send(
      new UpdateCommand({
        TableName: runtime.config.tables.log,
        Key: key,
        UpdateExpression: `REMOVE ${producerAttributes.map((_, i) => `#a${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(producerAttributes.map((a, i) => [`#a${i}`, a])),
      }),
    );
    const before = (await state.load()).identity!;
    await produce(east().client, 'epoch', 0, 4, 'v', 6);
    const report = await new Mirror(options).run({ once: true });
    expect(report.errors).toEqual([]);
    expect((await state.load()).identity).toEqual({ producerId: before.producerId, producerEpoch: before.producerEpoch + 1 });
    expect(await copiedOffsets(west().client, 'east.epoch', 0)).toEqual(range(0, 10));
  });
});

describe('once', () => {
  test('once makes as many passes as a backlog needs and ends caught up', async () => {
    await east().client.admin().createTopic('backlog', { partitions: 2 });
    for (let i = 0; i < 12; i += 3) await produce(east().client, 'backlog', i % 2, 3, 'v', Math.floor(i / 6) * 3);
    const passes: number[] = [];
    const report = await new Mirror({
      source: east().client, target: west().client, topics: 'backlog', state: 'memory', fetchBytes: 100, appendsPerPartitionPass: 1,
      onPass: (r) => passes.push(r.copied),
    }).run({ once: true });
    expect(report.caughtUp).toBe(true);
    expect(passes.length).toBeGreaterThan(1);
    expect(await copiedOffsets(west().client, 'east.backlog', 0)).toEqual(range(0, 6));
    expect(await copiedOffsets(west().client, 'east.backlog', 1)).toEqual(range(0, 6));
  });
});

describe('compression', () => {
  test('copies are compressed as their source batches were', async () => {
    await east().client.admin().createTopic('zipped', { partitions: 1 });
    const producer = east().client.producer({ compression: 'gzip', lingerMs: 0 });
    await producer.send({ topic: 'zipped', messages: Array.from({ length: 20 }, (_, i) => ({ value: `compressible ${'x'.repeat(100)} ${i}`, partition: 0 })) });
    await producer.close();
    await new Mirror({ source: east().client, target: west().client, topics: 'zipped', state: 'memory' }).run({ once: true });
    const copies = await readPartition(west().client, 'east.zipped', 0);
    expect(copies).toHaveLength(20);
    expect(new Set(copies.map((r) => r.batch.compression))).toEqual(new Set(['gzip']));
  });
});
