/**
 * Triggers on AWS without AWS: the dispatcher Lambda's handler
 * (src/triggers/lambda.ts) and the runner's one-shot mode (runOnce) with
 * leases per (trigger, partition), against a local Strand whose own runner is
 * off (`triggers: false`), so only what these tests run delivers.
 *
 * - a scheduled invocation delivers every lagging partition, in order;
 * - a stream invocation delivers the partitions its head records moved, and
 *   only those;
 * - two invocations at once (two execution environments) never deliver one
 *   partition's batches concurrently or twice: the lease serializes them;
 * - a retry whose backoff outlives an invocation continues in another
 *   environment with its attempts counted (the cursor rides the lease), so
 *   max_retry_attempts ends in the dead-letter topic;
 * - a run's end aborts a delivery in flight, which is not committed.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { createTopic, fetchJson, type TestStrand } from '../support/localStrand';
import { createTriggerDispatcherHandler, triggerMetricNames } from '../../src/triggers/lambda';
import { TriggerRunner } from '../../src/triggers/TriggerRunner';
import { TriggerLeaseStore, triggerLeaseItemLifeMs, triggerLeaseKeyPrefix, triggerLeaseTtlAttribute } from '../../src/triggers/triggerLeases';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createTrigger, lagOf, produceValues, recordsOf, startReceiver, startTriggerStrand, type Receiver } from './support';

let strand: TestStrand;
let receiver: Receiver;
const secret = 'whsec_dispatcher-test-secret';
beforeAll(async () => {
  strand = await startTriggerStrand({ triggers: false });
  receiver = await startReceiver(secret);
});
afterAll(async () => {
  await strand.dispose();
  await receiver.close();
});
beforeEach(() => {
  receiver.requests.length = 0;
  Object.assign(receiver.behaviour, { delayMs: 0, status: 200, hold: false });
});

const context = (ms = 60_000) => ({ getRemainingTimeInMillis: () => ms });
const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event' };
const leases = () => new TriggerLeaseStore(strand.runtime.clients.ddb, strand.runtime.config.tables.leases, strand.runtime.clock);
const hook = (topic: string) => ({ type: 'http', url: receiver.url.replace('/orders', `/${topic}`), secret });
const offsetsOn = (topic: string, partition: number) =>
  receiver.requests.flatMap((r) => recordsOf(r.event)).filter((d) => d.topic === topic && d.partition === partition).map((d) => d.offset);

/** A stream record of the log table for a partition head, as DynamoDB writes it. */
async function headRecord(topic: string, partition: number, hw: number): Promise<DynamoDBRecord> {
  const t = await strand.runtime.engine.topics.find(topic);
  const keys = { pk: { S: `${t!.topicId}#${partition}` }, sk: { N: '-1' } };
  return { eventName: 'MODIFY', dynamodb: { Keys: keys, NewImage: { ...keys, hw: { N: String(hw) } }, StreamViewType: 'NEW_IMAGE' } };
}

async function triggerLeaseItems(): Promise<Record<string, unknown>[]> {
  const out = await strand.runtime.clients.ddb.send(new ScanCommand({ TableName: strand.runtime.config.tables.leases, ConsistentRead: true }));
  return (out.Items ?? []).filter((i) => String(i.pk).startsWith(triggerLeaseKeyPrefix));
}

