/**
 * Partial batch failure answers (batchItemFailures, docs/triggers.md "Partial
 * batch failures"): the records before the first failed one are committed and
 * delivery retries from it, not from the start of the batch; after the retries
 * only the reported records are dead-lettered. Both a module target (the
 * handler's return value) and a webhook (its 2xx JSON body).
 * How: fixtures/partial.ts lists the values it is told to fail; the receiver
 * answers with a body built from the event.
 */
import type { MSKEvent } from 'aws-lambda';
import { createTopic, fetchJson, type TestStrand } from '../support/localStrand';
import * as partial from './fixtures/partial';
import { createTrigger, eventually, lagOf, produceValues, recordsOf, startReceiver, startTriggerStrand, type Receiver } from './support';

let strand: TestStrand;
let receiver: Receiver;
const secret = 'whsec_partial-test-secret';
beforeAll(async () => {
  strand = await startTriggerStrand();
  receiver = await startReceiver(secret);
});
afterAll(async () => {
  await strand.dispose();
  await receiver.close();
});

const handlerPath = './test/triggers/fixtures/partial.ts#handler';

describe('a handler reporting batchItemFailures', () => {
  test('commits before the first failed record and retries from it, not from the start of the batch', async () => {
    partial.behaviour.failing = { p3: 1, p5: 2 };
    await createTopic(strand.http, 'partial-orders', 1);
    await createTrigger(strand.http, {
      trigger_name: 'partial',
      topic_name: 'partial-orders',
      target: { type: 'module', handler: handlerPath },
      batch_size: 8,
      starting_position: 'EARLIEST',
    });
    await produceValues(strand.http, 'partial-orders', ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'], 0);
    await eventually('every record processed', async () => (await lagOf(strand.http, 'partial')) === 0);
    // The whole batch; 3 and 5 fail: 0–2 are committed, the retry starts at 3; 5 fails again: 3–4 are committed, the retry starts at 5.
    expect(partial.calls[0]).toEqual({ offsets: [0, 1, 2, 3, 4, 5, 6, 7], failed: [3, 5] });
    expect(partial.calls[1]).toEqual({ offsets: [3, 4, 5, 6, 7], failed: [5] });
    expect(partial.calls[2]).toEqual({ offsets: [5, 6, 7], failed: [] });
    expect(partial.calls).toHaveLength(3);
  });

  test('after max_retry_attempts only the reported records are dead-lettered, and the trigger commits past the batch', async () => {
    partial.calls.length = 0;
    partial.behaviour.failing = { q2: Infinity };
    await createTopic(strand.http, 'partial-dlq-orders', 1);
    await createTopic(strand.http, 'partial-dlq', 1);
    await createTrigger(strand.http, {
      trigger_name: 'partial-dlq',
      topic_name: 'partial-dlq-orders',
      target: { type: 'module', handler: handlerPath },
      batch_size: 4,
      max_retry_attempts: 1,
      dead_letter_topic: 'partial-dlq',
      starting_position: 'EARLIEST',
    });
    await produceValues(strand.http, 'partial-dlq-orders', ['q0', 'q1', 'q2', 'q3'], 0);
    await eventually('the batch settled', async () => (await lagOf(strand.http, 'partial-dlq')) === 0);
    // 0–1 committed; the retry from 2 fails again (1 retry), then 2 alone is dead-lettered; 3 was processed.
    expect(partial.calls.map((c) => c.offsets)).toEqual([[0, 1, 2, 3], [2, 3]]);
    const dead = await fetchJson(strand.http, 'partial-dlq', 0, 0);
    const letters = dead.json.records as { value: { data: string }; headers: { name: string; value: string }[] }[];
    expect(letters.map((r) => r.value.data)).toEqual(['q2']);
    const header = Object.fromEntries(letters[0]!.headers.map((h) => [h.name, Buffer.from(h.value, 'base64').toString('utf8')]));
    expect(header).toMatchObject({ 'strand.reason': 'retries-exhausted', 'strand.source.offset': '2' });
    expect(header['strand.error']).toContain('batchItemFailures');
  });
});

describe('a webhook answering batchItemFailures in its 2xx body', () => {
  test('is read the same way; a malformed answer fails the whole batch', async () => {
    await createTopic(strand.http, 'partial-hook', 1);
    let failOnce = true;
    let malformedOnce = true;
    receiver.behaviour.reply = (event: MSKEvent) => {
      const recs = recordsOf(event);
      if (malformedOnce) {
        malformedOnce = false;
        return { batchItemFailures: [{ itemIdentifier: 'partial-hook-0@999' }] }; // not in the batch: the whole batch failed
      }
      if (failOnce && recs.some((d) => d.value === 'h2')) {
        failOnce = false;
        return { batchItemFailures: [{ itemIdentifier: `partial-hook-0@${recs.find((d) => d.value === 'h2')!.offset}` }] };
      }
      return { ok: true };
    };
    await createTrigger(strand.http, { trigger_name: 'partial-hook', topic_name: 'partial-hook', target: { type: 'http', url: receiver.url, secret }, starting_position: 'EARLIEST' });
    await produceValues(strand.http, 'partial-hook', ['h0', 'h1', 'h2', 'h3'], 0);
    await eventually('every record accepted', async () => (await lagOf(strand.http, 'partial-hook')) === 0);
    const deliveries = receiver.requests.map((r) => recordsOf(r.event).map((d) => d.offset));
    expect(deliveries).toEqual([[0, 1, 2, 3], [0, 1, 2, 3], [2, 3]]);
    receiver.behaviour.reply = undefined;
  });
});
