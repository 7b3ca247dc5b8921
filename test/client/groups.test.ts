/**
 * SDK consumer groups (KIP-848 heartbeats) against a real local Strand: three
 * members share a topic and see each record exactly once, a member that leaves
 * hands its partitions over at the committed offsets, and a restarted group
 * resumes where it committed; Admin group reads, reset and delete. How: records
 * carry their index as the value, and every delivery is recorded and counted.
 */
import type { TestStrand } from '../support/localStrand';
import type { StrandClient, Consumer, ConsumerConfig, KafkaMessage } from '../../client';
import { fast, produceIndexed as produceIndexedWith, until, useClientHarness } from '../support/clientHarness';
import { StrandClient as Client } from '../../client';
import { startProxy } from './proxy';

const harness = useClientHarness();
let strand: TestStrand;
let client: StrandClient;
beforeAll(() => {
  strand = harness.strand;
  client = harness.client;
});
const produceIndexed = (topic: string, partitions: number, count: number, from = 0) => produceIndexedWith(client, topic, partitions, count, from);

describe('Consumer groups', () => {
  const groupConfig = (groupId: string, extra: Partial<ConsumerConfig> = {}): ConsumerConfig => ({
    ...fast,
    groupId,
    sessionTimeout: 3000,
    heartbeatInterval: 200,
    ...extra,
  });

  async function member(groupId: string, topic: string, sink: { partition: number; message: KafkaMessage }[], extra: Partial<ConsumerConfig> = {}): Promise<Consumer> {
    const c = client.consumer(groupConfig(groupId, extra));
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({ autoCommitInterval: 100, eachMessage: async ({ partition, message }) => void sink.push({ partition, message }) });
    return c;
  }

  test("a new member reads the group's committed offsets once for all its partitions, then starts them by the reset policy", async () => {
    await client.admin().createTopic('g-fresh', { partitions: 4 });
    await produceIndexed('g-fresh', 4, 8);
    const proxy = await startProxy(strand.url);
    const c = new Client({ url: proxy.url }).consumer(groupConfig('g-fresh-group'));
    await c.subscribe({ topics: ['g-fresh'], fromBeginning: true });
    const got: number[] = [];
    try {
      await c.run({ eachMessage: async ({ message }) => void got.push(Number(message.value!.toString())) });
      await until(() => got.length === 8);
      expect(got.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      const offsetReads = proxy.seen.filter((r) => r.method === 'GET' && r.path.startsWith('/v3/clusters/local/consumer-groups/g-fresh-group/offsets'));
      expect(offsetReads).toHaveLength(1);
    } finally {
      await c.close();
      await proxy.close();
    }
  });

  test('three members share six partitions and receive each record exactly once', async () => {
    await client.admin().createTopic('g-share', { partitions: 6 });
    await produceIndexed('g-share', 6, 300);
    const sinks = [[], [], []] as { partition: number; message: KafkaMessage }[][];
    const members = await Promise.all(sinks.map((sink) => member('g-share-group', 'g-share', sink)));
    await until(() => members.every((m) => m.assignment().length === 2));
    await produceIndexed('g-share', 6, 300, 300);
    await until(() => sinks.flat().length >= 600);
    await new Promise((r) => setTimeout(r, 300));
    const all = sinks.flat().map((d) => d.message.value!.toString());
    expect(all).toHaveLength(600);
    expect(new Set(all).size).toBe(600);
    // Once the group settled (2 partitions each), each partition was read by one member only.
    const owners = new Map<number, Set<number>>();
    sinks.forEach((sink, i) =>
      sink.filter((d) => Number(d.message.value) >= 300).forEach((d) => owners.set(d.partition, (owners.get(d.partition) ?? new Set()).add(i))),
    );
    for (const set of owners.values()) expect(set.size).toBe(1);
    expect(members.map((m) => m.assignment().length).sort()).toEqual([2, 2, 2]);
    await Promise.all(members.map((m) => m.close()));
    const lag = await client.admin().groupLag('g-share-group');
    expect(lag.reduce((s, l) => s + l.lag, 0)).toBe(0);
  });

  test('when a member leaves, the others take its partitions at the committed offsets; nothing is lost', async () => {
    await client.admin().createTopic('g-leave', { partitions: 4 });
    const revoked: number[] = [];
    const sinkA: { partition: number; message: KafkaMessage }[] = [];
    const sinkB: { partition: number; message: KafkaMessage }[] = [];
    const a = await member('g-leave-group', 'g-leave', sinkA, { onPartitionsRevoked: (tps) => void revoked.push(...tps.map((t) => t.partition)) });
    const b = await member('g-leave-group', 'g-leave', sinkB);
    await until(() => a.assignment().length === 2 && b.assignment().length === 2);
    await produceIndexed('g-leave', 4, 40);
    await until(() => sinkA.length + sinkB.length === 40);
    await new Promise((r) => setTimeout(r, 300)); // an auto commit
    const left = b.assignment().map((t) => t.partition);
    revoked.length = 0; // A gave up two partitions when B joined; from here on A only gains
    await b.close(); // commits and leaves
    await until(() => a.assignment().length === 4);
    await produceIndexed('g-leave', 4, 40, 40);
    await until(() => sinkA.length + sinkB.length >= 80);
    await new Promise((r) => setTimeout(r, 300));
    const values = [...sinkA, ...sinkB].map((d) => Number(d.message.value!.toString()));
    expect(new Set(values).size).toBe(80);
    expect(values).toHaveLength(80); // B committed before leaving: A re-reads nothing
    expect(sinkA.filter((d) => left.includes(d.partition)).every((d) => Number(d.message.value) >= 40)).toBe(true);
    expect(revoked).toEqual([]);
    await a.close();
  });

  test('a restarted group resumes from its committed offsets', async () => {
    await client.admin().createTopic('g-restart', { partitions: 2 });
    await produceIndexed('g-restart', 2, 10);
    const first: { partition: number; message: KafkaMessage }[] = [];
    const c1 = await member('g-restart-group', 'g-restart', first);
    await until(() => first.length === 10);
    await c1.close();
    expect((await client.admin().groupOffsets('g-restart-group')).map((o) => o.offset).sort()).toEqual([5, 5]);

    await produceIndexed('g-restart', 2, 4, 10);
    const second: { partition: number; message: KafkaMessage }[] = [];
    const c2 = await member('g-restart-group', 'g-restart', second);
    await until(() => second.length === 4);
    await new Promise((r) => setTimeout(r, 300));
    expect(second.map((d) => Number(d.message.value)).sort((x, y) => x - y)).toEqual([10, 11, 12, 13]);
    await c2.close();

    // Admin: describe, reset to earliest (group empty), delete.
    expect((await client.admin().describeGroup('g-restart-group')).state).toBe('EMPTY');
    const reset = await client.admin().resetOffsets('g-restart-group', 'earliest');
    expect(reset.map((o) => o.offset)).toEqual([0, 0]);
    await client.admin().deleteGroup('g-restart-group');
    expect((await client.admin().listGroups()).map((g) => g.groupId)).not.toContain('g-restart-group');
  });
});