test('a scheduled invocation delivers every partition with lag, in order, and leaves no lease behind', async () => {
  await createTopic(strand.http, 'd-sched', 3);
  await createTrigger(strand.http, { trigger_name: 'd-sched', topic_name: 'd-sched', target: hook('d-sched'), batch_size: 2, starting_position: 'EARLIEST' });
  for (let p = 0; p < 3; p++) await produceValues(strand.http, 'd-sched', ['a', 'b', 'c', 'd', 'e'], p);
  const lines: string[] = [];
  const handler = createTriggerDispatcherHandler(() => strand.runtime, { writeLine: (l) => lines.push(l) });
  const result = await handler(scheduled, context());
  expect(result).toMatchObject({ kind: 'rescan', leaseRefused: 0, unfinished: 0, deadLettered: 0, skipped: 0 });
  for (let p = 0; p < 3; p++) expect(offsetsOn('d-sched', p)).toEqual([0, 1, 2, 3, 4]);
  expect(receiver.requests.every((r) => r.verified)).toBe(true);
  expect(await lagOf(strand.http, 'd-sched')).toBe(0);
  // Nothing pending: every lease item was deleted on release; nothing undelivered, so no metric line.
  expect(await triggerLeaseItems()).toEqual([]);
  expect(lines).toEqual([]);
  // Idle: another scheduled run wakes nothing.
  expect((await handler(scheduled, context())).turns).toBe(0);
});

test('a stream invocation delivers the partitions its head records moved, and only those', async () => {
  await createTopic(strand.http, 'd-stream', 2);
  await createTrigger(strand.http, { trigger_name: 'd-stream', topic_name: 'd-stream', target: hook('d-stream'), starting_position: 'EARLIEST' });
  await produceValues(strand.http, 'd-stream', ['x', 'y'], 0);
  await produceValues(strand.http, 'd-stream', ['z'], 1);
  const handler = createTriggerDispatcherHandler(() => strand.runtime, { writeLine: () => {} });
  const result = await handler({ Records: [await headRecord('d-stream', 1, 1), await headRecord('d-stream', 1, 1)] }, context());
  expect(result).toMatchObject({ kind: 'stream', turns: 1 });
  expect(offsetsOn('d-stream', 1)).toEqual([0]);
  expect(offsetsOn('d-stream', 0)).toEqual([]);
});

