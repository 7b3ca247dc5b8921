/**
 * Issue 14: every fetch response fits Lambda (6,291,456 bytes of JSON, after
 * base64 and the result envelope), whatever the stored entries hold, and no
 * stored record leaves a consumer stuck at its offset.
 */
import { createHash, randomBytes } from 'node:crypto';
import { StrandClient } from '../../client';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { recordBatchMediaType } from '../../src/api/produce';
import { batchUrlsMediaType } from '../../src/api/fetch';
import { binaryResponseBytesMax, jsonResponseBytesMax, lambdaResponseBytesMax, lambdaResultBytes } from '../../src/api/responseBudget';
import { createTopic, partitionPath, startTestStrand, type HttpResult, type TestStrand } from '../support/localStrand';

const MiB = 1024 * 1024;
const bigTopic = { 'max.message.bytes': String(64 * MiB) };
const batchOf = (values: Buffer[], compression: 'none' | 'gzip' = 'none') =>
  encodeRecordBatch(values.map((value, i) => ({ key: null, value, headers: [], timestamp: 1_700_000_000_000 + i })), { compression });

/** What Lambda would measure for this answer: the result object as serialized, the body base64-encoded when binary. */
function lambdaBytes(res: HttpResult): number {
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name === 'content-type' || name.startsWith('kafka-')) headers[name] = value;
  });
  const binary = !(res.headers.get('content-type') ?? '').includes('json');
  return lambdaResultBytes({ statusCode: res.status, headers, body: binary ? res.body.toString('base64') : res.body.toString('utf8'), isBase64Encoded: binary });
}

