/**
 * SDK Producer against a real local Strand. How: records go through a proxy that
 * counts and decodes the binary batches on their way, then are read back with a
 * consumer or the JSON fetch endpoint, so batching, partitioning, compression,
 * idempotence fields and retries are all checked on the wire.
 */
import { readBatchHeader } from '../../src/codec/recordBatch';
import { partitionForKey } from '../../src/partitioner/murmur2';
import { createTopic, fetchJson, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { StrandClient, StrandUsageError, UnknownPartitionError, UnknownTopicError, type KafkaMessage } from '../../client';
import { startProxy, type TestProxy } from './proxy';

let strand: TestStrand;
let proxy: TestProxy;
let client: StrandClient;
const warnings: string[] = [];
beforeAll(async () => {
  strand = await startTestStrand();
  proxy = await startProxy(strand.url);
  client = new StrandClient({ url: proxy.url, retry: { initialRetryTime: 5 }, logger: { warn: (m) => warnings.push(m) } });
});
afterAll(async () => {
  await proxy.close();
  await strand.dispose();
});
beforeEach(() => {
  proxy.seen.length = 0;
  proxy.intercept = undefined;
  proxy.afterForward = undefined;
});

const batchRequests = () => proxy.seen.filter((r) => r.method === 'POST' && r.path.endsWith('/batches'));

async function readAll(topic: string, partitions: number, expected: number): Promise<(KafkaMessage & { partition: number })[]> {
  const consumer = new StrandClient({ url: strand.url }).consumer({ maxWaitTimeInMs: 100 });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })), { fromBeginning: true });
  const out: (KafkaMessage & { partition: number })[] = [];
  await new Promise<void>((resolve, reject) => {
    consumer.on('crash', reject);
    void consumer.run({
      partitionsConsumedConcurrently: partitions,
      eachMessage: async ({ partition, message }) => {
        out.push({ ...message, partition });
        if (out.length === expected) resolve();
      },
    });
  });
  await consumer.close();
  return out;
}

describe('Producer: batching', () => {
  test('10,000 keyed records go in a few batches per partition and each lands once, at dense offsets', async () => {
    await createTopic(strand.http, 'p-bulk', 4);
    const producer = client.producer({ batchSize: 64 * 1024, lingerMs: 10 });
    const messages = Array.from({ length: 10_000 }, (_, i) => ({ key: `user-${i % 97}`, value: `record-${i}` }));
    const results = await producer.send({ topic: 'p-bulk', messages });
    await producer.close();

    expect(results).toHaveLength(10_000);
    expect(batchRequests().length).toBeLessThan(100);
    results.forEach((r, i) => expect(r.partition).toBe(partitionForKey(Buffer.from(messages[i]!.key), 4)));
    for (let p = 0; p < 4; p++) {
      const offsets = results.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i)); // dense, in send order
    }
    const read = await readAll('p-bulk', 4, 10_000);
    expect(new Set(read.map((m) => m.value!.toString())).size).toBe(10_000);
    for (const m of read) {
      const i = Number(m.value!.toString().slice('record-'.length));
      expect(results[i]).toMatchObject({ partition: m.partition, offset: m.offset });
    }
  });

  test('records sent within lingerMs share one batch; a full batch does not wait for linger', async () => {
    await createTopic(strand.http, 'p-linger', 1);
    const producer = client.producer({ lingerMs: 200, batchSize: 1_000_000 });
    const a = producer.send({ topic: 'p-linger', messages: [{ value: 'a' }] });
    const b = producer.send({ topic: 'p-linger', messages: [{ value: 'b' }] });
    const [[ra], [rb]] = await Promise.all([a, b]);
    expect([ra!.offset, rb!.offset]).toEqual([0, 1]);
    expect(batchRequests()).toHaveLength(1);

    const eager = client.producer({ lingerMs: 60_000, batchSize: 100 });
    const started = Date.now();
    await eager.send({ topic: 'p-linger', messages: [{ value: 'x'.repeat(200) }] });
    expect(Date.now() - started).toBeLessThan(10_000);
    await Promise.all([producer.close(), eager.close()]);
  });

  test('flush sends what is queued without waiting for lingerMs', async () => {
    await createTopic(strand.http, 'p-flush', 1);
    const producer = client.producer({ lingerMs: 60_000 });
    const pending = producer.send({ topic: 'p-flush', messages: [{ value: 'v' }] });
    await producer.flush();
    expect((await pending)[0]!.offset).toBe(0);
    await producer.close();
    await expect(producer.send({ topic: 'p-flush', messages: [{ value: 'late' }] })).rejects.toBeInstanceOf(StrandUsageError);
  });
});

