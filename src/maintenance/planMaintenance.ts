/**
 * The maintenance planner: which partitions need a turn, found without a
 * storage request for a partition nothing touched.
 *
 * Per topic (the catalog is read once for all of them):
 *   1. its ledger (one Query, src/maintenance/ledger.ts);
 *   2. one S3 LIST of the objects written since its last listing (object ids
 *      start with their write time, so StartAfter skips everything older):
 *      nothing new means no partition of the topic was appended to;
 *   3. only then, or for partitions the ledger does not know (a new topic,
 *      grown partitions, changed configs), the partition heads, 100 to a
 *      BatchGetItem: a partition whose high watermark or log start differs from
 *      its ledger mark changed. An empty partition is recorded without a turn.
 * A partition is also due when its mark's due time passed (retention by time,
 * tombstones), or when it is in the ledger's `dirty` set (DeleteRecords, work
 * handed out and not yet done).
 *
 * Why listing since "last listing − listingSlackMs": object ids carry the time
 * the producer took before its PUT, and a PUT lands up to a request's lifetime
 * later. A listing that started after a newer key could otherwise miss an
 * older key landing after it, and the append it belongs to.
 *
 * An idle topic costs one Query and one LIST per pass, whatever its partition
 * count: zero requests per idle partition.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../runtime';
import { objectTime, topicPrefix } from '../log/ObjectStore';
import { headSortKey } from '../log/PartitionIndex';
import { partitionKey, type Topic } from '../log/TopicCatalog';
import { mapBounded } from '../mapBounded';
import { configsHash, LedgerStore, type Ledger, type PartitionMark } from './ledger';
import { releasedGraceMs } from './sweepObjects';

/** How far before the last listing the next one starts (see above): longer than any PUT takes to land. */
export const listingSlackMs = releasedGraceMs;
/** Heads one BatchGetItem reads (DynamoDB's limit). */
const headsPerBatchGetMax = 100;
/** Attempts at a BatchGetItem's unprocessed keys before the topic is left for the next pass. */
const batchGetAttemptsMax = 5;
/** Topics planned at once. */
const topicsInFlightMax = 4;

export interface TopicWork {
  topic: string;
  topicId: string;
  /** Partitions that need a turn, ascending. */
  partitions: number[];
}

export interface TopicSweep {
  topic: string;
  topicId: string;
  /** The ledger's sweep time the planner saw (the sweep's record is conditioned on it). */
  seen: number | undefined;
}

export interface MaintenancePlan {
  work: TopicWork[];
  sweeps: TopicSweep[];
  /** Every topic's ledger sweep time as planned (for sweeps the workers' releases call for). */
  sweepAt: Map<string, number | undefined>;
  topics: number;
  /** Topics not planned before the deadline: the pass is incomplete. */
  topicsLeft: number;
  /** Partitions with a turn because they changed (appends, DeleteRecords, configs, new) or were handed out before. */
  partitionsChanged: number;
  /** Partitions with a turn because their due time passed. */
  partitionsDue: number;
  /** Partitions in the catalog. */
  partitions: number;
  errors: string[];
}

export interface PlanOptions {
  /** Every partition gets a turn, whatever the ledger says (tests, a first run after an upgrade). */
  full?: boolean;
  /** Age an unreferenced object must reach before the sweep deletes it. */
  orphanGraceMs: number;
  /** Stop planning topics at this time (ms); the rest wait for the next pass. */
  deadline?: number;
}

export async function planMaintenance(runtime: Runtime, options: PlanOptions): Promise<MaintenancePlan> {
  const engine = runtime.engine;
  const clock = engine.context.clock;
  const ledgers = new LedgerStore(runtime.clients.ddb, runtime.config.tables.log);
  const topics = await engine.topics.list();
  const plan: MaintenancePlan = {
    work: [],
    sweeps: [],
    sweepAt: new Map(),
    topics: topics.length,
    topicsLeft: 0,
    partitionsChanged: 0,
    partitionsDue: 0,
    partitions: topics.reduce((n, t) => n + t.partitionsCount, 0),
    errors: [],
  };
  // Start at a different topic each pass, so a pass cut by its deadline does not always leave the same ones out.
  const first = topics.length > 0 ? Math.floor(Math.random() * topics.length) : 0;
  const ordered = [...topics.slice(first), ...topics.slice(0, first)];
  await mapBounded(ordered, topicsInFlightMax, async (topic) => {
    if (options.deadline !== undefined && clock.now() >= options.deadline) {
      plan.topicsLeft++;
      return;
    }
    try {
      await planTopic(runtime, ledgers, topic, options, plan);
    } catch (err) {
      plan.errors.push(`${topic.name} plan: ${String(err)}`);
    }
  });
  return plan;
}

