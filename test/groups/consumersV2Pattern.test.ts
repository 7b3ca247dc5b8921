/**
 * REST Proxy v2 pattern subscriptions (`topic_pattern`), driven as a REST Proxy
 * client drives them, against Confluent's kafka-rest behaviour
 * (KafkaConsumerState.subscribe, ConsumersResource): Kafka's consumer
 * subscribes to every topic the pattern matches whole, topics created later
 * included, and GET subscription lists the topics matched.
 * How: a manual clock moves past the pattern's refresh interval instead of
 * waiting for it.
 */
import { ManualClock } from '../../src/clock';
import { topicPatternRefreshMs } from '../../src/groups/ConsumerInstances';
import { createTopic, produceString, startTestStrand, type TestStrand } from '../support/localStrand';
import { expectStatus } from '../support/api';

const clock = new ManualClock();
let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand({ clock });
  for (const topic of ['orders-eu', 'orders-us', 'payments', 'preorders-eu']) {
    await createTopic(strand.http, topic, 1);
    await produceString(strand.http, topic, `${topic} 0`, { partition_id: 0 });
  }
});
afterAll(() => strand.dispose());

const V2 = 'application/vnd.kafka.v2+json';
const jsonRecords = 'application/vnd.kafka.json.v2+json';

class V2Consumer {
  base = '';
  constructor(readonly group: string, readonly name: string) {}

