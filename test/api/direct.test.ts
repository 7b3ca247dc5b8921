/**
 * The direct-to-S3 data plane: producers PUT batches to S3 with a presigned URL
 * and commit them; fetch can answer with presigned ranged-GET URLs.
 */
import { createHash } from 'node:crypto';
import { ManualClock } from '../../src/clock';
import { batchFieldOffsets, decodeRecordBatch, encodeRecordBatch, patchBaseOffset, splitBatches } from '../../src/codec/recordBatch';
import { crc32c } from '../../src/codec/crc32c';
import { StrandClient } from '../../client';
import { topicPrefix } from '../../src/log/ObjectStore';
import { createTopic, fetchJson, partitionPath, startTestStrand, type TestStrand } from '../support/localStrand';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const batchOf = (values: string[], t = 1_700_000_000_000) =>
  encodeRecordBatch(values.map((v, i) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: t + i })));

/** Recomputes the CRC-32C of the batch at 0, so only an edited field is wrong. */
function resign(buf: Buffer): Buffer {
  const f = batchFieldOffsets;
  buf.writeUInt32BE(crc32c(buf, f.attributes, 12 + buf.readInt32BE(f.batchLength)), f.crc);
  return buf;
}

describe('direct-to-S3 data plane', () => {
  let strand: TestStrand;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    strand = await startTestStrand({ clock });
  });
  afterAll(() => strand.dispose());

  async function upload(topic: string, partition: number, body: Buffer) {
    const res = await strand.http.post(`${partitionPath(topic, partition)}/uploads`, { size: body.length, sha256: sha256(body) });
    expect(res.status).toBe(201);
    const put = await fetch(res.json.url, { method: 'PUT', headers: res.json.headers, body });
    expect(put.status).toBe(200);
    return res.json as { upload_id: string; url: string; headers: Record<string, string>; expires_at: string; commit_before: string };
  }
  const commit = (topic: string, partition: number, id: string) => strand.http.post(`${partitionPath(topic, partition)}/uploads/${id}/commit`);
  const highWatermark = async (topic: string, p: number) => (await strand.http.get(partitionPath(topic, p))).json.high_watermark as number;

  test('an uploaded batch is committed with offsets, as /batches would give, and reads back', async () => {
    await createTopic(strand.http, 'direct', 2);
    const first = await upload('direct', 1, batchOf(['a', 'b', 'c']));
    expect(first.headers['x-amz-checksum-sha256']).toBeDefined();
    const res = await commit('direct', 1, first.upload_id);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ partition_id: 1, base_offset: 0, last_offset: 2, upload_id: first.upload_id });
    const second = await upload('direct', 1, batchOf(['d']));
    expect((await commit('direct', 1, second.upload_id)).json).toMatchObject({ base_offset: 3, last_offset: 3 });
    const fetched = await fetchJson(strand.http, 'direct', 1, 0);
    expect(fetched.json.records.map((r: { offset: number; value: { data: string } }) => [r.offset, r.value.data])).toEqual([
      [0, 'a'], [1, 'b'], [2, 'c'], [3, 'd'],
    ]);
  });

  test('a commit of nothing uploaded, of a malformed id or of an expired upload is 40002 and appends nothing', async () => {
    await createTopic(strand.http, 'direct-bad', 1);
    const res = await strand.http.post(`${partitionPath('direct-bad', 0)}/uploads`, { size: 100, sha256: sha256(Buffer.alloc(100)) });
    expect((await commit('direct-bad', 0, res.json.upload_id)).json.error_code).toBe(40002);
    expect((await commit('direct-bad', 0, 'not-an-id')).json.error_code).toBe(40002);
    const late = await upload('direct-bad', 0, batchOf(['late']));
    clock.advance(9 * 60_000);
    const expired = await commit('direct-bad', 0, late.upload_id);
    expect(expired.json.error_code).toBe(40002);
    expect(expired.json.message).toMatch(/can no longer be committed/);
    expect(await highWatermark('direct-bad', 0)).toBe(0);
  });

  test("a commit of an object a produce request wrote (not an upload) is 40002 and appends nothing", async () => {
    await createTopic(strand.http, 'direct-not-upload', 2);
    // One produce request, records for both partitions: one object holding two partitions' batches.
    const produced = await strand.http.post(`/v3/clusters/local/topics/direct-not-upload/records:batch`, {
      entries: [0, 1].map((p) => ({ id: String(p), partition_id: p, value: { type: 'STRING', data: `v${p}` } })),
    });
    expect(produced.status).toBe(207);
    const topic = await strand.runtime.engine.topics.get('direct-not-upload');
    const [key] = await strand.runtime.engine.context.objects.list(topicPrefix(topic.topicId));
    const objectId = key!.slice(topicPrefix(topic.topicId).length);
    const res = await commit('direct-not-upload', 0, objectId);
    expect(res.json.error_code).toBe(40002);
    expect(await highWatermark('direct-not-upload', 0)).toBe(1);
  });

  test('an upload request is validated: size and a base64 SHA-256 are required', async () => {
    await createTopic(strand.http, 'direct-req', 1);
    expect((await strand.http.post(`${partitionPath('direct-req', 0)}/uploads`, { size: 100 })).json.error_code).toBe(40001);
    expect((await strand.http.post(`${partitionPath('direct-req', 0)}/uploads`, { size: 10, sha256: sha256(Buffer.from('x')) })).json.error_code).toBe(40002);
    expect((await strand.http.post(`${partitionPath('direct-req', 0)}/uploads`, { size: 100, sha256: 'nope' })).json.error_code).toBe(40002);
    expect((await strand.http.post(`${partitionPath('direct-req', 9)}/uploads`, { size: 100, sha256: sha256(Buffer.from('x')) })).json.error_code).toBe(40402);
  });

  test('uploaded bytes that are not valid batches are refused at commit with 42201, and nothing is appended', async () => {
    await createTopic(strand.http, 'direct-corrupt', 1);
    const bad = batchOf(['x', 'y']);
    bad[bad.length - 1] ^= 0xff;
    const up = await upload('direct-corrupt', 0, bad);
    const res = await commit('direct-corrupt', 0, up.upload_id);
    expect(res.status).toBe(422);
    expect(res.json.error_code).toBe(42201);
    expect(await highWatermark('direct-corrupt', 0)).toBe(0);
  });

  test('an upload whose header claims more offsets than records (1 record, lastOffsetDelta 2^31 - 1) is refused at commit with 42201', async () => {
    await createTopic(strand.http, 'direct-lie', 1);
    const liar = batchOf(['one']);
    liar.writeInt32BE(0x7fffffff, batchFieldOffsets.lastOffsetDelta);
    const up = await upload('direct-lie', 0, resign(liar));
    const res = await commit('direct-lie', 0, up.upload_id);
    expect([res.status, res.json.error_code]).toEqual([422, 42201]);
    expect(await highWatermark('direct-lie', 0)).toBe(0);
  });

  test('an upload of gzip batches that inflate past the request budget is refused at commit with 41301', async () => {
    await createTopic(strand.http, 'direct-bomb', 1, { 'max.message.bytes': String(1 << 20) });
    const bomb = encodeRecordBatch([{ key: null, value: Buffer.alloc(40 * 1024 * 1024), headers: [], timestamp: 1_700_000_000_000 }], { compression: 'gzip' });
    const up = await upload('direct-bomb', 0, Buffer.concat([bomb, bomb]));
    const res = await commit('direct-bomb', 0, up.upload_id);
    expect([res.status, res.json.error_code]).toEqual([413, 41301]);
    expect(await highWatermark('direct-bomb', 0)).toBe(0);
  });

  test('an upload whose maxTimestamp disagrees with its records is committed with the records\' (as Kafka rewrites it), from a rewritten copy', async () => {
    await createTopic(strand.http, 'direct-max-ts', 1);
    const t = 1_700_000_000_000;
    const sent = batchOf(['a', 'b', 'c'], t); // timestamps t, t + 1, t + 2
    sent.writeBigInt64BE(BigInt(t), batchFieldOffsets.maxTimestamp);
    const up = await upload('direct-max-ts', 0, resign(sent));
    const res = await commit('direct-max-ts', 0, up.upload_id);
    expect(res.json).toMatchObject({ base_offset: 0, last_offset: 2 });
    const bin = await strand.http.get(`${partitionPath('direct-max-ts', 0)}/records?offset=0`, { accept: 'application/vnd.kafka.record-batch.v2' });
    expect(splitBatches(bin.body, { verifyCrc: true })[0]!.header.maxTimestamp).toBe(t + 2);
  });

  test('fetch can answer with presigned ranged GETs; the ranges, with base offsets patched, are the log', async () => {
    await createTopic(strand.http, 'direct-read', 1);
    for (let i = 0; i < 5; i++) {
      await strand.http.post(`${partitionPath('direct-read', 0)}/records`.replace(/\/partitions\/0\/records$/, '/records'), {
        partition_id: 0,
        value: { type: 'STRING', data: `r${i}` },
      });
    }
    const res = await strand.http.get(`${partitionPath('direct-read', 0)}/records?offset=2`, { accept: 'application/vnd.strand.batch-urls+json' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ high_watermark: 5, log_start_offset: 0, next_offset: 5 });
    const seen: [number, string][] = [];
    for (const range of res.json.ranges) {
      const got = await fetch(range.url, { headers: { range: range.range } });
      expect(got.status).toBe(206);
      const bytes = Buffer.from(await got.arrayBuffer());
      expect(bytes.length).toBe(range.size);
      let base = range.base_offset as number;
      for (const slice of splitBatches(bytes)) {
        patchBaseOffset(bytes, slice.start, base);
        base += slice.header.lastOffsetDelta + 1;
        for (const r of decodeRecordBatch(bytes, slice.start).records) seen.push([r.offset, r.value!.toString()]);
      }
    }
    expect(seen.filter(([o]) => o >= 2)).toEqual([[2, 'r2'], [3, 'r3'], [4, 'r4']]);
    const atEnd = await strand.http.get(`${partitionPath('direct-read', 0)}/records?offset=5`, { accept: 'application/vnd.strand.batch-urls+json' });
    expect(atEnd.json.ranges).toEqual([]);
  });
});