async function planTopic(runtime: Runtime, ledgers: LedgerStore, topic: Topic, options: PlanOptions, plan: MaintenancePlan): Promise<void> {
  const now = runtime.engine.context.clock.now();
  const ledger = await ledgers.read(topic.topicId);
  const configs = configsHash(topic.config);
  const todo = new Set<number>();
  let changed = 0;
  let due = 0;
  // Partitions whose heads must be read: unknown to the ledger, or configs changed.
  const unknown: number[] = [];
  for (let p = 0; p < topic.partitionsCount; p++) {
    const mark = ledger.partitions.get(p);
    if (options.full) todo.add(p);
    else if (!mark || mark.configs !== configs) unknown.push(p);
    else if (mark.dueAt > 0 && mark.dueAt <= now) {
      todo.add(p);
      due++;
    }
  }
  for (const p of ledger.dirty) if (p < topic.partitionsCount && !todo.has(p)) todo.add(p);

  const listed = await listSince(runtime, topic.topicId, ledger.exists ? ledger.listedAt - listingSlackMs : 0);
  let sweepAt = ledger.sweepAt;
  // Objects not yet counted for the sweep's schedule (lt may stay behind; ls moves with every listing that saw objects).
  const unscheduled = listed.filter((id) => !ledger.exists || objectTime(id) > ledger.sweepListedAt - listingSlackMs);
  if (unscheduled.length > 0) {
    // Any of them may be an orphan (a produce that crashed before its commit): the sweep is due once the oldest is past the grace period.
    const candidate = Math.min(...unscheduled.map(objectTime)) + options.orphanGraceMs;
    if (sweepAt === undefined || candidate < sweepAt) {
      await ledgers.sweepNoLaterThan(topic.topicId, candidate);
      sweepAt = candidate;
    }
  }
  plan.sweepAt.set(topic.topicId, sweepAt);
  if (sweepAt !== undefined && sweepAt <= now) plan.sweeps.push({ topic: topic.name, topicId: topic.topicId, seen: sweepAt });

  // New objects: some partition was appended to. Read the heads (all of them:
  // an object does not say which partitions it holds) and compare.
  const toRead = listed.length > 0 && !options.full ? Array.from({ length: topic.partitionsCount }, (_, p) => p).filter((p) => !todo.has(p)) : unknown;
  const emptyNew: { partition: number; mark: PartitionMark }[] = [];
  if (toRead.length > 0) {
    const heads = await readHeads(runtime, topic, toRead);
    for (const p of toRead) {
      const head = heads.get(p) ?? { highWatermark: 0, logStartOffset: 0 };
      const mark = ledger.partitions.get(p);
      if (mark && mark.configs === configs && mark.highWatermark === head.highWatermark && mark.logStartOffset === head.logStartOffset) continue;
      if (head.highWatermark === 0 && (!mark || mark.highWatermark === 0)) {
        // Nothing was ever appended: nothing to maintain, only to remember.
        emptyNew.push({ partition: p, mark: { highWatermark: 0, logStartOffset: 0, dueAt: 0, configs } });
        continue;
      }
      todo.add(p);
    }
  }
  if (emptyNew.length > 0) await ledgers.recordTurns(topic.topicId, emptyNew);
  const handedOut = [...todo].filter((p) => !ledger.dirty.has(p));
  changed = todo.size - due;
  // The partitions handed out go into `dirty` before any worker sees them: a lost turn is handed out again next pass.
  // The listing watermark moves only when nothing is outstanding: every object it passes is then in the marks.
  const settled = todo.size === 0 && ledger.dirty.size === 0;
  await ledgers.recordPlan(topic.topicId, {
    listedAt: (listed.length > 0 || !ledger.exists) && settled ? now : undefined,
    sweepListedAt: listed.length > 0 ? now : undefined,
    handedOut,
  });
  plan.partitionsChanged += changed;
  plan.partitionsDue += due;
  if (todo.size > 0) plan.work.push({ topic: topic.name, topicId: topic.topicId, partitions: [...todo].sort((a, b) => a - b) });
}

/** Keys of the topic's objects written after `since` (ms), one page (enough to know whether there are any, and the oldest). */
async function listSince(runtime: Runtime, topicId: string, since: number): Promise<string[]> {
  const prefix = topicPrefix(topicId);
  const out = await runtime.clients.s3.send(
    new ListObjectsV2Command({
      Bucket: runtime.config.bucket,
      Prefix: prefix,
      // Ids are 9 base-36 characters of time, then random ones: this sorts before every id of a later millisecond.
      StartAfter: prefix + Math.max(0, since).toString(36).padStart(9, '0'),
      MaxKeys: 1000,
    }),
  );
  return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length));
}

async function readHeads(runtime: Runtime, topic: Topic, partitions: number[]): Promise<Map<number, { highWatermark: number; logStartOffset: number }>> {
  const heads = new Map<number, { highWatermark: number; logStartOffset: number }>();
  const table = runtime.config.tables.log;
  const batches: number[][] = [];
  for (let i = 0; i < partitions.length; i += headsPerBatchGetMax) batches.push(partitions.slice(i, i + headsPerBatchGetMax));
  await mapBounded(batches, 4, async (batch) => {
    let keys: Record<string, unknown>[] = batch.map((p) => ({ pk: partitionKey(topic, p), sk: headSortKey }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt >= batchGetAttemptsMax) throw new Error(`${keys.length} partition heads unread after ${batchGetAttemptsMax} attempts`);
      const out = await runtime.clients.ddb.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'pk, hw, lso' } } }),
      );
      for (const item of out.Responses?.[table] ?? []) {
        const pk = String(item.pk);
        heads.set(Number(pk.slice(pk.lastIndexOf('#') + 1)), { highWatermark: Number(item.hw ?? 0), logStartOffset: Number(item.lso ?? 0) });
      }
      keys = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
      if (keys.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  });
  return heads;
}

export type { Ledger };