  call(method: string, suffix: string, json?: unknown, accept = V2) {
    return strand.http.request(method, this.base + suffix, {
      headers: { 'content-type': V2, accept },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
  }

  async create() {
    const res = await strand.http.request('POST', `/consumers/${this.group}`, {
      headers: { 'content-type': V2 },
      body: JSON.stringify({ name: this.name, format: 'json', 'auto.offset.reset': 'earliest' }),
    });
    expectStatus(res, 200);
    this.base = new URL(res.json.base_uri).pathname;
    return this;
  }

  async subscription(): Promise<string[]> {
    return (await this.call('GET', '/subscription')).json.topics;
  }

  /** The values of one records call. */
  async values(): Promise<string[]> {
    const res = await this.call('GET', '/records', undefined, jsonRecords);
    expectStatus(res, 200);
    return (res.json as { value: string }[]).map((r) => r.value).sort();
  }
}

describe('a topic_pattern subscription consumes every topic the pattern matches whole', () => {
  test('subscribe with a pattern: GET subscription lists the matched topics, and records come from them only', async () => {
    const c = await new V2Consumer('g-pattern', 'c').create();
    expectStatus(await c.call('POST', '/subscription', { topic_pattern: 'orders-.*' }), 204);
    expect(await c.subscription()).toEqual(['orders-eu', 'orders-us']);
    expect(await c.values()).toEqual(['orders-eu 0', 'orders-us 0']);
  });

  test('a topic created later that matches is consumed once the pattern is matched again (its refresh interval)', async () => {
    const c = await new V2Consumer('g-pattern-later', 'c').create();
    expectStatus(await c.call('POST', '/subscription', { topic_pattern: 'orders-.*' }), 204);
    expect(await c.values()).toEqual(['orders-eu 0', 'orders-us 0']);
    await createTopic(strand.http, 'orders-asia', 1);
    await produceString(strand.http, 'orders-asia', 'orders-asia 0', { partition_id: 0 });
    await produceString(strand.http, 'orders-eu', 'orders-eu 1', { partition_id: 0 });
    // Before the refresh the instance still consumes what it matched.
    expect(await c.values()).toEqual(['orders-eu 1']);
    clock.advance(topicPatternRefreshMs);
    expect(await c.values()).toEqual(['orders-asia 0']);
    expect(await c.subscription()).toEqual(['orders-asia', 'orders-eu', 'orders-us']);
  });

  test('a pattern that matches nothing yet is a subscription all the same, and picks up its first topic', async () => {
    const c = await new V2Consumer('g-pattern-none', 'c').create();
    expectStatus(await c.call('POST', '/subscription', { topic_pattern: 'refunds-[0-9]+' }), 204);
    expect(await c.subscription()).toEqual([]);
    expect(await c.values()).toEqual([]);
    // Still subscribed: a manual assignment is refused.
    const assign = await c.call('POST', '/assignments', { partitions: [{ topic: 'payments', partition: 0 }] });
    expect([assign.status, assign.json.error_code]).toEqual([409, 40903]);
    await createTopic(strand.http, 'refunds-1', 1);
    await produceString(strand.http, 'refunds-1', 'refund', { partition_id: 0 });
    clock.advance(topicPatternRefreshMs);
    expect(await c.values()).toEqual(['refund']);
  });

  test('two instances of a group subscribed by pattern share the matched partitions', async () => {
    const a = await new V2Consumer('g-pattern-shared', 'a').create();
    const b = await new V2Consumer('g-pattern-shared', 'b').create();
    for (const c of [a, b]) expectStatus(await c.call('POST', '/subscription', { topic_pattern: '(orders|payments)-?.*' }), 204);
    const assignment = async (c: V2Consumer): Promise<string[]> =>
      (await c.call('GET', '/assignments')).json.partitions.map((p: { topic: string }) => p.topic);
    let both: string[][] = [];
    for (let round = 0; round < 4; round++) both = [await assignment(a), await assignment(b)];
    expect(both.flat().sort()).toEqual((await a.subscription()).sort());
    expect(both.flat()).toContain('payments');
    expect(both.flat()).not.toContain('preorders-eu');
    expect(both[0]!.length).toBeGreaterThan(0);
    expect(both[1]!.length).toBeGreaterThan(0);
  });
});

describe("subscription bodies as Confluent's kafka-rest takes them", () => {
  test('topics and a pattern exclude each other as in Kafka’s consumer: 409 / 40903 until the subscription is deleted', async () => {
    const c = await new V2Consumer('g-pattern-excl', 'c').create();
    expectStatus(await c.call('POST', '/subscription', { topic_pattern: 'orders-.*' }), 204);
    const topics = await c.call('POST', '/subscription', { topics: ['payments'] });
    expect([topics.status, topics.json.error_code]).toEqual([409, 40903]);
    // Another pattern replaces the pattern.
    expectStatus(await c.call('POST', '/subscription', { topic_pattern: 'payments' }), 204);
    expect(await c.subscription()).toEqual(['payments']);
    expectStatus(await c.call('DELETE', '/subscription'), 204);
    expect(await c.subscription()).toEqual([]);
    expectStatus(await c.call('POST', '/subscription', { topics: ['orders-eu'] }), 204);
    const pattern = await c.call('POST', '/subscription', { topic_pattern: 'orders-.*' });
    expect([pattern.status, pattern.json.error_code]).toEqual([409, 40903]);
    expect(await c.subscription()).toEqual(['orders-eu']);
  });

  test('topics win over a pattern given beside them; a body with neither changes nothing; empty topics unsubscribe', async () => {
    const c = await new V2Consumer('g-pattern-body', 'c').create();
    expectStatus(await c.call('POST', '/subscription', { topics: ['payments'], topic_pattern: 'orders-.*' }), 204);
    expect(await c.subscription()).toEqual(['payments']);
    expectStatus(await c.call('POST', '/subscription', {}), 204);
    expect(await c.subscription()).toEqual(['payments']);
    expectStatus(await c.call('POST', '/subscription', { topics: [] }), 204);
    expect(await c.subscription()).toEqual([]);
  });

  test('a pattern that is not a regular expression, or could backtrack for too long, is 400 / 40002 and changes nothing', async () => {
    const c = await new V2Consumer('g-pattern-bad', 'c').create();
    expectStatus(await c.call('POST', '/subscription', { topic_pattern: 'orders-eu' }), 204);
    for (const topic_pattern of ['orders-(', '(a+)+b', 'x'.repeat(300)]) {
      const res = await c.call('POST', '/subscription', { topic_pattern });
      expect([res.status, res.json.error_code]).toEqual([400, 40002]);
    }
    expect(await c.subscription()).toEqual(['orders-eu']);
  });
});
