/**
 * Faults AFTER the store applied a write (the write happened, the reply is lost,
 * and the AWS SDK retries it), on every write of the data path and of
 * maintenance, against a real local Strand whose SDK clients carry the fault
 * layer (./faultyClients.ts, `when: 'after'`).
 *
 * The writes, what makes them, and how a rule matches them (matchers in ./faultyClients.ts):
 *
 *   data path (src/log/appendBatches.ts, src/api/produce.ts)
 *     S3 PutObject            the produce request's one object (ObjectStore.put)      command PutObjectCommand, during a produce
 *     DynamoDB UpdateItem     the plain commit (PartitionIndex.commit)                 isPlainCommit (isCommit, not conditioned on a producer)
 *     DynamoDB UpdateItem     the idempotent commit (ProducerSequences.commit)         isIdempotentCommit (isCommit + `#p.n = :seq`)
 *   the spill, a leader turn on the produce path (appendBatches.spillIfDue, fenceFirst: false)
 *     DynamoDB UpdateItem     lease acquire (LeaseStore.acquire)                       isLeaseAcquire (`SET holder … ADD epoch`)
 *     DynamoDB PutItem        the spill's chunk (PartitionIndex.spill)                 isSpillChunkPut (condition `size(e) < :n`)
 *     DynamoDB UpdateItem     the head trim (PartitionIndex.dropHeadEntries)           isHeadTrim (`REMOVE e[i], …`)
 *     DynamoDB UpdateItem     producer-state trim (ProducerSequences.trim)             isProducerTrim (`REMOVE #r0, …`)
 *     DynamoDB UpdateItem     lease release (LeaseStore.release)                       isLeaseRelease (`SET expiresAt = :zero`)
 *   maintenance (src/maintenance/*.ts via runMaintenance)
 *     DynamoDB UpdateItem     lease acquire, lease release                             isLeaseAcquire, isLeaseRelease
 *     DynamoDB UpdateItem     the fence (PartitionIndex.fence)                         isFence (`SET le = :e`)
 *     DynamoDB UpdateItem     retention's advanceLogStart                              isAdvanceLogStart (`SET lso = :o`)
 *     DynamoDB UpdateItem     head entries below the log start (dropHeadEntries)       isHeadTrim
 *     DynamoDB DeleteItem     chunks below the log start (PartitionIndex.deleteChunk)  isDeleteChunk (a log key with sk ≠ -1)
 *     DynamoDB PutItem        compaction's spill of the whole head (spill, keep 0)      isSpillChunkPut (+ its head trim: isHeadTrim)
 *     S3 PutObject            the merged / compacted object (rewriteChunks)            command PutObjectCommand, during maintenance
 *     DynamoDB PutItem        the chunk re-pointed at it (PartitionIndex.replaceChunk)  isReplaceChunk (condition `h = :old`)
 *     S3 DeleteObjects        the sweep (sweepTopicObjects → ObjectStore.deleteKeys)   command DeleteObjectsCommand
 *   direct uploads (src/api/uploads.ts)
 *     DynamoDB UpdateItem     the upload's commit (plain or idempotent)                isCommit
 *     S3 PutObject            the LogAppendTime-stamped copy of the upload             command PutObjectCommand, during a commit
 *   producer ids (src/producers/ProducerIds.ts, POST …/producers)
 *     DynamoDB UpdateItem     the id counter (allocate)                                isProducerIdCounter (`ADD n :one`)
 *     DynamoDB PutItem        the new id's epoch item (allocate)                       isProducerEpochPut (pk `~producers`)
 *     DynamoDB UpdateItem     a re-initialization's epoch bump (bumpEpoch)             isProducerEpochBump (`ADD epoch :one SET bumpedAt`)
 *
 * Every rule is scoped to the test's own topic (onTopic) so nothing else is hit.
 * Each write is faulted with 500, reset and timeout, after it applied: once
 * (`times: 1`, the SDK's retry then runs against the applied write), and on every
 * attempt for a short while (`forAWhile`, so the SDK gives up and the request fails
 * after the write applied, possibly several times). Then the faults are cleared
 * and the rules are checked:
 *   - every acknowledged (200) record is in the log exactly once, at its offset;
 *   - a plain request with an unknown outcome (503, no reply) is there at most once;
 *   - no client ever sees a 500 (or anything but 200 / 503);
 *   - offsets dense, the partition still appends, every partition reads from its
 *     log start to its high watermark without error;
 *   - leader work (spill, maintenance) is not left undone: the next turn does it;
 *   - after maintenance, the log reads back as before (retention: from the new log
 *     start; compaction: the latest value of each key), and S3 holds exactly the
 *     objects the index references.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { runMaintenance, type MaintenanceReport } from '../../src/maintenance/runMaintenance';
import type { MaintenanceLimits } from '../../src/maintenance/maintainPartition';
import { topicPrefix } from '../../src/log/ObjectStore';
import { placeEntries } from '../../src/log/indexEntry';
import { createHash } from 'node:crypto';
import { startTestStrand, createTopic, topicPath, partitionPath, cluster, type TestStrand } from '../support/localStrand';
import {
  injectFaults,
  isCommit,
  isPlainCommit,
  isIdempotentCommit,
  isLeaseAcquire,
  isLeaseRelease,
  isSpillChunkPut,
  isHeadTrim,
  isProducerTrim,
  isFence,
  isAdvanceLogStart,
  isDeleteChunk,
  isReplaceChunk,
  isProducerIdCounter,
  isProducerEpochPut,
  isProducerEpochBump,
  onTopic,
  both,
  forAWhile,
  type FaultInjector,
  type FaultRule,
} from './faultyClients';
import {
  PlainProducer,
  RetryingProducer,
  checkExactlyOnce,
  newCounters,
  readFromLogStart,
  request,
  unknownsRepeated,
  type Ack,
  type Attempted,
  type FetchedRecord,
  type PartitionLog,
} from './clients';

let strand: TestStrand;
let faults: FaultInjector;
beforeAll(async () => {
  // Quiet: every injected fault is logged as a warning by design.
  strand = await startTestStrand({ logger: new Logger({ serviceName: 'strand', logLevel: 'ERROR' }) });
  faults = injectFaults(strand.runtime.clients);
});
afterAll(() => strand.dispose());

const created: string[] = [];
afterEach(async () => {
  faults.clear();
  // Deleted so each maintenance pass walks only the topics of its own test.
  for (const name of created.splice(0)) await strand.http.delete(topicPath(name));
});

type AfterFault = '500' | 'reset' | 'timeout';
type Mode = 'once' | 'every attempt for a while';
const afterFaults: AfterFault[] = ['500', 'reset', 'timeout'];
const modes: Mode[] = ['once', 'every attempt for a while'];
/** Long enough to cover every SDK attempt of one call (3 attempts, backoff ≤ 50 + 100 ms). */
const windowMs = 300;
const variants = afterFaults.flatMap((fault) => modes.map((mode) => ({ fault, mode })));

