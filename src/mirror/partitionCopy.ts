/**
 * Copying one partition: source partition p → target partition p, in order,
 * each record with its key, value, headers and timestamp (CreateTime kept),
 * plus one header, `strand.mirror.source.offset`, the source offset it copies.
 *
 * No duplicates, across crashes (docs/mirroring.md). Two facts together:
 *
 * 1. The resume point is read from the target, not from saved progress. The
 *    target partition's last record names the source offset it copies (the
 *    header), and its stored batch the producer id, epoch and base sequence the
 *    mirror wrote it with (a stored batch keeps the producer's header). So a
 *    restarted mirror continues at (last source offset + 1, last sequence + 1),
 *    whatever it had saved: a crash after an append and before saving anything
 *    cannot make it copy that append again.
 *
 * 2. Every append is idempotent with sequences that follow the target's own
 *    history: the batch copying the records from source offset S carries the
 *    sequence that the target's head expects after the record before S. The
 *    head accepts a batch only at exactly its expected sequence (Strand's
 *    idempotent producer check, invariant 12 of ARCHITECTURE.md), so two
 *    attempts to copy from S — a retry after a lost reply, or an append still
 *    in flight from a crashed mirror that lands after its successor read the
 *    tail — cannot both land: the second is either answered as a duplicate
 *    (same sequence, same count: the same records, which is checked by
 *    reading them back) or refused (40926), after which the mirror reads the
 *    tail again and continues from what is really there.
 *
 * Assumption: the mirror is the only writer of its target topics (as with
 * MM2). A target partition whose last record has no source-offset header
 * stops that partition with an error rather than guess.
 */
import type { StrandClient } from '../../client/StrandClient';
import { OffsetOutOfRangeError } from '../../client/errors';
import type { LogRecord } from '../codec/record';
import { incrementSequence } from '../producers/producerState';
import { addSyncs } from './offsetSync';
import type { PartitionProgress } from './mirrorState';
import { appendBatch, encodeMirrorBatch, readRecords, type AppendReply, type FetchedRecord, type ProducerIdentity } from './remoteLog';

/** The header each copy carries: the source offset of the record it copies (decimal). */
export const sourceOffsetHeader = 'strand.mirror.source.offset';

/** Records in one target append at most. */
export const recordsPerAppendMax = 5_000;
/** Bytes of records in one target append at most (the API takes 4 MiB per request). */
export const appendBytesMax = 1024 * 1024;
/** Appends one partition makes per pass at most, so every partition gets its turn. */
export const appendsPerPartitionPassMax = 1_000;

/** The target holds something the mirror did not write, or an append's answer does not match what was sent. */
export class MirrorConflictError extends Error {
  override name = 'MirrorConflictError';
}

/** Thrown by a fault hook to kill the mirror where it stands (tests): nothing after it runs, nothing is saved. */
export class MirrorKilled extends Error {
  override name = 'MirrorKilled';
}

export interface AppendAttempt {
  targetTopic: string;
  partition: number;
  sequence: number;
  /** Source offsets of the records, in order. */
  sourceOffsets: number[];
  body: Buffer;
}

/** Test hooks: where a mirror can be killed. */
export interface MirrorFaults {
  /**
   * Wraps every target append. Call `send` to append (now, later, or never),
   * and throw MirrorKilled to kill the mirror: e.g. after `send` resolves (the
   * append applied, the progress not saved), or before (nothing written), or
   * having started `send` without waiting (an append in flight as it dies).
   */
  append?(attempt: AppendAttempt, send: () => Promise<AppendReply>): Promise<AppendReply>;
  /** Called before each state save; throw MirrorKilled to die before it. */
  beforeSave?(): void | Promise<void>;
}

export interface CopyEnv {
  source: StrandClient;
  target: StrandClient;
  fetchBytes: number;
  faults?: MirrorFaults;
  /** The mirror was killed (a fault fired): stop before the next request. */
  killed(): boolean;
  /** Epoch ms after which no new append starts. */
  deadline?: number;
  /** Appends per pass at most. @default appendsPerPartitionPassMax */
  appendsPerPass?: number;
}

/** The source offset a copy carries, or undefined for a record the mirror did not write. */
export function sourceOffsetOf(r: Pick<FetchedRecord, 'headers'>): number | undefined {
  for (let i = r.headers.length - 1; i >= 0; i--) {
    const h = r.headers[i]!;
    if (h.key === sourceOffsetHeader && h.value) {
      const n = Number(h.value.toString('utf8'));
      return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
    }
  }
  return undefined;
}

/**
 * Where to continue copying `sourceTopic`/p into `targetTopic`/p, from the
 * target partition's tail (fact 1 above); `saved` only when retention removed
 * every target record. `fresh`: start a new sequence (0) under the identity's
 * epoch instead of continuing the tail's (after an epoch bump).
 */
