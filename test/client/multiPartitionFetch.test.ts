/**
 * The SDK Consumer with `multiPartitionFetch`: one fetch loop for all of its
 * partitions over POST …/records:fetch (client/fetchSession.ts), against a
 * real local Strand. How: the consumer behaviours of ./consumer.test.ts are
 * run again with the option on (the harness's `fast` config is replaced), and
 * the requests the consumer sends are counted by wrapping its transport.
 */
import type { StrandClient } from '../../client';
import { fast, produceIndexed, until, useClientHarness } from '../support/clientHarness';

jest.mock('../support/clientHarness', () => {
  const actual = jest.requireActual('../support/clientHarness');
  return { ...actual, fast: { ...actual.fast, multiPartitionFetch: true } };
});

// Every explicit-assignment and group behaviour, now with one fetch loop per consumer.
require('./consumer.test');
require('./groups.test');

describe('multiPartitionFetch: one request at a time for all partitions', () => {
  const harness = useClientHarness();
  let client: StrandClient;
  beforeAll(() => (client = harness.client));

  /** Counts the consumer's fetch requests by kind, and the most in flight at once. */
  function countRequests(c: StrandClient) {
    const counts = { multi: 0, single: 0, inFlight: 0, maxInFlight: 0 };
    const original = c.transport.request.bind(c.transport);
    c.transport.request = (async (method: string, path: string, options?: unknown) => {
      const multi = path.endsWith('/records:fetch');
      const single = method === 'GET' && /\/partitions\/\d+\/records$/.test(path);
      if (multi) counts.multi++;
      if (single) counts.single++;
      if (multi || single) counts.maxInFlight = Math.max(counts.maxInFlight, ++counts.inFlight);
      try {
        return await original(method, path, options as never);
      } finally {
        if (multi || single) counts.inFlight--;
      }
    }) as typeof c.transport.request;
    return counts;
  }

  test('every record of 2 topics × 3 partitions arrives in order per partition, through one request in flight at a time', async () => {
    expect(fast.multiPartitionFetch).toBe(true);
    for (const t of ['mpf-a', 'mpf-b']) {
      await client.admin().createTopic(t, { partitions: 3 });
      await produceIndexed(client, t, 3, 60);
    }
    const consumer = client.consumer({ ...fast, maxWaitTimeInMs: 300 });
    const counts = countRequests(client);
    consumer.assign([0, 1, 2].flatMap((partition) => [{ topic: 'mpf-a', partition }, { topic: 'mpf-b', partition }]), { fromBeginning: true });
    const seen = new Map<string, number[]>();
    await consumer.run({
      partitionsConsumedConcurrently: 6,
      eachMessage: async ({ topic, partition, message }) => {
        const k = `${topic}/${partition}`;
        seen.set(k, [...(seen.get(k) ?? []), message.offset]);
      },
    });
    await until(() => [...seen.values()].reduce((n, o) => n + o.length, 0) === 120);
    // Idle at the end of the log for a few long polls: still one request at a time.
    await new Promise((r) => setTimeout(r, 800));
    await consumer.close();
    for (const offsets of seen.values()) expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i));
    expect(counts.single).toBe(0);
    expect(counts.multi).toBeGreaterThan(0);
    expect(counts.maxInFlight).toBe(1);
  });

  test('a record produced while every partition long-polls wakes the one request, and arrives', async () => {
    await client.admin().createTopic('mpf-wake', { partitions: 4 });
    const consumer = client.consumer({ ...fast, maxWaitTimeInMs: 10_000 });
    consumer.assign([0, 1, 2, 3].map((partition) => ({ topic: 'mpf-wake', partition })), { fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push(`${partition}:${message.offset}`) });
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    await produceIndexed(client, 'mpf-wake', 4, 4);
    await until(() => seen.length === 4);
    expect(Date.now() - sent).toBeLessThan(5_000);
    await consumer.close();
    expect(seen.sort()).toEqual(['0:0', '1:0', '2:0', '3:0']);
  });

  test('with directFetch the batches come from S3 through the ranges the one request lists', async () => {
    await client.admin().createTopic('mpf-direct', { partitions: 2 });
    await produceIndexed(client, 'mpf-direct', 2, 30);
    const consumer = client.consumer({ ...fast, directFetch: true });
    consumer.assign([0, 1].map((partition) => ({ topic: 'mpf-direct', partition })), { fromBeginning: true });
    let n = 0;
    await consumer.run({ eachMessage: async () => void n++ });
    await until(() => n === 30);
    await consumer.close();
  });
});
