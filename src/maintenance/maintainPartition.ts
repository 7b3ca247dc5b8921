/**
 * One partition's maintenance turn, run as its leader (lease + epoch fence):
 *   1. retention moves the log start offset (cleanup.policy has `delete`);
 *   2. index entries wholly below the log start are removed (head, then chunks);
 *   3. compaction (cleanup.policy has `compact`) or merging of small objects
 *      rewrites chunks into one new object each run of chunks.
 * Each step is safe to stop after: a crash leaves a readable log and the next
 * turn finishes the job.
 */
import { splitBatches } from '../codec/recordBatch';
import { filterBatchRecords } from '../codec/compactBatch';
import { partitionKey, type Topic } from '../log/TopicCatalog';
import { placeEntries, type PlacedEntry } from '../log/indexEntry';
import type { IndexChunk, PartitionHead } from '../log/PartitionIndex';
import type { LogContext } from '../log/LogContext';
import { asPartitionLeader } from '../log/partitionLeader';
import { readEntries, recordsFrom } from '../log/readPartition';
import { retentionStart } from './retentionPlan';
import { CompactionPlan } from './compactionPlan';
import { distinctEntries, rewriteChunks } from './rewriteChunks';

export interface MaintenanceLimits {
  /** Merge runs of chunks up to about this many bytes into one object. */
  mergeTargetBytes: number;
  /** A run of chunks is merged only once it spans at least this many objects. */
  mergeObjectsMin: number;
  /** Bytes one partition turn may read and rewrite (merge + compaction). */
  rewriteBytesMax: number;
}

export const defaultMaintenanceLimits: MaintenanceLimits = {
  mergeTargetBytes: 8 * 1024 * 1024,
  mergeObjectsMin: 8,
  rewriteBytesMax: 64 * 1024 * 1024,
};

export interface PartitionReport {
  partition: number;
  logStartOffset: number;
  headEntriesDropped: number;
  chunksDeleted: number;
  chunksCompacted: number;
  chunksMerged: number;
  bytesRewritten: number;
  /**
   * Objects this turn stopped referencing (below the log start, or replaced by a
   * rewrite). They were committed once, so no produce can be between its PUT and
   * its commit with them: the sweep may delete them without the grace period.
   */
  released: string[];
  /** The high watermark when the turn began: what it maintained (the ledger records it). */
  highWatermark: number;
  /**
   * When the partition next needs a turn although nothing is appended to it
   * (ms): its oldest record passes retention.ms, or a tombstone it keeps passes
   * delete.retention.ms. Undefined: only a change needs one.
   */
  nextDueAt?: number;
  /**
   * The turn left work it should have done (a write refused or unresolved, a
   * rewrite bound reached, a partition too large to compact). The maintenance
   * ledger does not record such a turn, so the next pass gives another.
   */
  incomplete?: boolean;
}

export async function maintainPartition(
  ctx: LogContext,
  topic: Topic,
  partition: number,
  limits: MaintenanceLimits = defaultMaintenanceLimits,
): Promise<PartitionReport | undefined> {
  const pk = partitionKey(topic, partition);
  return asPartitionLeader(ctx, pk, async (epoch) => {
    const now = ctx.clock.now();
    const report: PartitionReport = { partition, logStartOffset: 0, headEntriesDropped: 0, chunksDeleted: 0, chunksCompacted: 0, chunksMerged: 0, bytesRewritten: 0, released: [], highWatermark: 0 };
    const policy = topic.config['cleanup.policy'];

    // 1. Retention.
    let head = await ctx.index.readHead(pk);
    report.highWatermark = head.highWatermark;
    if (policy.includes('delete')) {
      const entries: PlacedEntry[] = [];
      for await (const e of ctx.index.entriesFrom(pk, head, head.logStartOffset)) entries.push(e);
      const start = retentionStart(entries, head.logStartOffset, now, topic.config);
      // The oldest entry kept is the next to pass retention.ms.
      const oldest = entries.find((e) => e.baseOffset + e.span > start);
      const retentionMs = topic.config['retention.ms'];
      if (oldest && retentionMs >= 0) report.nextDueAt = oldest.maxTimestamp + retentionMs + 1;
      if (start > head.logStartOffset) {
        await ctx.index.advanceLogStart(pk, start, { markForMaintenance: false });
        head = await ctx.index.readHead(pk);
      }
    }
    report.logStartOffset = head.logStartOffset;

    // 2. Index below the log start.
    const belowStart = placeEntries(head.base, head.entries).filter((e) => e.baseOffset + e.span <= head.logStartOffset);
    if (belowStart.length > 0) {
      if (await ctx.index.dropHeadEntries(pk, epoch, head, belowStart.length)) {
        report.headEntriesDropped = belowStart.length;
        report.released.push(...belowStart.map((e) => e.objectId));
      } else report.incomplete = true;
    }
    let chunks = await ctx.index.chunks(pk);
    for (const chunk of chunks.filter((c) => c.end <= head.logStartOffset)) {
      await ctx.index.deleteChunk(pk, chunk, head.logStartOffset);
      report.chunksDeleted++;
      report.released.push(...chunk.entries.map((e) => e.objectId));
    }
    chunks = chunks.filter((c) => c.end > head.logStartOffset);
    // A chunk that starts below the log start and that no reader uses any more (a
    // later chunk, or the head, starts at or below the log start) is dropped too:
    // such a chunk can be left by a spill that stalled past its lease, and its
    // entries may point at objects a rewrite released. Its objects are not
    // released here: the sweep removes them after the grace period if nothing
    // else references them.
    const shadowed = chunks.filter((c) => isShadowedBelowStart(c, chunks, head));
    for (const chunk of shadowed) {
      await ctx.index.deleteChunk(pk, chunk, head.logStartOffset, { shadowed: true });
      report.chunksDeleted++;
    }
    chunks = chunks.filter((c) => !shadowed.includes(c));

    // 3. Compaction, or merging.
    if (policy.includes('compact')) {
      // Everything is compacted, the newest entries too: move them into a chunk first.
      head = await ctx.index.readHead(pk);
      if (head.entries.length > 0) {
        if (await ctx.index.spill(pk, epoch, head, 0)) chunks = (await ctx.index.chunks(pk)).filter((c) => c.end > head.logStartOffset);
        else report.incomplete = true;
      }
      await compact(ctx, topic, pk, epoch, chunks, now, limits, report);
    } else {
      await merge(ctx, topic, pk, epoch, chunks, limits, report);
    }
    return report;
  });
}

