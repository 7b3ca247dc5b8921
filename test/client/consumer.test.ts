/**
 * SDK Consumer against a real local Strand: explicit assignment, eachBatch,
 * seek, pause/resume, the out-of-range reset, and consumer groups (KIP-848
 * heartbeats): three members share a topic and see each record exactly once, a
 * member that leaves hands its partitions over at the committed offsets, and a
 * restarted group resumes where it committed. How: records carry their index
 * as the value, and every delivery is recorded and counted.
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

describe('Consumer: explicit assignment', () => {
  test('eachBatch gets records in offset order from the beginning, with the high watermark', async () => {
    await client.admin().createTopic('c-batch', { partitions: 1 });
    await produceIndexed('c-batch', 1, 20);
    const consumer = client.consumer(fast);
    consumer.assign([{ topic: 'c-batch', partition: 0 }], { fromBeginning: true });
    const offsets: number[] = [];
    let hw = 0;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        offsets.push(...batch.messages.map((m) => m.offset));
        hw = batch.highWatermark;
      },
    });
    await until(() => offsets.length === 20);
    await consumer.close();
    expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(hw).toBe(20);
  });

  test('without fromBeginning a consumer starts at the end; seek moves it; an offset out of range resets to latest', async () => {
    await client.admin().createTopic('c-seek', { partitions: 1 });
    await produceIndexed('c-seek', 1, 5);
    const consumer = client.consumer(fast);
    consumer.assign([{ topic: 'c-seek', partition: 0 }]);
    const seen: number[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.offset) });
    await until(() => consumer.position({ topic: 'c-seek', partition: 0 }) === 5);
    await produceIndexed('c-seek', 1, 1, 5);
    await until(() => seen.length === 1);
    expect(seen).toEqual([5]);
    consumer.seek({ topic: 'c-seek', partition: 0, offset: 2 });
    await until(() => seen.length === 5);
    expect(seen).toEqual([5, 2, 3, 4, 5]);
    const resets: number[] = [];
    consumer.on('offsetReset', (e: { offset: number }) => resets.push(e.offset));
    consumer.seek({ topic: 'c-seek', partition: 0, offset: 1000 });
    await until(() => resets.length === 1);
    expect(resets).toEqual([6]);
    await consumer.close();
  });

  test('the next fetch is already under way while eachBatch handles the last one, and its records follow in order', async () => {
    await client.admin().createTopic('c-ahead', { partitions: 1 });
    for (let b = 0; b < 3; b++) await produceIndexed('c-ahead', 1, 10, b * 10); // three stored batches of ten
    const proxy = await startProxy(strand.url);
    const consumer = new Client({ url: proxy.url }).consumer({ ...fast, maxBytesPerPartition: 1 }); // one batch per fetch
    consumer.assign([{ topic: 'c-ahead', partition: 0 }], { fromBeginning: true });
    // Offsets asked for, by the partition's own fetch (query) or the multi-partition fetch (body; ./multiPartitionFetch.test.ts).
    const fetchedAt = () =>
      proxy.seen.flatMap((r) =>
        r.path.includes('/records?')
          ? [Number(new URL(r.path, 'http://x').searchParams.get('offset'))]
          : r.path.includes('/records:fetch')
            ? (JSON.parse(r.body.toString()) as { partitions: { offset: number }[] }).partitions.map((p) => p.offset)
            : [],
      );
    const batches: number[][] = [];
    let aheadSeenDuringFirst = false;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (batches.length === 0) {
          await until(() => fetchedAt().includes(10)); // asked for while this handler still runs
          aheadSeenDuringFirst = true;
        }
        batches.push(batch.messages.map((m) => Number(m.value!.toString())));
      },
    });
    await until(() => batches.flat().length === 30);
    expect(aheadSeenDuringFirst).toBe(true);
    expect(batches.flat()).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await consumer.close();
    await proxy.close();
  });

  test('a seek during eachBatch discards the fetch ahead: delivery continues from the sought offset', async () => {
    await client.admin().createTopic('c-ahead-seek', { partitions: 1 });
    for (let b = 0; b < 3; b++) await produceIndexed('c-ahead-seek', 1, 5, b * 5);
    const consumer = client.consumer({ ...fast, maxBytesPerPartition: 1 });
    consumer.assign([{ topic: 'c-ahead-seek', partition: 0 }], { fromBeginning: true });
    const firsts: number[] = [];
    await consumer.run({
      eachBatch: async ({ batch }) => {
        firsts.push(batch.messages[0]!.offset);
        if (firsts.length === 2) consumer.seek({ topic: 'c-ahead-seek', partition: 0, offset: 0 });
      },
    });
    await until(() => firsts.length >= 5);
    expect(firsts.slice(0, 5)).toEqual([0, 5, 0, 5, 10]);
    await consumer.close();
  });

  test('pause stops delivery from a partition until resume', async () => {
    await client.admin().createTopic('c-pause', { partitions: 2 });
    const consumer = client.consumer(fast);
    consumer.assign([0, 1].map((partition) => ({ topic: 'c-pause', partition })));
    const got: string[] = [];
    await consumer.run({ partitionsConsumedConcurrently: 2, eachMessage: async ({ partition, message }) => void got.push(`${partition}:${message.value}`) });
    await until(() => consumer.position({ topic: 'c-pause', partition: 1 }) === 0 && consumer.position({ topic: 'c-pause', partition: 0 }) === 0);
    consumer.pause([{ topic: 'c-pause', partitions: [1] }]);
    expect(consumer.paused()).toEqual([{ topic: 'c-pause', partition: 1 }]);
    await produceIndexed('c-pause', 2, 4);
    await until(() => got.length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.sort()).toEqual(['0:0', '0:2']);
    consumer.resume([{ topic: 'c-pause' }]);
    await until(() => got.length === 4);
    expect(got.sort()).toEqual(['0:0', '0:2', '1:1', '1:3']);
    await consumer.close();
  });

  test('subscribe without a group reads every partition; a failing handler is retried, then the consumer crashes', async () => {
    await client.admin().createTopic('c-all', { partitions: 3 });
    await produceIndexed('c-all', 3, 9);
    const consumer = client.consumer({ ...fast, retry: { retries: 2, initialRetryTime: 5 } });
    await consumer.subscribe({ topics: ['c-all'], fromBeginning: true });
    const values = new Set<string>();
    let attempts = 0;
    const crashed = new Promise<Error>((resolve) => consumer.on('crash', resolve));
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value!.toString() === '4') {
          attempts++;
          throw new Error('poison');
        }
        values.add(message.value!.toString());
      },
    });
    expect((await crashed).message).toBe('poison');
    expect(attempts).toBe(3);
    await consumer.close();
    expect(values.has('4')).toBe(false);
  });
});
