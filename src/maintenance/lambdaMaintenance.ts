/**
 * The maintenance function on AWS: one function, two kinds of invocation.
 *
 *   EventBridge's schedule  → the planner: plans the pass (planMaintenance.ts),
 *                             hands the turns and sweeps to at most `workers`
 *                             asynchronous invocations of this same function,
 *                             runs the cluster-wide steps, and reports.
 *   { strandMaintenance: 'work', work, sweeps } → a worker: those turns and
 *                             sweeps (maintenanceWork.ts) until its deadline.
 *
 * Bounds: `workers` invocations per pass (the function's reserved concurrency
 * less the planner's one, so a pass is never throttled; the planner reads it
 * with GetFunctionConcurrency, or STRAND_MAINTENANCE_WORKERS overrides it),
 * each stopping work at its deadline, each
 * event at most eventBytesMax. Work that does not fit (a deadline, an event
 * full) stays in the ledger's `dirty` set and is handed out by the next pass:
 * the ledger is the queue, and nothing is lost when an invocation fails.
 * Passes never overlap on a partition: a turn runs as the partition's leader.
 */
import type { Runtime } from '../runtime';
import { maintenanceMetricNames, publishMaintenanceMetrics, type MaintenanceMetricName } from './maintenanceMetrics';
import { planMaintenance, type TopicSweep, type TopicWork } from './planMaintenance';
import { maintainTopics, sweepTopicOf } from './maintenanceWork';
import { runClusterSteps } from './runMaintenance';
import { orphanGraceMsDefault } from './sweepObjects';

export { maintenanceWorkersDefault, maintenanceWorkersEnvVar, workersFor } from './workers';

/** Time kept back from the function's timeout to record what was done (ms). */
export const maintenanceDeadlineMarginMs = 30_000;
/** Lambda accepts 256 KB for an asynchronous invocation's event; kept well below. */
export const eventBytesMax = 200_000;

export interface WorkEvent {
  strandMaintenance: 'work';
  work: TopicWork[];
  sweeps: TopicSweep[];
}

export function isWorkEvent(event: unknown): event is WorkEvent {
  return typeof event === 'object' && event !== null && (event as { strandMaintenance?: unknown }).strandMaintenance === 'work';
}

export interface PlannerResult {
  kind: 'plan';
  topics: number;
  topicsLeft: number;
  partitions: number;
  partitionsChanged: number;
  partitionsDue: number;
  workers: number;
  /** Turns that did not fit an event (handed out next pass). */
  partitionsDeferred: number;
  errors: string[];
}

export interface WorkerResult {
  kind: 'work';
  maintained: number;
  failures: number;
  left: number;
  sweeps: number;
  errors: string[];
}

/**
 * Splits the pass's work into at most `workers` events of at most
 * eventBytesMax each: partitions are dealt in contiguous runs (a topic's
 * partitions stay together), sweeps round-robin. Returns the events and the
 * partitions that did not fit.
 */
export function splitWork(work: TopicWork[], sweeps: TopicSweep[], workers: number, bytesMax = eventBytesMax): { events: WorkEvent[]; deferred: number } {
  const n = Math.max(1, workers);
  const total = work.reduce((s, w) => s + w.partitions.length, 0);
  const perWorker = Math.max(1, Math.ceil(total / n));
  const events: WorkEvent[] = Array.from({ length: n }, () => ({ strandMaintenance: 'work' as const, work: [], sweeps: [] }));
  const sizes = events.map((e) => JSON.stringify(e).length);
  let deferred = 0;
  let slot = 0;
  let inSlot = 0;
  for (const w of work) {
    let rest = w.partitions;
    while (rest.length > 0) {
      if (slot >= n) {
        deferred += rest.length;
        break;
      }
      const take = rest.slice(0, perWorker - inSlot);
      const item = { topic: w.topic, topicId: w.topicId, partitions: take };
      const bytes = JSON.stringify(item).length + 1;
      if (sizes[slot]! + bytes > bytesMax) {
        slot++;
        inSlot = 0;
        continue;
      }
      events[slot]!.work.push(item);
      sizes[slot]! += bytes;
      inSlot += take.length;
      rest = rest.slice(take.length);
      if (inSlot >= perWorker) {
        slot++;
        inSlot = 0;
      }
    }
  }
  sweeps.forEach((s, i) => {
    const e = i % n;
    const bytes = JSON.stringify(s).length + 1;
    if (sizes[e]! + bytes <= bytesMax) {
      events[e]!.sweeps.push(s);
      sizes[e]! += bytes;
    }
  });
  return { events: events.filter((e) => e.work.length > 0 || e.sweeps.length > 0), deferred };
}

