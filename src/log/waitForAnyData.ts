/**
 * The multi-partition long poll: waits until the watched partitions together
 * hold at least `bytesWanted` more bytes, or one of them changed in a way the
 * fetch must report (its log start passed the offset), or `maxWaitMs` passes.
 *
 * It reads partition heads only, never chunks or objects: a head lists its
 * entries with their sizes, which is all the count needs. Between two reads of
 * the heads it waits on a doorbell when it has one (src/notify/doorbell.ts: a
 * notice socket connection that rings when a watched partition moves), so a
 * quiet wait reads each head once, however long it lasts. Without one it
 * polls within a read budget: at most one head read per `headReadSpacingMs`
 * in all (one per second), so a waiting request never reads storage more
 * than once a second, at the price of answering up to a second per watched
 * partition late.
 */
import { mapBounded } from '../mapBounded';
import { placeEntries } from './indexEntry';
import { longPollIntervalMs } from './readPartition';
import type { Doorbell } from '../notify/doorbell';
import type { LogContext } from './LogContext';
import type { PartitionHead } from './PartitionIndex';
import { partitionKey, type Topic } from './TopicCatalog';

/** Head reads one round of a wait has in flight at once. */
export const headReadsInFlightMax = 16;
/** A polling wait's read budget: one head read per this many ms, over all its partitions. */
export const headReadSpacingMs = 1_000;

/** How long a polling wait over `partitions` heads sleeps between rounds. */
export function pollSpacingMs(partitions: number): number {
  return Math.max(longPollIntervalMs, partitions * headReadSpacingMs);
}

export interface WatchedPartition {
  topic: Topic;
  partition: number;
  /** Where the bytes still to come start: the fetch offset, or past what the fetch already has. */
  offset: number;
}

/**
 * Bytes a head shows at or after `offset`; Infinity when the head cannot tell
 * but there is data (the offset is below the head's first entry, in spilled
 * chunks, which a wait does not read) or the offset left the log (out of range
 * now: the fetch answers at once with the error).
 */
export function bytesShownFrom(head: PartitionHead, offset: number): number {
  if (offset < head.logStartOffset || offset > head.highWatermark) return Infinity;
  if (offset === head.highWatermark) return 0;
  if (offset < head.base) return Infinity;
  let bytes = 0;
  for (const e of placeEntries(head.base, head.entries)) if (e.baseOffset + e.span > offset) bytes += e.size;
  return bytes;
}

/** True when the watched partitions showed `bytesWanted`, false when the wait ran out (or was stopped). */
export async function waitForAnyData(
  ctx: LogContext,
  watched: readonly WatchedPartition[],
  bytesWanted: number,
  maxWaitMs: number,
  signal?: AbortSignal,
  doorbell?: Doorbell,
): Promise<boolean> {
  if (watched.length === 0) return false;
  // Wall-clock time on purpose, as in waitForData: the wait is real setTimeout time.
  const deadline = Date.now() + maxWaitMs;
  let bell = doorbell;
  while (Date.now() < deadline && !signal?.aborted) {
    const roundStart = Date.now();
    const heads = await mapBounded([...watched], headReadsInFlightMax, (w) => ctx.index.readHead(partitionKey(w.topic, w.partition)));
    let bytes = 0;
    heads.forEach((head, i) => (bytes += bytesShownFrom(head, watched[i]!.offset)));
    if (bytes >= bytesWanted) return true;
    if (bell) {
      // Wait past what the heads show now: the bell rings at the next commit to any of them.
      const rang = await bell(
        watched.map((w, i) => ({ topicName: w.topic.name, partition: w.partition, offset: Math.max(w.offset, heads[i]!.highWatermark) })),
        deadline - Date.now(),
        signal,
      );
      if (rang === 'timeout') return false;
      if (rang === 'unavailable') bell = undefined;
      continue;
    }
    const nextRound = roundStart + pollSpacingMs(watched.length);
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(nextRound, deadline) - Date.now())));
  }
  return false;
}
