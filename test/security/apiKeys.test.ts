/**
 * Access control with API keys (issue 6, item 4; docs/security.md), over HTTP
 * against a real local Strand started with STRAND_AUTH=keys and a bootstrap admin key.
 * How: keys with narrow permissions are created through the api-keys endpoint;
 * each boundary is tried from both sides (allowed → the operation's own answer,
 * not allowed → 403 / 40301 with nothing changed); missing, malformed, unknown,
 * wrong-secret and revoked keys are 401 / 40101; the keys table is read directly
 * to show only hashes are stored.
 */
import { createHash } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { keyCacheTtlMs } from '../../src/auth/ApiKeyStore';
import { cluster, partitionPath, startTestStrand, topicPath, type HttpResult, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus, highWatermark } from '../support/api';

const bootstrap = `boot-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 32)}`;
let strand: TestStrand;
let keyReads = 0;

beforeAll(async () => {
  strand = await startTestStrand({ auth: 'keys', bootstrapAdminKey: bootstrap });
  // Counts GetItem calls on the keys table (the per-request lookup the cache saves).
  strand.runtime.clients.dynamodb.middlewareStack.add(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (next: any, context: any) => async (args: any) => {
      if (context.commandName === 'GetItemCommand' && args.input?.TableName === strand.runtime.config.tables.keys) keyReads++;
      return next(args);
    },
    { step: 'initialize', name: 'countKeyReads' },
  );
  for (const t of ['orders-1', 'orders-2', 'payments']) {
    expectStatus(await as(bootstrap, 'POST', `${cluster}/topics`, { topic_name: t }), 201);
  }
});
afterAll(() => strand.dispose());

function as(key: string | undefined, method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return strand.http.request(method, path, { json, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });
}

async function createKey(name: string, permissions: unknown[]): Promise<{ id: string; key: string }> {
  const res = await as(bootstrap, 'POST', `${cluster}/api-keys`, { name, permissions });
  expectStatus(res, 201);
  return { id: res.json.key_id, key: res.json.api_key };
}

const record = (data: string) => ({ value: { type: 'STRING', data } });
const produce = (key: string | undefined, topic: string, data = 'x') => as(key, 'POST', `${topicPath(topic)}/records`, record(data));
const fetchAt = (key: string | undefined, topic: string) => as(key, 'GET', `${partitionPath(topic, 0)}/records?offset=0`);
const groupPath = (g: string) => `${cluster}/consumer-groups/${g}`;

let producer: string;
let consumer: string;
let topicAdmin: string;
let groupAdmin: string;
beforeAll(async () => {
  producer = (await createKey('producer', ['produce:orders-*'])).key;
  consumer = (await createKey('consumer', ['consume:orders-*', { operation: 'consume', resource_type: 'group', pattern: 'billing-*' }])).key;
  topicAdmin = (await createKey('topic-admin', ['admin:orders-*'])).key;
  groupAdmin = (await createKey('group-admin', ['admin:group:billing-*'])).key;
});

describe('authentication: 401 / 40101', () => {
  test('no key, a malformed key, an unknown id and a wrong secret are all 40101, with WWW-Authenticate', async () => {
    const { id } = await createKey('victim', ['produce:*']);
    const cases = [undefined, 'nonsense', `strand_${'0'.repeat(16)}_${'A'.repeat(32)}`, `strand_${id}_${'B'.repeat(32)}`];
    for (const key of cases) {
      for (const res of [await produce(key, 'orders-1'), await fetchAt(key, 'orders-1'), await as(key, 'GET', `${cluster}/topics`), await as(key, 'GET', `${cluster}/api-keys`)]) {
        expectError(res, 40101);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    expect(await highWatermark(withKey(bootstrap), 'orders-1')).toBe(0);
  });

  test('GET /health and GET /openapi.json stay open', async () => {
    expectStatus(await as(undefined, 'GET', '/health'), 200);
    const contract = await as(undefined, 'GET', '/openapi.json');
    expectStatus(contract, 200);
    expect(contract.json).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) });
  });

  test('the key is taken from Authorization: Bearer (any case) or X-API-Key', async () => {
    expectStatus(await as(undefined, 'GET', `${topicPath('orders-1')}`, undefined, { authorization: `bearer ${producer}` }), 200);
    expectStatus(await as(undefined, 'GET', `${topicPath('orders-1')}`, undefined, { 'x-api-key': producer }), 200);
    // A SigV4 Authorization header is not a key; X-API-Key beside it is.
    expectStatus(await as(undefined, 'GET', `${topicPath('orders-1')}`, undefined, { authorization: 'AWS4-HMAC-SHA256 Credential=x', 'x-api-key': producer }), 200);
    expectError(await as(undefined, 'GET', `${topicPath('orders-1')}`, undefined, { authorization: `Basic ${producer}` }), 40101);
  });
});

