/**
 * The multi-partition long poll: waits until the watched partitions together
 * hold at least `bytesWanted` more bytes, or one of them changed in a way the
 * fetch must report (its log start passed the offset), or `maxWaitMs` passes.
 *
 * It reads partition heads only, never chunks or objects: a head lists its
 * entries with their sizes, which is all the count needs. Each round reads
 * every watched head once (a bounded fan-out), and rounds start at most once
 * per longPollIntervalMs, so a wait costs at most one DynamoDB read per
 * partition per interval, however many partitions it watches. (A single
 * partition's wait, readPartition.waitForData, reads one head per interval.)
 */
import { mapBounded } from '../mapBounded';
import { placeEntries } from './indexEntry';
import { longPollIntervalMs } from './readPartition';
import type { LogContext } from './LogContext';
import type { PartitionHead } from './PartitionIndex';
import { partitionKey, type Topic } from './TopicCatalog';

/** Head reads one round of a wait has in flight at once. */
export const headReadsInFlightMax = 16;

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
): Promise<boolean> {
  if (watched.length === 0) return false;
  // Wall-clock time on purpose, as in waitForData: the wait is real setTimeout time.
  const deadline = Date.now() + maxWaitMs;
  while (Date.now() < deadline && !signal?.aborted) {
    const roundStart = Date.now();
    const heads = await mapBounded([...watched], headReadsInFlightMax, (w) => ctx.index.readHead(partitionKey(w.topic, w.partition)));
    let bytes = 0;
    heads.forEach((head, i) => (bytes += bytesShownFrom(head, watched[i]!.offset)));
    if (bytes >= bytesWanted) return true;
    const nextRound = roundStart + longPollIntervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(nextRound, deadline) - Date.now())));
  }
  return false;
}
