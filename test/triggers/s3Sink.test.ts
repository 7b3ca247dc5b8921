/**
 * The S3 sink ("the archive", src/triggers/archive.ts) against a real local
 * Strand writing to its embedded S3. How: records with explicit timestamps on
 * both sides of an hour boundary go to several partitions; the test lists the
 * trigger's prefix, gunzips every object and checks that each record is in the
 * archive exactly once, in the object of its hour, named by the first offset,
 * in offset order. The same check runs after PutObjects that fail after S3
 * applied them (test/faults/faultyClients.ts, `when: 'after'`), a runtime
 * restart while a PutObject never answers, and a pause and resume.
 */
import { rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { cluster, createTopic, tempDataDir, topicPath, type TestStrand } from '../support/localStrand';
import { injectFaults, seededRandom, type FaultInjector } from '../faults/faultyClients';
import { register } from '../schemas/support';
import { createTrigger, eventually, lagOf, startTriggerStrand, triggersPath } from './support';

interface Line {
  topic: string;
  partition: number;
  offset: number;
  timestamp: string;
  timestamp_ms: number;
  timestamp_type: string;
  key: string | null;
  key_encoding: string | null;
  value: string | null;
  value_encoding: string | null;
  value_schema_id: number | null;
  headers: { key: string; value: string | null; value_encoding: string | null }[];
}

interface ArchivedObject {
  key: string;
  lines: Line[];
}

async function readArchive(s3: S3Client, bucket: string, prefix: string): Promise<ArchivedObject[]> {
  const out: ArchivedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      const text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('utf8');
      expect(text.endsWith('\n')).toBe(true);
      out.push({ key: o.Key!, lines: text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Line) });
    }
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

/**
 * Every object is where its records' hour says, named by its first record's
 * offset, in offset order; and every record of `expected` (partition → values
 * in offset order) is in exactly one object.
 */
