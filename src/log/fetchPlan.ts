/**
 * Which located entries a multi-partition fetch reads: Kafka's KIP-74 filling,
 * decided from the index alone, before any byte is read from S3.
 *
 * Partitions are filled in request order, each within its own byte limit and
 * what is left of the fetch's. The first entry of the first partition that has
 * one is taken even when it passes both limits (a fetch always makes progress,
 * as in Kafka), unless it passes `entryBytesMax`, what one response can carry:
 * that entry is reported as oversized instead and the next partition becomes
 * the first. After the first entry, an entry is taken only while it fits, and
 * a partition stops at the first that does not, so each partition's answer is
 * a contiguous run from its offset.
 *
 * Pure: the fetch operation locates (readPartition.locateRanges), plans here,
 * then reads exactly the planned entries.
 */
import type { PlacedEntry } from './indexEntry';

export interface PlanInput {
  /** The entries located from the partition's offset, in offset order (none at the high watermark, or on an error). */
  entries: readonly PlacedEntry[];
  /** The partition's own byte limit (`max_bytes` of the partition). */
  bytesMax: number;
}

export interface PlannedPartition {
  /** Entries to read, a prefix of the input's. */
  take: PlacedEntry[];
  /** The partition's first entry, when it would have been the fetch's first and is larger than a response can carry. */
  oversized?: PlacedEntry;
}

export interface PlanLimits {
  /** Bytes of entries the whole fetch reads at most (bar the first entry). */
  totalBytesMax: number;
  /** An entry larger than this is never read: no response could carry it. */
  entryBytesMax: number;
}

export function planFetch(inputs: readonly PlanInput[], limits: PlanLimits): PlannedPartition[] {
  let used = 0;
  return inputs.map(({ entries, bytesMax }): PlannedPartition => {
    if (entries.length === 0) return { take: [] };
    const first = used === 0;
    if (first && entries[0]!.size > limits.entryBytesMax) return { take: [], oversized: entries[0]! };
    const limit = Math.min(bytesMax, limits.totalBytesMax - used);
    const take: PlacedEntry[] = [];
    let bytes = 0;
    for (const entry of entries) {
      const progress = first && take.length === 0;
      if (!progress && bytes + entry.size > limit) break;
      take.push(entry);
      bytes += entry.size;
    }
    used += bytes;
    return { take };
  });
}

/** The offset after the last planned entry, or `offset` when none was planned. */
export function nextOffsetAfterPlan(take: readonly PlacedEntry[], offset: number): number {
  const last = take[take.length - 1];
  return last === undefined ? offset : last.baseOffset + last.span;
}