describe('the SDK on the direct-to-S3 data plane', () => {
  let strand: TestStrand;
  const routesHit: string[] = [];
  beforeAll(async () => {
    strand = await startTestStrand({ onRequest: (r) => routesHit.push(r.routeKey) });
  });
  afterAll(() => strand.dispose());

  test('a producer uploads batches above directUploadBytes to S3 and a directFetch consumer reads them back in order', async () => {
    await createTopic(strand.http, 'sdk-direct', 1);
    const client = new StrandClient({ url: strand.url, logger: { warn: () => {} } });
    const seen: string[] = [];
    const producer = client.producer({ directUploadBytes: 10_000, batchSize: 200_000, lingerMs: 50 });
    const big = Array.from({ length: 100 }, (_, i) => ({ value: `big-${i}-${'x'.repeat(1000)}` }));
    const small = [{ value: 'small' }];
    const sentBig = await producer.send({ topic: 'sdk-direct', messages: big });
    const sentSmall = await producer.send({ topic: 'sdk-direct', messages: small });
    await producer.close();
    expect(sentBig.map((m) => Number(m.offset))).toEqual(big.map((_, i) => i));
    expect(Number(sentSmall[0]!.offset)).toBe(100);
    // The big batch went by upload and commit; the small one through the API.
    expect(routesHit.filter((r) => r.endsWith('/uploads/{upload_id}/commit'))).toHaveLength(1);
    expect(routesHit.filter((r) => r.endsWith('/batches'))).toHaveLength(1);

    const consumer = client.consumer({ directFetch: true, maxWaitTimeInMs: 100 });
    consumer.assign([{ topic: 'sdk-direct', partition: 0 }], { fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
          if (seen.length === 101) resolve();
        },
      });
    });
    await consumer.close();
    expect(seen).toEqual([...big.map((m) => m.value), 'small']);
  });

  test('a direct fetch over more objects than it reads at once returns every record once, in offset order', async () => {
    await createTopic(strand.http, 'sdk-direct-many', 1);
    const client = new StrandClient({ url: strand.url, logger: { warn: () => {} } });
    const producer = client.producer({ lingerMs: 0 });
    // 30 sends, 30 objects: one fetch covers them all, in ranges read 8 at a time.
    for (let i = 0; i < 30; i++) await producer.send({ topic: 'sdk-direct-many', messages: [{ value: `m${i}`, partition: 0 }] });
    await producer.close();
    const consumer = client.consumer({ directFetch: true, maxWaitTimeInMs: 100 });
    consumer.assign([{ topic: 'sdk-direct-many', partition: 0 }], { fromBeginning: true });
    const seen: { offset: number; value: string }[] = [];
    let fetches = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          fetches++;
          for (const m of batch.messages) seen.push({ offset: m.offset, value: m.value!.toString() });
          if (seen.length >= 30) resolve();
        },
      });
    });
    await consumer.close();
    expect(fetches).toBe(1);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => ({ offset: i, value: `m${i}` })));
  });
});
