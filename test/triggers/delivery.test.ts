/**
 * Triggers deliver every record, in order per partition, in the shape of
 * Lambda's MSK event: to a webhook (a local server verifying each signature)
 * and to a Lambda-style handler module (test/triggers/fixtures/orders.ts).
 * How: records go to several partitions in several produce requests; the test
 * waits until the target saw them all and checks order, batches and lag.
 */
import { createTopic, type TestStrand } from '../support/localStrand';
import { withDeadline } from '../../src/config/deadline';
import { TriggerStore } from '../../src/triggers/TriggerStore';
import * as fixture from './fixtures/orders';
import { createTrigger, eventually, lagOf, produceValues, recordsOf, startReceiver, startTriggerStrand, triggersPath, type Delivered, type Receiver } from './support';

const secret = 'whsec_delivery-test-secret';
let strand: TestStrand;
let receiver: Receiver;
beforeAll(async () => {
  strand = await startTriggerStrand();
  receiver = await startReceiver(secret);
});
afterAll(async () => {
  await strand.dispose();
  await receiver.close();
});

const values = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Each partition's delivered offsets are 0, 1, 2, … with nothing missing, repeated or out of order. */
function expectInOrder(delivered: Delivered[], partitions: number, total: number) {
  for (let p = 0; p < partitions; p++) {
    const offsets = delivered.filter((d) => d.partition === p).map((d) => d.offset);
    expect(offsets).toEqual(offsets.map((_, i) => i));
  }
  expect(delivered).toHaveLength(total);
}

describe('delivery to a webhook', () => {
  test('every record of every partition arrives once, in order, signed, in batches of at most batch_size', async () => {
    await createTopic(strand.http, 'hook-orders', 3);
    await createTrigger(strand.http, {
      trigger_name: 'hook',
      topic_name: 'hook-orders',
      target: { type: 'http', url: receiver.url, secret },
      batch_size: 4,
      starting_position: 'EARLIEST',
    });
    // Some records before the trigger's first delivery, some after: both must arrive.
    for (let round = 0; round < 3; round++) await produceValues(strand.http, 'hook-orders', values(`r${round}-`, 10));
    const delivered = () => receiver.requests.flatMap((r) => recordsOf(r.event));
    await eventually('30 records at the webhook', () => delivered().length >= 30);

    expect(receiver.requests.every((r) => r.verified)).toBe(true);
    expectInOrder(delivered(), 3, 30);
    expect(delivered().map((d) => d.value).sort()).toEqual([...values('r0-', 10), ...values('r1-', 10), ...values('r2-', 10)].sort());
    for (const { event, deliveryId } of receiver.requests) {
      // One partition per event, keyed "<topic>-<partition>", as Lambda's MSK event.
      expect(event.eventSource).toBe('aws:kafka');
      expect(event.eventSourceArn).toMatch(/^arn:aws:kafka:/);
      expect(event.bootstrapServers).toBe(strand.url);
      const keys = Object.keys(event.records);
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(/^hook-orders-[0-2]$/);
      const records = Object.values(event.records)[0]!;
      expect(records.length).toBeGreaterThan(0);
      expect(records.length).toBeLessThanOrEqual(4);
      expect(records[0]).toMatchObject({ topic: 'hook-orders', timestampType: 'CREATE_TIME' });
      expect(typeof records[0]!.timestamp).toBe('number');
      expect(deliveryId).toBe(`hook/hook-orders/${records[0]!.partition}/${records[0]!.offset}-${records[records.length - 1]!.offset}`);
    }
    // Keys are the produced ones, base64 in the event.
    expect(delivered().every((d) => d.key === `k-${d.value}`)).toBe(true);
    await eventually('no lag', async () => (await lagOf(strand.http, 'hook')) === 0);
  });

  test('headers arrive as Lambda sends them: one object per header, its value as a byte array', async () => {
    await createTopic(strand.http, 'hook-headers', 1);
    await createTrigger(strand.http, { trigger_name: 'hook-headers', topic_name: 'hook-headers', target: { type: 'http', url: receiver.url, secret } });
    await strand.http.post('/v3/clusters/local/topics/hook-headers/records', {
      value: { type: 'STRING', data: 'with-headers' },
      headers: [{ name: 'trace', value: Buffer.from('abc').toString('base64') }],
    });
    await eventually('the record with headers', () => receiver.requests.some((r) => 'hook-headers-0' in r.event.records));
    const record = receiver.requests.find((r) => 'hook-headers-0' in r.event.records)!.event.records['hook-headers-0']![0]!;
    expect(record.headers).toEqual([{ trace: [97, 98, 99] }]);
    expect(record.key).toBeUndefined();
  });

  test('a LATEST trigger delivers only what is produced after it was created', async () => {
    await createTopic(strand.http, 'hook-latest', 1);
    await produceValues(strand.http, 'hook-latest', ['before'], 0);
    await createTrigger(strand.http, { trigger_name: 'hook-latest', topic_name: 'hook-latest', target: { type: 'http', url: receiver.url, secret } });
    await produceValues(strand.http, 'hook-latest', ['after'], 0);
    const seen = () => receiver.requests.flatMap((r) => recordsOf(r.event)).filter((d) => d.topic === 'hook-latest');
    await eventually('the record produced after', () => seen().length >= 1);
    await strand.triggers!.settled();
    expect(seen().map((d) => [d.offset, d.value])).toEqual([[1, 'after']]);
  });
});