/** An HttpClient-shaped helper for the support functions that take one. */
function withKey(key: string) {
  return {
    get: (path: string) => as(key, 'GET', path),
    post: (path: string, json?: unknown) => as(key, 'POST', path, json),
  } as unknown as TestStrand['http'];
}

describe('topics: produce, consume, admin on name patterns', () => {
  test('produce:orders-* may produce to orders-1 (records, records:batch, binary batches, InitProducerId) and not to payments', async () => {
    expectStatus(await produce(producer, 'orders-1', 'p1'), 200);
    expectStatus(await as(producer, 'POST', `${topicPath('orders-2')}/records:batch`, { entries: [{ id: '1', ...record('p2') }] }), 207);
    const batch = encodeRecordBatch([{ key: null, value: Buffer.from('b'), headers: [], timestamp: 1 }]);
    const bin = await strand.http.request('POST', `${partitionPath('orders-1', 0)}/batches`, {
      body: batch,
      headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/vnd.kafka.record-batch.v2' },
    });
    expectStatus(bin, 200);
    expectStatus(await as(producer, 'POST', `${cluster}/producers`, {}), 201);

    const before = await highWatermark(withKey(bootstrap), 'payments');
    expectError(await produce(producer, 'payments'), 40301);
    expectError(await as(producer, 'POST', `${topicPath('payments')}/records:batch`, { entries: [{ id: '1', ...record('x') }] }), 40301);
    expect(await highWatermark(withKey(bootstrap), 'payments')).toBe(before);
  });

  test('produce does not give consume, and consume does not give produce or InitProducerId', async () => {
    expectError(await fetchAt(producer, 'orders-1'), 40301);
    expectStatus(await fetchAt(consumer, 'orders-1'), 200);
    expectError(await fetchAt(consumer, 'payments'), 40301);
    const before = await highWatermark(withKey(bootstrap), 'orders-1');
    expectError(await produce(consumer, 'orders-1'), 40301);
    expectError(await as(consumer, 'POST', `${cluster}/producers`, {}), 40301);
    expect(await highWatermark(withKey(bootstrap), 'orders-1')).toBe(before);
  });

  test('any permission on a topic lets a key describe it; the topic list shows only those topics', async () => {
    for (const key of [producer, consumer, topicAdmin]) {
      expectStatus(await as(key, 'GET', topicPath('orders-1')), 200);
      expectStatus(await as(key, 'GET', `${topicPath('orders-1')}/partitions`), 200);
      expectStatus(await as(key, 'GET', `${topicPath('orders-1')}/configs`), 200);
      expectError(await as(key, 'GET', topicPath('payments')), 40301);
      const list = await as(key, 'GET', `${cluster}/topics`);
      expectStatus(list, 200);
      expect(list.json.data.map((t: { topic_name: string }) => t.topic_name).sort()).toEqual(expect.arrayContaining(['orders-1', 'orders-2']));
      expect(list.json.data.map((t: { topic_name: string }) => t.topic_name)).not.toContain('payments');
    }
    expectError(await as(groupAdmin, 'GET', topicPath('orders-1')), 40301);
    expect((await as(groupAdmin, 'GET', `${cluster}/topics`)).json.data).toEqual([]);
    // The cluster itself: any key.
    expectStatus(await as(groupAdmin, 'GET', '/v3/clusters'), 200);
  });

  test('admin:orders-* creates, grows, configures, trims and deletes orders-* topics only, and may not produce', async () => {
    expectError(await as(producer, 'POST', `${cluster}/topics`, { topic_name: 'orders-9' }), 40301);
    expectStatus(await as(topicAdmin, 'POST', `${cluster}/topics`, { topic_name: 'orders-9' }), 201);
    expectError(await as(topicAdmin, 'POST', `${cluster}/topics`, { topic_name: 'payments-2' }), 40301);
    expectError(await as(topicAdmin, 'POST', `${cluster}/topics`, {}), 40001);
    expectStatus(await as(topicAdmin, 'PATCH', topicPath('orders-9'), { partitions_count: 2 }), 200);
    expectStatus(await as(topicAdmin, 'POST', `${topicPath('orders-9')}/configs:alter`, { data: [{ name: 'retention.ms', value: '1000' }] }), 204);
    expectStatus(await as(topicAdmin, 'POST', `${partitionPath('orders-9', 0)}/records:delete`, { before_offset: 0 }), 200);
    expectError(await produce(topicAdmin, 'orders-9'), 40301);
    for (const key of [producer, consumer]) {
      expectError(await as(key, 'PATCH', topicPath('orders-9'), { partitions_count: 3 }), 40301);
      expectError(await as(key, 'POST', `${topicPath('orders-9')}/configs:alter`, { data: [] }), 40301);
      expectError(await as(key, 'POST', `${partitionPath('orders-9', 0)}/records:delete`, { before_offset: 0 }), 40301);
      expectError(await as(key, 'DELETE', topicPath('orders-9')), 40301);
    }
    expectError(await as(topicAdmin, 'DELETE', topicPath('payments')), 40301);
    expectStatus(await as(topicAdmin, 'DELETE', topicPath('orders-9')), 204);
    expectStatus(await as(bootstrap, 'GET', topicPath('payments')), 200);
  });
});

