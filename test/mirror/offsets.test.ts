/**
 * Offset translation and failover (offsetSync.ts). How: a group commits on the
 * source, the mirror with syncGroupOffsets commits the translated offsets on
 * the target, and an SDK consumer of the same group, switched to the target,
 * must see every record after its committed position exactly once (checked by
 * the source offsets the copies carry) and none before it.
 */
import { Mirror } from '../../src/mirror/mirror';
import { MemoryStateStore } from '../../src/mirror/mirrorState';
import { sourceOffsetHeader } from '../../src/mirror/partitionCopy';
import type { StrandClient } from '../../client';
import { produce, range, useClusters } from './support';

const clusters = useClusters('east', 'west');
const east = () => clusters[0]!;
const west = () => clusters[1]!;

async function commit(client: StrandClient, group: string, topic: string, offsets: Record<number, number>): Promise<void> {
  await client.transport.request('POST', `${client.clusterPath}/consumer-groups/${group}/offsets:commit`, {
    json: { offsets: Object.entries(offsets).map(([p, offset]) => ({ topic_name: topic, partition_id: Number(p), offset })) },
  });
}

const committedOn = async (client: StrandClient, group: string) =>
  Object.fromEntries((await client.admin().groupOffsets(group)).map((o) => [`${o.topic}/${o.partition}`, o.offset]));

describe('failover at translated offsets', () => {
  test('a group switched to the target resumes at the translated offsets and sees every later record exactly once', async () => {
    await east().client.admin().createTopic('fo-orders', { partitions: 2 });
    // Several appends per partition, so the syncs are built from more than one batch.
    for (let i = 0; i < 20; i += 4) {
      await produce(east().client, 'fo-orders', 0, 4, 'a', i);
      await produce(east().client, 'fo-orders', 1, 4, 'b', i);
    }
    await commit(east().client, 'billing', 'fo-orders', { 0: 7, 1: 13 });
    const state = new MemoryStateStore();
    const mirror = new Mirror({ source: east().client, target: west().client, topics: 'fo-.*', syncGroupOffsets: true, state, fetchBytes: 600 });
    const report = await mirror.run({ once: true });
    expect(report.errors).toEqual([]);
    expect(report.groupsSynced.map((g) => [g.targetTopic, g.partition, g.targetOffset, g.exact])).toEqual([
      ['east.fo-orders', 0, 7, true],
      ['east.fo-orders', 1, 13, true],
    ]);
    expect(await committedOn(west().client, 'billing')).toEqual({ 'east.fo-orders/0': 7, 'east.fo-orders/1': 13 });
    // On demand, the same translation.
    expect((await mirror.translateGroupOffsets('billing')).map((r) => r.targetOffset)).toEqual([7, 13]);

    // The source fails; the group's consumers move to the target.
    const seen: Record<number, number[]> = { 0: [], 1: [] };
    const consumer = west().client.consumer({ groupId: 'billing', autoOffsetReset: 'earliest', maxWaitTimeInMs: 200, notifications: false });
    await consumer.subscribe({ topics: ['east.fo-orders'] });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen[partition]!.push(Number(message.headers[sourceOffsetHeader]!.toString()));
      },
    });
    const deadline = Date.now() + 20_000;
    while ((seen[0]!.length < 13 || seen[1]!.length < 7) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    // While the group has a live member on the target, the mirror leaves its offsets alone.
    await commit(east().client, 'billing', 'fo-orders', { 0: 19 });
    const during = await mirror.run({ once: true });
    expect(during.groupsSynced).toEqual([]);
    await consumer.stop();
    await consumer.disconnect();
    expect(seen[0]).toEqual(range(7, 20));
    expect(seen[1]).toEqual(range(13, 20));
  });

  test('offsets committed beyond what the state saved translate to the end of the last saved sync: re-read, never skipped', async () => {
    await east().client.admin().createTopic('fo-stale', { partitions: 1 });
    await produce(east().client, 'fo-stale', 0, 10);
    const state = new MemoryStateStore();
    await new Mirror({ source: east().client, target: west().client, topics: 'fo-stale', state }).run({ once: true });
    // Ten more copied by a mirror whose state save never happened (it died just before).
    await produce(east().client, 'fo-stale', 0, 10, 'v', 10);
    const dying = new Mirror({
      source: east().client, target: west().client, topics: 'fo-stale', state,
      faults: {
        beforeSave() {
          throw new Error('died before saving');
        },
      },
    });
    await expect(dying.run({ once: true })).rejects.toThrow('died before saving');
    await commit(east().client, 'stale-group', 'fo-stale', { 0: 15 });
    const fresh = new Mirror({ source: east().client, target: west().client, topics: 'fo-stale', state });
    // With the saved syncs only: offset 15 lies past them, so the translation is their end (10), not exact.
    expect(await fresh.translateGroupOffsets('stale-group')).toEqual([expect.objectContaining({ sourceOffset: 15, targetOffset: 10, exact: false })]);
    // A pass reads the target's tail and syncs its last record (19 ↔ 19): offsets from there on are exact again,
    // while 15 still translates to 10 (the copies of 10…14 re-read, none skipped).
    await fresh.run({ once: true });
    expect(await fresh.translateGroupOffsets('stale-group')).toEqual([expect.objectContaining({ sourceOffset: 15, targetOffset: 10, exact: false })]);
    await commit(east().client, 'stale-group', 'fo-stale', { 0: 20 });
    expect(await fresh.translateGroupOffsets('stale-group')).toEqual([expect.objectContaining({ sourceOffset: 20, targetOffset: 20, exact: true })]);
  });
});
