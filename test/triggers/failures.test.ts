/**
 * A failing target: retries with backoff, bisection down to the bad record,
 * the dead-letter topic with the reason, and delivery going on after it.
 * How: the fixture handler throws on the value `poison`; the webhook receiver
 * answers 500 on demand; the dead-letter topic is read back over HTTP.
 */
import { createTopic, fetchJson, produceString, type TestStrand } from '../support/localStrand';
import * as fixture from './fixtures/orders';
import { createTrigger, eventually, lagOf, produceValues, recordsOf, startReceiver, startTriggerStrand, type Receiver } from './support';

let strand: TestStrand;
let receiver: Receiver;
const secret = 'whsec_failures-test-secret';
beforeAll(async () => {
  strand = await startTriggerStrand();
  receiver = await startReceiver(secret);
});
afterAll(async () => {
  await strand.dispose();
  await receiver.close();
  fixture.behaviour.poison = undefined;
});

const values = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const handlerPath = './test/triggers/fixtures/orders.ts#handler';
const callsOn = (topic: string) => fixture.calls.filter((c) => `${topic}-0` in c.event.records);
const offsetsOf = (c: fixture.HandlerCall) => recordsOf(c.event).map((d) => d.offset);

interface StoredRecord {
  offset: number;
  value: { data: string };
  headers: { name: string; value: string }[];
}
async function deadLetters(topic: string): Promise<{ offset: number; value: string; header: Record<string, string> }[]> {
  const res = await fetchJson(strand.http, topic, 0, 0);
  return (res.json.records as StoredRecord[]).map((r) => ({
    offset: r.offset,
    value: r.value.data,
    header: Object.fromEntries(r.headers.map((h) => [h.name, Buffer.from(h.value, 'base64').toString('utf8')])),
  }));
}

