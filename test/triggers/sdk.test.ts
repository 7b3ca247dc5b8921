/**
 * The SDK's trigger admin (client/admin.ts) against a local Strand: a trigger
 * made with `admin.createTrigger` delivers, and its group shows the lag. How:
 * the fixture handler module records what it got.
 */
import { StrandClient, verifyTriggerSignature } from '../../client';
import type { TestStrand } from '../support/localStrand';
import * as fixture from './fixtures/orders';
import { eventually, recordsOf, startTriggerStrand } from './support';

let strand: TestStrand;
let client: StrandClient;
beforeAll(async () => {
  strand = await startTriggerStrand();
  client = new StrandClient({ url: strand.url, retry: { initialRetryTime: 10 } });
});
afterAll(() => strand.dispose());

describe('triggers through the SDK', () => {
  test('createTrigger, describe, pause, resume, alter and delete; the trigger delivers what is produced', async () => {
    const admin = client.admin();
    await admin.createTopic('sdk-orders', { partitions: 1 });
    const created = await admin.createTrigger('sdk', {
      topic: 'sdk-orders',
      target: { type: 'module', handler: './test/triggers/fixtures/orders.ts#handler' },
      startingPosition: 'EARLIEST',
      batchSize: 2,
    });
    expect(created).toMatchObject({ name: 'sdk', topic: 'sdk-orders', state: 'ACTIVE', batchSize: 2, groupId: 'trigger-sdk', maxRetryAttempts: -1 });

    const producer = client.producer();
    await producer.send({ topic: 'sdk-orders', messages: [{ value: 'one' }, { value: 'two' }, { value: 'three' }] });
    const seen = () => fixture.calls.filter((c) => c.ok && 'sdk-orders-0' in c.event.records).flatMap((c) => recordsOf(c.event)).map((d) => d.value);
    await eventually('three records', () => seen().length >= 3);
    expect(seen()).toEqual(['one', 'two', 'three']);
    await eventually('no lag', async () => (await admin.groupLag('trigger-sdk')).every((l) => l.lag === 0));

    expect((await admin.pauseTrigger('sdk')).state).toBe('PAUSED');
    expect((await admin.listTriggers()).map((t) => [t.name, t.state])).toEqual([['sdk', 'PAUSED']]);
    expect((await admin.resumeTrigger('sdk')).state).toBe('ACTIVE');
    expect(await admin.alterTrigger('sdk', { batchSize: 10, maxRetryAttempts: 5 })).toMatchObject({ batchSize: 10, maxRetryAttempts: 5 });
    expect((await admin.describeTrigger('sdk')).batchSize).toBe(10);
    await admin.deleteTrigger('sdk');
    await expect(admin.describeTrigger('sdk')).rejects.toMatchObject({ code: 40407 });
  });

  test('a topicPattern trigger: every matching topic, one group', async () => {
    const admin = client.admin();
    await admin.createTopic('sdk-pat.a', { partitions: 1 });
    const created = await admin.createTrigger('sdk-pat', {
      topicPattern: 'sdk-pat\\..+',
      target: { type: 'module', handler: './test/triggers/fixtures/orders.ts#handler' },
      startingPosition: 'EARLIEST',
    });
    expect(created).toMatchObject({ name: 'sdk-pat', topic: null, topicPattern: 'sdk-pat\\..+', groupId: 'trigger-sdk-pat' });
    await admin.createTopic('sdk-pat.b', { partitions: 1 });
    const producer = client.producer();
    await producer.send({ topic: 'sdk-pat.a', messages: [{ value: 'pa' }] });
    await producer.send({ topic: 'sdk-pat.b', messages: [{ value: 'pb' }] });
    const seen = () => fixture.calls.filter((c) => c.ok).flatMap((c) => recordsOf(c.event)).filter((d) => d.topic.startsWith('sdk-pat.')).map((d) => `${d.topic}:${d.value}`);
    await eventually('both topics', () => seen().length >= 2);
    expect(seen().sort()).toEqual(['sdk-pat.a:pa', 'sdk-pat.b:pb']);
    await expect(admin.createTrigger('sdk-both', { topic: 'sdk-pat.a', topicPattern: 'x', target: { type: 'http', url: 'http://127.0.0.1:9/' } })).rejects.toMatchObject({ code: 40002 });
    await admin.deleteTrigger('sdk-pat');
  });

  test('verifyTriggerSignature is exported for receivers', () => {
    expect(verifyTriggerSignature('whsec_0123456789abcdef', undefined, '{}')).toBe(false);
  });
});
