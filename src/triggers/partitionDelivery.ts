/**
 * One step of a trigger on one partition: read the next batch from the
 * committed offset, deliver it, commit past it. Everything the runner
 * schedules (src/triggers/TriggerRunner.ts) is built from this step, and so is
 * the dispatcher Lambda that will run it on AWS (docs/triggers.md).
 *
 * Semantics (Lambda's event source mappings', where they have one):
 * - At least once, in order: a batch is committed (the group `trigger-<name>`)
 *   only after the target accepted it, and the next batch starts there. A
 *   crash between acceptance and commit redelivers that batch, no more.
 * - A failure is retried with exponential backoff. With `bisect_batch_on_error`
 *   a failing batch of more than one record is split in halves, delivered in
 *   order; splitting does not count as a retry (as in Lambda), so the bad
 *   record ends up alone and only it uses up the retries.
 * - After `max_retry_attempts` retries (-1: never) the batch's records are
 *   produced to the dead-letter topic with why, or, without one, skipped with
 *   a warning (Lambda discards too when no on-failure destination is set), and
 *   delivery moves on past them.
 * - A target may answer with the records that failed (batchItemFailures,
 *   src/triggers/batchItemFailures.ts): the records before the first failed one
 *   are committed and delivery retries from it (partialFailure).
 * - Records older than `max_record_age_ms` are not delivered: they go to the
 *   dead-letter topic (reason `record-expired`) or are skipped.
 *
 * - An s3 target (the archive, src/triggers/archive.ts) gets the records, not
 *   an event: gzip NDJSON objects named by offsets, batches bounded by an
 *   object's bytes rather than an event's.
 *
 * The cursor (bisected ranges, retry count, backoff) lives in memory: after a
 * restart a partition starts again at its committed offset with a whole batch
 * and no retries used, which redelivers at most the batch that was in flight.
 */
import type { Runtime } from '../runtime';
import type { Topic } from '../log/TopicCatalog';
import { recordsFrom, type FetchedRecord } from '../log/readPartition';
import { groupsOf } from '../groups/GroupService';
import { tpKey } from '../groups/topicPartition';
import { eventBytesMax, eventBytesOf, eventSourceArnOf, kafkaEventOf } from './kafkaEvent';
import { produceDeadLetters, type DeadLetterReason } from './deadLetter';
import { DeliveryFailedError, deliverEvent, type TargetOptions } from './targets';
import { batchAnswerOf, type BatchAnswer } from './batchItemFailures';
import { archiveBatch, archiveBatchBytesMax, archiveBytesOf } from './archive';
import { triggerGroupId, type Trigger } from './triggerSpec';

/** Bytes one read of the log asks for; a batch takes at most readsPerBatchMax reads. */
const readBytesWanted = 1024 * 1024;
const readsPerBatchMax = 64;

/** In-memory progress of one partition between steps. */
export interface PartitionCursor {
  /** What is left of a bisected batch, in order: offsets [start, end). Empty: deliver from the committed offset. */
  ranges: { start: number; end: number }[];
  /** Failed deliveries of the current (unsplittable) batch. */
  attempts: number;
  /** No step before this time (backoff after a failure). */
  retryAt: number;
  /** When the partition first had records waiting for a batching window. */
  pendingSince?: number;
  lastError?: string;
}

export const newCursor = (): PartitionCursor => ({ ranges: [], attempts: 0, retryAt: 0 });

export interface StepSettings extends TargetOptions {
  retryBackoffBaseMs: number;
  retryBackoffMaxMs: number;
  deliveryTimeoutMs: number;
  bootstrapServers: string;
  /** Aborted when the runtime stops: the step ends without committing or counting a failure. */
  signal: AbortSignal;
  /** Told of every run of records given up on, dead-lettered or skipped (the dispatcher's dead-letter metric). */
  onGiveUp?: (given: GivenUp) => void;
}

export interface GivenUp {
  trigger: string;
  topic: string;
  partition: number;
  records: number;
  reason: DeadLetterReason;
  /** Produced to the dead-letter topic; false: skipped (no dead-letter topic). */
  deadLettered: boolean;
}

