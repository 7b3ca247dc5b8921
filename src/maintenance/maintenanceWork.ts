/**
 * A maintenance worker: the partition turns and topic sweeps the planner
 * handed out (planMaintenance.ts), bounded by a deadline. On AWS it runs in
 * invocations of the maintenance function of its own (functions/maintenance.ts);
 * locally runMaintenance runs the same code in-process.
 *
 * Overlap: two workers (a late one and the next pass's) may be handed the same
 * partition. The turn runs as the partition's leader (asPartitionLeader): one
 * of them gets the lease, the other skips it, and a skipped partition stays in
 * the ledger's `dirty` set, so it is handed out again if the winner fails.
 */
import type { Runtime } from '../runtime';
import { mapBounded } from '../mapBounded';
import { objectTime } from '../log/ObjectStore';
import { maintainPartition, defaultMaintenanceLimits, type MaintenanceLimits, type PartitionReport } from './maintainPartition';
import { orphanGraceMsDefault, sweepTopic } from './sweepObjects';
import { configsHash, LedgerStore } from './ledger';
import type { TopicSweep, TopicWork } from './planMaintenance';

/** Partitions maintained at once by one worker. */
export const partitionsInFlightMax = 4;

export interface WorkOptions {
  limits?: MaintenanceLimits;
  orphanGraceMs?: number;
  /** Start no turn or sweep after this time (ms): what is left waits for the next pass. */
  deadline?: number;
}

export interface TopicWorkResult {
  topic: string;
  topicId: string;
  partitions: (PartitionReport | 'skipped')[];
  /** Objects the turns stopped referencing. */
  released: string[];
}

export interface WorkResult {
  topics: TopicWorkResult[];
  maintained: number;
  failures: number;
  /** Turns not started before the deadline. */
  left: number;
  errors: string[];
}

/**
 * The turns of `work`. `scheduleSweeps`: record in the ledger when the
 * released objects' sweep is due (a worker that does not sweep them itself).
 */
export async function maintainTopics(runtime: Runtime, work: TopicWork[], options: WorkOptions & { scheduleSweeps?: boolean } = {}): Promise<WorkResult> {
  const engine = runtime.engine;
  const ctx = engine.context;
  const ledgers = new LedgerStore(runtime.clients.ddb, runtime.config.tables.log);
  const graceMs = options.orphanGraceMs ?? orphanGraceMsDefault;
  const result: WorkResult = { topics: [], maintained: 0, failures: 0, left: 0, errors: [] };
  for (const item of work) {
    if (options.deadline !== undefined && ctx.clock.now() >= options.deadline) {
      result.left += item.partitions.length;
      continue;
    }
    const topic = await engine.topics.find(item.topic);
    // Deleted, or deleted and created again: the new topic is planned on its own.
    if (!topic || topic.topicId !== item.topicId) continue;
    const configs = configsHash(topic.config);
    const turns: { partition: number; mark: { highWatermark: number; logStartOffset: number; dueAt: number; configs: string } }[] = [];
    const partitions = await mapBounded(item.partitions.filter((p) => p < topic.partitionsCount), partitionsInFlightMax, async (p) => {
      if (options.deadline !== undefined && ctx.clock.now() >= options.deadline) {
        result.left++;
        return 'skipped' as const;
      }
      try {
        const report = await maintainPartition(ctx, topic, p, options.limits ?? defaultMaintenanceLimits);
        // Undefined: another leader holds the partition (an overlapping pass); it stays dirty.
        if (!report) return 'skipped' as const;
        result.maintained++;
        // A turn that left work undone is not recorded: the partition stays dirty, and the next pass gives another.
        if (!report.incomplete) turns.push({ partition: p, mark: { highWatermark: report.highWatermark, logStartOffset: report.logStartOffset, dueAt: report.nextDueAt ?? 0, configs } });
        return report;
      } catch (err) {
        result.failures++;
        result.errors.push(`${topic.name}/${p}: ${String(err)}`);
        return 'skipped' as const;
      }
    });
    const released = partitions.flatMap((r) => (r === 'skipped' ? [] : r.released));
    try {
      await ledgers.recordTurns(topic.topicId, turns);
      if (options.scheduleSweeps && released.length > 0) {
        await ledgers.sweepNoLaterThan(topic.topicId, Math.min(...released.map(objectTime)) + graceMs);
      }
    } catch (err) {
      result.errors.push(`${topic.name} ledger: ${String(err)}`);
    }
    result.topics.push({ topic: topic.name, topicId: topic.topicId, partitions, released });
  }
  return result;
}

/**
 * One topic's object sweep, and its next due time in the ledger. `released`:
 * objects this process's turns just released (they need a shorter grace).
 */
export async function sweepTopicOf(
  runtime: Runtime,
  sweep: TopicSweep,
  options: { orphanGraceMs?: number; released?: ReadonlySet<string> } = {},
): Promise<number> {
  const engine = runtime.engine;
  const topic = await engine.topics.find(sweep.topic);
  if (!topic || topic.topicId !== sweep.topicId) return 0;
  const ledgers = new LedgerStore(runtime.clients.ddb, runtime.config.tables.log);
  const { deleted, nextDueAt } = await sweepTopic(engine.context, topic, options.orphanGraceMs ?? orphanGraceMsDefault, options.released, () =>
    engine.topics.find(topic.name),
  );
  await ledgers.sweepDone(topic.topicId, sweep.seen, nextDueAt);
  return deleted;
}
