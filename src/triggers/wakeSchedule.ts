/**
 * Wake-ups on demand: how the dispatcher Lambda comes back for work it could
 * not finish in an invocation (a backoff or a batching window past its end, a
 * partition another invocation held, a backlog cut short), with nothing
 * scheduled while every trigger is idle. docs/triggers.md, "What drives
 * delivery", says why this and not the alternatives.
 *
 * One EventBridge Scheduler one-time schedule, `at(<minute>)` in UTC, in the
 * cluster's schedule group, invoking the dispatcher with a wake event, and
 * deleted by Scheduler once it has fired (`ActionAfterCompletion: DELETE`).
 * Scheduler fires within the minute named (its precision is 60 s), so:
 *
 *   - the schedule is named for its minute (`wake-<epoch minute>`): every
 *     invocation wanting a wake in the same minute asks for the same name, and
 *     the second ask is refused with 409 (ConflictException), which is fine —
 *     one wake-up serves them all (it rescans every partition with lag);
 *   - the minute is the one the work is due in, or the next minute when that
 *     is now or past (a schedule must name a time to come);
 *   - a wake that comes before a backoff is due finds it pending in the lease's
 *     cursor and waits for it inside the invocation (at most a minute).
 *
 * The call is the AWS SDK's CreateSchedule, signed by the function's role. The
 * SDK may retry a CreateSchedule whose reply was lost after it applied: the
 * retry is refused with ConflictException like any second ask for the minute.
 */
import { ConflictException, CreateScheduleCommand, SchedulerClient, type CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import type { Runtime } from '../runtime';

/** The dispatcher's environment: the schedule group it may create schedules in, and the role Scheduler invokes it with. */
export const wakeScheduleEnvVars = {
  group: 'STRAND_TRIGGER_WAKE_GROUP',
  roleArn: 'STRAND_TRIGGER_WAKE_ROLE_ARN',
} as const;

/** The wake event's `source` and `detail-type`: the dispatcher rescans every partition with lag. */
export const wakeEventSource = 'strand.triggers';
export const wakeEventDetailType = 'Wake';

/** Scheduler's own retries of a wake it could not deliver (throttled, say); a wake older than this is dropped (the next commit or wake picks the work up). */
export const wakeRetryAttemptsMax = 3;
export const wakeEventAgeSecondsMax = 600;
/** One CreateSchedule call's bound. */
const createTimeoutMs = 5_000;

const minuteMs = 60_000;

/** Something that brings the dispatcher back at (or within a minute after) a time. */
export interface TriggerWaker {
  wakeAt(atMs: number, nowMs: number): Promise<void>;
}

/** The minute a wake for `atMs` is scheduled in: its own, or the next one when that is not to come. */
export function wakeMinuteMs(atMs: number, nowMs: number): number {
  return Math.max(Math.floor(atMs / minuteMs), Math.floor(nowMs / minuteMs) + 1) * minuteMs;
}

/** `at(2026-12-01T04:47:00)`: Scheduler's one-time expression, in the schedule's time zone (UTC). */
export function atExpression(minuteMs: number): string {
  return `at(${new Date(minuteMs).toISOString().slice(0, 19)})`;
}

export function wakeScheduleName(minuteMs: number): string {
  return `wake-${Math.floor(minuteMs / 60_000)}`;
}

/** The CreateSchedule request body for a wake in `minuteMs`. */
export function wakeScheduleRequest(minuteMs: number, target: { functionArn: string; roleArn: string; group: string }): Omit<CreateScheduleCommandInput, 'Name'> {
  return {
    GroupName: target.group,
    ScheduleExpression: atExpression(minuteMs),
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Description: 'Strand triggers: work pending (a retry, a batching window, a backlog)',
    Target: {
      Arn: target.functionArn,
      RoleArn: target.roleArn,
      Input: JSON.stringify({ source: wakeEventSource, 'detail-type': wakeEventDetailType, time: new Date(minuteMs).toISOString() }),
      RetryPolicy: { MaximumRetryAttempts: wakeRetryAttemptsMax, MaximumEventAgeInSeconds: wakeEventAgeSecondsMax },
    },
  };
}

/** The function's ARN without a version or alias qualifier: the schedule invokes $LATEST, as the stream does. */
export function unqualifiedFunctionArn(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 ? parts.slice(0, 7).join(':') : arn;
}

/**
 * The Scheduler waker from the dispatcher's environment, or undefined where it
 * has none (a stack deployed without it, tests): runs then end with work left
 * for the next commit or the opt-in rescan.
 */
export function schedulerWakerFromEnvironment(runtime: Runtime, functionArn: string | undefined): TriggerWaker | undefined {
  const group = process.env[wakeScheduleEnvVars.group];
  const roleArn = process.env[wakeScheduleEnvVars.roleArn];
  if (!group || !roleArn || !functionArn) return undefined;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  return new SchedulerWaker({ group, roleArn, functionArn: unqualifiedFunctionArn(functionArn), region }, runtime);
}

export class SchedulerWaker implements TriggerWaker {
  private readonly client: SchedulerClient;

  constructor(
    private readonly target: { group: string; roleArn: string; functionArn: string; region: string },
    private readonly runtime: Pick<Runtime, 'logger'>,
  ) {
    this.client = new SchedulerClient({ region: target.region });
  }

  async wakeAt(atMs: number, nowMs: number): Promise<void> {
    const minute = wakeMinuteMs(atMs, nowMs);
    const name = wakeScheduleName(minute);
    let existed = false;
    try {
      await this.client.send(new CreateScheduleCommand({ Name: name, ...wakeScheduleRequest(minute, this.target) }), {
        abortSignal: AbortSignal.timeout(createTimeoutMs),
      });
    } catch (err) {
      // A wake in that minute is already scheduled (another invocation asked first, or the SDK's retry of our own ask).
      if (!(err instanceof ConflictException)) throw err;
      existed = true;
    }
    this.runtime.logger.info('trigger wake scheduled', { schedule: name, at: new Date(minute).toISOString(), existed });
  }
}