export type StepOutcome =
  /** Nothing to deliver. */
  | { kind: 'idle' }
  /** Come back at this time (a backoff or a batching window). */
  | { kind: 'wait'; untilMs: number }
  /** Moved the committed offset (delivered, dead-lettered or skipped); step again. */
  | { kind: 'progress'; offset: number }
  /** The runtime is stopping. */
  | { kind: 'stopped' };

export function retryDelayMs(attempts: number, settings: Pick<StepSettings, 'retryBackoffBaseMs' | 'retryBackoffMaxMs'>): number {
  return Math.min(settings.retryBackoffMaxMs, settings.retryBackoffBaseMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
}

/** The committed offset of the trigger's group for the partition, or undefined when there is none. */
export async function committedOffset(runtime: Runtime, trigger: Trigger, topic: string, partition: number): Promise<number | undefined> {
  const stored = await groupsOf(runtime).store.load(triggerGroupId(trigger.name));
  return stored?.offsets[tpKey(topic, partition)]?.offset;
}

async function commit(runtime: Runtime, trigger: Trigger, topic: string, partition: number, offset: number): Promise<void> {
  await groupsOf(runtime).commit(triggerGroupId(trigger.name), { memberId: undefined }, [{ topic, partition, offset, metadata: 'strand-trigger' }]);
}

/** How a batch's bytes are bounded: an event's (Lambda's payload limit) or, for the archive, an object's. */
interface BatchBytes {
  max: number;
  of: (topic: string, record: FetchedRecord) => number;
}
const eventBatchBytes: BatchBytes = { max: eventBytesMax, of: eventBytesOf };
const archiveBatchBytes: BatchBytes = { max: archiveBatchBytesMax, of: archiveBytesOf };

/** Records from `offset` up to `count` of them, offsets below `end`, within a batch's bytes (always at least one). */
async function readBatch(
  runtime: Runtime,
  topic: Topic,
  partition: number,
  offset: number,
  count: number,
  end: number,
  size: BatchBytes,
): Promise<{ records: FetchedRecord[]; nextOffset: number }> {
  const records: FetchedRecord[] = [];
  let bytes = 0;
  let at = offset;
  for (let read = 0; read < readsPerBatchMax && records.length < count && at < end; read++) {
    const result = await runtime.engine.read(topic, partition, at, readBytesWanted);
    if (result.batches.length === 0) return { records, nextOffset: at };
    for (const r of recordsFrom(result.batches, at)) {
      const recordBytes = size.of(topic.name, r);
      if (r.offset >= end || records.length >= count || (records.length > 0 && bytes + recordBytes > size.max)) {
        return { records, nextOffset: r.offset };
      }
      records.push(r);
      bytes += recordBytes;
    }
    // Everything read was taken: the next read starts after it (past any control batches or compacted gaps).
    at = Math.min(result.nextOffset, end);
  }
  return { records, nextOffset: at };
}

/**
 * One step from `offset` (the committed offset, or the log start when there is
 * none). The caller owns the cursor and calls again on `progress`.
 */
export async function deliveryStep(runtime: Runtime, trigger: Trigger, topic: Topic, partition: number, offset: number, cursor: PartitionCursor, settings: StepSettings): Promise<StepOutcome> {
  const now = runtime.clock.now();
  if (cursor.retryAt > now) return { kind: 'wait', untilMs: cursor.retryAt };
  const bounds = await runtime.engine.bounds(topic, partition);
  if (offset < bounds.logStartOffset || offset > bounds.highWatermark) {
    // Retention removed records before they were delivered, or the log was replaced: start at the log start.
    runtime.logger.warn('trigger position outside the log; moving to the log start', { trigger: trigger.name, topic: topic.name, partition, offset, ...bounds });
    cursor.ranges = [];
    await commit(runtime, trigger, topic.name, partition, bounds.logStartOffset);
    return { kind: 'progress', offset: bounds.logStartOffset };
  }
  if (offset >= bounds.highWatermark) {
    cursor.pendingSince = undefined;
    cursor.ranges = [];
    return { kind: 'idle' };
  }
  const range = cursor.ranges[0];
  if (!range && trigger.maxBatchingWindowMs > 0 && bounds.highWatermark - offset < trigger.batchSize) {
    cursor.pendingSince ??= now;
    const due = cursor.pendingSince + trigger.maxBatchingWindowMs;
    if (now < due) return { kind: 'wait', untilMs: due };
  }

  const target = trigger.target;
  const batchBytes = target.type === 's3' ? archiveBatchBytes : eventBatchBytes;
  const read = await readBatch(runtime, topic, partition, offset, range ? Infinity : trigger.batchSize, range ? range.end : Infinity, batchBytes);
  let records = read.records;
  if (records.length === 0) {
    // Only control batches or a compacted gap before the next record: step over them.
    await settle(runtime, trigger, topic, partition, cursor, read.nextOffset);
    return { kind: 'progress', offset: read.nextOffset };
  }

  // Expired records are never delivered. A leading run of them is dead-lettered on
  // its own; a later one ends this batch, so every record is handled once, in order.
  if (trigger.maxRecordAgeMs >= 0) {
    const expired = (r: FetchedRecord) => now - r.timestamp > trigger.maxRecordAgeMs;
    const firstLive = records.findIndex((r) => !expired(r));
    if (firstLive !== 0) {
      const dead = firstLive === -1 ? records : records.slice(0, firstLive);
      const next = dead[dead.length - 1]!.offset + 1;
      await giveUp(runtime, trigger, topic.name, partition, dead, 'record-expired', `record older than max_record_age_ms (${trigger.maxRecordAgeMs} ms)`, 0, settings.onGiveUp);
      await settle(runtime, trigger, topic, partition, cursor, next);
      return { kind: 'progress', offset: next };
    }
    const firstExpired = records.findIndex(expired);
    if (firstExpired > 0) records = records.slice(0, firstExpired);
  }

  const first = records[0]!.offset;
  const last = records[records.length - 1]!.offset;
  const next = records.length === read.records.length ? read.nextOffset : last + 1;
  let answer: BatchAnswer = { kind: 'success' };
  try {
    if (target.type === 's3') {
      // The archive: gzip NDJSON objects named by offsets (src/triggers/archive.ts), so a retry overwrites.
      await archiveBatch(runtime, target, topic.name, partition, records, { signal: settings.signal, timeoutMs: settings.deliveryTimeoutMs });
    } else {
      const event = kafkaEventOf({ eventSourceArn: eventSourceArnOf(runtime.config.clusterId, trigger.name), bootstrapServers: settings.bootstrapServers }, topic.name, partition, records);
      const reply = await deliverEvent(target, event, {
        triggerName: trigger.name,
        deliveryId: `${trigger.name}/${topic.name}/${partition}/${first}-${last}`,
        signal: settings.signal,
        timeoutMs: settings.deliveryTimeoutMs,
        nowMs: now,
      }, settings);
      answer = batchAnswerOf(reply, topic.name, partition, records);
      // A malformed partial failure answer fails the whole batch (Lambda's rule).
      if (answer.kind === 'invalid') throw new DeliveryFailedError(`the target's batchItemFailures answer is invalid: ${answer.reason}`);
    }
  } catch (err) {
    if (settings.signal.aborted) return { kind: 'stopped' };
    const message = err instanceof Error ? err.message : String(err);
    cursor.lastError = message;
    if (trigger.bisectBatchOnError && records.length > 1) {
      // Halves in order, in place of the batch; the first half is delivered next.
      const mid = records[Math.ceil(records.length / 2)]!.offset;
      cursor.ranges.splice(0, range ? 1 : 0, { start: first, end: mid }, { start: mid, end: next });
      cursor.retryAt = now + settings.retryBackoffBaseMs;
      runtime.logger.warn('trigger delivery failed; bisecting', { trigger: trigger.name, topic: topic.name, partition, first, last, error: message });
      return { kind: 'wait', untilMs: cursor.retryAt };
    }
    cursor.attempts++;
    if (trigger.maxRetryAttempts === -1 || cursor.attempts <= trigger.maxRetryAttempts) {
      cursor.retryAt = now + retryDelayMs(cursor.attempts, settings);
      runtime.logger.warn('trigger delivery failed; retrying', { trigger: trigger.name, topic: topic.name, partition, first, last, attempts: cursor.attempts, error: message });
      return { kind: 'wait', untilMs: cursor.retryAt };
    }
    await giveUp(runtime, trigger, topic.name, partition, records, 'retries-exhausted', message, cursor.attempts, settings.onGiveUp);
    await settle(runtime, trigger, topic, partition, cursor, next);
    return { kind: 'progress', offset: next };
  }
  if (answer.kind === 'partial') return partialFailure(runtime, trigger, topic, partition, records, next, answer.failedOffsets, cursor, settings, now);
  await settle(runtime, trigger, topic, partition, cursor, next);
  return { kind: 'progress', offset: next };
}

/**
 * The target reported some records failed (batchItemFailures): the records
 * before the first failed one are committed, and delivery retries from it with
 * a backoff. No bisection: the target said which records failed. The retry
 * counts against max_retry_attempts; a report whose first failure is past the
 * last one's (progress was made) starts the count again. When the retries are
 * used up, the records the target reported failed are given up on (dead-lettered
 * or skipped) and the trigger commits past the batch: the others were
 * processed.
 */
async function partialFailure(
  runtime: Runtime,
  trigger: Trigger,
  topic: Topic,
  partition: number,
  records: FetchedRecord[],
  next: number,
  failedOffsets: number[],
  cursor: PartitionCursor,
  settings: StepSettings,
  now: number,
): Promise<StepOutcome> {
  const firstFailed = failedOffsets[0]!;
  const message = `the target reported ${failedOffsets.length} of ${records.length} records failed (batchItemFailures), the first at offset ${firstFailed}`;
  const attempts = firstFailed > records[0]!.offset ? 1 : cursor.attempts + 1;
  if (trigger.maxRetryAttempts !== -1 && attempts > trigger.maxRetryAttempts) {
    const failed = new Set(failedOffsets);
    await giveUp(runtime, trigger, topic.name, partition, records.filter((r) => failed.has(r.offset)), 'retries-exhausted', message, attempts, settings.onGiveUp);
    await settle(runtime, trigger, topic, partition, cursor, next);
    return { kind: 'progress', offset: next };
  }
  if (firstFailed > records[0]!.offset) await settle(runtime, trigger, topic, partition, cursor, firstFailed);
  cursor.attempts = attempts;
  cursor.lastError = message;
  cursor.retryAt = now + retryDelayMs(attempts, settings);
  runtime.logger.warn('trigger delivery partly failed; retrying from the first failed record', { trigger: trigger.name, topic: topic.name, partition, firstFailed, failed: failedOffsets.length, attempts });
  return { kind: 'wait', untilMs: cursor.retryAt };
}

/** Commits `next` and clears what the cursor held for the records before it. */
async function settle(runtime: Runtime, trigger: Trigger, topic: Topic, partition: number, cursor: PartitionCursor, next: number): Promise<void> {
  await commit(runtime, trigger, topic.name, partition, next);
  cursor.attempts = 0;
  cursor.retryAt = 0;
  cursor.pendingSince = undefined;
  cursor.lastError = undefined;
  while (cursor.ranges.length > 0 && cursor.ranges[0]!.end <= next) cursor.ranges.shift();
  if (cursor.ranges[0] && cursor.ranges[0].start < next) cursor.ranges[0].start = next;
}

async function giveUp(runtime: Runtime, trigger: Trigger, topic: string, partition: number, records: FetchedRecord[], reason: DeadLetterReason, error: string, attempts: number, onGiveUp?: StepSettings['onGiveUp']): Promise<void> {
  const first = records[0]!.offset;
  const last = records[records.length - 1]!.offset;
  if (trigger.deadLetterTopic === undefined) {
    runtime.logger.warn('trigger skipped records (no dead-letter topic)', { trigger: trigger.name, topic, partition, first, last, reason, error });
    onGiveUp?.({ trigger: trigger.name, topic, partition, records: records.length, reason, deadLettered: false });
    return;
  }
  await produceDeadLetters(runtime, trigger.deadLetterTopic, records, { triggerName: trigger.name, topic, partition, reason, error, attempts });
  runtime.logger.warn('trigger dead-lettered records', { trigger: trigger.name, topic, partition, first, last, reason, deadLetterTopic: trigger.deadLetterTopic });
  onGiveUp?.({ trigger: trigger.name, topic, partition, records: records.length, reason, deadLettered: true });
}