export async function resumePosition(
  env: Pick<CopyEnv, 'target'>,
  names: { sourceTopic: string; targetTopic: string; partition: number },
  identity: ProducerIdentity,
  saved: PartitionProgress | undefined,
  fresh = false,
): Promise<PartitionProgress> {
  const { targetTopic, partition } = names;
  const runs = saved && saved.targetTopic === targetTopic && saved.sourceTopic === names.sourceTopic ? saved.runs : [];
  const { logStartOffset, highWatermark } = await env.target.admin().describePartition(targetTopic, partition);
  const base = { ...names, producerEpoch: identity.producerEpoch, nextSequence: 0 };
  if (highWatermark === 0) return { ...base, nextSourceOffset: 0, nextTargetOffset: 0, runs: [] };
  if (highWatermark <= logStartOffset) {
    // Retention removed every target record: only the saved progress knows.
    if (saved && saved.nextTargetOffset === highWatermark) return fresh ? { ...saved, ...base, runs } : { ...saved, runs };
    throw new MirrorConflictError(`${targetTopic}/${partition} holds no records (log start ${logStartOffset} = high watermark) and the saved progress does not match it: cannot tell where to resume.`);
  }
  const got = await readRecords(env.target, targetTopic, partition, highWatermark - 1, 64 * 1024);
  const last = got.records[got.records.length - 1];
  if (!last || last.offset !== highWatermark - 1) {
    // The last offset holds no record: compaction removed it (a tombstone past delete.retention.ms). Its
    // source offset is not known from the target; the saved progress knows it when it ends here.
    if (saved && saved.nextTargetOffset === highWatermark && saved.targetTopic === targetTopic) return fresh ? { ...saved, ...base, runs } : { ...saved, runs };
    throw new MirrorConflictError(`the last offset of ${targetTopic}/${partition} (${highWatermark - 1}) holds no record (compacted away) and the saved progress does not end there: cannot tell where to resume.`);
  }
  const source = sourceOffsetOf(last);
  if (source === undefined) {
    throw new MirrorConflictError(
      `the last record of ${targetTopic}/${partition} (offset ${last.offset}) has no ${sourceOffsetHeader} header: something other than the mirror writes this topic, so the mirror cannot tell where to resume without risking duplicates.`,
    );
  }
  const b = last.batch;
  const continues = !fresh && b.producerId === identity.producerId && b.baseSequence >= 0;
  return {
    ...names,
    nextSourceOffset: source + 1,
    nextTargetOffset: highWatermark,
    producerEpoch: continues ? b.producerEpoch : identity.producerEpoch,
    nextSequence: continues ? incrementSequence(b.baseSequence, b.recordCount) : 0,
    runs: addSyncs(runs, [{ source, target: last.offset }]),
  };
}

export interface CopyOutcome {
  copied: number;
  caughtUp: boolean;
  sourceHighWatermark: number;
  skipped: number;
  /** Timestamp of the first source record not copied, when one was seen. */
  firstUncopiedTimestamp?: number;
}

