/**
 * Offset syncs and their translation (MM2's OffsetSyncStore and checkpoints),
 * pure.
 *
 * A sync run says: source offsets `source … source+length-1` of a partition
 * are at target offsets `target … target+length-1` (both dense). Every mirror
 * append adds the runs of its records (one run when the source has no gaps,
 * and consecutive appends extend the same run), so a partition mirrored
 * without gaps is described by a single run however long it is. Runs are kept
 * in source order, at most `syncRunsPerPartitionMax` per partition (the oldest
 * dropped).
 *
 * Translating a committed offset C (the next offset the group will read):
 * take the latest run starting at or below C.
 *   - C inside the run or at its end: exact, target + (C - source). Records
 *     from C on are at or after that target offset, records before C before it.
 *   - C past the run's end (a gap in the source, or not mirrored yet, or a
 *     run the state did not save before a crash): the run's target end. Every
 *     record at or after C was copied (or will be) after the run, so it is at
 *     or after the run's end: nothing is skipped, and what is re-read is the
 *     records between the run's end and C, at most what one unsaved pass copied.
 *   - No run at or below C: no translation (the caller starts from the
 *     target's log start, which never skips either). MM2 does the same.
 * So translation never skips a record, and is exact whenever the syncs cover
 * the committed offset.
 */

export interface SyncRun {
  /** First source offset of the run. */
  source: number;
  /** Its target offset. */
  target: number;
  /** Records in the run (source and target offsets both dense). */
  length: number;
}

/** Runs kept per partition: a gapless partition needs one; compacted sources need more. */
export const syncRunsPerPartitionMax = 64;

/** Adds the (source offset, target offset) pairs of one append, in order, merging into the last run when they continue it. */
export function addSyncs(runs: readonly SyncRun[], pairs: readonly { source: number; target: number }[], max = syncRunsPerPartitionMax): SyncRun[] {
  const out = runs.map((r) => ({ ...r }));
  for (const p of pairs) {
    const last = out[out.length - 1];
    if (last && p.source === last.source + last.length && p.target === last.target + last.length) {
      last.length++;
      continue;
    }
    // A replay or rewind (source at or below the last run's start): runs after it are stale.
    while (out.length > 0 && out[out.length - 1]!.source >= p.source) out.pop();
    const prev = out[out.length - 1];
    if (prev && prev.source + prev.length > p.source) prev.length = p.source - prev.source;
    out.push({ source: p.source, target: p.target, length: 1 });
  }
  return out.length > max ? out.slice(out.length - max) : out;
}

export type Translation = { offset: number; exact: boolean } | { offset: undefined; reason: string };

/** The target offset to resume at for source committed offset `committed` (see the file comment). */
export function translateOffset(runs: readonly SyncRun[], committed: number): Translation {
  let run: SyncRun | undefined;
  for (const r of runs) {
    if (r.source <= committed) run = r;
    else break;
  }
  if (!run) return { offset: undefined, reason: runs.length === 0 ? 'no offset syncs for the partition yet' : `offset ${committed} is older than the oldest offset sync (${runs[0]!.source})` };
  const end = run.source + run.length;
  if (committed <= end) return { offset: run.target + (committed - run.source), exact: true };
  return { offset: run.target + run.length, exact: false };
}

export interface GroupOffsetTranslation {
  group: string;
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  sourceOffset: number;
  /** Undefined when there is no sync at or below the committed offset (start from the target's log start). */
  targetOffset: number | undefined;
  exact: boolean;
  reason?: string;
}