type Match = (input: Record<string, unknown>) => boolean;
interface Write {
  name: string;
  service: 's3' | 'dynamodb';
  command: string | RegExp;
  match: Match;
}
const anything: Match = () => true;

/** The cross product of writes and variants, as test.each rows. */
const rows = (writes: Write[]) => writes.flatMap((w) => variants.map((v) => ({ ...v, write: w, label: `${w.name}: ${v.fault} after it applied, ${v.mode}` })));

/** Arms a fault after `write` (scoped by `scope`) and returns the rule, to read how often it fired. */
function arm(write: Write, fault: AfterFault, mode: Mode, scope: Match): FaultRule & { fired?: number } {
  const match = both(write.match, scope);
  return faults.add({
    service: write.service,
    command: write.command,
    match: mode === 'once' ? match : forAWhile(match, windowMs),
    fault,
    when: 'after',
    ...(mode === 'once' ? { times: 1 } : {}),
  });
}
const firedOf = (...rules: (FaultRule & { fired?: number })[]) => rules.reduce((n, r) => n + (r.fired ?? 0), 0);

let topicCount = 0;
async function newTopic(partitions: number, configs: Record<string, string> = {}): Promise<{ name: string; id: string }> {
  const name = `after-${++topicCount}`;
  await createTopic(strand.http, name, partitions, configs);
  created.push(name);
  const topic = await strand.runtime.engine.topics.get(name);
  return { name, id: topic.topicId };
}

