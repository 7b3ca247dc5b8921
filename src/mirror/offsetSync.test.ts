/**
 * Offset syncs and translation, pure. How: a model partition is mirrored with
 * random source gaps (compaction), random append boundaries and a random
 * prefix of syncs lost (a crash before the save); every committed offset is
 * translated and checked against where the records really are.
 */
import fc from 'fast-check';
import { addSyncs, syncRunsPerPartitionMax, translateOffset, type SyncRun } from './offsetSync';

describe('addSyncs', () => {
  test('a gapless partition is one run however many appends made it', () => {
    let runs: SyncRun[] = [];
    for (let a = 0; a < 100; a++) runs = addSyncs(runs, [0, 1, 2].map((i) => ({ source: a * 3 + i, target: 10 + a * 3 + i })));
    expect(runs).toEqual([{ source: 0, target: 10, length: 300 }]);
  });

  test('gaps start new runs; the oldest runs go beyond the bound', () => {
    let runs: SyncRun[] = [];
    for (let i = 0; i < syncRunsPerPartitionMax + 10; i++) runs = addSyncs(runs, [{ source: i * 2, target: i }]);
    expect(runs).toHaveLength(syncRunsPerPartitionMax);
    expect(runs[0]!.source).toBe(20);
  });

  test('a pair at or below the last run (a rewind) drops what it contradicts', () => {
    const runs = addSyncs([{ source: 0, target: 0, length: 10 }], [{ source: 5, target: 100 }]);
    expect(runs).toEqual([
      { source: 0, target: 0, length: 5 },
      { source: 5, target: 100, length: 1 },
    ]);
  });
});

describe('translateOffset never skips a record and is exact where syncs cover the offset', () => {
  test('random source gaps, append boundaries and lost syncs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 80 }), // which source offsets exist (false: removed by compaction)
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 40 }), // records per append
        fc.nat(20), // appends whose syncs were saved (the rest lost in a crash)
        fc.nat(5), // the target offset the mirror started at
        (present, sizes, saved, targetStart) => {
          const sourceOffsets = present.flatMap((p, i) => (p ? [i] : []));
          fc.pre(sourceOffsets.length > 0);
          // Where each source record landed.
          const at = new Map<number, number>();
          sourceOffsets.forEach((s, i) => at.set(s, targetStart + i));
          let runs: SyncRun[] = [];
          let i = 0;
          for (let a = 0; a < sizes.length && i < sourceOffsets.length && a < saved; a++) {
            const batch = sourceOffsets.slice(i, i + sizes[a]!);
            runs = addSyncs(runs, batch.map((s) => ({ source: s, target: at.get(s)! })));
            i += batch.length;
          }
          const coveredEnd = i === 0 ? -1 : sourceOffsets[i - 1]! + 1;
          for (let committed = 0; committed <= present.length + 2; committed++) {
            const t = translateOffset(runs, committed);
            if (t.offset === undefined) {
              expect(runs.length === 0 || committed < runs[0]!.source).toBe(true);
              continue;
            }
            // Never skips: every record at or after the committed offset is at or after the translation.
            for (const [s, target] of at) if (s >= committed) expect(target).toBeGreaterThanOrEqual(t.offset);
            // Exact where covered: no record before the committed offset is at or after it.
            if (committed <= coveredEnd && t.exact) for (const [s, target] of at) if (s < committed) expect(target).toBeLessThan(t.offset);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('exact inside and at the end of a run; past it, the run end; below every run, none', () => {
    const runs = [
      { source: 10, target: 0, length: 5 },
      { source: 20, target: 5, length: 5 },
    ];
    expect(translateOffset(runs, 12)).toEqual({ offset: 2, exact: true });
    expect(translateOffset(runs, 15)).toEqual({ offset: 5, exact: true });
    expect(translateOffset(runs, 17)).toEqual({ offset: 5, exact: false });
    expect(translateOffset(runs, 99)).toEqual({ offset: 10, exact: false });
    expect(translateOffset(runs, 3).offset).toBeUndefined();
    expect(translateOffset([], 3).offset).toBeUndefined();
  });
});