describe('fetch responses within Lambda’s limit', () => {
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand();
  });
  afterAll(() => strand.dispose());

  const produceBatch = async (topic: string, batch: Buffer) => {
    const res = await strand.http.request('POST', `${partitionPath(topic, 0)}/batches`, { body: batch, headers: { 'content-type': recordBatchMediaType } });
    return res;
  };
  const fetchBinary = (topic: string, offset: number, accept = recordBatchMediaType, maxBytes = 4 * MiB) =>
    strand.http.get(`${partitionPath(topic, 0)}/records?offset=${offset}&max_bytes=${maxBytes}`, { accept });
  const fetchJson = (topic: string, offset: number, format = 'binary') =>
    strand.http.get(`${partitionPath(topic, 0)}/records?offset=${offset}&embedded_format=${format}&max_bytes=${4 * MiB}`);

  async function upload(topic: string, body: Buffer) {
    const sha256 = createHash('sha256').update(body).digest('base64');
    const res = await strand.http.post(`${partitionPath(topic, 0)}/uploads`, { size: body.length, sha256 });
    expect(res.status).toBe(201);
    expect((await fetch(res.json.url, { method: 'PUT', headers: res.json.headers, body })).status).toBe(200);
    const commit = await strand.http.post(`${partitionPath(topic, 0)}/uploads/${res.json.upload_id}/commit`);
    expect(commit.status).toBe(200);
    return commit.json as { base_offset: number; last_offset: number };
  }

  /** The records of a batch-URL answer, read from S3 as a client would. */
  async function readUrls(json: { ranges: { url: string; range: string; size: number }[] }): Promise<Buffer[]> {
    return Promise.all(
      json.ranges.map(async (r) => {
        const res = await fetch(r.url, { headers: { range: r.range } });
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(bytes.length).toBe(r.size);
        return bytes;
      }),
    );
  }

  describe('binary fetch of entries of 0.9 + 2.9 + 2.9 MiB', () => {
    test('every response is under the bound, and every record is reached', async () => {
      await createTopic(strand.http, 'rl-entries', 1, bigTopic);
      const values = [0.9, 2.9, 2.9].map((m) => randomBytes(Math.round(m * MiB)));
      for (const v of values) expect((await produceBatch('rl-entries', batchOf([v]))).status).toBe(200);
      const seen: number[] = [];
      let offset = 0;
      for (let calls = 0; offset < 3; calls++) {
        expect(calls).toBeLessThan(6);
        const res = await fetchBinary('rl-entries', offset);
        expect(res.status).toBe(200);
        expect(res.body.length).toBeLessThanOrEqual(binaryResponseBytesMax);
        expect(lambdaBytes(res)).toBeLessThan(lambdaResponseBytesMax);
        const next = Number(res.headers.get('kafka-next-offset'));
        expect(next).toBeGreaterThan(offset);
        for (let o = offset; o < next; o++) seen.push(o);
        offset = next;
      }
      expect(seen).toEqual([0, 1, 2]);
    });
  });

  describe('an entry larger than any response (a 10 MiB upload)', () => {
    let base = 0;
    const value = randomBytes(10 * MiB);
    beforeAll(async () => {
      await createTopic(strand.http, 'rl-upload', 1, bigTopic);
      expect((await produceBatch('rl-upload', batchOf([Buffer.from('before')]))).status).toBe(200);
      base = (await upload('rl-upload', batchOf([value]))).base_offset;
      expect((await produceBatch('rl-upload', batchOf([Buffer.from('after')]))).status).toBe(200);
    });

    test('a binary fetch stops before it; at it, a client taking batch URLs gets one for it', async () => {
      const before = await fetchBinary('rl-upload', 0);
      expect(Number(before.headers.get('kafka-next-offset'))).toBe(base);
      const res = await fetchBinary('rl-upload', base, `${recordBatchMediaType}, ${batchUrlsMediaType}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(batchUrlsMediaType);
      expect(lambdaBytes(res)).toBeLessThan(lambdaResponseBytesMax);
      expect(res.json.next_offset).toBe(base + 1);
      const [bytes] = await readUrls(res.json);
      expect(bytes!.length).toBeGreaterThan(10 * MiB);
    });

    test('a binary-only client is told, with 41302, which offsets and how to read them (never a 5xx)', async () => {
      const res = await fetchBinary('rl-upload', base);
      expect(res.status).toBe(413);
      expect(res.json).toMatchObject({ error_code: 41302, base_offset: base, last_offset: base });
      expect(res.json.message).toContain(batchUrlsMediaType);
    });

    test('the SDK consumer reads through it', async () => {
      const consumer = new StrandClient({ url: strand.url }).consumer({ maxWaitTimeInMs: 100 });
      consumer.assign([{ topic: 'rl-upload', partition: 0 }], { fromBeginning: true });
      const got: { offset: number; size: number }[] = [];
      await new Promise<void>((done, fail) => {
        consumer.on('crash', fail);
        void consumer.run({
          eachMessage: async ({ message }) => {
            got.push({ offset: message.offset, size: message.value!.length });
            if (got.length === 3) done();
          },
        });
      });
      await consumer.close();
      expect(got).toEqual([{ offset: 0, size: 6 }, { offset: base, size: value.length }, { offset: base + 1, size: 5 }]);
    });

    test('a JSON fetch skips it, names it, and goes on past it', async () => {
      const res = await fetchJson('rl-upload', base);
      expect(res.status).toBe(200);
      expect(lambdaBytes(res)).toBeLessThan(lambdaResponseBytesMax);
      expect(res.json.skipped).toEqual([{ offset: base, json_bytes: expect.any(Number) }]);
      expect(res.json.skipped[0].json_bytes).toBeGreaterThan(jsonResponseBytesMax);
      expect(res.json.next_offset).toBe(base + 1);
      const after = await fetchJson('rl-upload', res.json.next_offset, 'string');
      expect(after.json.records.map((r: { offset: number; value: { data: string } }) => [r.offset, r.value.data])).toEqual([[base + 1, 'after']]);
    });
  });

  describe('a compression bomb (65 KB of gzip, a 60 MiB value)', () => {
    let bomb = 0;
    beforeAll(async () => {
      await createTopic(strand.http, 'rl-bomb', 1, bigTopic);
      expect((await produceBatch('rl-bomb', batchOf([Buffer.from('first')]))).status).toBe(200);
      const batch = batchOf([Buffer.alloc(60 * MiB)], 'gzip');
      const res = await produceBatch('rl-bomb', batch);
      if (res.status === 200) bomb = res.json.base_offset ?? 1;
      else {
        // The produce path may refuse it (a per-request decompression bound): store it as the engine would.
        const topic = await strand.runtime.engine.topics.get('rl-bomb');
        const [appended] = await strand.runtime.engine.append(topic, [{ partition: 0, batches: [batch] }]);
        if (!appended!.ok) throw new Error('append failed');
        bomb = appended!.baseOffset;
      }
      expect(bomb).toBe(1);
      expect((await produceBatch('rl-bomb', batchOf([Buffer.from('next')]))).status).toBe(200);
    });

    test.each(['binary', 'string', 'json', 'avro'])('a JSON fetch (%s) answers at once, with a way past it', async (format) => {
      const started = Date.now();
      const res = await fetchJson('rl-bomb', 0, format);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(res.status).toBe(200);
      expect(lambdaBytes(res)).toBeLessThan(lambdaResponseBytesMax);
      expect(res.json.records.map((r: { offset: number }) => r.offset)).toEqual([0]);
      expect(res.json.next_offset).toBe(1);
      const at = await fetchJson('rl-bomb', 1, format);
      expect(at.status).toBe(200);
      expect(at.json.skipped).toEqual([{ offset: 1, json_bytes: expect.any(Number) }]);
      expect(at.json.records.map((r: { offset: number }) => r.offset)).toEqual([2]);
      expect(at.json.next_offset).toBe(3);
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    test('a REST Proxy v2 consumer gets the records before it, then 41302 naming where to seek, then the rest', async () => {
      const v2 = new V2(strand, 'rl-bomb-group');
      await v2.create();
      await v2.assign('rl-bomb');
      const first = await v2.records();
      expect(first.status).toBe(200);
      expect(first.json.map((r: { offset: number }) => r.offset)).toEqual([0]);
      const stuck = await v2.records();
      expect(stuck.status).toBe(413);
      expect(stuck.json).toMatchObject({ error_code: 41302, offset: 1, next_offset: 2 });
      expect((await v2.call('POST', '/positions', { offsets: [{ topic: 'rl-bomb', partition: 0, offset: stuck.json.next_offset }] })).status).toBe(204);
      const rest = await v2.records();
      expect(rest.json.map((r: { offset: number }) => r.offset)).toEqual([2]);
    });
  });

  describe('REST Proxy v2 records never commit what they did not send', () => {
    test('max_bytes counts the JSON sent, and the commit stops at the last record sent', async () => {
      await createTopic(strand.http, 'rl-v2', 1, bigTopic);
      // 400 records of 20 KB of one letter: about 100 KB of gzip, 10.7 MB of base64 JSON.
      const values = Array.from({ length: 400 }, (_, i) => Buffer.alloc(20_000, 97 + (i % 26)));
      expect((await produceBatch('rl-v2', batchOf(values, 'gzip'))).status).toBe(200);
      const v2 = new V2(strand, 'rl-v2-group', 'binary');
      await v2.create({ 'auto.commit.enable': 'false' });
      await v2.assign('rl-v2');
      const res = await v2.records(`?max_bytes=${MiB}`);
      expect(res.status).toBe(200);
      expect(lambdaBytes(res)).toBeLessThan(lambdaResponseBytesMax);
      expect(res.body.length).toBeLessThanOrEqual(MiB);
      const offsets = res.json.map((r: { offset: number }) => r.offset);
      expect(offsets.length).toBeGreaterThan(10);
      expect(offsets.length).toBeLessThan(400);
      expect((await v2.call('POST', '/offsets')).status).toBe(200); // commits every position reached
      const committed = await v2.call('GET', '/offsets');
      expect(committed.json.offsets).toEqual([{ topic: 'rl-v2', partition: 0, offset: offsets[offsets.length - 1] + 1, metadata: '' }]);
      const next = await v2.records(`?max_bytes=${4 * MiB}`);
      expect(next.json[0].offset).toBe(offsets[offsets.length - 1] + 1);
      expect(lambdaBytes(next)).toBeLessThan(lambdaResponseBytesMax);
    });
  });
});

const V2Type = 'application/vnd.kafka.v2+json';

/** A REST Proxy v2 consumer instance over HTTP. */
class V2 {
  base = '';
  constructor(
    private readonly strand: TestStrand,
    private readonly group: string,
    private readonly format: 'json' | 'binary' = 'binary',
  ) {}

  call(method: string, suffix: string, json?: unknown, accept = V2Type) {
    return this.strand.http.request(method, this.base + suffix, { headers: { 'content-type': V2Type, accept }, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
  }

  async create(config: Record<string, unknown> = {}) {
    const res = await this.strand.http.request('POST', `/consumers/${this.group}`, { headers: { 'content-type': V2Type }, body: JSON.stringify({ format: this.format, 'auto.offset.reset': 'earliest', ...config }) });
    expect(res.status).toBe(200);
    this.base = new URL(res.json.base_uri).pathname;
  }

  async assign(topic: string) {
    expect((await this.call('POST', '/assignments', { partitions: [{ topic, partition: 0 }] })).status).toBe(204);
  }

  records(query = '') {
    return this.call('GET', `/records${query}`, undefined, `application/vnd.kafka.${this.format}.v2+json`);
  }
}
