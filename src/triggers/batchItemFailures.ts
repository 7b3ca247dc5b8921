/**
 * Partial batch failure responses: a target may answer a delivery with the
 * records it could not process, as Lambda's Kinesis, DynamoDB Streams and SQS
 * event sources let a function do (`ReportBatchItemFailures`):
 *
 *   { "batchItemFailures": [ { "itemIdentifier": "<topic>-<partition>@<offset>" }, … ] }
 *
 * A Kafka record has no sequence number or message id, so its identifier is
 * where it is: the event's records key (`<topic>-<partition>`, as in
 * `event.records`) and its offset, joined by `@` (`orders-0@15`). Topic names
 * may hold `-` and `.` but never `@`, so the last `@` splits it.
 *
 * What the answer means (Lambda's rules, docs/triggers.md "Partial batch failures"):
 * - no `batchItemFailures` (any other answer, or none), `null` or `[]`: every record succeeded;
 * - a list naming records of the batch: the records before the lowest one
 *   succeeded and are committed; delivery retries from the lowest one;
 * - anything else (not a list, an entry that is not `{itemIdentifier: string}`,
 *   an identifier of a record not in the batch): the whole batch failed.
 */
import type { FetchedRecord } from '../log/readPartition';

/** Entries a partial failure answer may list: a batch holds at most 10,000 records. */
export const batchItemFailuresMax = 10_000;

/** `<topic>-<partition>@<offset>`: a record's itemIdentifier. */
export function batchItemIdentifier(topic: string, partition: number, offset: number): string {
  return `${topic}-${partition}@${offset}`;
}

export type BatchAnswer =
  /** Every record succeeded. */
  | { kind: 'success' }
  /** These records failed (offsets, ascending, at least one); those before the first succeeded. */
  | { kind: 'partial'; failedOffsets: number[] }
  /** The answer is malformed: the whole batch failed, for this reason. */
  | { kind: 'invalid'; reason: string };

/** What a target's answer (its parsed JSON, or a handler's return value) says about a batch of one partition's records. */
export function batchAnswerOf(answer: unknown, topic: string, partition: number, records: readonly Pick<FetchedRecord, 'offset'>[]): BatchAnswer {
  if (typeof answer !== 'object' || answer === null || !('batchItemFailures' in answer)) return { kind: 'success' };
  const failures = (answer as { batchItemFailures: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'invalid', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  if (failures.length > batchItemFailuresMax) return { kind: 'invalid', reason: `batchItemFailures lists more than ${batchItemFailuresMax} entries` };
  const inBatch = new Set(records.map((r) => r.offset));
  const prefix = `${topic}-${partition}@`;
  const failed = new Set<number>();
  for (const entry of failures) {
    const id = typeof entry === 'object' && entry !== null ? (entry as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') return { kind: 'invalid', reason: 'a batchItemFailures entry has no itemIdentifier string' };
    const offset = id.startsWith(prefix) && /^\d+$/.test(id.slice(prefix.length)) ? Number(id.slice(prefix.length)) : NaN;
    if (!inBatch.has(offset)) return { kind: 'invalid', reason: `itemIdentifier '${id.slice(0, 300)}' names no record of this batch (expected '${prefix}<offset>')` };
    failed.add(offset);
  }
  return { kind: 'partial', failedOffsets: [...failed].sort((a, b) => a - b) };
}