async function logsOf(topic: string, partitions: number[]): Promise<Map<number, FetchedRecord[]>> {
  const out = new Map<number, FetchedRecord[]>();
  for (const p of partitions) out.set(p, (await readFromLogStart(strand.url, topic, p)).records.map((r) => ({ offset: r.offset, value: r.value ?? '' })));
  return out;
}

const exactlyOnce = { lost: [], duplicated: [], misplaced: [], gaps: 0 };

/** The partition takes another append, at its high watermark. */
async function expectAppends(topic: string, partition: number): Promise<void> {
  const before = (await strand.http.get(partitionPath(topic, partition))).json.high_watermark as number;
  const p = new PlainProducer(strand.url, topic);
  const ack = await p.send(partition, [{ value: `probe-${partition}-${before}`, key: 'probe', timestamp: Date.now() }]);
  expect({ status: p.unknown[0]?.status ?? p.unexpected[0]?.status ?? 200, baseOffset: ack?.baseOffset }).toEqual({ status: 200, baseOffset: before });
}

const headOf = (topicId: string, partition: number) => strand.runtime.engine.context.index.readHead(`${topicId}#${partition}`);

/**
 * Sends one batch at a time until the head gets shorter (a spill happened), at
 * most 24 (past two spill marks). True when it spilled.
 */
async function spillsAgain(topicId: string, partition: number, send: (i: number) => Promise<unknown>): Promise<boolean> {
  let length = (await headOf(topicId, partition)).entries.length;
  for (let i = 0; i < 24; i++) {
    await send(i);
    const now = (await headOf(topicId, partition)).entries.length;
    if (now <= length) return true;
    length = now;
  }
  return false;
}

// ---------------------------------------------------------------------------

