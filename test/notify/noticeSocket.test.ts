/**
 * The notice socket against a real local Strand: a WebSocket client arms
 * watches, commits fire them through the log-stream stand-in and the
 * notifier, and the socket enforces API Gateway's WebSocket limits.
 */
import WebSocket from 'ws';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import type { ServerMessage } from '../../src/notify/protocol';
import { subscriptionStore } from '../../src/notify/socketHandlers';
import { partitionKey } from '../../src/log/TopicCatalog';

/** A test client: every message it receives, and a way to wait for one. */
class SocketClient {
  readonly received: ServerMessage[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | undefined;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as ServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static open(url: string, headers: Record<string, string> = {}): Promise<SocketClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.once('open', () => resolve(new SocketClient(ws)));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }
  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }
  async next(match: (m: ServerMessage) => boolean, timeoutMs = 5_000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      if (this.closed) throw new Error(`closed ${this.closed.code} before the message came`);
      if (Date.now() > deadline) throw new Error(`no such message in ${timeoutMs} ms; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  /** Sends and waits for the reply with this request_id. */
  async call(message: Record<string, unknown>, id: string): Promise<ServerMessage> {
    this.send({ ...message, request_id: id });
    return this.next((m) => 'request_id' in m && m.request_id === id);
  }
  close(): void {
    this.ws.close();
  }
}

const moved = (topic: string, partition: number) => (m: ServerMessage) => m.type === 'moved' && m.topic_name === topic && m.partition_id === partition;

describe('the notice socket', () => {
  let strand: TestStrand;
  let url: string;
  beforeAll(async () => {
    strand = await startTestStrand({ noticeSocket: { idleMsMax: 1_500 } });
    const res = await strand.http.request('GET', '/v3/clusters/local/notifications');
    expect(res.status).toBe(200);
    url = res.json.url;
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v3\/notifications$/);
    for (const t of ['watched', 'quiet']) {
      expect((await strand.http.request('POST', '/v3/clusters/local/topics', { json: { topic_name: t, partitions_count: 2 } })).status).toBe(201);
    }
  });
  afterAll(() => strand.dispose());

  const produce = async (topic: string, partition: number, value = 'v') => {
    const res = await strand.http.request('POST', `/v3/clusters/local/topics/${topic}/records`, { json: { partition_id: partition, value: { type: 'STRING', data: value } } });
    expect(res.status).toBe(200);
  };

  test('a commit past an armed watch sends one moved notice, and nothing for other partitions', async () => {
    const c = await SocketClient.open(url);
    try {
      const hw = (await strand.http.request('GET', '/v3/clusters/local/topics/watched/partitions/0/offsets')).json.high_watermark ?? 0;
      expect(await c.call({ action: 'subscribe', watches: [{ topic_name: 'watched', partition_id: 0, offset: hw }, { topic_name: 'quiet', partition_id: 1, offset: 0 }] }, 's1')).toEqual({
        type: 'subscribed',
        request_id: 's1',
        watches: 2,
      });
      expect(c.received.filter((m) => m.type === 'moved')).toEqual([]);
      await produce('watched', 0);
      const notice = await c.next(moved('watched', 0));
      expect(notice).toMatchObject({ high_watermark: hw + 1, log_start_offset: 0 });
      // Disarmed: more commits send nothing until the client arms again.
      await produce('watched', 0);
      await produce('watched', 0);
      await strand.notices.stream.drained();
      expect(c.received.filter((m) => m.type === 'moved')).toHaveLength(1);
      expect(c.received.some(moved('quiet', 1))).toBe(false);
    } finally {
      c.close();
    }
  });

  test('a watch armed at an offset the partition already passed fires at once (the commit raced the subscribe)', async () => {
    await produce('watched', 1);
    const c = await SocketClient.open(url);
    try {
      await c.call({ action: 'subscribe', watches: [{ topic_name: 'watched', partition_id: 1, offset: 0 }] }, 'late');
      expect(await c.next(moved('watched', 1))).toMatchObject({ high_watermark: expect.any(Number) });
    } finally {
      c.close();
    }
  });

  test('many commits while a watch is armed coalesce: one notice per arm', async () => {
    const c = await SocketClient.open(url);
    try {
      await strand.notices.stream.drained();
      const hw = (await strand.http.request('GET', '/v3/clusters/local/topics/quiet/partitions/0/offsets')).json.high_watermark ?? 0;
      await c.call({ action: 'subscribe', watches: [{ topic_name: 'quiet', partition_id: 0, offset: hw }] }, 'a');
      await Promise.all(Array.from({ length: 10 }, () => produce('quiet', 0)));
      await c.next(moved('quiet', 0));
      await strand.notices.stream.drained();
      expect(c.received.filter(moved('quiet', 0))).toHaveLength(1);
    } finally {
      c.close();
    }
  });

  test('unsubscribed watches send nothing', async () => {
    const c = await SocketClient.open(url);
    try {
      await strand.notices.stream.drained();
      const hw = (await strand.http.request('GET', '/v3/clusters/local/topics/quiet/partitions/1/offsets')).json.high_watermark ?? 0;
      await c.call({ action: 'subscribe', watches: [{ topic_name: 'quiet', partition_id: 1, offset: hw }] }, 'a');
      expect(await c.call({ action: 'unsubscribe', watches: [{ topic_name: 'quiet', partition_id: 1 }] }, 'u')).toMatchObject({ type: 'unsubscribed', watches: 1 });
      await produce('quiet', 1);
      await strand.notices.stream.drained();
      expect(c.received.some(moved('quiet', 1))).toBe(false);
    } finally {
      c.close();
    }
  });

  test('deleting a watched topic sends a deleted notice', async () => {
    expect((await strand.http.request('POST', '/v3/clusters/local/topics', { json: { topic_name: 'doomed', partitions_count: 1 } })).status).toBe(201);
    const c = await SocketClient.open(url);
    try {
      await c.call({ action: 'subscribe', watches: [{ topic_name: 'doomed', partition_id: 0, offset: 0 }] }, 'd');
      expect((await strand.http.request('DELETE', '/v3/clusters/local/topics/doomed')).status).toBe(204);
      expect(await c.next(moved('doomed', 0))).toMatchObject({ deleted: true });
    } finally {
      c.close();
    }
  });

  describe('bad messages get an error reply with the HTTP API\'s codes and arm nothing', () => {
    let c: SocketClient;
    beforeAll(async () => (c = await SocketClient.open(url)));
    afterAll(() => c.close());

    test.each([
      ['an unknown action', { action: 'listen' }, 40001],
      ['no watches', { action: 'subscribe', watches: [] }, 40001],
      ['a negative offset', { action: 'subscribe', watches: [{ topic_name: 'watched', partition_id: 0, offset: -1 }] }, 40001],
      ['an unknown topic', { action: 'subscribe', watches: [{ topic_name: 'nope', partition_id: 0, offset: 0 }] }, 40403],
      ['a partition out of range', { action: 'subscribe', watches: [{ topic_name: 'watched', partition_id: 2, offset: 0 }] }, 40402],
      ['101 watches in one message', { action: 'subscribe', watches: Array.from({ length: 101 }, () => ({ topic_name: 'watched', partition_id: 0, offset: 0 })) }, 40001],
    ])('%s', async (_name, message, code) => {
      const reply = await c.call(message, `bad-${code}-${Math.random()}`);
      expect(reply).toMatchObject({ type: 'error', error_code: code });
    });

    test('not JSON', async () => {
      c.send('hello');
      expect(await c.next((m) => m.type === 'error')).toMatchObject({ error_code: 40001 });
    });
  });

  test('ping answers pong, with the connection id a group member names in its heartbeats', async () => {
    const c = await SocketClient.open(url);
    try {
      expect(await c.call({ action: 'ping' }, 'p')).toEqual({ type: 'pong', request_id: 'p', connection_id: expect.stringMatching(/^[A-Za-z0-9+/]{14}==$/) });
    } finally {
      c.close();
    }
  });

  describe('API Gateway\'s limits', () => {
    test('a message over 128 KB closes the connection with 1009', async () => {
      const c = await SocketClient.open(url);
      c.send(JSON.stringify({ action: 'ping', pad: 'x'.repeat(128 * 1024) }));
      await c.next(() => false, 3_000).catch(() => {});
      expect(c.closed?.code).toBe(1009);
    });

    test('a connection idle past the idle timeout is closed (1001), and its watches go with it', async () => {
      const c = await SocketClient.open(url);
      await c.call({ action: 'subscribe', watches: [{ topic_name: 'watched', partition_id: 0, offset: 1_000_000 }] }, 'idle');
      const started = Date.now();
      await c.next(() => false, 5_000).catch(() => {});
      expect(c.closed?.code).toBe(1001);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      const headKey = partitionKey(await strand.runtime.engine.topics.get('watched'), 0);
      const store = subscriptionStore(strand.runtime);
      for (let i = 0; i < 50 && (await store.watchersOf(headKey)).some((w) => w.offset === 1_000_000); i++) await new Promise((r) => setTimeout(r, 20));
      expect((await store.watchersOf(headKey)).filter((w) => w.offset === 1_000_000)).toEqual([]);
    });

    test('a path other than /v3/notifications is not upgraded', async () => {
      await expect(SocketClient.open(url.replace('/v3/notifications', '/v3/other'))).rejects.toMatchObject({ status: 404 });
    });
  });
});

describe('the notice socket with API keys on', () => {
  let strand: TestStrand;
  let url: string;
  const admin = 'bootstrap-admin-key-for-tests-0123456789';
  let reader: string;
  let revoked: { id: string; key: string };
  beforeAll(async () => {
    strand = await startTestStrand({ auth: 'keys', bootstrapAdminKey: admin });
    const auth = { authorization: `Bearer ${admin}` };
    url = (await strand.http.request('GET', '/v3/clusters/local/notifications', { headers: auth })).json.url;
    await strand.http.request('POST', '/v3/clusters/local/topics', { json: { topic_name: 'mine', partitions_count: 1 }, headers: auth });
    await strand.http.request('POST', '/v3/clusters/local/topics', { json: { topic_name: 'theirs', partitions_count: 1 }, headers: auth });
    const mk = async (name: string) => {
      const res = await strand.http.request('POST', '/v3/clusters/local/api-keys', { json: { name, permissions: ['consume:mine'] }, headers: auth });
      expect(res.status).toBe(201);
      return { id: res.json.key_id as string, key: res.json.api_key as string };
    };
    reader = (await mk('reader')).key;
    revoked = await mk('soon-revoked');
  });
  afterAll(() => strand.dispose());

  test('a connection without a valid key is refused with 401', async () => {
    await expect(SocketClient.open(url)).rejects.toMatchObject({ status: 401 });
    await expect(SocketClient.open(url, { authorization: 'Bearer strand_nope_nope' })).rejects.toMatchObject({ status: 401 });
  });

  test('a key may watch only topics it may consume', async () => {
    const c = await SocketClient.open(url, { authorization: `Bearer ${reader}` });
    try {
      expect(await c.call({ action: 'subscribe', watches: [{ topic_name: 'mine', partition_id: 0, offset: 0 }] }, 'ok')).toMatchObject({ type: 'subscribed' });
      expect(await c.call({ action: 'subscribe', watches: [{ topic_name: 'theirs', partition_id: 0, offset: 0 }] }, 'no')).toMatchObject({ type: 'error', error_code: 40301 });
    } finally {
      c.close();
    }
  });

  test('a key revoked after connecting can no longer subscribe', async () => {
    const c = await SocketClient.open(url, { 'x-api-key': revoked.key });
    try {
      expect(await c.call({ action: 'subscribe', watches: [{ topic_name: 'mine', partition_id: 0, offset: 0 }] }, 'before')).toMatchObject({ type: 'subscribed' });
      expect((await strand.http.request('DELETE', `/v3/clusters/local/api-keys/${revoked.id}`, { headers: { authorization: `Bearer ${admin}` } })).status).toBeLessThan(300);
      expect(await c.call({ action: 'subscribe', watches: [{ topic_name: 'mine', partition_id: 0, offset: 0 }] }, 'after')).toMatchObject({ type: 'error', error_code: 40101 });
    } finally {
      c.close();
    }
  });
});
