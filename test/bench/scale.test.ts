/**
 * The scale bench in miniature (`npm run bench:scale -- --quick` at smaller
 * sizes): its report has every part, an idle maintenance pass costs no storage
 * request per idle partition, a pass gives a turn to exactly the partitions
 * appended to, and readers and heartbeats see no errors. Structure and
 * counts only, never timings.
 */
import { parseArgs, runScaleBench } from '../../bench/scale';

jest.setTimeout(600_000);

describe('scale bench', () => {
  test('quick mode: zero requests per idle partition, turns only where appended, no reader or heartbeat errors', async () => {
    const result = await runScaleBench({ ...parseArgs(['--quick']), sizes: [10, 120], readers: [1, 3], groups: 8, maxSeconds: 400 });
    expect(result.skipped).toEqual([]);
    expect(result.sizes.map((s) => s.partitions)).toEqual([10, 120]);
    // The idle pass costs the same with 12 times the partitions.
    expect(result.requests_per_idle_partition).toBe(0);
    for (const size of result.sizes) {
      expect(size.create_ms).toBeGreaterThan(0);
      expect(size.changed.map((c) => c.partitions)).toEqual([0, 10, 100].filter((k) => k <= size.partitions));
      for (const c of size.changed) expect(c.turns).toBe(c.partitions);
      expect(size.sweep).not.toBe('skipped');
    }
    expect(result.readers).not.toBe('skipped');
    if (result.readers !== 'skipped') {
      expect(result.readers.map((r) => r.readers)).toEqual([1, 3]);
      for (const r of result.readers) {
        expect(r.errors).toBe(0);
        expect(r.requests).toBeGreaterThan(0);
      }
    }
    expect(result.groups).toMatchObject({ groups: 8, errors: 0, heartbeats: 8 * 4 });
  });

  test('full mode is 1,000 and 10,000 partitions, 100 readers and 1,000 groups, bounded in time', () => {
    const full = parseArgs([]);
    expect(full).toMatchObject({ quick: false, sizes: [1000, 10_000], groups: 1000 });
    expect(full.readers).toContain(100);
    expect(full.maxSeconds).toBeGreaterThan(0);
  });
});