describe('plain produce: a lost reply on its S3 PUT or its commit never duplicates a record', () => {
  const writes: Write[] = [
    { name: 'S3 PutObject of the produce', service: 's3', command: 'PutObjectCommand', match: anything },
    { name: 'the plain commit UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isPlainCommit },
  ];
  test.each(rows(writes))('$label: a 200 is in the log once at its offset, a 503 at most once, never a 500', async ({ write, fault, mode }) => {
    const topic = await newTopic(1);
    const producer = new PlainProducer(strand.url, topic.name);
    const rule = arm(write, fault, mode, onTopic(topic.id));
    for (let i = 0; i < 6; i++) await producer.send(0, [{ value: `v${i}` }]);
    faults.clear();
    expect(firedOf(rule)).toBeGreaterThan(0);
    await expectAppends(topic.name, 0);
    const logs = await logsOf(topic.name, [0]);
    expect(producer.unexpected).toEqual([]);
    if (mode === 'once') expect(producer.unknown).toEqual([]); // the SDK's one retry hides a single lost reply
    expect(checkExactlyOnce(producer.acks, logs)).toMatchObject(exactlyOnce);
    expect(unknownsRepeated(producer.unknown, logs)).toEqual([]);
  });
});

describe('idempotent produce: a lost reply on its S3 PUT or its commit leaves every record exactly once', () => {
  const writes: Write[] = [
    { name: 'S3 PutObject of the produce', service: 's3', command: 'PutObjectCommand', match: anything },
    { name: 'the idempotent commit UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isIdempotentCommit },
  ];
  test.each(rows(writes))('$label: a retrying idempotent producer ends with each record once, at its acknowledged offset', async ({ write, fault, mode }) => {
    const topic = await newTopic(1);
    const counters = newCounters();
    const producer = await RetryingProducer.create(strand.url, topic.name, counters);
    const rule = arm(write, fault, mode, onTopic(topic.id));
    for (let b = 0; b < 6; b++) await producer.send(0, [`b${b}r0`, `b${b}r1`]);
    faults.clear();
    expect(firedOf(rule)).toBeGreaterThan(0);
    await expectAppends(topic.name, 0);
    expect(counters.unexpected).toEqual([]);
    expect(producer.abandoned).toEqual([]);
    expect(checkExactlyOnce(producer.acks, await logsOf(topic.name, [0]))).toMatchObject({ ...exactlyOnce, acknowledged: 12 });
  });
});

describe('the spill (leader turn on the produce path): a lost reply on any of its writes loses nothing and leaves the partition spilling', () => {
  const writes: Write[] = [
    { name: 'the lease acquire UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isLeaseAcquire },
    { name: "the spill's chunk PutItem", service: 'dynamodb', command: /PutItem/, match: isSpillChunkPut },
    { name: 'the head trim UpdateItem (REMOVE e[i])', service: 'dynamodb', command: /UpdateItem/, match: isHeadTrim },
    { name: 'the producer-state trim UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isProducerTrim },
    { name: 'the lease release UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isLeaseRelease },
  ];
  test.each(rows(writes))(
    '$label: plain (partition 0) and idempotent (partition 1) records stay exactly once, and the next spill happens',
    async ({ write, fault, mode }) => {
      const topic = await newTopic(2);
      const plain = new PlainProducer(strand.url, topic.name);
      const counters = newCounters();
      const idempotent = await RetryingProducer.create(strand.url, topic.name, counters);
      // One rule per partition: each partition's first such write is hit.
      const rules = [arm(write, fault, mode, onTopic(topic.id, 0)), arm(write, fault, mode, onTopic(topic.id, 1))];
      // 16 appends each: the spill is due at head length 16.
      await Promise.all([
        (async () => {
          for (let i = 0; i < 16; i++) await plain.send(0, [{ value: `p${i}` }]);
        })(),
        (async () => {
          for (let i = 0; i < 16; i++) await idempotent.send(1, [`i${i}`]);
        })(),
      ]);
      faults.clear();
      expect(firedOf(...rules)).toBeGreaterThan(0);
      // The leader work is not left undone: the partition spills again at its next mark.
      const spilled = [
        await spillsAgain(topic.id, 0, (i) => plain.send(0, [{ value: `q${i}` }])),
        await spillsAgain(topic.id, 1, (i) => idempotent.send(1, [`j${i}`])),
      ];
      expect(spilled).toEqual([true, true]);
      expect(plain.unexpected).toEqual([]);
      expect(counters.unexpected).toEqual([]);
      expect(plain.unknown).toEqual([]); // a spill's failure is logged, never the append's
      expect(idempotent.abandoned).toEqual([]);
      const logs = await logsOf(topic.name, [0, 1]);
      expect(checkExactlyOnce([...plain.acks, ...idempotent.acks], logs)).toMatchObject(exactlyOnce);
      await expectAppends(topic.name, 0);
      await expectAppends(topic.name, 1);
    },
  );
});

describe('maintenance (retention, index cleanup, merge, compaction, sweep): a lost reply on any of its writes changes no record', () => {
  const limits: MaintenanceLimits = { mergeTargetBytes: 600, mergeObjectsMin: 2, rewriteBytesMax: 64 * 1024 * 1024 };
  const hour = 3_600_000;

  /**
   * The logs maintenance works on, each as small as makes its writes happen:
   *   retention   6 appends, 4 expired: the log start moves to 4, those 4 head entries are
   *               trimmed, their objects swept;
   *   chunks      2 partitions of 16 appends (a spill at 16 leaves chunk [0, 12) and 4 head
   *               entries): p0 has 14 expired (its chunk is deleted, 2 head entries trimmed),
   *               p1 has 4 (its chunk, 12 objects, is merged into one);
   *   compaction  8 keyed appends over 3 keys: the head is spilled whole, the chunk rewritten
   *               with the latest value of each key, the old objects swept.
   */
  type Scenario = 'retention' | 'chunks' | 'compaction';
  interface Plan {
    configs: Record<string, string>;
    /** Per partition: appends, how many of the first are expired, the log start expected after. */
    partitions: { appends: number; expired: number }[];
  }
  const plans: Record<Scenario, Plan> = {
    retention: { configs: { 'cleanup.policy': 'delete', 'retention.ms': String(hour) }, partitions: [{ appends: 6, expired: 4 }] },
    chunks: { configs: { 'cleanup.policy': 'delete', 'retention.ms': String(hour) }, partitions: [{ appends: 16, expired: 14 }, { appends: 16, expired: 4 }] },
    compaction: { configs: { 'cleanup.policy': 'compact' }, partitions: [{ appends: 8, expired: 0 }] },
  };

  const writes: (Write & { scenario: Scenario })[] = [
    { name: 'the lease acquire UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isLeaseAcquire, scenario: 'compaction' },
    { name: 'the fence UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isFence, scenario: 'compaction' },
    { name: "retention's advanceLogStart UpdateItem", service: 'dynamodb', command: /UpdateItem/, match: isAdvanceLogStart, scenario: 'retention' },
    { name: 'the head trim UpdateItem of entries below the log start', service: 'dynamodb', command: /UpdateItem/, match: isHeadTrim, scenario: 'retention' },
    { name: 'the deleteChunk DeleteItem', service: 'dynamodb', command: /DeleteItem/, match: isDeleteChunk, scenario: 'chunks' },
    { name: "compaction's spill chunk PutItem", service: 'dynamodb', command: /PutItem/, match: isSpillChunkPut, scenario: 'compaction' },
    { name: "compaction's spill head trim UpdateItem", service: 'dynamodb', command: /UpdateItem/, match: isHeadTrim, scenario: 'compaction' },
    { name: 'S3 PutObject of the merged object', service: 's3', command: 'PutObjectCommand', match: anything, scenario: 'chunks' },
    { name: 'the replaceChunk PutItem of a compaction', service: 'dynamodb', command: /PutItem/, match: isReplaceChunk, scenario: 'compaction' },
    { name: "the sweep's S3 DeleteObjects", service: 's3', command: 'DeleteObjectsCommand', match: anything, scenario: 'retention' },
    { name: 'the lease release UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isLeaseRelease, scenario: 'compaction' },
  ];

  /** Problems a pass reports for a topic: errors and partitions it skipped. */
  function problems(report: MaintenanceReport, name: string): string[] {
    const out = report.errors.filter((e) => e.startsWith(`${name}/`) || e.startsWith(`${name} `));
    for (const t of report.topics) {
      if (t.topic !== name) continue;
      t.partitions.forEach((p, i) => {
        if (p === 'skipped') out.push(`${t.topic}/${i} skipped`);
      });
    }
    return out;
  }

  /** Per partition: S3 objects no live index entry references, referenced objects missing from S3, and the objects its chunks reference. */
  async function objectsOf(topicId: string, partitions: number) {
    const ctx = strand.runtime.engine.context;
    const prefix = topicPrefix(topicId);
    const listed = new Set((await ctx.objects.list(prefix)).map((k) => k.slice(prefix.length)));
    const referenced = new Set<string>();
    const chunkObjects: number[] = [];
    for (let p = 0; p < partitions; p++) {
      const pk = `${topicId}#${p}`;
      const head = await ctx.index.readHead(pk);
      const live = (e: { baseOffset: number; span: number }) => e.baseOffset + e.span > head.logStartOffset;
      for (const e of placeEntries(head.base, head.entries)) if (live(e)) referenced.add(e.objectId);
      const inChunks = new Set<string>();
      for (const c of await ctx.index.chunks(pk)) {
        for (const e of placeEntries(c.base, c.entries)) {
          if (!live(e)) continue;
          referenced.add(e.objectId);
          inChunks.add(e.objectId);
        }
      }
      chunkObjects.push(inChunks.size);
    }
    return { unreferenced: [...listed].filter((k) => !referenced.has(k)), missing: [...referenced].filter((k) => !listed.has(k)), chunkObjects };
  }

  const latestPerKey = (log: PartitionLog) => {
    const m = new Map<string, { offset: number; value: string | null }>();
    for (const r of log.records) if (r.key !== null) m.set(r.key, { offset: r.offset, value: r.value });
    return [...m.entries()].sort((a, b) => a[1].offset - b[1].offset).map(([key, v]) => ({ offset: v.offset, key, value: v.value }));
  };
  const rec = (r: { offset: number; key: string | null; value: string | null }) => ({ offset: r.offset, key: r.key, value: r.value });
  const readAll = (name: string, n: number) => Promise.all(Array.from({ length: n }, (_, p) => readFromLogStart(strand.url, name, p)));

  test.each(rows(writes))(
    '$label: the log reads back as before (retention from its new start, compaction the latest per key), and nothing is left undone',
    async ({ write, fault, mode }) => {
      const scenario = (write as (typeof writes)[number]).scenario;
      const plan = plans[scenario];
      const topic = await newTopic(plan.partitions.length, plan.configs);
      const producer = new PlainProducer(strand.url, topic.name);
      const now = Date.now();
      await Promise.all(
        plan.partitions.map(async ({ appends, expired }, p) => {
          for (let i = 0; i < appends; i++) {
            await producer.send(p, [{ value: `p${p}v${i}`, key: `k${i % 3}`, timestamp: i < expired ? now - 2 * hour : now }]);
          }
        }),
      );
      expect(producer.acks.length).toBe(plan.partitions.reduce((n, p) => n + p.appends, 0));
      const before = await readAll(topic.name, plan.partitions.length);

      const rule = arm(write, fault, mode, onTopic(topic.id));
      const first = await runMaintenance(strand.runtime, { orphanGraceMs: 0, limits });
      faults.clear();
      expect(firedOf(rule)).toBeGreaterThan(0);
      // A single lost reply is retried or resolved: the pass does all its work, as without the fault.
      if (mode === 'once') expect(problems(first, topic.name)).toEqual([]);
      // And the next pass maintains every partition: nothing left behind (a lease, a fence) blocks it.
      const second = await runMaintenance(strand.runtime, { orphanGraceMs: 0, limits });
      expect(problems(second, topic.name)).toEqual([]);

      const after = await readAll(topic.name, plan.partitions.length);
      plan.partitions.forEach((_, p) => {
        const [b, a] = [before[p]!, after[p]!];
        if (scenario === 'compaction') {
          // Exactly the latest value of each key, at its offset.
          expect({ partition: p, hw: a.highWatermark, records: a.records.map(rec) }).toEqual({ partition: p, hw: b.highWatermark, records: latestPerKey(b) });
        } else {
          // The log start moved past exactly the expired appends; everything above it is unchanged.
          expect({ partition: p, logStart: a.logStartOffset, hw: a.highWatermark, records: a.records.map(rec) }).toEqual({
            partition: p,
            logStart: plan.partitions[p]!.expired,
            hw: b.highWatermark,
            records: b.records.filter((r) => r.offset >= plan.partitions[p]!.expired).map(rec),
          });
        }
      });
      // The sweep leaves exactly the referenced objects (grace 0: nothing is in flight); a merge left one object.
      const objects = await objectsOf(topic.id, plan.partitions.length);
      expect({ unreferenced: objects.unreferenced, missing: objects.missing }).toEqual({ unreferenced: [], missing: [] });
      if (scenario === 'chunks') expect(objects.chunkObjects[1]).toBe(1);
      for (let p = 0; p < plan.partitions.length; p++) await expectAppends(topic.name, p);
    },
  );
});

describe('direct uploads: a lost reply on the commit or its S3 PUT never commits an upload twice', () => {
  const writes: Write[] = [
    { name: "the upload's commit UpdateItem", service: 'dynamodb', command: /UpdateItem/, match: isCommit },
    { name: 'S3 PutObject of the LogAppendTime copy', service: 's3', command: 'PutObjectCommand', match: anything },
  ];
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
  const kinds = ['plain', 'idempotent'] as const;
  const uploadRows = rows(writes).flatMap((r) => kinds.map((kind) => ({ ...r, kind, label: `${r.label}, ${kind} batches` })));

  test.each(uploadRows)('$label: a commit retried with the same upload id appends it once, at the acknowledged offsets', async ({ write, fault, mode, kind }) => {
    const topic = await newTopic(1, { 'message.timestamp.type': 'LogAppendTime' });
    let producer: { producer_id: number; producer_epoch: number } | undefined;
    if (kind === 'idempotent') producer = (await strand.http.post(`${cluster}/producers`, {})).json;
    const acks: Ack[] = [];
    const unexpected: Attempted[] = [];
    let sequence = 0;
    const rule = arm(write, fault, mode, onTopic(topic.id));
    for (let u = 0; u < 4; u++) {
      const values = [`u${u}r0`, `u${u}r1`];
      const body = encodeRecordBatch(
        values.map((v, i) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: 1_700_000_000_000 + i })),
        producer ? { producerId: producer.producer_id, producerEpoch: producer.producer_epoch, baseSequence: sequence } : {},
      );
      const created = await strand.http.post(`${partitionPath(topic.name, 0)}/uploads`, { size: body.length, sha256: sha256(body) });
      expect(created.status).toBe(201);
      expect((await fetch(created.json.url, { method: 'PUT', headers: created.json.headers, body })).status).toBe(200);
      // The client retries the commit of the same upload on a 503 or no reply, as the SDK does.
      const seen: (number | 'network')[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        const res = await request(`${strand.url}${partitionPath(topic.name, 0)}/uploads/${created.json.upload_id}/commit`, { method: 'POST' }, 5000);
        seen.push(res === 'network' ? 'network' : res.status);
        if (res !== 'network' && res.status === 200) {
          acks.push({ partition: 0, baseOffset: res.json.base_offset, lastOffset: res.json.last_offset, values });
          sequence += values.length;
          break;
        }
        if (res !== 'network' && res.status !== 503) {
          unexpected.push({ status: res.status, body: { ...res.json, attempts: seen.join(' ') } });
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    faults.clear();
    expect(firedOf(rule)).toBeGreaterThan(0);
    expect(unexpected).toEqual([]);
    expect(checkExactlyOnce(acks, await logsOf(topic.name, [0]))).toMatchObject({ ...exactlyOnce, acknowledged: 8 });
    await expectAppends(topic.name, 0);
  });
});

describe('producer ids: a lost reply on an id allocation or an epoch bump hands out a working id and epoch', () => {
  const allocWrites: Write[] = [
    { name: 'the id counter UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isProducerIdCounter },
    { name: "the new id's epoch PutItem", service: 'dynamodb', command: /PutItem/, match: isProducerEpochPut },
  ];
  const bumpWrites: Write[] = [{ name: 'the epoch bump UpdateItem', service: 'dynamodb', command: /UpdateItem/, match: isProducerEpochBump }];

  /** POST …/producers until 201 (503 and no reply are retried): the reply, and every status seen. */
  async function initProducer(body: Record<string, unknown>): Promise<{ json: { producer_id: number; producer_epoch: number } | undefined; statuses: (number | 'network')[] }> {
    const statuses: (number | 'network')[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const res = await request(`${strand.url}${cluster}/producers`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, 5000);
      statuses.push(res === 'network' ? 'network' : res.status);
      if (res !== 'network' && res.status === 201) return { json: res.json, statuses };
      if (res !== 'network' && res.status !== 503) return { json: undefined, statuses };
      await new Promise((r) => setTimeout(r, 100));
    }
    return { json: undefined, statuses };
  }

  /** A batch at sequence 0 of (id, epoch) is appended, not refused. */
  async function producesWith(topic: string, id: number, epoch: number): Promise<void> {
    const counters = newCounters();
    const p = new RetryingProducer(strand.url, topic, id, epoch, counters);
    const ack = await p.send(0, [`from-${id}-${epoch}`]);
    expect({ ack: ack !== undefined, unexpected: counters.unexpected }).toEqual({ ack: true, unexpected: [] });
  }

  test.each(rows(allocWrites))('$label: every id handed out is new and produces', async ({ write, fault, mode }) => {
    const topic = await newTopic(1);
    const earlier = await initProducer({});
    const rule = arm(write, fault, mode, anything);
    const fresh = await initProducer({});
    faults.clear();
    expect(firedOf(rule)).toBeGreaterThan(0);
    expect(fresh.statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    expect(fresh.json).toBeDefined();
    expect(fresh.json!.producer_id).toBeGreaterThan(earlier.json!.producer_id);
    expect(fresh.json!.producer_epoch).toBe(0);
    await producesWith(topic.name, fresh.json!.producer_id, fresh.json!.producer_epoch);
  });

  test.each(rows(bumpWrites))('$label: a re-initialization is not fenced by its own applied bump; the epoch it gets produces', async ({ write, fault, mode }) => {
    const topic = await newTopic(1);
    const first = await initProducer({});
    const rule = arm(write, fault, mode, anything);
    const bumped = await initProducer({ producer_id: first.json!.producer_id, producer_epoch: first.json!.producer_epoch });
    faults.clear();
    expect(firedOf(rule)).toBeGreaterThan(0);
    expect(bumped.statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    expect(bumped.json).toMatchObject({ producer_id: first.json!.producer_id });
    expect(bumped.json!.producer_epoch).toBeGreaterThan(first.json!.producer_epoch);
    await producesWith(topic.name, bumped.json!.producer_id, bumped.json!.producer_epoch);
  });
});
