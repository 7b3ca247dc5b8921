/**
 * Generated logs of oversized entries (large batches, multi-batch uploads past
 * any response, compression bombs) read end to end through every fetch form:
 * never a 5xx, every answer within Lambda's limit, and every form reaches the
 * high watermark.
 */
import { createHash, randomBytes } from 'node:crypto';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { recordBatchMediaType } from '../../src/api/produce';
import { batchUrlsMediaType } from '../../src/api/fetch';
import { lambdaResponseBytesMax, lambdaResultBytes } from '../../src/api/responseBudget';
import { createTopic, partitionPath, startTestStrand, type HttpResult, type TestStrand } from '../support/localStrand';

const MiB = 1024 * 1024;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const batchOf = (values: Buffer[], compression: 'none' | 'gzip') =>
  encodeRecordBatch(values.map((value, i) => ({ key: null, value, headers: [], timestamp: 1_700_000_000_000 + i })), { compression });

function lambdaBytes(res: HttpResult): number {
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name === 'content-type' || name.startsWith('kafka-')) headers[name] = value;
  });
  const binary = !(res.headers.get('content-type') ?? '').includes('json');
  return lambdaResultBytes({ statusCode: res.status, headers, body: binary ? res.body.toString('base64') : res.body.toString('utf8'), isBase64Encoded: binary });
}

/** One generated entry: how it is stored. */
type Entry = { via: 'batches' | 'upload'; body: Buffer };

function generate(random: () => number): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i < 6; i++) {
    const kind = Math.floor(random() * 5);
    if (kind === 0) entries.push({ via: 'batches', body: batchOf([randomBytes(100 + Math.floor(random() * 1000))], 'none') });
    else if (kind === 1) entries.push({ via: 'batches', body: batchOf([randomBytes(Math.floor((1 + random() * 2.5) * MiB))], 'none') });
    else if (kind === 2) entries.push({ via: 'batches', body: batchOf([Buffer.alloc(Math.floor((8 + random() * 50) * MiB))], 'gzip') });
    else if (kind === 3) entries.push({ via: 'upload', body: batchOf([randomBytes(Math.floor((4.5 + random() * 3) * MiB))], 'none') });
    // A multi-batch upload past any response: whole batches of 0.5 to 3 MiB.
    else entries.push({ via: 'upload', body: Buffer.concat(Array.from({ length: 3 }, () => batchOf([randomBytes(Math.floor((0.5 + random() * 2.5) * MiB))], 'none'))) });
  }
  return entries;
}

describe('generated oversized entries through every fetch form', () => {
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand();
  });
  afterAll(() => strand.dispose());

  async function store(topic: string, e: Entry) {
    if (e.via === 'batches') {
      const res = await strand.http.request('POST', `${partitionPath(topic, 0)}/batches`, { body: e.body, headers: { 'content-type': recordBatchMediaType } });
      if (res.status === 200) return;
      expect(res.status).toBeLessThan(500);
      // Refused by the produce path's decompression bound: stored as the engine would.
      const t = await strand.runtime.engine.topics.get(topic);
      const [r] = await strand.runtime.engine.append(t, [{ partition: 0, batches: [e.body] }]);
      expect(r!.ok).toBe(true);
      return;
    }
    const sha256 = createHash('sha256').update(e.body).digest('base64');
    const res = await strand.http.post(`${partitionPath(topic, 0)}/uploads`, { size: e.body.length, sha256 });
    expect(res.status).toBe(201);
    expect((await fetch(res.json.url, { method: 'PUT', headers: res.json.headers, body: e.body })).status).toBe(200);
    expect((await strand.http.post(`${partitionPath(topic, 0)}/uploads/${res.json.upload_id}/commit`)).status).toBe(200);
  }

  /** Reads from 0 to the high watermark with one fetch form; returns the offsets it stepped through. */
  async function walk(topic: string, hw: number, form: string): Promise<number> {
    let offset = 0;
    for (let calls = 0; offset < hw; calls++) {
      expect(calls).toBeLessThan(60);
      const accept = form === 'binary' ? recordBatchMediaType : form === 'binary+urls' ? `${recordBatchMediaType}, ${batchUrlsMediaType}` : form === 'urls' ? batchUrlsMediaType : 'application/json';
      const format = form.startsWith('json-') ? `&embedded_format=${form.slice(5)}` : '';
      const res = await strand.http.get(`${partitionPath(topic, 0)}/records?offset=${offset}&max_bytes=${4 * MiB}${format}`, { accept });
      expect(res.status).toBeLessThan(500);
      expect(lambdaBytes(res)).toBeLessThan(lambdaResponseBytesMax);
      let next: number;
      if (res.status === 413) {
        expect(form).toBe('binary');
        expect(res.json.error_code).toBe(41302);
        next = res.json.last_offset + 1; // a binary-only client steps past, or switches to URLs
      } else if ((res.headers.get('content-type') ?? '').includes(batchUrlsMediaType) || !(res.headers.get('content-type') ?? '').includes('json')) {
        expect(res.status).toBe(200);
        next = res.json?.next_offset ?? Number(res.headers.get('kafka-next-offset'));
      } else {
        expect(res.status).toBe(200);
        next = res.json.next_offset;
      }
      expect(next).toBeGreaterThan(offset);
      offset = next;
    }
    return offset;
  }

  test.each([1, 2, 3])('seed %i: 0 × 5xx, every answer within the limit, every form reaches the end', async (seed) => {
    const random = rng(seed);
    const topic = `rl-fuzz-${seed}`;
    await createTopic(strand.http, topic, 1, { 'max.message.bytes': String(64 * MiB) });
    for (const e of generate(random)) await store(topic, e);
    const hw = (await strand.http.get(partitionPath(topic, 0))).json.high_watermark as number;
    const forms = ['binary', 'binary+urls', 'urls', 'json-binary', 'json-string', 'json-json'];
    for (const form of forms) expect(await walk(topic, hw, form)).toBe(hw);
  });
});
