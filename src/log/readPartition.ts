/**
 * The fetch path: read the partition head, locate the index entries from the
 * requested offset on, fetch their byte ranges from S3 (adjacent ranges of one
 * object in one GET), check each batch's CRC-32C and patch the real base offset
 * into its header — exactly what a Kafka broker does, since the CRC does not
 * cover the base offset.
 */
import type { Doorbell } from '../notify/doorbell';
import { decodeRecordBatch, patchBaseOffsets, splitBatches, type DecodedRecord, type TimestampType } from '../codec/recordBatch';
import { OffsetOutOfRangeError, StorageUnavailableError } from '../errors';
import { objectKey } from './ObjectStore';
import { partitionKey, type Topic } from './TopicCatalog';
import type { LogContext } from './LogContext';
import { IndexMovedError, type PartitionHead } from './PartitionIndex';
import type { PlacedEntry } from './indexEntry';
import { mapBounded } from '../mapBounded';

/** Ranged GETs one fetch runs at once. */
const rangeReadsInFlightMax = 8;
/** How often a long poll looks at the partition head again. */
export const longPollIntervalMs = 100;

export interface PartitionBounds {
  logStartOffset: number;
  highWatermark: number;
}

export interface ReadResult extends PartitionBounds {
  /** Whole RecordBatches with their real base offsets, concatenated. */
  batches: Buffer;
  /** Where the next fetch should start. */
  nextOffset: number;
  /** The entry holding the offset, when it was larger than `entryBytesMax` and so not read. */
  oversized?: PlacedEntry;
}

export async function partitionBounds(ctx: LogContext, topic: Topic, partition: number): Promise<PartitionBounds> {
  const head = await ctx.index.readHead(partitionKey(topic, partition));
  return { logStartOffset: head.logStartOffset, highWatermark: head.highWatermark };
}

/**
 * Attempts of one read. A read can lose a race with maintenance: it located an
 * entry, then retention, a merge or compaction re-pointed the index and the
 * sweep deleted the object. It then reads the index again.
 */
const readAttemptsMax = 3;

export interface ReadOptions {
  /**
   * Check each batch's CRC-32C before answering (default true). The binary
   * fetch passes false: like a Kafka broker, it hands the stored batches to a
   * consumer that checks them itself (check.crcs), so the bytes are not
   * checksummed twice on the way. Anything Strand decodes is checked.
   */
  verifyCrc?: boolean;
  /**
   * Bytes of batches the read returns at most, whatever `bytesWanted` lets the
   * index walk add (it stops after the entry that reaches it, so the last one
   * can pass it by up to an entry). Entries after the first are kept only while
   * they fit; the first is returned even if larger (KIP-74: a fetch always makes
   * progress), unless `entryBytesMax` says otherwise. Applied to the located
   * entries, before any byte is read.
   */
  bytesMax?: number;
  /**
   * A first entry larger than this is not read: the result names it in
   * `oversized` with no batches (the binary fetch answers it with presigned URLs).
   */
  entryBytesMax?: number;
}

export async function readPartition(
  ctx: LogContext,
  topic: Topic,
  partition: number,
  offset: number,
  bytesWanted: number,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const bytesMax = options.bytesMax ?? Infinity;
  return withLocatedEntries(ctx, topic, partition, offset, Math.min(bytesWanted, bytesMax), async (bounds, located) => {
    if (located.length === 0) return { ...bounds, batches: Buffer.alloc(0), nextOffset: offset };
    if (located[0]!.size > (options.entryBytesMax ?? Infinity)) {
      return { ...bounds, batches: Buffer.alloc(0), nextOffset: offset, oversized: located[0]! };
    }
    const entries = leadingWithin(located, bytesMax);
    const parts = await readEntries(ctx, topic.topicId, entries, options);
    return {
      ...bounds,
      batches: parts.length === 1 ? parts[0]! : Buffer.concat(parts),
      nextOffset: nextOffsetAfter(entries),
    };
  });
}

/**
 * Reads entries located earlier (locateRanges, then a plan chose them): the
 * multi-partition fetch locates every partition before it decides what to
 * read. When the index moved in between (an object was merged away and swept)
 * it reads again from the head, as readPartition does, within the same bytes:
 * an entry that no longer fits them is not read (nextOffset stays at `offset`).
 */
