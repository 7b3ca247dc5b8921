/**
 * A restart of the runtime in the middle of delivery loses nothing and
 * redelivers at most the batch that was in flight on each partition.
 * How: a slow webhook keeps a batch in flight; the local Strand is stopped
 * (the delivery is aborted, not committed) and a new one started on the same
 * data directory, and the test compares what arrived before and after.
 */
import { rmSync } from 'node:fs';
import { createTopic, tempDataDir, type TestStrand } from '../support/localStrand';
import { createTrigger, eventually, lagOf, produceValues, recordsOf, startReceiver, startTriggerStrand, type Receiver } from './support';

const secret = 'whsec_restart-test-secret';
const dataDir = tempDataDir();
let receiver: Receiver;
let strand: TestStrand | undefined;
beforeAll(async () => {
  receiver = await startReceiver(secret);
});
afterAll(async () => {
  await strand?.dispose();
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const perPartition = 20;
const batchSize = 5;

describe('restart mid-delivery', () => {
  test('a new runtime on the same data continues from the commits: nothing lost, at most the in-flight batch again', async () => {
    receiver.behaviour.delayMs = 150;
    strand = await startTriggerStrand({ dataDir });
    await createTopic(strand.http, 'restart-orders', 2);
    await createTrigger(strand.http, {
      trigger_name: 'restarting',
      topic_name: 'restart-orders',
      target: { type: 'http', url: receiver.url, secret },
      batch_size: batchSize,
      starting_position: 'EARLIEST',
    });
    for (const p of [0, 1]) await produceValues(strand.http, 'restart-orders', Array.from({ length: perPartition }, (_, i) => `p${p}-${i}`), p);
    // Some batches accepted, then the receiver stops answering: a batch is in flight when the runtime stops.
    await eventually('accepted batches', () => receiver.requests.filter((r) => r.answered).length >= 2);
    receiver.behaviour.hold = true;
    await eventually('a batch in flight', () => receiver.requests.some((r) => !r.answered));
    await strand.stop();
    // Whatever was sent until the stop returned (another partition's request may have been on its way).
    const beforeStop = receiver.requests.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.requests.length).toBe(beforeStop); // a stopped runtime sends nothing more
    receiver.behaviour.hold = false;
    const seenBefore = new Set(receiver.requests.slice(0, beforeStop).map((r) => r.deliveryId));

    strand = await startTriggerStrand({ dataDir });
    const delivered = () => receiver.requests.flatMap((r) => recordsOf(r.event));
    await eventually('every record', () => [0, 1].every((p) => new Set(delivered().filter((d) => d.partition === p).map((d) => d.offset)).size === perPartition));
    await eventually('no lag', async () => (await lagOf(strand!.http, 'restarting')) === 0);

    const after = receiver.requests.slice(beforeStop);
    const redelivered = after.filter((r) => seenBefore.has(r.deliveryId));
    // The batch in flight was aborted, not committed: it comes again (the receiver can drop it by X-Strand-Delivery).
    expect(redelivered.length).toBeGreaterThanOrEqual(1);
    for (const p of [0, 1]) {
      // At most one batch per partition again: the one in flight at the stop.
      expect(redelivered.filter((r) => `restart-orders-${p}` in r.event.records).length).toBeLessThanOrEqual(1);
      // Every record, in order, once the redelivered batch is set aside.
      const firstTime = receiver.requests.filter((r, i) => i < beforeStop || !seenBefore.has(r.deliveryId)).flatMap((r) => recordsOf(r.event)).filter((d) => d.partition === p);
      expect(firstTime.map((d) => d.value)).toEqual(Array.from({ length: perPartition }, (_, i) => `p${p}-${i}`));
    }
  });
});