test('two invocations at once never deliver one partition concurrently or twice: the lease serializes them', async () => {
  await createTopic(strand.http, 'd-race', 2);
  await createTrigger(strand.http, { trigger_name: 'd-race', topic_name: 'd-race', target: hook('d-race'), batch_size: 1, starting_position: 'EARLIEST' });
  for (let p = 0; p < 2; p++) await produceValues(strand.http, 'd-race', ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'], p);
  receiver.behaviour.delayMs = 25;
  // Two execution environments: two runners, each with its own memory, sharing the leases table.
  const a = new TriggerRunner(strand.runtime, { leases: leases(), holder: 'env-a', targetTypes: ['http'] });
  const b = new TriggerRunner(strand.runtime, { leases: leases(), holder: 'env-b', targetTypes: ['http'] });
  const until = strand.runtime.clock.now() + 30_000;
  const [ra, rb] = await Promise.all([a.runOnce({ rescan: true }, until), b.runOnce({ rescan: true }, until)]);
  expect(ra.leaseRefused + rb.leaseRefused).toBeGreaterThan(0);
  // Every record once, in order, per partition: no batch was delivered by both.
  for (let p = 0; p < 2; p++) expect(offsetsOn('d-race', p)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(await lagOf(strand.http, 'd-race')).toBe(0);
});

test('a retry whose backoff outlives the invocation goes on in another environment, its attempts counted, to the dead-letter topic', async () => {
  await createTopic(strand.http, 'd-retry', 1);
  await createTopic(strand.http, 'd-retry-dlq', 1);
  await createTrigger(strand.http, {
    trigger_name: 'd-retry', topic_name: 'd-retry', target: hook('d-retry'), starting_position: 'EARLIEST', max_retry_attempts: 1, dead_letter_topic: 'd-retry-dlq',
  });
  await produceValues(strand.http, 'd-retry', ['poison'], 0);
  receiver.behaviour.status = 500;
  const options = { leases: leases(), retryBackoffBaseMs: 1_500, targetTypes: ['http' as const] };
  // A run with 6 s left starts no batch in its last 5 s: the delivery starts within its first second
  // (room for a slow, loaded machine), and the 1.5 s backoff falls past it.
  const first = await new TriggerRunner(strand.runtime, { ...options, holder: 'env-a' }).runOnce({ rescan: true }, strand.runtime.clock.now() + 6_000);
  expect(receiver.requests).toHaveLength(1);
  expect(first.unfinished).toBeGreaterThan(0);
  // The run says when a later one must come back: when the backoff ends (the dispatcher schedules a wake-up for it).
  expect(first.wakeAtMs).toBeGreaterThan(strand.runtime.clock.now());
  expect(first.wakeAtMs! - strand.runtime.clock.now()).toBeLessThanOrEqual(1_500);
  const [item] = await triggerLeaseItems();
  expect(JSON.parse(String(item!.cursor))).toMatchObject({ atOffset: 0, cursor: { attempts: 1 } });
  // A leftover item expires by DynamoDB TTL (epoch seconds), a day after its last write.
  const ttlSeconds = Number(item![triggerLeaseTtlAttribute]);
  expect(ttlSeconds).toBeGreaterThanOrEqual(Math.floor((Date.now() + triggerLeaseItemLifeMs) / 1000) - 60);
  expect(ttlSeconds).toBeLessThanOrEqual(Math.ceil((Date.now() + triggerLeaseItemLifeMs) / 1000) + 1);

  // Another environment, before the backoff: the lease's cursor says wait, so nothing is sent.
  const other = new TriggerRunner(strand.runtime, { ...options, holder: 'env-b' });
  await other.runOnce({ rescan: true }, strand.runtime.clock.now() + 5_200);
  expect(receiver.requests).toHaveLength(1);
  // After it: the second failure is attempt 2 > max_retry_attempts 1, so the record is dead-lettered.
  await new Promise((r) => setTimeout(r, 1_600));
  const last = await new TriggerRunner(strand.runtime, { ...options, holder: 'env-c' }).runOnce({ rescan: true, measureLag: true }, strand.runtime.clock.now() + 7_000);
  expect(receiver.requests).toHaveLength(2);
  expect(last.givenUp).toEqual([{ trigger: 'd-retry', topic: 'd-retry', partition: 0, records: 1, reason: 'retries-exhausted', deadLettered: true }]);
  const dead = (await fetchJson(strand.http, 'd-retry-dlq', 0, 0)).json.records as { headers: { name: string; value: string }[] }[];
  expect(dead).toHaveLength(1);
  const attempts = dead[0]!.headers.find((h) => h.name === 'strand.attempts')!;
  expect(Buffer.from(attempts.value, 'base64').toString('utf8')).toBe('2');
  expect(await lagOf(strand.http, 'd-retry')).toBe(0);
  expect(await triggerLeaseItems()).toEqual([]);
});

test('the run\'s end aborts a delivery in flight, uncommitted; the next run delivers it again, and a scheduled run measures the lag', async () => {
  await createTopic(strand.http, 'd-abort', 1);
  await createTrigger(strand.http, { trigger_name: 'd-abort', topic_name: 'd-abort', target: hook('d-abort'), starting_position: 'EARLIEST' });
  await produceValues(strand.http, 'd-abort', ['held'], 0);
  receiver.behaviour.hold = true;
  const lines: string[] = [];
  const handler = createTriggerDispatcherHandler(() => strand.runtime, { writeLine: (l) => lines.push(l) });
  // Less the 10 s margin, the run has 6.5 s: the delivery starts (more than the 5 s step budget left) and is aborted at its end.
  const started = Date.now();
  const result = await handler(scheduled, context(16_500));
  expect(Date.now() - started).toBeGreaterThanOrEqual(6_400);
  expect(Date.now() - started).toBeLessThan(9_500);
  expect(result.unfinished).toBeGreaterThan(0);
  expect(receiver.requests).toHaveLength(1);
  expect(await lagOf(strand.http, 'd-abort')).toBe(1);
  // The record is still undelivered: the scheduled run's metric says how old it is.
  const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(emf).toHaveLength(1);
  expect(emf[0]).toMatchObject({ ClusterId: strand.runtime.config.clusterId, Trigger: 'd-abort' });
  expect(emf[0]![triggerMetricNames.oldestUndeliveredAge]).toBeGreaterThan(0);
  expect((emf[0]!._aws as { CloudWatchMetrics: unknown[] }).CloudWatchMetrics).toEqual([
    { Namespace: 'Strand', Dimensions: [['ClusterId'], ['ClusterId', 'Trigger']], Metrics: [{ Name: triggerMetricNames.oldestUndeliveredAge, Unit: 'Milliseconds' }] },
  ]);

  receiver.behaviour.hold = false;
  await handler(scheduled, context());
  expect(offsetsOn('d-abort', 0)).toEqual([0, 0]);
  expect(receiver.requests.map((r) => r.deliveryId)).toEqual(['d-abort/d-abort/0/0-0', 'd-abort/d-abort/0/0-0']);
  expect(await lagOf(strand.http, 'd-abort')).toBe(0);
});

describe('wake-ups on demand ($0 idle)', () => {
  test('a run that leaves work (a delivery cut short at its end) schedules one wake-up for it; an idle run schedules none; a wake event rescans', async () => {
    await createTopic(strand.http, 'd-wake', 1);
    await createTrigger(strand.http, { trigger_name: 'd-wake', topic_name: 'd-wake', target: hook('d-wake'), starting_position: 'EARLIEST' });
    const wakes: { atMs: number; nowMs: number }[] = [];
    const waker = { wakeAt: async (atMs: number, nowMs: number) => void wakes.push({ atMs, nowMs }) };
    const handler = createTriggerDispatcherHandler(() => strand.runtime, { writeLine: () => {}, waker });

    // Idle: nothing to do, nothing scheduled.
    const idle = await handler({ Records: [await headRecord('d-wake', 0, 0)] }, context());
    expect(idle.wakeScheduledFor).toBeUndefined();
    expect(wakes).toEqual([]);

    // A receiver that does not answer: the run (6 s, the last 5 s start no batch) ends with the delivery in flight, aborted.
    await produceValues(strand.http, 'd-wake', ['w0'], 0);
    receiver.behaviour.hold = true;
    const cut = await handler({ Records: [await headRecord('d-wake', 0, 1)] }, context(16_000));
    expect(receiver.requests).toHaveLength(1);
    expect(cut.unfinished).toBeGreaterThan(0);
    // Due at once (the run's end): scheduled in the next minute, Scheduler's precision.
    expect(wakes).toHaveLength(1);
    expect(wakes[0]!.atMs).toBeLessThanOrEqual(wakes[0]!.nowMs);
    expect(Date.parse(cut.wakeScheduledFor!)).toBe((Math.floor(wakes[0]!.nowMs / 60_000) + 1) * 60_000);

    // The wake-up: a rescan delivers it, and leaves nothing to wake for.
    receiver.behaviour.hold = false;
    const woken = await handler({ source: 'strand.triggers', 'detail-type': 'Wake' }, context());
    expect(woken.kind).toBe('wake');
    expect(woken.turns).toBeGreaterThanOrEqual(1);
    expect(woken.wakeScheduledFor).toBeUndefined();
    expect(wakes).toHaveLength(1);
    expect(offsetsOn('d-wake', 0)).toEqual([0, 0]);
    expect(await lagOf(strand.http, 'd-wake')).toBe(0);
  });

  test('a wake-up that cannot be scheduled fails the invocation, so its source retries it', async () => {
    await createTopic(strand.http, 'd-wake-fail', 1);
    await createTrigger(strand.http, { trigger_name: 'd-wake-fail', topic_name: 'd-wake-fail', target: hook('d-wake-fail'), starting_position: 'EARLIEST' });
    await produceValues(strand.http, 'd-wake-fail', ['x'], 0);
    receiver.behaviour.hold = true;
    const handler = createTriggerDispatcherHandler(() => strand.runtime, {
      writeLine: () => {},
      waker: { wakeAt: async () => { throw new Error('Scheduler throttled'); } },
    });
    await expect(handler({ Records: [await headRecord('d-wake-fail', 0, 1)] }, context(16_000))).rejects.toThrow('Scheduler throttled');
  });
});
