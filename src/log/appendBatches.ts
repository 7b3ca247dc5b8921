/**
 * The produce path. One produce request becomes ONE S3 object, even when it
 * carries batches for several partitions; then each partition's batches are
 * committed with one atomic DynamoDB write, which assigns their offsets.
 *
 *   1. concatenate every partition's batches into one object body
 *   2. PUT it under a fresh key                       (1 S3 request)
 *   3. per partition, in parallel: PartitionIndex.commit (1 DynamoDB request)
 *   4. a partition whose head grew past the spill mark is spilled by its leader
 *
 * A crash between 2 and 3 leaves an object nothing references: invisible to
 * readers, removed later by the orphan sweep. A crash after 3 loses nothing.
 */
import { splitBatches } from '../codec/recordBatch';
import { HeadFullError, PartitionDeletedError, headEntriesSpillAt, spillEveryEntries, type CommitResult } from './PartitionIndex';
import { unknownTopic } from '../errors';
import { newObjectId, objectKey } from './ObjectStore';
import { partitionKey, type Topic } from './TopicCatalog';
import { asPartitionLeader } from './partitionLeader';
import type { LogContext } from './LogContext';
import type { IndexEntry } from './indexEntry';
import type { ProducerAppend } from '../producers/producerState';

export interface PartitionAppend {
  partition: number;
  /** One or more whole, validated RecordBatch v2 buffers, in offset order. */
  batches: Buffer[];
  /**
   * The idempotent producer of these batches, when they carry one: committed at
   * most once per partition (src/producers/ProducerSequences.ts).
   */
  producer?: ProducerAppend;
}

export type PartitionAppendResult =
  | { partition: number; ok: true; baseOffset: number; lastOffset: number; duplicate?: boolean }
  | { partition: number; ok: false; error: unknown };

export async function appendBatches(ctx: LogContext, topic: Topic, appends: PartitionAppend[]): Promise<PartitionAppendResult[]> {
  if (appends.length === 0) return [];
  const partitions = new Set(appends.map((a) => a.partition));
  if (partitions.size !== appends.length) throw new Error('appendBatches: each partition may appear once per request.');

  const objectId = newObjectId(ctx.clock.now());
  const placed: { append: PartitionAppend; entry: IndexEntry }[] = [];
  let position = 0;
  for (const append of appends) {
    const entry = entryOf(objectId, position, append.batches);
    placed.push({ append, entry });
    position += entry.size;
  }
  // Buffer.concat always copies: a request of one buffer (the common case) is PUT as it is.
  const parts = appends.flatMap((a) => a.batches);
  await ctx.objects.put(objectKey(topic.topicId, objectId), parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  return commitPlaced(ctx, topic, placed);
}

/**
 * The index entry of `batches` stored back to back at `position` of `objectId`:
 * their size, offset span and max timestamp, read from each buffer's batch
 * headers (each buffer holds whole batches, so none is concatenated to measure).
 */
function entryOf(objectId: string, position: number, batches: Buffer[]): IndexEntry {
  let size = 0;
  let span = 0;
  let maxTimestamp = -1;
  for (const buffer of batches) {
    size += buffer.length;
    for (const slice of splitBatches(buffer, { verifyCrc: false })) {
      span += slice.header.lastOffsetDelta + 1;
      maxTimestamp = Math.max(maxTimestamp, slice.header.maxTimestamp);
    }
  }
  return { objectId, position, size, span, maxTimestamp };
}

/**
 * The direct-to-S3 path: the producer already PUT the object (a presigned URL)
 * and it was read back and validated; only the commit is left. `objectId` must
 * hold exactly `append.batches`, from byte 0.
 */
export async function appendUploaded(
  ctx: LogContext,
  topic: Topic,
  objectId: string,
  append: PartitionAppend,
  /** The head attribute that makes this upload's commit happen once (see uploadSlotAttribute). */
  onceSlot: string,
): Promise<PartitionAppendResult> {
  const [result] = await commitPlaced(ctx, topic, [{ append, entry: entryOf(objectId, 0, append.batches) }], onceSlot);
  return result!;
}

function commitPlaced(
  ctx: LogContext,
  topic: Topic,
  placed: { append: PartitionAppend; entry: IndexEntry }[],
  onceSlot?: string,
): Promise<PartitionAppendResult[]> {
  return Promise.all(
    placed.map(async ({ append, entry }): Promise<PartitionAppendResult> => {
      const pk = partitionKey(topic, append.partition);
      let committed: CommitResult;
      try {
        if (append.producer) {
          const result = await ctx.producers.commit(pk, entry, append.producer, ctx.clock.now());
          if (result.duplicate) {
            // Already in the log: answer with its offsets; this request's object stays unreferenced.
            return { partition: append.partition, ok: true, baseOffset: result.baseOffset, lastOffset: result.baseOffset + entry.span - 1, duplicate: true };
          }
          committed = result;
        } else {
          committed = await ctx.index.commit(pk, entry, onceSlot ? { onceSlot } : {});
        }
      } catch (error) {
        // A full head means spills fell behind: this append tries one before it answers 503.
        if (error instanceof HeadFullError) await spillPartition(ctx, pk);
        const answer = error instanceof PartitionDeletedError ? unknownTopic(topic.name) : error;
        return { partition: append.partition, ok: false, error: answer };
      }
      await spillIfDue(ctx, pk, committed);
      return { partition: append.partition, ok: true, baseOffset: committed.baseOffset, lastOffset: committed.baseOffset + entry.span - 1 };
    }),
  );
}

/**
 * Each append sees a distinct head length, so exactly one appender triggers each
 * spill: the one that reaches the mark, then one every spillEveryEntries after
 * (in case a spill failed). The record is already committed, so a failed spill
 * is logged, not reported.
 */
export function spillDue(headEntries: number): boolean {
  return headEntries >= headEntriesSpillAt && (headEntries - headEntriesSpillAt) % spillEveryEntries === 0;
}

async function spillIfDue(ctx: LogContext, pk: string, committed: CommitResult): Promise<void> {
  if (committed.head && spillDue(committed.head.entries.length)) await spillPartition(ctx, pk);
}

/**
 * One spill turn as the partition's leader, from the head as read under the
 * leader's own epoch (not the head this append saw, which may be older than a
 * rewrite made since).
 */
export async function spillPartition(ctx: LogContext, pk: string): Promise<void> {
  try {
    await asPartitionLeader(ctx, pk, async (epoch, head) => {
      const spilled = await ctx.index.spill(pk, epoch, head);
      // Idempotent producer state is trimmed on the same leader turn (expired
      // producers, slots past the window), but only when the spill happened: a
      // refused spill (the head moved on, or a newer leader) means another turn
      // is doing this work, and trim's read of the head would be wasted.
      if (spilled) await ctx.producers.trim(pk, epoch, ctx.clock.now());
      return spilled;
    });
  } catch (err) {
    ctx.logger.warn('index spill failed; a later append will retry', { pk, error: String(err) });
  }
}