/**
 * Readers start at the highest base at or below the offset they read, so a
 * chunk is never read for any offset at or past the log start once another
 * chunk, or the head, starts after it and at or below the log start.
 */
export function isShadowedBelowStart(chunk: IndexChunk, chunks: IndexChunk[], head: Pick<PartitionHead, 'base' | 'logStartOffset'>): boolean {
  const start = head.logStartOffset;
  if (chunk.base >= start) return false;
  const later = (base: number) => base > chunk.base && base <= start;
  return later(head.base) || chunks.some((c) => later(c.base));
}

/** Groups consecutive chunks into runs of about mergeTargetBytes. */
function groupChunks(chunks: IndexChunk[], targetBytes: number): IndexChunk[][] {
  const groups: IndexChunk[][] = [];
  let current: IndexChunk[] = [];
  let bytes = 0;
  for (const c of chunks) {
    current.push(c);
    bytes += c.entries.reduce((n, e) => n + e.size, 0);
    if (bytes >= targetBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function objectsOf(group: IndexChunk[]): number {
  return new Set(group.flatMap((c) => c.entries.map((e) => e.objectId))).size;
}

async function merge(ctx: LogContext, topic: Topic, pk: string, epoch: number, chunks: IndexChunk[], limits: MaintenanceLimits, report: PartitionReport): Promise<void> {
  for (const group of groupChunks(chunks, limits.mergeTargetBytes)) {
    if (objectsOf(group) < Math.max(2, limits.mergeObjectsMin)) continue;
    if (report.bytesRewritten >= limits.rewriteBytesMax) {
      report.incomplete = true;
      return;
    }
    const result = await rewriteChunks(ctx, topic.topicId, pk, epoch, group, (_entry, bytes) => bytes);
    if (result.chunksRewritten < group.length) report.incomplete = true;
    report.chunksMerged += result.chunksRewritten;
    report.bytesRewritten += result.bytesBefore;
    report.released.push(...result.released);
  }
}

async function compact(
  ctx: LogContext,
  topic: Topic,
  pk: string,
  epoch: number,
  chunks: IndexChunk[],
  now: number,
  limits: MaintenanceLimits,
  report: PartitionReport,
): Promise<void> {
  // Pass 1: the latest offset of every key, over the whole partition.
  const plan = new CompactionPlan();
  const groups = groupChunks(chunks, limits.mergeTargetBytes);
  const total = chunks.reduce((n, c) => n + c.entries.reduce((m, e) => m + e.size, 0), 0);
  if (total > limits.rewriteBytesMax) {
    ctx.logger.warn('partition too large to compact in one turn; skipped', { pk, bytes: total });
    report.incomplete = true;
    return;
  }
  const groupRecords = [];
  for (const group of groups) {
    const records = (await readEntries(ctx, topic.topicId, distinctEntries(group))).flatMap((b) => recordsFrom(b, 0));
    records.forEach((r) => plan.observe(r));
    groupRecords.push(records);
  }
  const head = await ctx.index.readHead(pk);
  if (head.entries.length > 0) {
    for (const b of await readEntries(ctx, topic.topicId, placeEntries(head.base, head.entries))) recordsFrom(b, 0).forEach((r) => plan.observe(r));
  }

  // Pass 2: rewrite the runs of chunks that lose a record (or are fragmented).
  const deleteRetentionMs = topic.config['delete.retention.ms'];
  // A tombstone kept now is dropped once delete.retention.ms old: the partition is due then.
  for (const r of groupRecords.flat()) {
    if (r.value === null && plan.keeps(r, now, deleteRetentionMs)) {
      const due = r.timestamp + deleteRetentionMs + 1;
      report.nextDueAt = report.nextDueAt === undefined ? due : Math.min(report.nextDueAt, due);
    }
  }
  for (const [i, group] of groups.entries()) {
    const drops = groupRecords[i]!.some((r) => !plan.keeps(r, now, deleteRetentionMs));
    if (!drops && objectsOf(group) < Math.max(2, limits.mergeObjectsMin)) continue;
    // rewriteChunks hands over bytes already read with their real base offsets patched in.
    const result = await rewriteChunks(ctx, topic.topicId, pk, epoch, group, (_entry, bytes) =>
      Buffer.concat(
        splitBatches(bytes, { verifyCrc: false }).map((slice) =>
          filterBatchRecords(bytes, slice.start, (r) => plan.keeps(r, now, deleteRetentionMs)),
        ),
      ),
    );
    if (result.chunksRewritten < group.length) report.incomplete = true;
    report.chunksCompacted += result.chunksRewritten;
    report.bytesRewritten += result.bytesBefore;
    report.released.push(...result.released);
  }
}