export async function readLocated(
  ctx: LogContext,
  topic: Topic,
  partition: number,
  offset: number,
  bounds: PartitionBounds,
  entries: PlacedEntry[],
  options: ReadOptions = {},
): Promise<ReadResult> {
  if (entries.length === 0) return { ...bounds, batches: Buffer.alloc(0), nextOffset: offset };
  try {
    const parts = await readEntries(ctx, topic.topicId, entries, options);
    return { ...bounds, batches: parts.length === 1 ? parts[0]! : Buffer.concat(parts), nextOffset: nextOffsetAfter(entries) };
  } catch (err) {
    if (!isNoSuchKey(err)) throw err;
    const bytes = entries.reduce((n, e) => n + e.size, 0);
    const again = await readPartition(ctx, topic, partition, offset, bytes, { ...options, bytesMax: bytes, entryBytesMax: bytes });
    return again.oversized ? { ...again, oversized: undefined } : again;
  }
}

export interface LocatedRanges extends PartitionBounds {
  /** Runs of adjacent entries in one object: one ranged GET each. */
  runs: RangeRun[];
  nextOffset: number;
}

/**
 * Where the batches from `offset` on live, without reading them (the
 * direct-to-S3 fetch path hands these to the client as presigned ranged GETs).
 */
export async function locateRanges(
  ctx: LogContext,
  topic: Topic,
  partition: number,
  offset: number,
  bytesWanted: number,
  options: { /** Runs (ranged GETs, each a presigned URL in the answer) at most; the first is always kept. */ runsMax?: number } = {},
): Promise<LocatedRanges> {
  return withLocatedEntries(ctx, topic, partition, offset, bytesWanted, async (bounds, entries) => {
    if (entries.length === 0) return { ...bounds, runs: [], nextOffset: offset };
    const runs = coalesce(entries).slice(0, Math.max(1, options.runsMax ?? Infinity));
    return { ...bounds, runs, nextOffset: nextOffsetAfter(runs[runs.length - 1]!.entries) };
  });
}

/** The first entry, then those after it while the total stays within `bytesMax`. */
function leadingWithin(entries: PlacedEntry[], bytesMax: number): PlacedEntry[] {
  let total = entries[0]!.size;
  let n = 1;
  while (n < entries.length && total + entries[n]!.size <= bytesMax) total += entries[n++]!.size;
  return n === entries.length ? entries : entries.slice(0, n);
}

/**
 * The one way both fetch paths find their entries: read the head, check the
 * offset against it, locate from it, and hand the entries to `use` (none at the
 * high watermark). When the index moved under the read (locate found nothing at
 * `offset`, or `use` found an object gone), it starts again from the head, up to
 * readAttemptsMax times: the new head then answers out of range or the right
 * entries.
 */
async function withLocatedEntries<T>(
  ctx: LogContext,
  topic: Topic,
  partition: number,
  offset: number,
  bytesWanted: number,
  use: (bounds: PartitionBounds, entries: PlacedEntry[]) => Promise<T>,
): Promise<T> {
  const pk = partitionKey(topic, partition);
  for (let attempt = 1; ; attempt++) {
    const head = await ctx.index.readHead(pk);
    assertInRange(offset, head);
    const bounds: PartitionBounds = { logStartOffset: head.logStartOffset, highWatermark: head.highWatermark };
    if (offset === head.highWatermark) return use(bounds, []);
    try {
      const entries = await ctx.index.locate(pk, head, offset, bytesWanted);
      if (entries.length === 0) throw new IndexMovedError(`No index entry holds offset ${offset} of ${pk}.`);
      return await use(bounds, entries);
    } catch (err) {
      if (!(err instanceof IndexMovedError || isNoSuchKey(err))) throw err;
      if (attempt >= readAttemptsMax) {
        throw new StorageUnavailableError(`Partition ${partition} of '${topic.name}' moved under the read ${attempt} times; retry.`, err);
      }
    }
  }
}

function nextOffsetAfter(entries: PlacedEntry[]): number {
  const last = entries[entries.length - 1]!;
  return last.baseOffset + last.span;
}

function isNoSuchKey(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
}

function assertInRange(offset: number, head: PartitionHead): void {
  if (offset < head.logStartOffset || offset > head.highWatermark) {
    throw new OffsetOutOfRangeError(offset, head.logStartOffset, head.highWatermark);
  }
}

/** Reads the entries' bytes, one GET per run of adjacent ranges, and patches base offsets. */
export async function readEntries(ctx: LogContext, topicId: string, entries: PlacedEntry[], options: ReadOptions = {}): Promise<Buffer[]> {
  const verifyCrc = options.verifyCrc ?? true;
  const runs = coalesce(entries);
  const bodies = await mapBounded(runs, rangeReadsInFlightMax, (run) => ctx.objects.getRange(objectKey(topicId, run.objectId), run.position, run.size));

  const out: Buffer[] = [];
  runs.forEach((run, i) => {
    let at = 0;
    for (const entry of run.entries) {
      const bytes = bodies[i]!.subarray(at, at + entry.size);
      at += entry.size;
      patchBaseOffsets(bytes, entry.baseOffset, { verifyCrc });
      out.push(bytes);
    }
  });
  return out;
}

