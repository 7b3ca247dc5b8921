/**
 * Topic pattern triggers (`topic_pattern`): every topic whose whole name
 * matches is delivered, topics created after the trigger too (from their
 * start), with the progress of all in the one group `trigger-<name>`.
 * How: a webhook receiver; topics created before and after the trigger, and
 * one that matches only in part (the pattern is anchored).
 */
import { createTopic, type TestStrand } from '../support/localStrand';
import { cluster } from '../support/localStrand';
import { createTrigger, eventually, lagOf, produceValues, recordsOf, startReceiver, startTriggerStrand, triggersPath, type Receiver } from './support';

let strand: TestStrand;
let receiver: Receiver;
const secret = 'whsec_patterns-test-secret';
beforeAll(async () => {
  strand = await startTriggerStrand();
  receiver = await startReceiver(secret);
});
afterAll(async () => {
  await strand.dispose();
  await receiver.close();
});

const seen = () => receiver.requests.flatMap((r) => recordsOf(r.event)).map((d) => `${d.topic}/${d.partition}/${d.value}`);

describe('a topic_pattern trigger', () => {
  test('delivers every matching topic, one created later too, and no topic matching only in part', async () => {
    await createTopic(strand.http, 'pat.orders.eu', 2);
    await createTopic(strand.http, 'pat.orders.us', 1);
    await createTopic(strand.http, 'pat.orders.eu.audit', 1); // "pat\.orders\.[a-z]+" matches a prefix only: not delivered
    await produceValues(strand.http, 'pat.orders.eu', ['eu-before'], 1);
    const created = await createTrigger(strand.http, {
      trigger_name: 'pat',
      topic_pattern: 'pat\\.orders\\.[a-z]+',
      target: { type: 'http', url: receiver.url, secret },
      starting_position: 'EARLIEST',
    });
    expect(created).toMatchObject({ topic_name: null, topic_pattern: 'pat\\.orders\\.[a-z]+', consumer_group_id: 'trigger-pat' });

    await produceValues(strand.http, 'pat.orders.us', ['us-1'], 0);
    await produceValues(strand.http, 'pat.orders.eu.audit', ['audit-1'], 0);
    await eventually('the existing topics', () => seen().includes('pat.orders.us/0/us-1') && seen().includes('pat.orders.eu/1/eu-before'));

    // A topic created after the trigger: its records are delivered from its start.
    await createTopic(strand.http, 'pat.orders.apac', 1);
    await produceValues(strand.http, 'pat.orders.apac', ['apac-1', 'apac-2'], 0);
    await eventually('the new topic', () => seen().includes('pat.orders.apac/0/apac-2'));
    expect(seen().filter((s) => s.startsWith('pat.orders.apac'))).toEqual(['pat.orders.apac/0/apac-1', 'pat.orders.apac/0/apac-2']);
    expect(seen().some((s) => s.includes('audit'))).toBe(false);

    // One group holds the progress of every topic.
    await eventually('no lag', async () => (await lagOf(strand.http, 'pat')) === 0);
    const lags = await strand.http.get(`${cluster}/consumer-groups/trigger-pat/lags`);
    const topics = new Set((lags.json.data as { topic_name: string }[]).map((l) => l.topic_name));
    expect([...topics].sort()).toEqual(['pat.orders.apac', 'pat.orders.eu', 'pat.orders.us']);
  });

  test('exactly one of topic_name and topic_pattern; a pattern must compile and be bounded; the dead-letter topic must not match', async () => {
    await createTopic(strand.http, 'pat-valid', 1);
    await createTopic(strand.http, 'pat-valid-dlq', 1);
    const base = { trigger_name: 'pat-bad', target: { type: 'http', url: receiver.url } };
    const cases: [string, Record<string, unknown>, number][] = [
      ['neither', {}, 40001],
      ['both', { topic_name: 'pat-valid', topic_pattern: 'pat-.*' }, 40002],
      ['a pattern that does not compile', { topic_pattern: 'pat-(' }, 40002],
      ['a pattern too long', { topic_pattern: 'a'.repeat(256) }, 40002],
      ['a pattern that could backtrack exponentially', { topic_pattern: '(a+)+b' }, 40002],
      ['a dead-letter topic the pattern matches', { topic_pattern: 'pat-valid.*', dead_letter_topic: 'pat-valid-dlq' }, 40002],
    ];
    for (const [what, extra, code] of cases) {
      const res = await strand.http.post(triggersPath, { ...base, ...extra });
      // The contract's status is the code's first three digits.
      expect({ what, status: res.status, code: res.json.error_code }).toEqual({ what, status: Math.floor(code / 100), code });
    }
    expect((await strand.http.get(`${triggersPath}/pat-bad`)).status).toBe(404);
    // A pattern matching nothing yet is fine: it waits for topics.
    const res = await strand.http.post(triggersPath, { ...base, topic_pattern: 'pat-none-yet-.*' });
    expect(res.status).toBe(201);
  });
});
