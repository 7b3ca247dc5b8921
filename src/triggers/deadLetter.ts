/**
 * Dead letters: records a trigger gave up on, produced to its dead-letter
 * topic as they were (key, value, headers, timestamp) plus headers saying why:
 *
 *   strand.trigger           the trigger's name
 *   strand.reason            retries-exhausted | record-expired
 *   strand.error             the last failure's message (at most deadLetterErrorCharsMax characters)
 *   strand.attempts          deliveries tried
 *   strand.source.topic      where the record was
 *   strand.source.partition
 *   strand.source.offset
 *
 * A record with a key goes to the partition its key hashes to; one without to
 * its source partition's number modulo the dead-letter topic's partitions, so a
 * source partition's dead letters stay in order.
 */
import type { Runtime } from '../runtime';
import type { FetchedRecord } from '../log/readPartition';
import type { LogRecord } from '../codec/recordBatch';
import { partitionForKey } from '../partitioner/murmur2';
import { encodeWithinLimit, appendFailure } from '../api/produce';

/** Characters of the failure message a dead letter carries. */
export const deadLetterErrorCharsMax = 1_000;

export type DeadLetterReason = 'retries-exhausted' | 'record-expired';

export interface DeadLetterSource {
  triggerName: string;
  topic: string;
  partition: number;
  reason: DeadLetterReason;
  error: string;
  attempts: number;
}

export function deadLetterRecord(record: FetchedRecord, source: DeadLetterSource, now: number): LogRecord {
  const header = (key: string, value: string) => ({ key, value: Buffer.from(value, 'utf8') });
  return {
    key: record.key,
    value: record.value,
    timestamp: now,
    headers: [
      ...record.headers,
      header('strand.trigger', source.triggerName),
      header('strand.reason', source.reason),
      header('strand.error', source.error.slice(0, deadLetterErrorCharsMax)),
      header('strand.attempts', String(source.attempts)),
      header('strand.source.topic', source.topic),
      header('strand.source.partition', String(source.partition)),
      header('strand.source.offset', String(record.offset)),
    ],
  };
}

/** Produces the records to `deadLetterTopic`; throws (and nothing is committed) when any append failed. */
export async function produceDeadLetters(runtime: Runtime, deadLetterTopic: string, records: readonly FetchedRecord[], source: DeadLetterSource): Promise<void> {
  if (records.length === 0) return;
  const topic = await runtime.engine.topics.getCached(deadLetterTopic);
  const now = runtime.clock.now();
  const byPartition = new Map<number, LogRecord[]>();
  for (const r of records) {
    const p = r.key !== null ? partitionForKey(r.key, topic.partitionsCount) : source.partition % topic.partitionsCount;
    byPartition.set(p, [...(byPartition.get(p) ?? []), deadLetterRecord(r, source, now)]);
  }
  const appends = [...byPartition].map(([partition, rs]) => ({ partition, batches: encodeWithinLimit(rs, topic, now) }));
  const results = await runtime.engine.append(topic, appends);
  for (const result of results) if (!result.ok) throw appendFailure(runtime, result.error);
}