describe('Producer: partitioning and records', () => {
  test("a keyed record lands where the server's partitioner puts the same key", async () => {
    await createTopic(strand.http, 'p-keys', 7);
    const producer = client.producer();
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}-${'é'.repeat(i % 3)}`);
    const sdk = await producer.send({ topic: 'p-keys', messages: keys.map((key) => ({ key, value: 'sdk' })) });
    await producer.close();
    for (const [i, key] of keys.entries()) {
      const res = await strand.http.post(`${topicPath('p-keys')}/records`, { key: { type: 'STRING', data: key }, value: { type: 'STRING', data: 'rest' } });
      expect(res.json.partition_id).toBe(sdk[i]!.partition);
    }
  });

  test('unkeyed records stick to one partition per batch; an explicit partition wins', async () => {
    await createTopic(strand.http, 'p-sticky', 5);
    const producer = client.producer({ lingerMs: 50 });
    const res = await producer.send({ topic: 'p-sticky', messages: [{ value: '1' }, { value: '2' }, { value: '3' }, { key: 'k', value: '4', partition: 4 }] });
    await producer.close();
    expect(new Set(res.slice(0, 3).map((r) => r.partition)).size).toBe(1);
    expect(res[3]!.partition).toBe(4);
  });

  test('keys, values, headers and timestamps round trip', async () => {
    await createTopic(strand.http, 'p-fields', 1);
    const producer = client.producer();
    const [meta] = await producer.send({
      topic: 'p-fields',
      messages: [{ key: Buffer.from([0, 1, 2]), value: null, headers: { trace: 'abc', multi: ['x', Buffer.from('y')], empty: null }, timestamp: 1_700_000_000_000 }],
    });
    await producer.close();
    expect(meta!.timestamp).toBe(1_700_000_000_000);
    const [m] = await readAll('p-fields', 1, 1);
    expect(m!.key).toEqual(Buffer.from([0, 1, 2]));
    expect(m!.value).toBeNull();
    expect(m!.timestamp).toBe(1_700_000_000_000);
    expect(m!.headers).toEqual({ trace: Buffer.from('abc'), multi: [Buffer.from('x'), Buffer.from('y')], empty: null });
  });

  test('gzip batches are marked gzip on the wire and read back', async () => {
    await createTopic(strand.http, 'p-gzip', 1);
    const producer = client.producer({ compression: 'gzip' });
    await producer.send({ topic: 'p-gzip', messages: Array.from({ length: 100 }, (_, i) => ({ value: `compressible ${i} `.repeat(20) })) });
    await producer.close();
    const [req] = batchRequests();
    expect(readBatchHeader(req!.body).compression).toBe('gzip');
    const res = await fetchJson(strand.http, 'p-gzip', 0, 0);
    expect(res.json.records).toHaveLength(100);
  });

  test('snappy batches (Kafka\'s xerial framing) are marked snappy on the wire and read back', async () => {
    await createTopic(strand.http, 'p-snappy', 1);
    const producer = client.producer({ compression: 'snappy' });
    await producer.send({ topic: 'p-snappy', messages: Array.from({ length: 100 }, (_, i) => ({ value: `compressible ${i} `.repeat(20) })) });
    await producer.close();
    const req = batchRequests().find((r) => r.path.includes('/p-snappy/'));
    expect(readBatchHeader(req!.body).compression).toBe('snappy');
    const res = await fetchJson(strand.http, 'p-snappy', 0, 0);
    expect(res.json.records).toHaveLength(100);
    expect(res.json.records[99].value.data).toBe('compressible 99 '.repeat(20));
  });

  test.each(['lz4', 'zstd'] as const)('%s batches are marked %s on the wire and read back', async (codec) => {
    const topic = `p-${codec}`;
    await createTopic(strand.http, topic, 1);
    const producer = client.producer({ compression: codec });
    await producer.send({ topic, messages: Array.from({ length: 100 }, (_, i) => ({ value: `compressible ${i} `.repeat(20) })) });
    await producer.close();
    const req = batchRequests().find((r) => r.path.includes(`/${topic}/`));
    expect(readBatchHeader(req!.body).compression).toBe(codec);
    const res = await fetchJson(strand.http, topic, 0, 0);
    expect(res.json.records).toHaveLength(100);
    expect(res.json.records[99].value.data).toBe('compressible 99 '.repeat(20));
  });

  test('an unknown codec is refused up front', () => {
    expect(() => client.producer({ compression: 'lz5' as never })).toThrow(/unknown compression codec 'lz5'/);
  });

  test('a send spanning partitions resolves with each message where it landed, in message order', async () => {
    await createTopic(strand.http, 'p-order', 3);
    const producer = client.producer({ lingerMs: 0 });
    const partitions = [2, 0, 2, 1, 0, 2];
    const res = await producer.send({ topic: 'p-order', messages: partitions.map((partition, i) => ({ value: `m${i}`, partition })) });
    expect(res.map((r) => [r.partition, r.offset])).toEqual([[2, 0], [0, 0], [2, 1], [1, 0], [0, 1], [2, 2]]);
    await producer.close();
  });

  test("a send with one failing partition rejects with that partition's error; the other partitions' messages land and flush() returns", async () => {
    await createTopic(strand.http, 'p-partial', 2);
    const producer = client.producer({ lingerMs: 0 });
    const send = producer.send({ topic: 'p-partial', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 7 }, { value: 'c', partition: 1 }] });
    await expect(send).rejects.toBeInstanceOf(UnknownPartitionError);
    await producer.flush();
    expect((await readAll('p-partial', 2, 2)).map((m) => m.value!.toString()).sort()).toEqual(['a', 'c']);
    await producer.close();
  });

  test('a message with an invalid partition stops the send: messages queued before it are still sent, and flush() returns', async () => {
    await createTopic(strand.http, 'p-stopped', 1);
    const producer = client.producer({ lingerMs: 0 });
    await expect(producer.send({ topic: 'p-stopped', messages: [{ value: 'kept', partition: 0 }, { value: 'bad', partition: -1 }, { value: 'never', partition: 0 }] })).rejects.toBeInstanceOf(StrandUsageError);
    await producer.flush();
    expect((await readAll('p-stopped', 1, 1)).map((m) => m.value!.toString())).toEqual(['kept']);
    await producer.close();
  });

  test('sending to an unknown topic rejects with UnknownTopicError', async () => {
    const producer = client.producer();
    await expect(producer.send({ topic: 'p-missing', messages: [{ key: 'k', value: 'v' }] })).rejects.toBeInstanceOf(UnknownTopicError);
    await expect(producer.send({ topic: 'p-missing', messages: [{ value: 'v', partition: 0 }] })).rejects.toBeInstanceOf(UnknownTopicError);
  });
});

describe('Producer: retries and idempotence', () => {
  test('a batch answered 503 is sent again, byte for byte, and acknowledged once', async () => {
    await createTopic(strand.http, 'p-retry', 1);
    let refusals = 2;
    proxy.intercept = (req) => (req.path.endsWith('/batches') && refusals-- > 0 ? { status: 503, json: { error_code: 50301, message: 'busy' } } : undefined);
    const producer = client.producer({ idempotent: false });
    const res = await producer.send({ topic: 'p-retry', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.close();
    expect(res.map((r) => r.offset)).toEqual([0, 1]);
    const sent = batchRequests();
    expect(sent).toHaveLength(3);
    expect(sent[1]!.body.equals(sent[0]!.body) && sent[2]!.body.equals(sent[0]!.body)).toBe(true);
    expect((await fetchJson(strand.http, 'p-retry', 0, 0)).json.high_watermark).toBe(2);
  });

  test('without a producers endpoint the producer warns once and sends plain batches', async () => {
    await createTopic(strand.http, 'p-plain', 1);
    warnings.length = 0;
    // Answered by the proxy as a server without the route would (the gateway's 404), whatever this server has.
    proxy.intercept = (req) => (req.path.endsWith('/producers') ? { status: 404, json: { error_code: 404, message: 'No route.' } } : undefined);
    const producer = client.producer();
    await producer.send({ topic: 'p-plain', messages: [{ value: 'a' }] });
    await producer.send({ topic: 'p-plain', messages: [{ value: 'b' }] });
    await producer.close();
    expect(await producer.isIdempotent()).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no idempotent producer endpoint/);
    for (const r of batchRequests()) expect(readBatchHeader(r.body)).toMatchObject({ producerId: -1, baseSequence: -1 });
  });

  test('with a producers endpoint each batch carries the producer id, epoch and per-partition sequences', async () => {
    await createTopic(strand.http, 'p-idem', 2);
    // The endpoint is answered by the proxy here, so the test does not depend on the server having it yet.
    proxy.intercept = (req) => (req.method === 'POST' && req.path.endsWith('/producers') ? { status: 201, json: { producer_id: 4242, producer_epoch: 3 } } : undefined);
    const producer = client.producer({ lingerMs: 0 });
    await producer.send({ topic: 'p-idem', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }] });
    await producer.send({ topic: 'p-idem', messages: [{ value: 'd', partition: 0 }] });
    await producer.close();
    expect(await producer.isIdempotent()).toBe(true);
    const headers = batchRequests().map((r) => ({ p: Number(/partitions\/(\d+)/.exec(r.path)![1]), h: readBatchHeader(r.body) }));
    for (const { h } of headers) expect([h.producerId, h.producerEpoch]).toEqual([4242, 3]);
    expect(headers.filter((x) => x.p === 0).map((x) => [x.h.baseSequence, x.h.recordCount])).toEqual([[0, 2], [2, 1]]);
    expect(headers.filter((x) => x.p === 1).map((x) => x.h.baseSequence)).toEqual([0]);
  });

  test('against the real producers endpoint, a batch whose response was lost is appended once', async () => {
    await createTopic(strand.http, 'p-lost', 1);
    let lost = 1;
    proxy.afterForward = (req) => (req.path.endsWith('/batches') && lost-- > 0 ? { status: 503, json: { error_code: 50301, message: 'lost' } } : undefined);
    const producer = client.producer();
    const res = await producer.send({ topic: 'p-lost', messages: [{ value: 'a' }, { value: 'b' }] });
    const next = await producer.send({ topic: 'p-lost', messages: [{ value: 'c' }] });
    await producer.close();
    expect(await producer.isIdempotent()).toBe(true);
    expect(batchRequests()).toHaveLength(3); // the first batch twice
    expect(res.map((r) => [r.offset, r.duplicate])).toEqual([[0, true], [1, true]]);
    expect(next[0]!.offset).toBe(2);
    const read = await fetchJson(strand.http, 'p-lost', 0, 0);
    expect(read.json.records.map((r: { value: { data: string } }) => r.value.data)).toEqual(['a', 'b', 'c']);
  });
});