/** Copies from `progress` until caught up, the deadline, or the per-pass bound; `progress` moves as appends land. */
export async function copyPartition(env: CopyEnv, progress: PartitionProgress, identity: ProducerIdentity): Promise<CopyOutcome> {
  const out: CopyOutcome = { copied: 0, caughtUp: false, sourceHighWatermark: NaN, skipped: 0 };
  const { sourceTopic, targetTopic, partition } = progress;
  const appendsMax = Math.min(env.appendsPerPass ?? appendsPerPartitionPassMax, appendsPerPartitionPassMax);
  for (let appends = 0; appends < appendsMax; appends++) {
    if (env.killed()) throw new MirrorKilled('the mirror was killed');
    let got;
    try {
      got = await readRecords(env.source, sourceTopic, partition, progress.nextSourceOffset, env.fetchBytes);
    } catch (err) {
      if (!(err instanceof OffsetOutOfRangeError)) throw err;
      if (progress.nextSourceOffset < err.logStartOffset) {
        // The source's retention removed records before they were copied: MM2 skips them too.
        if (progress.nextSourceOffset > 0 || progress.runs.length > 0) out.skipped += err.logStartOffset - progress.nextSourceOffset;
        progress.nextSourceOffset = err.logStartOffset;
        continue;
      }
      throw new MirrorConflictError(
        `${sourceTopic}/${partition} ends at ${err.highWatermark}, before the mirror's position ${progress.nextSourceOffset}: was the source topic deleted and created again? Delete the target topic ${targetTopic} to copy it afresh.`,
      );
    }
    out.sourceHighWatermark = got.highWatermark;
    if (got.records.length === 0) {
      progress.nextSourceOffset = Math.max(progress.nextSourceOffset, got.nextOffset);
      if (got.nextOffset >= got.highWatermark) {
        out.caughtUp = true;
        return out;
      }
      continue;
    }
    if (env.deadline !== undefined && Date.now() >= env.deadline) {
      out.firstUncopiedTimestamp = got.records[0]!.timestamp;
      return out;
    }
    const batch = takeBatch(got.records);
    const records: LogRecord[] = batch.map((r) => ({
      key: r.key,
      value: r.value,
      headers: [...r.headers, { key: sourceOffsetHeader, value: Buffer.from(String(r.offset)) }],
      timestamp: r.timestamp,
    }));
    const epochIdentity = { producerId: identity.producerId, producerEpoch: progress.producerEpoch };
    const attempt: AppendAttempt = {
      targetTopic,
      partition,
      sequence: progress.nextSequence,
      sourceOffsets: batch.map((r) => r.offset),
      // Compressed as the source compressed the first of them (a copy costs the target what the original cost the source).
      body: encodeMirrorBatch(records, epochIdentity, progress.nextSequence, batch[0]!.batch.compression),
    };
    if (env.killed()) throw new MirrorKilled('the mirror was killed');
    const send = () => appendBatch(env.target, targetTopic, partition, attempt.body);
    const reply = env.faults?.append ? await env.faults.append(attempt, send) : await send();
    if (reply.lastOffset - reply.baseOffset + 1 !== batch.length) {
      throw new MirrorConflictError(`${targetTopic}/${partition} acknowledged offsets ${reply.baseOffset}..${reply.lastOffset} for ${batch.length} records.`);
    }
    if (reply.duplicate) await verifyCopies(env.target, targetTopic, partition, reply, attempt.sourceOffsets);
    progress.runs = addSyncs(progress.runs, attempt.sourceOffsets.map((source, i) => ({ source, target: reply.baseOffset + i })));
    progress.nextSourceOffset = batch[batch.length - 1]!.offset + 1;
    progress.nextTargetOffset = reply.lastOffset + 1;
    progress.nextSequence = incrementSequence(attempt.sequence, batch.length);
    out.copied += batch.length;
    if (batch.length === got.records.length && got.nextOffset >= got.highWatermark) {
      progress.nextSourceOffset = Math.max(progress.nextSourceOffset, got.nextOffset);
      out.caughtUp = true;
      return out;
    }
  }
  return out;
}

/** The timestamp of the first record at or after `offset` (for lag in seconds), or undefined when there is none. */
export async function readFirstTimestamp(source: StrandClient, topic: string, partition: number, offset: number): Promise<number | undefined> {
  try {
    const got = await readRecords(source, topic, partition, offset, 1);
    return got.records[0]?.timestamp;
  } catch (err) {
    if (err instanceof OffsetOutOfRangeError) return undefined;
    throw err;
  }
}

/** The records of one append: at least one, then up to recordsPerAppendMax and appendBytesMax. */
function takeBatch(records: FetchedRecord[]): FetchedRecord[] {
  let bytes = 0;
  let n = 0;
  while (n < records.length && n < recordsPerAppendMax) {
    const r = records[n]!;
    let size = 64 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
    for (const h of r.headers) size += 8 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
    if (n > 0 && bytes + size > appendBytesMax) break;
    bytes += size;
    n++;
  }
  return records.slice(0, n);
}

/**
 * A duplicate answer says "this sequence was appended before, here": read it
 * back and check it holds copies of the same source offsets. It does whenever
 * the earlier append was this mirror's (same sequence ⇒ same start); a
 * mismatch means the target's producer state and its records disagree, and
 * the partition stops rather than count records copied that are not.
 */
async function verifyCopies(target: StrandClient, topic: string, partition: number, reply: AppendReply, sourceOffsets: number[]): Promise<void> {
  const seen: number[] = [];
  let offset = reply.baseOffset;
  for (let reads = 0; offset <= reply.lastOffset && reads < 64; reads++) {
    const got = await readRecords(target, topic, partition, offset, appendBytesMax * 2);
    for (const r of got.records) if (r.offset <= reply.lastOffset) seen.push(sourceOffsetOf(r) ?? -1);
    if (got.nextOffset <= offset) break;
    offset = got.nextOffset;
  }
  if (seen.length !== sourceOffsets.length || seen.some((s, i) => s !== sourceOffsets[i])) {
    throw new MirrorConflictError(
      `${topic}/${partition} answered an append of source offsets ${sourceOffsets[0]}..${sourceOffsets[sourceOffsets.length - 1]} as a duplicate of offsets ${reply.baseOffset}..${reply.lastOffset}, which copy other records.`,
    );
  }
}