function expectArchive(objects: ArchivedObject[], prefix: string, topic: string, expected: Map<number, string[]>): void {
  const seen = new Map<string, number>();
  for (const { key, lines } of objects) {
    expect(lines.length).toBeGreaterThan(0);
    const first = lines[0]!;
    const hour = first.timestamp.slice(11, 13);
    const dt = first.timestamp.slice(0, 10);
    expect(key).toBe(`${prefix}topic=${topic}/dt=${dt}/hour=${hour}/${topic}+${first.partition}+${String(first.offset).padStart(20, '0')}.json.gz`);
    let previous = -1;
    for (const line of lines) {
      expect(line).toMatchObject({ topic, partition: first.partition });
      expect(line.timestamp.slice(0, 13)).toBe(`${dt}T${hour}`);
      expect(new Date(line.timestamp_ms).toISOString()).toBe(line.timestamp);
      expect(line.offset).toBeGreaterThan(previous);
      previous = line.offset;
      const id = `${line.partition}/${line.offset}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  expect(duplicated).toEqual([]);
  for (const [partition, values] of expected) {
    const lines = objects.flatMap((o) => o.lines).filter((l) => l.partition === partition).sort((a, b) => a.offset - b.offset);
    expect(lines.map((l) => l.offset)).toEqual(values.map((_, i) => i));
    expect(lines.map((l) => l.value)).toEqual(values);
  }
  expect(seen.size).toBe([...expected.values()].reduce((n, v) => n + v.length, 0));
}

/** Close to an hour boundary: 22:58:00Z, then a record every 20 s, across 23:00. */
const hourEdge = Date.UTC(2024, 2, 1, 22, 58);

/** Produces `values` to `partition` in one request, each record `stepMs` after the previous from `fromMs`. */
async function produceAt(strand: TestStrand, topic: string, partition: number, values: string[], fromMs: number, stepMs = 20_000) {
  const res = await strand.http.post(`${topicPath(topic)}/records:batch`, {
    entries: values.map((v, i) => ({
      id: i,
      partition_id: partition,
      key: { type: 'STRING', data: `k-${v}` },
      value: { type: 'STRING', data: v },
      timestamp: fromMs + i * stepMs,
      headers: [{ name: 'source', value: Buffer.from('test').toString('base64') }],
    })),
  });
  // 207 is the batch endpoint's answer; every entry must have succeeded.
  if ((res.status !== 200 && res.status !== 207) || res.json.failures?.length) throw new Error(`produce: ${res.status} ${res.body.toString()}`);
}

/** Produces `rounds` requests of `perRound` records to each partition, timestamps running on across requests; returns what was produced. */
async function produceRounds(strand: TestStrand, topic: string, partitions: number, rounds: number, perRound: number, between?: (round: number) => Promise<void>) {
  const expected = new Map<number, string[]>();
  for (let round = 0; round < rounds; round++) {
    for (let p = 0; p < partitions; p++) {
      const values = Array.from({ length: perRound }, (_, i) => `p${p}-r${round}-${i}`);
      await produceAt(strand, topic, p, values, hourEdge + round * perRound * 20_000);
      expected.set(p, [...(expected.get(p) ?? []), ...values]);
    }
    await between?.(round);
  }
  return expected;
}

const archiveTrigger = (name: string, topic: string, prefix: string, extra: Record<string, unknown> = {}) => ({
  trigger_name: name,
  topic_name: topic,
  target: { type: 's3', prefix },
  starting_position: 'EARLIEST',
  ...extra,
});

const onPrefix = (prefix: string) => (input: Record<string, unknown>) => typeof input.Key === 'string' && input.Key.startsWith(prefix);

describe('the S3 sink', () => {
  let strand: TestStrand;
  let faults: FaultInjector;
  beforeAll(async () => {
    strand = await startTriggerStrand();
    faults = injectFaults(strand.runtime.clients, seededRandom(16));
  });
  afterAll(() => strand.dispose());
  afterEach(() => faults.clear());
  const bucket = () => strand.runtime.config.bucket;

  test('records of several partitions across an hour boundary land once each in their hour\'s objects, in order', async () => {
    await createTopic(strand.http, 'archive-orders', 3);
    const created = await createTrigger(strand.http, archiveTrigger('archive', 'archive-orders', 'archive/basic/', { batch_size: 4 }));
    expect(created.target).toEqual({ type: 's3', bucket: bucket(), prefix: 'archive/basic/' });
    const expected = await produceRounds(strand, 'archive-orders', 3, 2, 5);
    await eventually('no lag', async () => (await lagOf(strand.http, 'archive')) === 0);

    const objects = await readArchive(strand.runtime.clients.s3, bucket(), 'archive/basic/');
    expectArchive(objects, 'archive/basic/', 'archive-orders', expected);
    // 22:58:00 + 20 s steps: offsets 0–5 are hour 22, 6–9 hour 23; batches of 4 split there.
    const paths = new Set(objects.map((o) => o.key.split('/').slice(3, 5).join('/')));
    expect(paths).toEqual(new Set(['dt=2024-03-01/hour=22', 'dt=2024-03-01/hour=23']));
    expect(objects.map((o) => o.key)).toContain('archive/basic/topic=archive-orders/dt=2024-03-01/hour=23/archive-orders+1+00000000000000000006.json.gz');
    const line = objects.flatMap((o) => o.lines).find((l) => l.partition === 2 && l.offset === 0)!;
    expect(line).toEqual({
      topic: 'archive-orders',
      partition: 2,
      offset: 0,
      timestamp: '2024-03-01T22:58:00.000Z',
      timestamp_ms: hourEdge,
      timestamp_type: 'CREATE_TIME',
      key: 'k-p2-r0-0',
      key_encoding: 'utf8',
      key_schema_id: null,
      value: 'p2-r0-0',
      value_encoding: 'utf8',
      value_schema_id: null,
      headers: [{ key: 'source', value: 'test', value_encoding: 'utf8' }],
    });
  });

  test('Avro values with a registered schema id are archived decoded', async () => {
    await createTopic(strand.http, 'archive-users', 1);
    const schema = { type: 'record', name: 'User', namespace: 'com.example', fields: [{ name: 'id', type: 'int' }, { name: 'name', type: 'string' }] };
    const id = await register(strand.http, 'archive-users-value', schema);
    await createTrigger(strand.http, archiveTrigger('archive-avro', 'archive-users', 'archive/avro/'));
    const res = await strand.http.post(`${topicPath('archive-users')}/records`, { value: { schema_id: id, data: { id: 7, name: 'ada' } } });
    expect(res.status).toBe(200);
    await eventually('no lag', async () => (await lagOf(strand.http, 'archive-avro')) === 0);
    const [object] = await readArchive(strand.runtime.clients.s3, bucket(), 'archive/avro/');
    expect(object!.lines).toHaveLength(1);
    expect(object!.lines[0]).toMatchObject({ value_encoding: 'avro', value_schema_id: id, key: null, key_encoding: null });
    expect(JSON.parse(object!.lines[0]!.value!)).toEqual({ id: 7, name: 'ada' });
  });

  test('PutObjects failing after S3 applied them, and a smaller batch_size between retries, leave every record once', async () => {
    await createTopic(strand.http, 'archive-faults', 3);
    const prefix = 'archive/faults/';
    // Applied, then the reply lost: all three SDK attempts of the first PutObjects (so deliveries fail and are
    // retried over what they wrote), then at random (some caught by the SDK's retries, some not).
    faults.add({ service: 's3', command: 'PutObjectCommand', match: onPrefix(prefix), when: 'after', fault: '500', times: 6 });
    faults.add({ service: 's3', command: 'PutObjectCommand', match: onPrefix(prefix), when: 'after', fault: 'reset', probability: 0.4 });
    await createTrigger(strand.http, archiveTrigger('archive-faults', 'archive-faults', prefix, { batch_size: 6 }));
    const expected = await produceRounds(strand, 'archive-faults', 3, 4, 4, async (round) => {
      if (round === 1) expect((await strand.http.patch(`${triggersPath}/archive-faults`, { batch_size: 3 })).status).toBe(200);
    });
    await eventually('no lag', async () => (await lagOf(strand.http, 'archive-faults')) === 0, 30_000);
    expect(faults.stats.fired['500']).toBe(6);
    expect(faults.stats.fired.reset).toBeGreaterThan(0);
    faults.clear();
    expectArchive(await readArchive(strand.runtime.clients.s3, bucket(), prefix), prefix, 'archive-faults', expected);
  });

  test('pause keeps the position: nothing is archived while paused, everything after resume', async () => {
    await createTopic(strand.http, 'archive-pause', 1);
    const prefix = 'archive/pause/';
    await createTrigger(strand.http, archiveTrigger('archive-pause', 'archive-pause', prefix));
    await produceAt(strand, 'archive-pause', 0, ['a0', 'a1'], hourEdge);
    await eventually('no lag', async () => (await lagOf(strand.http, 'archive-pause')) === 0);
    expect((await strand.http.patch(`${triggersPath}/archive-pause`, { state: 'PAUSED' })).status).toBe(200);
    await produceAt(strand, 'archive-pause', 0, ['a2', 'a3'], hourEdge + 40_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await readArchive(strand.runtime.clients.s3, bucket(), prefix)).flatMap((o) => o.lines)).toHaveLength(2);
    expect(await lagOf(strand.http, 'archive-pause')).toBe(2);
    expect((await strand.http.patch(`${triggersPath}/archive-pause`, { state: 'ACTIVE' })).status).toBe(200);
    await eventually('no lag', async () => (await lagOf(strand.http, 'archive-pause')) === 0);
    expectArchive(await readArchive(strand.runtime.clients.s3, bucket(), prefix), prefix, 'archive-pause', new Map([[0, ['a0', 'a1', 'a2', 'a3']]]));
  });

  test('a bucket of the user\'s: written there when it exists, refused (40002) when it does not', async () => {
    await createTopic(strand.http, 'archive-own', 1);
    const missing = await strand.http.post(triggersPath, { ...archiveTrigger('archive-own', 'archive-own', 'x/'), target: { type: 's3', bucket: 'no-such-bucket', prefix: 'x/' } });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ error_code: 40002 });
    expect(missing.json.message).toContain("no bucket 'no-such-bucket'");

    await strand.runtime.clients.s3.send(new CreateBucketCommand({ Bucket: 'archive-test-bucket' }));
    await createTrigger(strand.http, { ...archiveTrigger('archive-own', 'archive-own', ''), target: { type: 's3', bucket: 'archive-test-bucket', prefix: '' } });
    await produceAt(strand, 'archive-own', 0, ['o0'], hourEdge);
    await eventually('no lag', async () => (await lagOf(strand.http, 'archive-own')) === 0);
    const objects = await readArchive(strand.runtime.clients.s3, 'archive-test-bucket', '');
    expect(objects.map((o) => o.key)).toEqual(['topic=archive-own/dt=2024-03-01/hour=22/archive-own+0+00000000000000000000.json.gz']);
  });

  test('refused: a prefix in Strand\'s own data, a malformed prefix, and settings that would break exactly-once', async () => {
    await createTopic(strand.http, 'archive-refused', 1);
    await createTopic(strand.http, 'archive-refused-dlq', 1);
    const create = (target: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      strand.http.post(triggersPath, { trigger_name: 'archive-refused', topic_name: 'archive-refused', target: { type: 's3', ...target }, ...extra });
    const refusals = [
      [await create({ prefix: 'topics/' }), "'topics/' in Strand's own bucket"],
      [await create({ prefix: '/archive/' }), "Field 'target.prefix'"],
      [await create({ prefix: 'archive' }), "Field 'target.prefix'"],
      [await create({ bucket: 'Not_A_Bucket' }), "Field 'target.bucket'"],
      [await create({}, { bisect_batch_on_error: true }), "'bisect_batch_on_error' must be false"],
      [await create({}, { max_record_age_ms: 60_000 }), "'max_record_age_ms' must be -1"],
      [await create({}, { dead_letter_topic: 'archive-refused-dlq' }), "'dead_letter_topic' must be null"],
      [await create({}, { max_retry_attempts: 3 }), "'max_retry_attempts' must be -1"],
    ] as const;
    for (const [res, why] of refusals) {
      expect({ status: res.status, code: res.json?.error_code }).toEqual({ status: 400, code: 40002 });
      expect(res.json.message).toContain(why);
    }
    const ok = await create({});
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ target: { type: 's3', bucket: bucket(), prefix: 'archive/' }, max_retry_attempts: -1 });
    const patch = await strand.http.patch(`${triggersPath}/archive-refused`, { dead_letter_topic: 'archive-refused-dlq' });
    expect({ status: patch.status, code: patch.json?.error_code }).toEqual({ status: 400, code: 40002 });
    expect((await strand.http.get(`${triggersPath}/archive-refused`)).json.dead_letter_topic).toBeNull();
    expect((await strand.http.get(`${cluster}/triggers`)).status).toBe(200);
  });
});

describe('the S3 sink across a restart', () => {
  const dataDir = tempDataDir();
  let strand: TestStrand | undefined;
  afterAll(async () => {
    await strand?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a PutObject applied but never answered when the runtime stops: the new runtime rewrites it, every record once', async () => {
    strand = await startTriggerStrand({ dataDir });
    const faults = injectFaults(strand.runtime.clients);
    const prefix = 'archive/restart/';
    await createTopic(strand.http, 'archive-restart', 2);
    await createTrigger(strand.http, archiveTrigger('archive-restart', 'archive-restart', prefix, { batch_size: 5 }));
    // The third PutObject is applied, then never answers (a crash): its batch is in flight at the stop.
    let puts = 0;
    faults.add({ service: 's3', command: 'PutObjectCommand', match: (input) => onPrefix(prefix)(input) && ++puts === 3, when: 'after', fault: 'crash' });
    const expected = await produceRounds(strand, 'archive-restart', 2, 2, 8);
    await eventually('a PutObject that never answers', () => faults.stats.fired.crash === 1);
    await strand.stop();

    strand = await startTriggerStrand({ dataDir });
    await eventually('no lag', async () => (await lagOf(strand!.http, 'archive-restart')) === 0);
    expectArchive(await readArchive(strand.runtime.clients.s3, strand.runtime.config.bucket, prefix), prefix, 'archive-restart', expected);
  });
});