describe('the multi-partition fetch: consume on every topic the body names', () => {
  const multiFetch = (key: string | undefined, topics: string[]) =>
    as(key, 'POST', `${cluster}/records:fetch`, { partitions: topics.map((t) => ({ topic_name: t, partition_id: 0, offset: 0 })) });

  test('consume:orders-* may fetch orders-1 and orders-2 together', async () => {
    const res = await multiFetch(consumer, ['orders-1', 'orders-2']);
    expectStatus(res, 200);
    expect(res.json.partitions.map((p: { topic_name: string }) => p.topic_name)).toEqual(['orders-1', 'orders-2']);
  });

  test('one named topic without consume (payments) makes the whole request 40301, and nothing is read', async () => {
    let logReads = 0;
    const count = (next: any) => async (args: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const table = args.input?.TableName;
      if (table === strand.runtime.config.tables.log || table === strand.runtime.config.tables.topics) logReads++;
      return next(args);
    };
    strand.runtime.clients.dynamodb.middlewareStack.add(count, { step: 'initialize', name: 'countMultiFetchReads' });
    try {
      for (const topics of [['orders-1', 'payments'], ['payments'], ['orders-1', 'orders-2', 'no-such-topic']]) {
        const res = await multiFetch(consumer, topics);
        expectError(res, 40301);
        expect(res.json.message).toContain(`'${topics[topics.length - 1]}'`);
      }
      // A key with no consume permission at all is refused by the route's own check.
      expectError(await multiFetch(producer, ['orders-1']), 40301);
      expectError(await multiFetch(undefined, ['orders-1']), 40101);
      expect(logReads).toBe(0);
      // The counter does see the reads of a fetch that is let through.
      expectStatus(await multiFetch(consumer, ['orders-1']), 200);
      expect(logReads).toBeGreaterThan(0);
    } finally {
      strand.runtime.clients.dynamodb.middlewareStack.remove('countMultiFetchReads');
    }
  });
});

