/**
 * A maintenance pass over the whole cluster: every partition's leader turn
 * (retention, index cleanup, compaction or merging), then the object sweep.
 * Run by the maintenance Lambda on an EventBridge schedule, and by the local
 * runtime on a timer (STRAND_MAINTENANCE_INTERVAL_MS).
 */
import type { Runtime } from '../runtime';
import { groupsOf } from '../groups/GroupService';
import { mapBounded } from '../mapBounded';
import { maintainPartition, defaultMaintenanceLimits, type MaintenanceLimits, type PartitionReport } from './maintainPartition';
import { orphanGraceMsDefault, sweepDeletedTopics, sweepTopicObjects } from './sweepObjects';
import { publishConsumerLag } from '../metrics/emf';

/** Partitions maintained at once. */
const partitionsInFlightMax = 4;

export interface MaintenanceOptions {
  limits?: MaintenanceLimits;
  /** Age an unreferenced object must reach before it is deleted. */
  orphanGraceMs?: number;
}

export interface MaintenanceReport {
  topics: { topic: string; partitions: (PartitionReport | 'skipped')[]; objectsDeleted: number }[];
  deletedTopicObjects: number;
  /** Group members whose sessions expired, removed so their partitions move on. */
  expiredMembers: number;
  errors: string[];
}

export async function runMaintenance(runtime: Runtime, options: MaintenanceOptions = {}): Promise<MaintenanceReport> {
  const engine = runtime.engine;
  const ctx = engine.context;
  const graceMs = options.orphanGraceMs ?? orphanGraceMsDefault;
  const report: MaintenanceReport = { topics: [], deletedTopicObjects: 0, expiredMembers: 0, errors: [] };
  const topics = await engine.topics.list();
  for (const topic of topics) {
    const ids = Array.from({ length: topic.partitionsCount }, (_, p) => p);
    const partitions = await mapBounded(ids, partitionsInFlightMax, async (p) => {
      try {
        return (await maintainPartition(ctx, topic, p, options.limits ?? defaultMaintenanceLimits)) ?? ('skipped' as const);
      } catch (err) {
        report.errors.push(`${topic.name}/${p}: ${String(err)}`);
        return 'skipped' as const;
      }
    });
    let objectsDeleted = 0;
    try {
      const released = new Set(partitions.flatMap((r) => (r === 'skipped' ? [] : r.released)));
      objectsDeleted = await sweepTopicObjects(ctx, topic, graceMs, released, () => engine.topics.find(topic.name));
    } catch (err) {
      report.errors.push(`${topic.name} sweep: ${String(err)}`);
    }
    report.topics.push({ topic: topic.name, partitions, objectsDeleted });
  }
  try {
    report.deletedTopicObjects = await sweepDeletedTopics(ctx, async () => new Set((await engine.topics.list()).map((t) => t.topicId)), graceMs);
  } catch (err) {
    report.errors.push(`deleted topics sweep: ${String(err)}`);
  }
  try {
    report.expiredMembers = await groupsOf(runtime).expireAll();
  } catch (err) {
    report.errors.push(`group expiry: ${String(err)}`);
  }
  // Consumer lag as CloudWatch metrics (in Lambda only; src/metrics/emf.ts): the pass already runs on a schedule.
  try {
    await publishConsumerLag(runtime);
  } catch (err) {
    report.errors.push(`consumer lag: ${String(err)}`);
  }
  for (const e of report.errors) ctx.logger.warn('maintenance step failed', { error: e });
  return report;
}
