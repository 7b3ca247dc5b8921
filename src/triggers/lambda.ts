/**
 * The dispatcher Lambda (functions/triggers.ts): triggers' delivery on AWS.
 * One runner per execution environment, run one-shot per invocation
 * (TriggerRunner.runOnce) with a lease per (trigger, partition), since
 * invocations run side by side:
 *
 * - the log table's stream (heads only, sk = -1, filtered by the event source
 *   mapping as the notifier's): the partitions the records moved are woken
 *   and delivered until they are idle or the invocation's time runs short;
 * - a wake-up it scheduled itself (src/triggers/wakeSchedule.ts: an
 *   EventBridge Scheduler one-time schedule, made only when a run ends with
 *   work left — a backoff or batching window past its end, a lease another
 *   invocation held, a backlog cut short): every partition with lag is woken,
 *   and what is still undelivered afterwards is measured;
 * - optionally, an EventBridge rule (the construct's `triggerRescan`, off by
 *   default): the same rescan on a fixed rate, a net under a lost wake-up.
 *
 * So nothing runs, and nothing is scheduled, while every trigger is idle.
 *
 * Delivery failures are the runner's (retries, bisection, dead letters), never
 * the invocation's: the handler returns normally, so the stream never retries
 * a batch because a target failed. Deliveries still in flight when the time
 * runs short are aborted and not committed: at least once holds.
 *
 * Metrics, as CloudWatch Embedded Metric Format lines on stdout (the
 * function's log group), written only when non-zero, so an idle cluster
 * publishes none (custom metrics are billed per hour they receive data):
 *   OldestUndeliveredRecordAgeMs  (wake-ups and rescans) age of the oldest record not delivered
 *   DeadLetteredRecords           records produced to a dead-letter topic
 *   SkippedRecords                records given up on without a dead-letter topic
 * each under [ClusterId] and [ClusterId, Trigger], namespace `Strand`.
 */
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import type { Runtime } from '../runtime';
import { TriggerRunner, type RunOnceReport } from './TriggerRunner';
import { TriggerLeaseStore } from './triggerLeases';
import { schedulerWakerFromEnvironment, wakeEventDetailType, wakeEventSource, wakeMinuteMs, type TriggerWaker } from './wakeSchedule';

/** The run ends this long before Lambda's timeout: aborts, lease releases and the metrics fit in it. */
export const dispatcherMarginMs = 10_000;
/** The API's URL, the events' `bootstrapServers` (set by the stack on the dispatcher). */
export const apiUrlEnvVar = 'STRAND_API_URL';

export const triggerMetricsNamespace = 'Strand';
export const triggerMetricNames = {
  oldestUndeliveredAge: 'OldestUndeliveredRecordAgeMs',
  deadLettered: 'DeadLetteredRecords',
  skipped: 'SkippedRecords',
} as const;

export type DispatcherEvent = DynamoDBStreamEvent | { source?: string; 'detail-type'?: string };

export interface DispatcherResult {
  /** What invoked it: the log stream, its own wake-up, or the opt-in rescan rule (or anything else: a manual invoke). */
  kind: 'stream' | 'wake' | 'rescan';
  turns: number;
  leaseRefused: number;
  unfinished: number;
  deadLettered: number;
  skipped: number;
  /** The minute a wake-up was scheduled for (ISO), when the run left work for later. */
  wakeScheduledFor?: string;
}

function isStreamEvent(event: DispatcherEvent): event is DynamoDBStreamEvent {
  return Array.isArray((event as DynamoDBStreamEvent).Records);
}

export interface DispatcherOptions {
  /** Where EMF lines go. @default process.stdout (one line each; not console.log, whose prefix would hide the JSON) */
  writeLine?: (line: string) => void;
  /**
   * Brings the dispatcher back for work a run left. @default the Scheduler
   * waker from the environment (src/triggers/wakeSchedule.ts), or none where
   * the stack set none
   */
  waker?: TriggerWaker;
}