describe('consumer groups', () => {
  test('consume on the group and on every subscribed topic is needed to join; commits need consume on each topic', async () => {
    const join = (key: string, group: string, topics: string[]) =>
      as(key, 'POST', `${groupPath(group)}/heartbeat`, { member_epoch: 0, subscribed_topic_names: topics });
    expectError(await join(consumer, 'analytics', ['orders-1']), 40301);
    expectError(await join(consumer, 'billing-1', ['payments']), 40301);
    expectError(await join(producer, 'billing-1', ['orders-1']), 40301);
    const joined = await join(consumer, 'billing-1', ['orders-1']);
    expectStatus(joined, 200);
    const member = { member_id: joined.json.member_id, member_epoch: joined.json.member_epoch };
    expectError(await as(consumer, 'POST', `${groupPath('billing-1')}/offsets:commit`, { ...member, offsets: [{ topic_name: 'payments', partition_id: 0, offset: 0 }] }), 40301);
    for (const path of ['', '/offsets', '/consumers', '/lags', '/lag-summary']) {
      expectStatus(await as(consumer, 'GET', `${groupPath('billing-1')}${path}`), 200);
      expectError(await as(producer, 'GET', `${groupPath('billing-1')}${path}`), 40301);
    }
    const groups = await as(consumer, 'GET', `${cluster}/consumer-groups`);
    expect(groups.json.data.map((g: { consumer_group_id: string }) => g.consumer_group_id)).toContain('billing-1');
    expect((await as(producer, 'GET', `${cluster}/consumer-groups`)).json.data).toEqual([]);
    // Leave, so the group admin below finds it empty.
    expectStatus(await as(consumer, 'POST', `${groupPath('billing-1')}/heartbeat`, { member_id: member.member_id, member_epoch: -1 }), 200);
  });

  test('deleting a group and resetting its offsets need admin on the group, not consume', async () => {
    const reset = (key: string) => as(key, 'POST', `${groupPath('billing-1')}/offsets:reset`, { to: 'earliest' });
    expectError(await reset(consumer), 40301);
    expectError(await as(consumer, 'DELETE', groupPath('billing-1')), 40301);
    expectError(await as(groupAdmin, 'DELETE', groupPath('analytics')), 40301);
    expect([200, 404]).toContain((await reset(groupAdmin)).status);
    expect([204, 404]).toContain((await as(groupAdmin, 'DELETE', groupPath('billing-1'))).status);
  });

  test('v2 consumer instances: consume on the group, and on every topic subscribed or assigned', async () => {
    const v2 = { 'content-type': 'application/vnd.kafka.v2+json' };
    expectError(await as(consumer, 'POST', '/consumers/analytics', { name: 'c1' }, v2), 40301);
    expectStatus(await as(consumer, 'POST', '/consumers/billing-v2', { name: 'c1', format: 'binary' }, v2), 200);
    const instance = '/consumers/billing-v2/instances/c1';
    expectError(await as(consumer, 'POST', `${instance}/subscription`, { topics: ['payments'] }, v2), 40301);
    expectError(await as(consumer, 'POST', `${instance}/assignments`, { partitions: [{ topic: 'payments', partition: 0 }] }, v2), 40301);
    expectStatus(await as(consumer, 'POST', `${instance}/subscription`, { topics: ['orders-1'] }, v2), 204);
    expectError(await as(producer, 'GET', `${instance}/subscription`, undefined, v2), 40301);
  });
});

