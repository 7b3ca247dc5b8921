/**
 * A maintenance pass in one process: plan (planMaintenance.ts: the partitions
 * that changed or fell due, the topics whose sweep is due), the turns and the
 * sweeps (maintenanceWork.ts), then the cluster-wide steps (deleted topics'
 * objects, expired group members, consumer lag). Run by the local runtime on a
 * timer (STRAND_MAINTENANCE_INTERVAL_MS), the tests and the benches. On AWS
 * the maintenance function plans and hands the work to invocations of its own
 * (functions/maintenance.ts); the code of each step is the same.
 */
import type { Runtime } from '../runtime';
import { groupsOf } from '../groups/GroupService';
import type { MaintenanceLimits, PartitionReport } from './maintainPartition';
import { orphanGraceMsDefault, sweepDeletedTopics } from './sweepObjects';
import { planMaintenance, type MaintenancePlan } from './planMaintenance';
import { maintainTopics, sweepTopicOf } from './maintenanceWork';
import { publishConsumerLag } from '../metrics/lagMetrics';

export interface MaintenanceOptions {
  limits?: MaintenanceLimits;
  /** Age an unreferenced object must reach before it is deleted. */
  orphanGraceMs?: number;
  /** Every partition gets a turn, whatever changed (the pass before the ledger existed). @default false */
  full?: boolean;
  /** Start nothing new after this time (ms). @default none */
  deadline?: number;
}

export interface MaintenanceReport {
  /** The topics with work this pass: partitions given a turn (others were untouched and cost nothing). */
  topics: { topic: string; partitions: (PartitionReport | 'skipped')[]; objectsDeleted: number }[];
  deletedTopicObjects: number;
  /** Group members whose sessions expired, removed so their partitions move on. */
  expiredMembers: number;
  /** What the planner found. */
  plan: Pick<MaintenancePlan, 'topics' | 'topicsLeft' | 'partitions' | 'partitionsChanged' | 'partitionsDue'> & { sweeps: number };
  /** Turns completed, failed, and not started before the deadline. */
  maintained: number;
  failures: number;
  left: number;
  errors: string[];
}

export async function runMaintenance(runtime: Runtime, options: MaintenanceOptions = {}): Promise<MaintenanceReport> {
  const engine = runtime.engine;
  const ctx = engine.context;
  const graceMs = options.orphanGraceMs ?? orphanGraceMsDefault;
  const plan = await planMaintenance(runtime, { full: options.full, orphanGraceMs: graceMs, deadline: options.deadline });
  const work = await maintainTopics(runtime, plan.work, { limits: options.limits, orphanGraceMs: graceMs, deadline: options.deadline });
  const report: MaintenanceReport = {
    topics: [],
    deletedTopicObjects: 0,
    expiredMembers: 0,
    plan: { topics: plan.topics, topicsLeft: plan.topicsLeft, partitions: plan.partitions, partitionsChanged: plan.partitionsChanged, partitionsDue: plan.partitionsDue, sweeps: plan.sweeps.length },
    maintained: work.maintained,
    failures: work.failures,
    left: work.left,
    errors: [...plan.errors, ...work.errors],
  };
  // Sweep the topics whose sweep is due, and those whose turns released objects just now (with their shorter grace).
  const sweeps = new Map(plan.sweeps.map((s) => [s.topicId, s]));
  for (const t of work.topics) {
    if (t.released.length > 0 && !sweeps.has(t.topicId)) sweeps.set(t.topicId, { topic: t.topic, topicId: t.topicId, seen: plan.sweepAt.get(t.topicId) });
  }
  const released = new Set(work.topics.flatMap((t) => t.released));
  const deletedBy = new Map<string, number>();
  for (const sweep of sweeps.values()) {
    if (options.deadline !== undefined && ctx.clock.now() >= options.deadline) break;
    try {
      deletedBy.set(sweep.topicId, await sweepTopicOf(runtime, sweep, { orphanGraceMs: graceMs, released }));
    } catch (err) {
      report.errors.push(`${sweep.topic} sweep: ${String(err)}`);
    }
  }
  for (const t of work.topics) report.topics.push({ topic: t.topic, partitions: t.partitions, objectsDeleted: deletedBy.get(t.topicId) ?? 0 });
  for (const s of sweeps.values()) {
    if (!work.topics.some((t) => t.topicId === s.topicId)) report.topics.push({ topic: s.topic, partitions: [], objectsDeleted: deletedBy.get(s.topicId) ?? 0 });
  }
  await runClusterSteps(runtime, graceMs, report);
  for (const e of report.errors) ctx.logger.warn('maintenance step failed', { error: e });
  return report;
}

/** The steps that are the cluster's, not a partition's: run once per pass, by the planner on AWS. */
export async function runClusterSteps(runtime: Runtime, graceMs: number, report: Pick<MaintenanceReport, 'deletedTopicObjects' | 'expiredMembers' | 'errors'>): Promise<void> {
  const engine = runtime.engine;
  try {
    report.deletedTopicObjects = await sweepDeletedTopics(engine.context, async () => new Set((await engine.topics.list()).map((t) => t.topicId)), graceMs);
  } catch (err) {
    report.errors.push(`deleted topics sweep: ${String(err)}`);
  }
  try {
    report.expiredMembers = await groupsOf(runtime).expireAll();
  } catch (err) {
    report.errors.push(`group expiry: ${String(err)}`);
  }
  // Consumer lag as CloudWatch metrics (in Lambda only; src/metrics/lagMetrics.ts): the pass already runs on a schedule.
  try {
    await publishConsumerLag(runtime);
  } catch (err) {
    report.errors.push(`consumer lag: ${String(err)}`);
  }
}
