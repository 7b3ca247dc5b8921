/**
 * The trigger resource (docs/triggers.md): create, list, get, PATCH (pause,
 * resume, settings), delete, against a real local Strand. How: every refused
 * request is followed by a read showing nothing was stored.
 */
import { cluster, createTopic, type TestStrand } from '../support/localStrand';
import { startTriggerStrand, triggersPath } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTriggerStrand();
  await createTopic(strand.http, 'api-orders', 2);
  await createTopic(strand.http, 'api-dlq', 1);
});
afterAll(() => strand.dispose());

const secret = 'whsec_test-secret-0123456789';
const http = () => strand.http;
const valid = (name: string, extra: Record<string, unknown> = {}) => ({
  trigger_name: name,
  topic_name: 'api-orders',
  target: { type: 'http', url: 'http://127.0.0.1:9/hook', secret },
  ...extra,
});
const names = async () => ((await http().get(triggersPath)).json.data as { trigger_name: string }[]).map((t) => t.trigger_name);
const groupIds = async () => ((await http().get(`${cluster}/consumer-groups`)).json.data as { consumer_group_id: string }[]).map((g) => g.consumer_group_id);

describe('creating a trigger', () => {
  test('create answers 201 with every default filled in and the secret never shown', async () => {
    const res = await http().post(triggersPath, valid('api-defaults'));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      kind: 'StrandTrigger',
      trigger_name: 'api-defaults',
      topic_name: 'api-orders',
      target: { type: 'http', url: 'http://127.0.0.1:9/hook', secret_set: true },
      state: 'ACTIVE',
      batch_size: 100,
      max_batching_window_ms: 0,
      starting_position: 'LATEST',
      max_retry_attempts: -1,
      max_record_age_ms: -1,
      bisect_batch_on_error: false,
      dead_letter_topic: null,
      consumer_group_id: 'trigger-api-defaults',
    });
    const got = await http().get(`${triggersPath}/api-defaults`);
    expect(got.status).toBe(200);
    expect(got.body.toString()).not.toContain(secret);
    expect((await http().get(triggersPath)).body.toString()).not.toContain(secret);
  });

  test('with a dead-letter topic, retries default to 3; the starting position is the group\'s offsets at once', async () => {
    const res = await http().post(triggersPath, valid('api-dlq-default', { dead_letter_topic: 'api-dlq', starting_position: 'EARLIEST' }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ max_retry_attempts: 3, dead_letter_topic: 'api-dlq', starting_position: 'EARLIEST' });
    const offsets = await http().get(`${cluster}/consumer-groups/trigger-api-dlq-default/offsets`);
    expect(offsets.status).toBe(200);
    expect(JSON.stringify(offsets.json)).toContain('api-orders');
  });

  test('a second trigger with the same name is refused with 409 and leaves the first as it was', async () => {
    await http().post(triggersPath, valid('api-twice', { batch_size: 7 }));
    const res = await http().post(triggersPath, valid('api-twice', { batch_size: 9 }));
    expect(res.status).toBe(409);
    expect(res.json.error_code).toBe(40904);
    expect((await http().get(`${triggersPath}/api-twice`)).json.batch_size).toBe(7);
  });

  test.each([
    ['no topic_name', { topic_name: undefined }, 40001],
    ['an unknown topic', { topic_name: 'no-such-topic' }, 40403],
    ['batch_size 0', { batch_size: 0 }, 40002],
    ['batch_size over 10,000', { batch_size: 10_001 }, 40002],
    ['a batching window over 300 s', { max_batching_window_ms: 300_001 }, 40002],
    ['max_retry_attempts below -1', { max_retry_attempts: -2 }, 40002],
    ['a starting position that is not one', { starting_position: 'NEWEST' }, 40002],
    ['a name with a slash', { trigger_name: 'a/b' }, 40002],
    ['an unknown field', { batchsize: 5 }, 40002],
    ['a target URL that is not http(s)', { target: { type: 'http', url: 'ftp://example.com/x' } }, 40002],
    ['a webhook secret shorter than 16 characters', { target: { type: 'http', url: 'http://127.0.0.1:9/x', secret: 'short' } }, 40002],
    ['a lambda target (it delivers only on AWS)', { target: { type: 'lambda', function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:orders' } }, 40002],
    ['a module target with no such file', { target: { type: 'module', handler: './test/triggers/fixtures/missing.ts#handler' } }, 40002],
    ['a module target without an export name', { target: { type: 'module', handler: './test/triggers/fixtures/orders.ts' } }, 40002],
    ['its own topic as dead-letter topic', { dead_letter_topic: 'api-orders' }, 40002],
    ['an unknown dead-letter topic', { dead_letter_topic: 'no-such-dlq' }, 40403],
  ])('%s is refused (%#) and nothing is stored', async (_what, change, code) => {
    const body: Record<string, unknown> = { ...valid('api-refused'), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
    const res = await http().post(triggersPath, body);
    expect(res.status).toBe(Math.floor(code / 100));
    expect(res.json.error_code).toBe(code);
    expect(await names()).not.toContain('api-refused');
    expect(await groupIds()).not.toContain('trigger-api-refused');
  });
});

describe('changing and deleting a trigger', () => {
  test('PATCH pauses and resumes, and changes delivery settings', async () => {
    await http().post(triggersPath, valid('api-patch'));
    const paused = await http().patch(`${triggersPath}/api-patch`, { state: 'PAUSED', batch_size: 10 });
    expect(paused.status).toBe(200);
    expect(paused.json).toMatchObject({ state: 'PAUSED', batch_size: 10 });
    expect((await http().get(`${triggersPath}/api-patch`)).json).toMatchObject({ state: 'PAUSED', batch_size: 10 });
    const resumed = await http().patch(`${triggersPath}/api-patch`, { state: 'ACTIVE', dead_letter_topic: 'api-dlq' });
    expect(resumed.json).toMatchObject({ state: 'ACTIVE', batch_size: 10, dead_letter_topic: 'api-dlq' });
  });

  test('a PATCH with a bad value or a fixed field is refused and changes nothing', async () => {
    await http().post(triggersPath, valid('api-patch-bad', { batch_size: 3 }));
    for (const body of [{ state: 'STOPPED' }, { batch_size: 0 }, { topic_name: 'api-dlq' }, { dead_letter_topic: 'no-such-dlq' }]) {
      const res = await http().patch(`${triggersPath}/api-patch-bad`, body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect((await http().get(`${triggersPath}/api-patch-bad`)).json).toMatchObject({ state: 'ACTIVE', batch_size: 3, dead_letter_topic: null });
  });

  test('an unknown trigger is 404 / 40407 for GET, PATCH and DELETE', async () => {
    for (const res of [
      await http().get(`${triggersPath}/nope`),
      await http().patch(`${triggersPath}/nope`, { state: 'PAUSED' }),
      await http().delete(`${triggersPath}/nope`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.json.error_code).toBe(40407);
    }
  });

  test('DELETE removes the trigger and its consumer group', async () => {
    await http().post(triggersPath, valid('api-delete', { starting_position: 'EARLIEST' }));
    expect(await groupIds()).toContain('trigger-api-delete');
    expect((await http().delete(`${triggersPath}/api-delete`)).status).toBe(204);
    expect(await names()).not.toContain('api-delete');
    expect(await groupIds()).not.toContain('trigger-api-delete');
    expect((await http().delete(`${triggersPath}/api-delete`)).status).toBe(404);
  });
});
