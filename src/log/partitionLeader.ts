/**
 * Runs a piece of single-writer partition work as the partition's leader: take
 * the lease, fence older epochs in the partition head, do the work with the
 * epoch (every write of it conditioned on that epoch), give the lease back.
 */
import type { LogContext } from './LogContext';

/** A leader's turn is short: spills and maintenance steps take well under this. */
export const leaderLeaseTtlMs = 30_000;

/**
 * Returns the work's result, or undefined when another live leader holds the
 * lease or a newer epoch has already fenced this one.
 */
export async function asPartitionLeader<T>(
  ctx: LogContext,
  pk: string,
  work: (epoch: number) => Promise<T>,
  options: {
    /**
     * Write the epoch to the head before the work (default). Work whose every
     * write is itself conditioned on the epoch and sets it (a spill) may skip
     * this extra request: it fences older leaders with its own first write.
     */
    fenceFirst?: boolean;
  } = {},
): Promise<T | undefined> {
  const lease = await ctx.leases.acquire(pk, ctx.holderId, leaderLeaseTtlMs);
  if (!lease) return undefined;
  try {
    if ((options.fenceFirst ?? true) && !(await ctx.index.fence(pk, lease.epoch))) return undefined;
    return await work(lease.epoch);
  } finally {
    await ctx.leases.release(lease).catch((err: unknown) => ctx.logger.warn('lease release failed', { pk, error: String(err) }));
  }
}
