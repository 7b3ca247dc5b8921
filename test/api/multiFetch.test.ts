/**
 * The multi-partition fetch (issue 15): POST /v3/clusters/{cluster_id}/records:fetch
 * names partitions of several topics with their offsets and answers with what
 * each holds, as Kafka's Fetch does, over HTTP against a real local Strand.
 * How: records are produced in known batches (one records:batch request per
 * partition is one RecordBatch, one index entry), then fetched together; the
 * binary form is split by its index and decoded by kafkajs; storage reads
 * during a wait are counted by middleware on the DynamoDB client.
 */
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { recordBatchMediaType } from '../../src/api/produce';
import { batchUrlsMediaType } from '../../src/api/fetchForms';
import { partitionEnvelopeBytesMax, partitionsPerFetchMax } from '../../src/api/multiFetch';
import { decodePartitionBatches, partitionBatchesMediaType } from '../../src/api/partitionBatches';
import { lambdaJsonBytes, lambdaResponseBytesMax, lambdaResultBytes } from '../../src/api/responseBudget';
import { longPollIntervalMs } from '../../src/log/readPartition';
import { cluster, createTopic, partitionPath, startTestStrand, topicPath, type HttpResult, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus } from '../support/api';
import { kafkajsDecodeBatches } from '../support/kafkajs';

let strand: TestStrand;
let headReads: { pk: string; at: number }[] = [];
beforeAll(async () => {
  strand = await startTestStrand();
  // Every read of a partition head (GetItem on the log table), with its partition and time.
  strand.runtime.clients.dynamodb.middlewareStack.add(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (next: any, context: any) => async (args: any) => {
      if (context.commandName === 'GetItemCommand' && args.input?.TableName === strand.runtime.config.tables.log) {
        headReads.push({ pk: String(args.input.Key?.pk?.S ?? args.input.Key?.pk), at: Date.now() });
      }
      return next(args);
    },
    { step: 'initialize', name: 'countHeadReads' },
  );
});
afterAll(() => strand.dispose());

const MiB = 1024 * 1024;
const fetchPath = `${cluster}/records:fetch`;
type Named = { topic_name: string; partition_id: number; offset: number; max_bytes?: number };
const multiFetch = (body: unknown, accept?: string, query = '?embedded_format=string') =>
  strand.http.request('POST', `${fetchPath}${query}`, { json: body, headers: accept ? { accept } : {} });
const at = (topic_name: string, partition_id: number, offset: number, extra: Partial<Named> = {}): Named => ({ topic_name, partition_id, offset, ...extra });

/** Appends STRING records "<prefix>-<i>" to one partition in ONE request, hence one RecordBatch (one index entry). */
async function appendBatch(topic: string, partition: number, prefix: string, count: number, valueBytes = 0): Promise<void> {
  const entries = Array.from({ length: count }, (_, i) => ({
    id: String(i),
    partition_id: partition,
    value: { type: 'STRING', data: `${prefix}-${i}`.padEnd(valueBytes, '.') },
  }));
  const res = await strand.http.post(`${topicPath(topic)}/records:batch`, { entries });
  expect(res.status).toBe(207);
  expect(res.json.failures).toEqual([]);
}

const valuesOf = (p: { records: { value: { data: string } }[] }) => p.records.map((r) => r.value.data);
const offsetsOf = (p: { records: { offset: number }[] }) => p.records.map((r) => r.offset);

/** What Lambda would measure for this answer. */
function lambdaBytes(res: HttpResult): number {
  const binary = !(res.headers.get('content-type') ?? '').includes('json');
  return lambdaResultBytes({
    statusCode: res.status,
    headers: { 'content-type': res.headers.get('content-type') ?? '' },
    body: binary ? res.body.toString('base64') : res.body.toString('utf8'),
    isBase64Encoded: binary,
  });
}