describe('delivery to a handler module', () => {
  test('a Lambda-style handler gets every record of every partition in order, with a Lambda-like context', async () => {
    await createTopic(strand.http, 'mod-orders', 2);
    await createTrigger(strand.http, {
      trigger_name: 'mod',
      topic_name: 'mod-orders',
      target: { type: 'module', handler: './test/triggers/fixtures/orders.ts#handler' },
      batch_size: 3,
      starting_position: 'EARLIEST',
    });
    await produceValues(strand.http, 'mod-orders', values('m', 12));
    await produceValues(strand.http, 'mod-orders', values('n', 8));
    const mine = () => fixture.calls.filter((c) => Object.keys(c.event.records)[0]!.startsWith('mod-orders-'));
    await eventually('20 records at the handler', () => mine().flatMap((c) => recordsOf(c.event)).length >= 20);
    expectInOrder(mine().flatMap((c) => recordsOf(c.event)), 2, 20);
    expect(mine().every((c) => c.ok && c.functionName === 'trigger-mod' && c.remainingMs > 0)).toBe(true);
    expect(Math.max(...mine().map((c) => recordsOf(c.event).length))).toBeLessThanOrEqual(3);
  });
});

describe('pause and resume', () => {
  test('a paused trigger delivers nothing and shows the lag; resumed, it continues where it stopped', async () => {
    await createTopic(strand.http, 'pause-orders', 1);
    await createTrigger(strand.http, { trigger_name: 'pausing', topic_name: 'pause-orders', target: { type: 'http', url: receiver.url, secret }, starting_position: 'EARLIEST' });
    const seen = () => receiver.requests.flatMap((r) => recordsOf(r.event)).filter((d) => d.topic === 'pause-orders');
    await produceValues(strand.http, 'pause-orders', values('a', 5), 0);
    await eventually('the first five', () => seen().length >= 5);
    await strand.triggers!.settled();

    expect((await strand.http.patch(`${triggersPath}/pausing`, { state: 'PAUSED' })).status).toBe(200);
    await strand.triggers!.settled();
    await produceValues(strand.http, 'pause-orders', values('b', 7), 0);
    await strand.notices.stream.drained();
    await new Promise((r) => setTimeout(r, 300));
    await strand.triggers!.settled();
    expect(seen()).toHaveLength(5);
    expect(await lagOf(strand.http, 'pausing')).toBe(7);

    expect((await strand.http.patch(`${triggersPath}/pausing`, { state: 'ACTIVE' })).status).toBe(200);
    await eventually('the other seven', () => seen().length >= 12);
    expect(seen().map((d) => d.value)).toEqual([...values('a', 5), ...values('b', 7)]);
    await eventually('no lag', async () => (await lagOf(strand.http, 'pausing')) === 0);
  });
});

describe('the runner outside requests', () => {
  test('a poke from a request whose deadline then passes still delivers and commits (the deadline does not follow the runner)', async () => {
    await createTopic(strand.http, 'deadline-orders', 1);
    await createTrigger(strand.http, { trigger_name: 'deadline', topic_name: 'deadline-orders', target: { type: 'http', url: receiver.url, secret }, starting_position: 'EARLIEST' });
    await strand.http.patch(`${triggersPath}/deadline`, { state: 'PAUSED' });
    await produceValues(strand.http, 'deadline-orders', values('d', 3), 0);
    // Resumed behind the API's back, then poked from inside a request with 100 ms left
    // (withDeadline keeps a 1 s answer margin); the slow receiver answers after that.
    const store = new TriggerStore(strand.runtime.clients.ddb, strand.runtime.config.tables.triggers);
    const paused = await store.get('deadline');
    await store.replace(paused, { ...paused, state: 'ACTIVE', updatedAt: paused.updatedAt + 1 });
    receiver.behaviour.delayMs = 300;
    try {
      await withDeadline(1_100, async () => strand.triggers!.poke());
      await eventually('no lag', async () => (await lagOf(strand.http, 'deadline')) === 0, 5_000);
    } finally {
      receiver.behaviour.delayMs = 0;
    }
  });
});