export function createTriggerDispatcherHandler(runtime: () => Runtime, options: DispatcherOptions = {}) {
  let runner: TriggerRunner | undefined;
  const writeLine = options.writeLine ?? ((line: string) => void process.stdout.write(`${line}\n`));
  let waker: TriggerWaker | undefined = options.waker;
  return async (event: DispatcherEvent, context: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'logStreamName' | 'invokedFunctionArn'>>): Promise<DispatcherResult> => {
    const rt = runtime();
    runner ??= new TriggerRunner(rt, {
      // No module targets on AWS: a path on the developer's machine (the API refuses them there).
      targetTypes: ['http', 'lambda'],
      bootstrapServers: process.env[apiUrlEnvVar] ?? '',
      leases: new TriggerLeaseStore(rt.clients.ddb, rt.config.tables.leases, rt.clock),
      ...(context.logStreamName ? { holder: context.logStreamName } : {}),
    });
    const untilMs = rt.clock.now() + context.getRemainingTimeInMillis() - dispatcherMarginMs;
    waker ??= schedulerWakerFromEnvironment(rt, context.invokedFunctionArn);
    const stream = isStreamEvent(event);
    const report = await runner.runOnce(stream ? { records: event.Records } : { rescan: true, measureLag: true }, untilMs);
    writeMetrics(rt, report, writeLine);
    const wake = stream ? undefined : (event as { source?: string; 'detail-type'?: string });
    const result: DispatcherResult = {
      kind: stream ? 'stream' : wake?.source === wakeEventSource && wake['detail-type'] === wakeEventDetailType ? 'wake' : 'rescan',
      turns: report.turns,
      leaseRefused: report.leaseRefused,
      unfinished: report.unfinished,
      deadLettered: sum(report.givenUp.filter((g) => g.deadLettered).map((g) => g.records)),
      skipped: sum(report.givenUp.filter((g) => !g.deadLettered).map((g) => g.records)),
    };
    if (report.wakeAtMs !== undefined) {
      if (waker) {
        // A failure here fails the invocation, so its source retries it (the stream its
        // batch, Scheduler its wake): work left is never left without a wake-up silently.
        const now = rt.clock.now();
        await waker.wakeAt(report.wakeAtMs, now);
        result.wakeScheduledFor = new Date(wakeMinuteMs(report.wakeAtMs, now)).toISOString();
      } else {
        rt.logger.warn('trigger work left for later, and no waker configured: it waits for the next commit or rescan', { wakeAtMs: report.wakeAtMs });
      }
    }
    rt.logger.info('trigger dispatcher', { ...result, oldestUndelivered: report.oldestUndelivered });
    return result;
  };
}

/** One EMF line per trigger with something to say. */
export function emfLines(clusterId: string, report: Pick<RunOnceReport, 'givenUp' | 'oldestUndelivered'>, timestamp: number): string[] {
  const byTrigger = new Map<string, Record<string, number>>();
  const add = (trigger: string, metric: string, value: number, combine: (a: number, b: number) => number) => {
    const values = byTrigger.get(trigger) ?? {};
    values[metric] = metric in values ? combine(values[metric]!, value) : value;
    byTrigger.set(trigger, values);
  };
  for (const g of report.givenUp) add(g.trigger, g.deadLettered ? triggerMetricNames.deadLettered : triggerMetricNames.skipped, g.records, (a, b) => a + b);
  for (const o of report.oldestUndelivered) if (o.ageMs > 0) add(o.trigger, triggerMetricNames.oldestUndeliveredAge, o.ageMs, Math.max);
  return [...byTrigger].map(([trigger, values]) =>
    JSON.stringify({
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [
          {
            Namespace: triggerMetricsNamespace,
            Dimensions: [['ClusterId'], ['ClusterId', 'Trigger']],
            Metrics: Object.keys(values).map((name) => ({ Name: name, Unit: name === triggerMetricNames.oldestUndeliveredAge ? 'Milliseconds' : 'Count' })),
          },
        ],
      },
      ClusterId: clusterId,
      Trigger: trigger,
      ...values,
    }),
  );
}

function writeMetrics(rt: Runtime, report: RunOnceReport, writeLine: (line: string) => void): void {
  for (const line of emfLines(rt.config.clusterId, report, rt.clock.now())) writeLine(line);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
