/**
 * Partition leader leases: epochs only grow, expiry hands leadership over, and a
 * stale holder is fenced by the store (a conditional write), not by its clock.
 */
import { ManualClock } from '../../src/clock';
import { asPartitionLeader, leaderLeaseTtlMs } from '../../src/log/partitionLeader';
import type { LogContext } from '../../src/log/LogContext';
import { startTestStrand, type TestStrand } from '../support/localStrand';

const entry = (objectId: string) => ({ objectId, position: 0, size: 100, span: 1, maxTimestamp: 1 });

describe('partition leader leases', () => {
  let strand: TestStrand;
  let clock: ManualClock;
  let ctx: LogContext;
  beforeAll(async () => {
    clock = new ManualClock();
    strand = await startTestStrand({ clock });
    ctx = strand.runtime.engine.context;
  });
  afterAll(() => strand.dispose());

  test('a free lease is taken with epoch 1 and a second holder cannot take it while it is live', async () => {
    const a = await ctx.leases.acquire('lease-a', 'holder-a', 10_000);
    expect(a).toMatchObject({ holder: expect.stringMatching(/^holder-a\//), epoch: 1 });
    expect(await ctx.leases.acquire('lease-a', 'holder-b', 10_000)).toBeUndefined();
  });

  test('an expired lease is taken over with a higher epoch, and the old holder can no longer renew it', async () => {
    const a = (await ctx.leases.acquire('lease-b', 'holder-a', 10_000))!;
    clock.advance(10_001);
    const b = await ctx.leases.acquire('lease-b', 'holder-b', 10_000);
    expect(b).toMatchObject({ holder: expect.stringMatching(/^holder-b\//), epoch: a.epoch + 1 });
    expect(await ctx.leases.renew(a, 10_000)).toBeUndefined();
    expect(await ctx.leases.renew(b!, 10_000)).toMatchObject({ holder: b!.holder, epoch: b!.epoch });
  });

  test('a released lease can be taken at once, and the epoch still grows', async () => {
    const a = (await ctx.leases.acquire('lease-c', 'holder-a', 10_000))!;
    await ctx.leases.release(a);
    const b = await ctx.leases.acquire('lease-c', 'holder-b', 10_000);
    expect(b?.epoch).toBe(a.epoch + 1);
  });

  test('a stale holder whose lease was taken over cannot spill: the store rejects its write and the head is unchanged', async () => {
    const pk = 'fence-test#0';
    let seen;
    for (let i = 0; i < 10; i++) seen = (await ctx.index.commit(pk, entry(`obj${i}`))).head;
    const stale = (await ctx.leases.acquire(pk, 'holder-a', 10_000))!;
    expect(await ctx.index.fence(pk, stale.epoch)).toMatchObject({ leaderEpoch: stale.epoch, highWatermark: 10 });

    clock.advance(10_001);
    const fresh = (await ctx.leases.acquire(pk, 'holder-b', 10_000))!;
    expect(await ctx.index.fence(pk, fresh.epoch)).toMatchObject({ leaderEpoch: fresh.epoch });

    const before = await ctx.index.readHead(pk);
    expect(await ctx.index.spill(pk, stale.epoch, seen!, 2)).toBe(false);
    expect(await ctx.index.fence(pk, stale.epoch)).toBe('fenced');
    const after = await ctx.index.readHead(pk);
    expect(after).toEqual(before);
    expect(after.leaderEpoch).toBe(fresh.epoch);

    // The live leader's spill goes through.
    expect(await ctx.index.spill(pk, fresh.epoch, after, 2)).toBe(true);
    const spilled = await ctx.index.readHead(pk);
    expect(spilled.entries).toHaveLength(2);
    expect(spilled.base).toBe(8);
  });

  test('leader work runs only for the lease holder, and not at all while another holder is live', async () => {
    const pk = 'leader-work#0';
    const other = (await ctx.leases.acquire(pk, 'someone-else', leaderLeaseTtlMs))!;
    expect(await asPartitionLeader(ctx, pk, async () => 'ran')).toBeUndefined();
    clock.advance(leaderLeaseTtlMs + 1);
    expect(await asPartitionLeader(ctx, pk, async (epoch) => epoch)).toBe(other.epoch + 1);
    // The lease was given back: the next turn need not wait for expiry.
    expect(await asPartitionLeader(ctx, pk, async (epoch) => epoch)).toBe(other.epoch + 2);
  });
});