export interface RangeRun {
  objectId: string;
  position: number;
  size: number;
  entries: PlacedEntry[];
}

/** Groups consecutive entries whose bytes sit back to back in the same object. */
export function coalesce(entries: PlacedEntry[]): RangeRun[] {
  const runs: RangeRun[] = [];
  for (const e of entries) {
    const last = runs[runs.length - 1];
    if (last && last.objectId === e.objectId && last.position + last.size === e.position) {
      last.size += e.size;
      last.entries.push(e);
    } else {
      runs.push({ objectId: e.objectId, position: e.position, size: e.size, entries: [e] });
    }
  }
  return runs;
}

/** Decodes the records of patched batches, from `fromOffset` on, skipping control batches. */
export interface FetchedRecord extends DecodedRecord {
  timestampType: TimestampType;
}

export function recordsFrom(batches: Buffer, fromOffset: number): FetchedRecord[] {
  const records: FetchedRecord[] = [];
  if (batches.length === 0) return records; // an empty read (at the high watermark) holds no batch
  // Every caller passes bytes from readEntries with its default verifyCrc, which already checked each batch's CRC-32C.
  for (const slice of splitBatches(batches, { verifyCrc: false })) {
    if (slice.header.isControl) continue;
    for (const r of decodeRecordBatch(batches, slice.start, { verifyCrc: false }).records) {
      if (r.offset >= fromOffset) records.push({ ...r, timestampType: slice.header.timestampType });
    }
  }
  return records;
}

/**
 * Kafka's ListOffsets: the first offset whose record timestamp is at or after
 * `timestamp`, or the high watermark when there is none. -1 means latest and -2
 * earliest, as in Kafka.
 */
export async function offsetForTimestamp(
  ctx: LogContext,
  topic: Topic,
  partition: number,
  timestamp: number,
): Promise<{ offset: number; timestamp: number }> {
  const pk = partitionKey(topic, partition);
  for (let attempt = 1; ; attempt++) {
    const head = await ctx.index.readHead(pk);
    if (timestamp === -1) return { offset: head.highWatermark, timestamp: -1 };
    if (timestamp === -2) return { offset: head.logStartOffset, timestamp: -1 };
    try {
      for await (const entry of ctx.index.entriesFrom(pk, head, head.logStartOffset)) {
        if (entry.maxTimestamp < timestamp) continue;
        const [bytes] = await readEntries(ctx, topic.topicId, [entry]);
        const hit = recordsFrom(bytes!, head.logStartOffset).find((r) => r.timestamp >= timestamp);
        if (hit) return { offset: hit.offset, timestamp: hit.timestamp };
      }
      return { offset: head.highWatermark, timestamp: -1 };
    } catch (err) {
      // Retention moved the log start under the walk (a chunk went, an object was
      // swept): start again from the head, as a fetch does.
      if (!(err instanceof IndexMovedError || isNoSuchKey(err))) throw err;
      if (attempt >= readAttemptsMax) {
        throw new StorageUnavailableError(`Partition ${partition} of '${topic.name}' moved under the lookup ${attempt} times; retry.`, err);
      }
    }
  }
}

/**
 * Long poll: waits until the partition has data at `offset` or `maxWaitMs`
 * passes. Between reads of the head it waits on the doorbell when there is
 * one (src/notify/doorbell.ts), else polls the head at most once a second.
 */
export async function waitForData(
  ctx: LogContext,
  topic: Topic,
  partition: number,
  offset: number,
  maxWaitMs: number,
  signal?: AbortSignal,
  doorbell?: Doorbell,
): Promise<void> {
  const pk = partitionKey(topic, partition);
  // Wall-clock time on purpose, not ctx.clock: the wait itself is real setTimeout
  // time, and ctx.clock is logical time tests move by hand (a ManualClock never
  // advances on its own, so a deadline on it would never pass).
  const deadline = Date.now() + maxWaitMs;
  let bell = doorbell;
  while (Date.now() < deadline && !signal?.aborted) {
    const head = await ctx.index.readHead(pk);
    if (head.highWatermark > offset || offset < head.logStartOffset) return;
    if (bell) {
      // No head read while the bell is quiet (src/log/waitForAnyData.ts says why).
      const rang = await bell([{ topicName: topic.name, partition, offset }], deadline - Date.now(), signal);
      if (rang === 'timeout') return;
      if (rang === 'unavailable') bell = undefined;
      continue;
    }
    await new Promise((r) => setTimeout(r, Math.min(waitPollSpacingMs, Math.max(0, deadline - Date.now()))));
  }
}

/** A single-partition wait without a doorbell reads its head at most once a second (the read budget of waitForAnyData). */
const waitPollSpacingMs = 1_000;