describe('the api-keys endpoint and the schema registry need admin on the cluster', () => {
  test('only a cluster admin may create, list, read or revoke keys', async () => {
    for (const key of [producer, consumer, topicAdmin, groupAdmin]) {
      expectError(await as(key, 'POST', `${cluster}/api-keys`, { name: 'x', permissions: ['admin:cluster'] }), 40301);
      expectError(await as(key, 'GET', `${cluster}/api-keys`), 40301);
    }
    const admin = await createKey('admin', ['admin:cluster']);
    const made = await as(admin.key, 'POST', `${cluster}/api-keys`, { name: 'made-by-admin', permissions: ['consume:*'] });
    expectStatus(made, 201);
    expectStatus(await as(admin.key, 'GET', `${cluster}/api-keys/${made.json.key_id}`), 200);
    // A cluster admin may do everything else too.
    expectStatus(await produce(admin.key, 'payments'), 200);
  });

  test('invalid permissions are 40002 and create nothing', async () => {
    const count = (await as(bootstrap, 'GET', `${cluster}/api-keys`)).json.data.length;
    for (const permissions of [['fly:*'], ['produce:or*ders'], ['consume:cluster'], [{ operation: 'admin', resource_type: 'galaxy', pattern: '*' }], []]) {
      expectError(await as(bootstrap, 'POST', `${cluster}/api-keys`, { name: 'bad', permissions }), 40002);
    }
    expectError(await as(bootstrap, 'POST', `${cluster}/api-keys`, { permissions: ['produce:*'] }), 40001);
    expect((await as(bootstrap, 'GET', `${cluster}/api-keys`)).json.data.length).toBe(count);
    expectError(await as(bootstrap, 'DELETE', `${cluster}/api-keys/nope`), 40406);
  });

  test('schema reads need any key; registering needs admin on the cluster', async () => {
    expectStatus(await as(consumer, 'GET', '/subjects'), 200);
    expectError(await as(undefined, 'GET', '/subjects'), 40101);
    const schema = { schema: JSON.stringify({ type: 'record', name: 'R', fields: [] }) };
    expectError(await as(consumer, 'POST', '/subjects/orders-1-value/versions', schema), 40301);
    expectStatus(await as(bootstrap, 'POST', '/subjects/orders-1-value/versions', schema), 200);
  });
});

describe('keys at rest and revocation', () => {
  test('keys are stored as SHA-256 hashes only; lists never show a secret', async () => {
    const { id, key } = await createKey('stored', ['produce:orders-*']);
    const scan = await strand.runtime.clients.ddb.send(new ScanCommand({ TableName: strand.runtime.config.tables.keys }));
    const item = scan.Items!.find((i) => i.pk === id)!;
    expect(item.hash).toBe(createHash('sha256').update(key).digest('hex'));
    const secret = key.split('_').slice(2).join('_');
    for (const i of scan.Items!) expect(JSON.stringify(i)).not.toContain(secret);
    const list = await as(bootstrap, 'GET', `${cluster}/api-keys`);
    expect(list.body.toString()).not.toContain(secret);
    expect(list.body.toString()).not.toContain(item.hash as string);
    expect(list.json.data.find((k: { key_id: string }) => k.key_id === id)).toMatchObject({ name: 'stored', revoked_at: null, permissions: [{ operation: 'produce', resource_type: 'topic', pattern: 'orders-*' }] });
  });

  test('a revoked key stops working at once (this process) and is listed as revoked', async () => {
    const { id, key } = await createKey('short-lived', ['produce:orders-*']);
    expectStatus(await produce(key, 'orders-1'), 200);
    expectStatus(await as(bootstrap, 'DELETE', `${cluster}/api-keys/${id}`), 204);
    const refused = await produce(key, 'orders-1');
    expectError(refused, 40101);
    expect(refused.json.message).toContain('revoked');
    const listed = (await as(bootstrap, 'GET', `${cluster}/api-keys`)).json.data.find((k: { key_id: string }) => k.key_id === id);
    expect(listed.revoked_at).not.toBeNull();
    // Revoking again keeps the key revoked (and the first revocation time).
    expectStatus(await as(bootstrap, 'DELETE', `${cluster}/api-keys/${id}`), 204);
    expect((await as(bootstrap, 'GET', `${cluster}/api-keys/${id}`)).json.revoked_at).toBe(listed.revoked_at);
  });

  test(`a key is read from DynamoDB once per ${keyCacheTtlMs / 1000} s per process, not once per request`, async () => {
    const { key } = await createKey('cached', ['consume:orders-*']);
    const before = keyReads;
    for (let i = 0; i < 20; i++) expectStatus(await fetchAt(key, 'orders-1'), 200);
    expect(keyReads - before).toBe(1);
  });
});
