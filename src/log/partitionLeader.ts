/**
 * Runs a piece of single-writer partition work as the partition's leader: take
 * the lease, fence older epochs in the partition head (reading the head in the
 * same write), do the work with the epoch and that view (every write of it
 * conditioned on the epoch), give the lease back.
 */
import type { LogContext } from './LogContext';
import type { PartitionHead } from './PartitionIndex';

/** A leader's turn is short: spills and maintenance steps take well under this. */
export const leaderLeaseTtlMs = 30_000;

/**
 * Returns the work's result, or undefined when another live leader holds the
 * lease, a newer epoch has already fenced this one, or the topic was deleted
 * (then the lease item this call created is removed again, so a stale
 * maintenance pass leaves nothing of a deleted topic behind).
 *
 * The work gets the head as the fence left it: a view read under its own
 * epoch. A view read before the lease (e.g. the one an append saw) may predate
 * another leader's rewrite, and work from it could undo that rewrite.
 */
export async function asPartitionLeader<T>(
  ctx: LogContext,
  pk: string,
  work: (epoch: number, head: PartitionHead) => Promise<T>,
): Promise<T | undefined> {
  const lease = await ctx.leases.acquire(pk, ctx.holderId, leaderLeaseTtlMs);
  if (!lease) return undefined;
  let deleted = false;
  try {
    const head = await ctx.index.fence(pk, lease.epoch);
    if (head === 'deleted') deleted = true;
    if (head === 'fenced' || head === 'deleted') return undefined;
    return await work(lease.epoch, head);
  } finally {
    const end = deleted ? ctx.leases.deleteHeld(lease) : ctx.leases.release(lease);
    await end.catch((err: unknown) => ctx.logger.warn('lease release failed', { pk, error: String(err) }));
  }
}