describe('multi-partition fetch: several topics and partitions in one request', () => {
  beforeAll(async () => {
    await createTopic(strand.http, 'mf-a', 3);
    await createTopic(strand.http, 'mf-b', 1);
    await appendBatch('mf-a', 0, 'a0', 5);
    await appendBatch('mf-a', 1, 'a1', 3);
    await appendBatch('mf-a', 2, 'a2', 4);
    await appendBatch('mf-b', 0, 'b0', 6);
  });

  test('each partition answers its records from its offset, in order, in request order, with its bounds', async () => {
    const res = await multiFetch({ partitions: [at('mf-b', 0, 2), at('mf-a', 2, 0), at('mf-a', 0, 3), at('mf-a', 1, 3)] });
    expectStatus(res, 200);
    expect(res.json.cluster_id).toBe('local');
    const [b0, a2, a0, a1] = res.json.partitions;
    expect(b0).toMatchObject({ topic_name: 'mf-b', partition_id: 0, high_watermark: 6, log_start_offset: 0, next_offset: 6 });
    expect(offsetsOf(b0)).toEqual([2, 3, 4, 5]);
    expect(valuesOf(b0)).toEqual(['b0-2', 'b0-3', 'b0-4', 'b0-5']);
    expect(valuesOf(a2)).toEqual(['a2-0', 'a2-1', 'a2-2', 'a2-3']);
    expect(valuesOf(a0)).toEqual(['a0-3', 'a0-4']);
    // At the high watermark: no records, next_offset stays.
    expect(a1).toMatchObject({ topic_name: 'mf-a', partition_id: 1, high_watermark: 3, next_offset: 3, records: [] });
  });

  test('embedded_format applies to every partition, as on the single-partition fetch', async () => {
    const res = await multiFetch({ partitions: [at('mf-a', 0, 0), at('mf-b', 0, 0)] }, undefined, '?embedded_format=binary');
    expectStatus(res, 200);
    expect(res.json.partitions[1].records[0].value).toEqual({ type: 'BINARY', data: Buffer.from('b0-0').toString('base64') });
    expectError(await multiFetch({ partitions: [at('mf-a', 0, 0)] }, undefined, '?embedded_format=xml'), 40002);
  });
});

describe('byte limits: per partition and in total, filled in request order (KIP-74)', () => {
  // Four partitions of two batches each; every batch is one entry of about 10 KB.
  const entryBytes = 10_000;
  beforeAll(async () => {
    await createTopic(strand.http, 'mf-bytes', 4);
    for (let p = 0; p < 4; p++) {
      await appendBatch('mf-bytes', p, `p${p}a`, 1, entryBytes);
      await appendBatch('mf-bytes', p, `p${p}b`, 1, entryBytes);
    }
  });
  const all = (extra: Partial<Named> = {}) => [0, 1, 2, 3].map((p) => at('mf-bytes', p, 0, extra));

  test('a partition max_bytes below two entries gives that partition one entry; the others are unaffected', async () => {
    const res = await multiFetch({ partitions: [at('mf-bytes', 0, 0, { max_bytes: 1.5 * entryBytes }), ...all().slice(1)] });
    expectStatus(res, 200);
    expect(res.json.partitions.map(offsetsOf)).toEqual([[0], [0, 1], [0, 1], [0, 1]]);
    expect(res.json.partitions[0].next_offset).toBe(1);
  });

  test('the total max_bytes fills partitions in request order; those past it answer nothing, with next_offset at their offset', async () => {
    const res = await multiFetch({ partitions: all(), max_bytes: 3.5 * entryBytes });
    expectStatus(res, 200);
    expect(res.json.partitions.map(offsetsOf)).toEqual([[0, 1], [0], [], []]);
    expect(res.json.partitions.map((p: { next_offset: number }) => p.next_offset)).toEqual([2, 1, 0, 0]);
  });

  test('the first partition with data returns its first entry even when it passes both limits; later ones only what fits', async () => {
    const res = await multiFetch({ partitions: [at('mf-bytes', 3, 2), ...all({ max_bytes: 1 }).slice(0, 3)], max_bytes: 1 });
    expectStatus(res, 200);
    // Partition 3 at its high watermark is empty, so partition 0 is the first with data.
    expect(res.json.partitions.map(offsetsOf)).toEqual([[], [0], [], []]);
  });
});

