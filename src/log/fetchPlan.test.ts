/** KIP-74 filling for the multi-partition fetch (src/log/fetchPlan.ts), decided from entry sizes alone. */
import { nextOffsetAfterPlan, planFetch } from './fetchPlan';
import type { PlacedEntry } from './indexEntry';

/** Entries of the given sizes, one offset each, from offset 0. */
const entries = (...sizes: number[]): PlacedEntry[] => sizes.map((size, i) => ({ objectId: 'o', position: 0, size, span: 1, maxTimestamp: -1, baseOffset: i }));
const sizesOf = (plan: ReturnType<typeof planFetch>) => plan.map((p) => p.take.map((e) => e.size));
const roomy = { totalBytesMax: 1_000, entryBytesMax: 10_000 };

describe('planFetch: partitions filled in request order within their own and the total limit', () => {
  test('each partition takes entries while they fit its own limit', () => {
    expect(sizesOf(planFetch([{ entries: entries(10, 10, 10), bytesMax: 25 }, { entries: entries(5, 5), bytesMax: 100 }], roomy))).toEqual([[10, 10], [5, 5]]);
  });

  test('the total is shared in request order; a partition past it takes nothing', () => {
    const plan = planFetch([{ entries: entries(40, 40), bytesMax: 100 }, { entries: entries(30, 30), bytesMax: 100 }, { entries: entries(1), bytesMax: 100 }], { ...roomy, totalBytesMax: 100 });
    expect(sizesOf(plan)).toEqual([[40, 40], [], [1]]);
  });

  test('a partition stops at its first entry that does not fit: its answer is contiguous from its offset', () => {
    expect(sizesOf(planFetch([{ entries: entries(10, 50, 1), bytesMax: 20 }], roomy))).toEqual([[10]]);
  });
});

describe('planFetch: a fetch always makes progress (KIP-74)', () => {
  test('the first entry of the first partition with data is taken even past both limits', () => {
    const plan = planFetch([{ entries: [], bytesMax: 1 }, { entries: entries(500, 1), bytesMax: 1 }, { entries: entries(1), bytesMax: 1 }], { totalBytesMax: 1, entryBytesMax: 10_000 });
    expect(sizesOf(plan)).toEqual([[], [500], []]);
  });

  test('only the first: a later partition whose first entry passes what is left takes nothing', () => {
    expect(sizesOf(planFetch([{ entries: entries(10), bytesMax: 100 }, { entries: entries(500), bytesMax: 1_000 }], { ...roomy, totalBytesMax: 100 }))).toEqual([[10], []]);
  });

  test('a first entry larger than a response can carry is reported as oversized, and the next partition becomes the first', () => {
    const plan = planFetch([{ entries: entries(20_000), bytesMax: 1 }, { entries: entries(700), bytesMax: 1 }], { totalBytesMax: 1, entryBytesMax: 10_000 });
    expect(plan[0]).toEqual({ take: [], oversized: entries(20_000)[0] });
    expect(sizesOf(plan)).toEqual([[], [700]]);
  });

  test('next_offset follows the last planned entry, or stays at the offset', () => {
    expect(nextOffsetAfterPlan(entries(1, 1, 1).slice(0, 2), 0)).toBe(2);
    expect(nextOffsetAfterPlan([], 7)).toBe(7);
  });
});