export interface LambdaMaintenanceOptions {
  /** Hands a worker its event (Lambda: an asynchronous Invoke of this function). */
  dispatch: (event: WorkEvent) => Promise<void>;
  workers: number;
  /** When to stop starting work (ms). */
  deadline: number;
  orphanGraceMs?: number;
  /** Metrics out (EMF in Lambda). */
  metrics?: (values: Partial<Record<MaintenanceMetricName, number>>) => void;
}

export async function runPlanner(runtime: Runtime, options: LambdaMaintenanceOptions): Promise<PlannerResult> {
  const graceMs = options.orphanGraceMs ?? orphanGraceMsDefault;
  const metrics = options.metrics ?? ((v) => publishMaintenanceMetrics(runtime.config.clusterId, v, runtime.clock.now()));
  const plan = await planMaintenance(runtime, { orphanGraceMs: graceMs, deadline: options.deadline });
  const { events, deferred } = splitWork(plan.work, plan.sweeps, options.workers);
  const errors = [...plan.errors];
  let dispatched = 0;
  for (const event of events) {
    try {
      await options.dispatch(event);
      dispatched++;
    } catch (err) {
      errors.push(`dispatch: ${String(err)}`);
    }
  }
  const cluster = { deletedTopicObjects: 0, expiredMembers: 0, errors };
  await runClusterSteps(runtime, graceMs, cluster);
  const complete = plan.topicsLeft === 0 && errors.length === 0 && dispatched === events.length;
  metrics({
    [maintenanceMetricNames.passesCompleted]: complete ? 1 : 0,
    [maintenanceMetricNames.partitionsChanged]: plan.partitionsChanged,
    [maintenanceMetricNames.partitionsDue]: plan.partitionsDue,
  });
  for (const e of errors) runtime.logger.warn('maintenance step failed', { error: e });
  return {
    kind: 'plan',
    topics: plan.topics,
    topicsLeft: plan.topicsLeft,
    partitions: plan.partitions,
    partitionsChanged: plan.partitionsChanged,
    partitionsDue: plan.partitionsDue,
    workers: dispatched,
    partitionsDeferred: deferred,
    errors,
  };
}

export async function runWorker(runtime: Runtime, event: WorkEvent, options: Pick<LambdaMaintenanceOptions, 'deadline' | 'orphanGraceMs' | 'metrics'>): Promise<WorkerResult> {
  const graceMs = options.orphanGraceMs ?? orphanGraceMsDefault;
  const metrics = options.metrics ?? ((v) => publishMaintenanceMetrics(runtime.config.clusterId, v, runtime.clock.now()));
  // Released objects are swept by a later sweep with the full grace period: this worker may not sweep their topic.
  const work = await maintainTopics(runtime, event.work, { orphanGraceMs: graceMs, deadline: options.deadline, scheduleSweeps: true });
  let sweeps = 0;
  for (const sweep of event.sweeps) {
    if (runtime.clock.now() >= options.deadline) break;
    try {
      await sweepTopicOf(runtime, sweep, { orphanGraceMs: graceMs });
      sweeps++;
    } catch (err) {
      work.errors.push(`${sweep.topic} sweep: ${String(err)}`);
    }
  }
  metrics({
    [maintenanceMetricNames.partitionsMaintained]: work.maintained,
    [maintenanceMetricNames.partitionFailures]: work.failures,
    [maintenanceMetricNames.partitionsLeft]: work.left,
  });
  for (const e of work.errors) runtime.logger.warn('maintenance step failed', { error: e });
  return { kind: 'work', maintained: work.maintained, failures: work.failures, left: work.left, sweeps, errors: work.errors };
}