describe('min_bytes and max_wait_ms: a long poll over all named partitions', () => {
  test('an empty fetch waits, and a produce to any named partition wakes it before max_wait_ms', async () => {
    await createTopic(strand.http, 'mf-wait', 3);
    const started = Date.now();
    const pending = multiFetch({ partitions: [0, 1, 2].map((p) => at('mf-wait', p, 0)), max_wait_ms: 10_000 });
    await new Promise((r) => setTimeout(r, 400));
    await appendBatch('mf-wait', 2, 'late', 2);
    const res = await pending;
    expectStatus(res, 200);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.json.partitions.map(valuesOf)).toEqual([[], [], ['late-0', 'late-1']]);
  });

  test('while waiting it reads only partition heads, each at most once per poll interval', async () => {
    const partitions = 5;
    await createTopic(strand.http, 'mf-reads', partitions);
    const topicId = (await strand.runtime.engine.topics.get('mf-reads')).topicId;
    headReads = [];
    const started = Date.now();
    const waitMs = 1_000;
    const res = await multiFetch({ partitions: Array.from({ length: partitions }, (_, p) => at('mf-reads', p, 0)), max_wait_ms: waitMs });
    const elapsed = Date.now() - started;
    expectStatus(res, 200);
    expect(elapsed).toBeGreaterThanOrEqual(waitMs - 50);
    const ours = headReads.filter((r) => r.pk.startsWith(`${topicId}#`));
    // One locate before the wait and one after, plus one round per interval.
    const rounds = Math.ceil(elapsed / longPollIntervalMs) + 1;
    expect(ours.length).toBeLessThanOrEqual(partitions * (rounds + 2));
    expect(ours.length).toBeGreaterThan(partitions * 3); // it did poll
    for (let p = 0; p < partitions; p++) {
      const times = ours.filter((r) => r.pk === `${topicId}#${p}`).map((r) => r.at);
      // Never two reads of a partition closer than the interval, bar the locate right after the wait's last round.
      const close = times.slice(1).filter((t, i) => t - times[i]! < longPollIntervalMs - 15);
      expect(close.length).toBeLessThanOrEqual(2);
    }
  });

  test('with less than min_bytes available it answers after max_wait_ms with what there is', async () => {
    await createTopic(strand.http, 'mf-min', 2);
    await appendBatch('mf-min', 0, 'some', 1);
    const started = Date.now();
    const res = await multiFetch({ partitions: [at('mf-min', 0, 0), at('mf-min', 1, 0)], min_bytes: 100_000, max_wait_ms: 500 });
    expectStatus(res, 200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(res.json.partitions.map(valuesOf)).toEqual([['some-0'], []]);
  });

  test('min_bytes already available, or max_wait_ms 0, answers at once', async () => {
    const started = Date.now();
    expectStatus(await multiFetch({ partitions: [at('mf-min', 0, 0), at('mf-min', 1, 0)], min_bytes: 1, max_wait_ms: 5_000 }), 200);
    expectStatus(await multiFetch({ partitions: [at('mf-min', 1, 0)], min_bytes: 1, max_wait_ms: 0 }), 200);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('per-partition errors are reported in the 200, in their place', () => {
  test('unknown topic, unknown partition and offset out of range (with both bounds) beside partitions that answer', async () => {
    await createTopic(strand.http, 'mf-err', 2);
    await appendBatch('mf-err', 0, 'ok', 2);
    await appendBatch('mf-err', 1, 'r', 3);
    const res = await multiFetch({ partitions: [at('mf-nope', 0, 0), at('mf-err', 7, 0), at('mf-err', 1, 9), at('mf-err', 0, 0)] });
    expectStatus(res, 200);
    const [noTopic, noPartition, outOfRange, ok] = res.json.partitions;
    expect(noTopic).toMatchObject({ topic_name: 'mf-nope', partition_id: 0, error_code: 40403 });
    expect(noPartition).toMatchObject({ topic_name: 'mf-err', partition_id: 7, error_code: 40402 });
    expect(outOfRange).toMatchObject({ topic_name: 'mf-err', partition_id: 1, error_code: 41601, log_start_offset: 0, high_watermark: 3 });
    expect(valuesOf(ok)).toEqual(['ok-0', 'ok-1']);
    for (const p of [noTopic, noPartition, outOfRange]) expect(typeof p.message).toBe('string');
  });

  test('an error answers at once, as Kafka does, rather than waiting for min_bytes', async () => {
    const started = Date.now();
    const res = await multiFetch({ partitions: [at('mf-nope', 0, 0), at('mf-err', 0, 2)], max_wait_ms: 5_000 });
    expectStatus(res, 200);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('the request is validated, and its size bounded', () => {
  test(`at most ${partitionsPerFetchMax} partitions: ${partitionsPerFetchMax} are answered, one more is 40002`, async () => {
    await createTopic(strand.http, 'mf-many', partitionsPerFetchMax);
    const names = Array.from({ length: partitionsPerFetchMax }, (_, p) => at('mf-many', p, 0));
    const res = await multiFetch({ partitions: names });
    expectStatus(res, 200);
    expect(res.json.partitions).toHaveLength(partitionsPerFetchMax);
    expect(lambdaBytes(res)).toBeLessThan(lambdaResponseBytesMax);
    expectError(await multiFetch({ partitions: [...names, at('mf-many', 0, 1)] }), 40002);
  }, 60_000);

  test('missing partitions is 40001; empty, duplicated, illegal names and values past their bounds are 40002; another cluster is 40401', async () => {
    expectError(await multiFetch({}), 40001);
    for (const body of [
      { partitions: [] },
      { partitions: [at('mf-err', 0, 0), at('mf-err', 0, 1)] },
      { partitions: [at('bad name', 0, 0)] },
      { partitions: [at('x'.repeat(250), 0, 0)] },
      { partitions: [at('mf-err', -1, 0)] },
      { partitions: [at('mf-err', 0, -1)] },
      { partitions: [at('mf-err', 0, 0, { max_bytes: 0 })] },
      { partitions: [at('mf-err', 0, 0, { max_bytes: 4 * MiB + 1 })] },
      { partitions: [at('mf-err', 0, 0)], max_bytes: 4 * MiB + 1 },
      { partitions: [at('mf-err', 0, 0)], min_bytes: -1 },
      { partitions: [at('mf-err', 0, 0)], max_wait_ms: 20_001 },
      { partitions: [at('mf-err', 0, 0)], max_wait_ms: 1.5 },
    ]) {
      expectError(await multiFetch(body), 40002);
    }
    const other = await strand.http.request('POST', '/v3/clusters/elsewhere/records:fetch', { json: { partitions: [at('mf-err', 0, 0)] } });
    expectError(other, 40401);
  });

  test('no generated body gets a 5xx', async () => {
    const name = fc.oneof(fc.constantFrom('mf-err', 'mf-a', 'mf-nope', ''), fc.string({ maxLength: 10 }));
    const num = fc.oneof(fc.integer({ min: -2, max: 12 }), fc.constantFrom(2 ** 31, 2 ** 53, 1e300, 0.5, -0), fc.string({ maxLength: 3 }), fc.constant(null));
    const valid = fc.record({
      partitions: fc.uniqueArray(fc.record({ topic_name: fc.constantFrom('mf-err', 'mf-a', 'mf-nope'), partition_id: fc.integer({ min: 0, max: 3 }), offset: fc.integer({ min: 0, max: 4 }) }), {
        maxLength: 5,
        selector: (p) => `${p.topic_name}/${p.partition_id}`,
      }),
      max_bytes: fc.integer({ min: 1, max: 4 * MiB }),
      max_wait_ms: fc.constantFrom(0, 20),
    });
    const body = fc.oneof(
      valid,
      fc.record(
        {
          partitions: fc.oneof(fc.array(fc.record({ topic_name: name, partition_id: num, offset: num, max_bytes: num }, { requiredKeys: [] }), { maxLength: 6 }), num),
          max_bytes: num,
          min_bytes: num,
          max_wait_ms: fc.oneof(fc.constantFrom(0, 5, 20, -1, 20_001), num.filter((n) => typeof n !== 'number' || n <= 20 || n > 20_000)),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const accept = fc.constantFrom(undefined, 'application/json', partitionBatchesMediaType, batchUrlsMediaType, recordBatchMediaType);
    const samples = fc.sample(fc.tuple(body, accept, fc.constantFrom('', '?embedded_format=json', '?embedded_format=avro', '?embedded_format=?')), { numRuns: 300, seed: 15 });
    const statuses = new Map<number, number>();
    for (const [b, a, q] of samples) {
      const res = await multiFetch(b, a, q);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect([res.status, res.body.toString().slice(0, 200)]).toEqual([expect.any(Number), expect.any(String)]);
      expect(res.status).toBeLessThan(500);
    }
    expect(statuses.get(200)).toBeGreaterThan(0);
  }, 60_000);
});

describe('forms: JSON, framed binary, presigned batch URLs', () => {
  beforeAll(async () => {
    await createTopic(strand.http, 'mf-forms', 2);
    await appendBatch('mf-forms', 0, 'f0', 3);
    await appendBatch('mf-forms', 0, 'g0', 2);
    await appendBatch('mf-forms', 1, 'f1', 4);
  });
  const named = () => ({ partitions: [at('mf-forms', 0, 1), at('mf-nope', 0, 0), at('mf-forms', 1, 0)] });

  test('binary: an index, then each partition’s RecordBatch v2 bytes, which kafkajs decodes', async () => {
    const res = await multiFetch(named(), partitionBatchesMediaType, '');
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toBe(partitionBatchesMediaType);
    const { index, batches } = decodePartitionBatches(res.body);
    expect(index.partitions).toMatchObject([
      { topic_name: 'mf-forms', partition_id: 0, high_watermark: 5, next_offset: 5 },
      { topic_name: 'mf-nope', partition_id: 0, error_code: 40403, size: 0 },
      { topic_name: 'mf-forms', partition_id: 1, high_watermark: 4, next_offset: 4 },
    ]);
    const decoded = await Promise.all(batches.map((b) => kafkajsDecodeBatches(b)));
    const values = decoded.map((bs) => bs.flatMap((b) => b.records.map((r) => [Number(r.offset), r.value?.toString()])));
    // Whole batches, as the single-partition binary fetch: the first starts below the offset.
    expect(values[0]).toEqual([[0, 'f0-0'], [1, 'f0-1'], [2, 'f0-2'], [3, 'g0-0'], [4, 'g0-1']]);
    expect(values[1]).toEqual([]);
    expect(values[2]).toEqual([[0, 'f1-0'], [1, 'f1-1'], [2, 'f1-2'], [3, 'f1-3']]);
  });

  test('direct: presigned ranged GETs per partition, whose bytes are the partition’s batches', async () => {
    const res = await multiFetch(named(), batchUrlsMediaType, '');
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toContain(batchUrlsMediaType);
    expect(typeof res.json.expires_at).toBe('string');
    const [p0, missing, p1] = res.json.partitions;
    expect(missing).toMatchObject({ error_code: 40403 });
    expect(p0).toMatchObject({ next_offset: 5, high_watermark: 5 });
    expect(p1).toMatchObject({ next_offset: 4 });
    for (const [p, first, last] of [[p0, 0, 4], [p1, 0, 3]] as const) {
      const bytes = Buffer.concat(
        await Promise.all(
          p.ranges.map(async (r: { url: string; range: string }) => Buffer.from(await (await fetch(r.url, { headers: { range: r.range } })).arrayBuffer())),
        ),
      );
      // Stored bytes keep the producer's base offsets (0): the ranges say where each run starts.
      expect(p.ranges[0].base_offset).toBe(first);
      expect(p.ranges[p.ranges.length - 1].last_offset).toBe(last);
      expect((await kafkajsDecodeBatches(bytes)).flatMap((b) => b.records)).toHaveLength(last - first + 1);
    }
  });

  test('every form stays within Lambda’s response bound with large entries in many partitions; every record is reached', async () => {
    await createTopic(strand.http, 'mf-big', 4, { 'max.message.bytes': String(8 * MiB) });
    const big = Array.from({ length: 4 }, () => randomBytes(Math.round(1.9 * MiB)));
    for (const [p, v] of big.entries()) {
      const batch = encodeRecordBatch([{ key: null, value: v, headers: [], timestamp: 1 }]);
      expectStatus(await strand.http.request('POST', `${partitionPath('mf-big', p)}/batches`, { body: batch, headers: { 'content-type': recordBatchMediaType } }), 200);
    }
    for (const [accept, query] of [[partitionBatchesMediaType, ''], [undefined, '?embedded_format=binary'], [batchUrlsMediaType, '']] as const) {
      const offsets = [0, 0, 0, 0];
      for (let calls = 0; offsets.some((o) => o < 1); calls++) {
        expect(calls).toBeLessThan(6);
        const res = await multiFetch({ partitions: offsets.map((o, p) => at('mf-big', p, o, { max_bytes: 4 * MiB })), max_bytes: 4 * MiB }, accept, query);
        expectStatus(res, 200);
        expect(lambdaBytes(res)).toBeLessThan(lambdaResponseBytesMax);
        const parts = accept === partitionBatchesMediaType ? decodePartitionBatches(res.body).index.partitions : res.json.partitions;
        parts.forEach((p: { next_offset: number }, i: number) => (offsets[i] = p.next_offset));
      }
    }
  }, 60_000);

  test(`one partition's fields take at most partitionEnvelopeBytesMax, errors included`, async () => {
    const name = 'x'.repeat(249);
    await createTopic(strand.http, name, 2);
    const res = await multiFetch({ partitions: [at(name, 0, 0), at(name, 2, 0), at(name, 1, 5), at('y'.repeat(249), 0, 0)] });
    expect(res.json.partitions.map((p: { error_code?: number }) => p.error_code)).toEqual([undefined, 40402, 41601, 40403]);
    expectStatus(res, 200);
    const max = Number.MAX_SAFE_INTEGER;
    const widest = { topic_name: name, partition_id: max, high_watermark: max, log_start_offset: max, next_offset: max, records: [], skipped: [] };
    for (const p of [...res.json.partitions, widest]) expect(lambdaJsonBytes(p) + 1).toBeLessThanOrEqual(partitionEnvelopeBytesMax(name));
  });
});