describe('a handler failing on one record', () => {
  test('is retried, the batch bisected to the bad record, which is dead-lettered with why; delivery continues', async () => {
    fixture.behaviour.poison = 'bad';
    await createTopic(strand.http, 'fail-orders', 1);
    await createTopic(strand.http, 'fail-dlq', 1);
    await createTrigger(strand.http, {
      trigger_name: 'failing',
      topic_name: 'fail-orders',
      target: { type: 'module', handler: handlerPath },
      batch_size: 8,
      bisect_batch_on_error: true,
      max_retry_attempts: 2,
      dead_letter_topic: 'fail-dlq',
      starting_position: 'EARLIEST',
    });
    // Offsets 0–7 in one stored batch; offset 5 is the bad one.
    await produceValues(strand.http, 'fail-orders', ['v0', 'v1', 'v2', 'v3', 'v4', 'bad', 'v6', 'v7'], 0);
    await eventually('a dead letter', async () => (await deadLetters('fail-dlq')).length >= 1);
    await produceValues(strand.http, 'fail-orders', ['after0', 'after1'], 0);
    await eventually('the records after it', () => callsOn('fail-orders').some((c) => c.ok && recordsOf(c.event).some((d) => d.value === 'after1')));

    const calls = callsOn('fail-orders');
    // The first delivery is the whole batch; it fails and is split: [0,4) ok, [4,8) fails, [4,6) fails, [4,5) ok, [5,6) fails alone…
    expect(offsetsOf(calls[0]!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(calls[0]!.ok).toBe(false);
    const alone = calls.filter((c) => offsetsOf(c).join() === '5');
    // …once, then max_retry_attempts (2) more times, then it is dead-lettered.
    expect(alone).toHaveLength(3);
    expect(alone.every((c) => !c.ok)).toBe(true);
    // Every good record was accepted exactly once, in order.
    const accepted = calls.filter((c) => c.ok).flatMap((c) => recordsOf(c.event));
    expect(accepted.map((d) => d.value)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v6', 'v7', 'after0', 'after1']);

    const [dead, ...more] = await deadLetters('fail-dlq');
    expect(more).toHaveLength(0);
    expect(dead!.value).toBe('bad');
    expect(dead!.header).toMatchObject({
      'strand.trigger': 'failing',
      'strand.reason': 'retries-exhausted',
      'strand.attempts': '3',
      'strand.source.topic': 'fail-orders',
      'strand.source.partition': '0',
      'strand.source.offset': '5',
    });
    expect(dead!.header['strand.error']).toContain('cannot process bad');
    await eventually('no lag', async () => (await lagOf(strand.http, 'failing')) === 0);
  });

  test('without bisection the whole failing batch is dead-lettered', async () => {
    fixture.behaviour.poison = 'bad';
    await createTopic(strand.http, 'whole-orders', 1);
    await createTopic(strand.http, 'whole-dlq', 1);
    await createTrigger(strand.http, {
      trigger_name: 'whole',
      topic_name: 'whole-orders',
      target: { type: 'module', handler: handlerPath },
      batch_size: 3,
      max_retry_attempts: 1,
      dead_letter_topic: 'whole-dlq',
      starting_position: 'EARLIEST',
    });
    await produceValues(strand.http, 'whole-orders', ['w0', 'w1', 'w2', 'bad', 'w4', 'w5'], 0);
    await eventually('three dead letters', async () => (await deadLetters('whole-dlq')).length >= 3);
    await eventually('no lag', async () => (await lagOf(strand.http, 'whole')) === 0);
    expect((await deadLetters('whole-dlq')).map((d) => d.value)).toEqual(['bad', 'w4', 'w5']);
    expect(callsOn('whole-orders').filter((c) => c.ok).flatMap((c) => recordsOf(c.event)).map((d) => d.value)).toEqual(['w0', 'w1', 'w2']);
  });
});

describe('a failing webhook', () => {
  test('is retried with backoff until it answers 2xx; nothing is skipped without a dead-letter topic', async () => {
    await createTopic(strand.http, 'retry-orders', 1);
    receiver.behaviour.status = 503;
    await createTrigger(strand.http, { trigger_name: 'retrying', topic_name: 'retry-orders', target: { type: 'http', url: receiver.url, secret }, starting_position: 'EARLIEST' });
    await produceValues(strand.http, 'retry-orders', ['r0', 'r1'], 0);
    const mine = () => receiver.requests.filter((r) => 'retry-orders-0' in r.event.records);
    await eventually('four failed attempts', () => mine().length >= 4);
    expect(await lagOf(strand.http, 'retrying')).toBe(2);
    receiver.behaviour.status = 200;
    await eventually('no lag', async () => (await lagOf(strand.http, 'retrying')) === 0);
    // The same records each time, under the same delivery id (a receiver can drop duplicates by it).
    expect(new Set(mine().map((r) => r.deliveryId))).toEqual(new Set(['retrying/retry-orders/0/0-1']));
  });
});

describe('max_record_age_ms', () => {
  test('records older than the limit are not delivered but dead-lettered as expired', async () => {
    await createTopic(strand.http, 'age-orders', 1);
    await createTopic(strand.http, 'age-dlq', 1);
    await createTrigger(strand.http, {
      trigger_name: 'aging',
      topic_name: 'age-orders',
      target: { type: 'module', handler: handlerPath },
      max_record_age_ms: 60_000,
      dead_letter_topic: 'age-dlq',
      starting_position: 'EARLIEST',
    });
    await produceString(strand.http, 'age-orders', 'old', { partition_id: 0, timestamp: Date.now() - 3_600_000 });
    await produceString(strand.http, 'age-orders', 'fresh', { partition_id: 0 });
    await eventually('no lag', async () => (await lagOf(strand.http, 'aging')) === 0);
    expect(callsOn('age-orders').flatMap((c) => recordsOf(c.event)).map((d) => d.value)).toEqual(['fresh']);
    const dead = await deadLetters('age-dlq');
    expect(dead.map((d) => [d.value, d.header['strand.reason']])).toEqual([['old', 'record-expired']]);
  });
});
