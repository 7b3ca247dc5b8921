/**
 * Leases per (trigger, partition), for runners that may run side by side: the
 * dispatcher Lambda on AWS, where a stream batch and the scheduled rescan (or
 * two shards' batches) can wake the same partition in two execution
 * environments at once. Only the holder steps the partition, so its batches
 * stay one in flight and in order.
 *
 * The leases table, as partition leases (src/log/LeaseStore.ts) but under a
 * key prefix of their own, so the two never meet:
 *
 *   pk = "trigger#<name>@<createdAt>#<topicId>#<partition>"
 *   item => holder, epoch, expiresAt, and while a retry, a bisection or a
 *           batching window is pending: cursor (JSON: the runner's in-memory
 *           progress and the committed offset it applies to)
 *
 * The cursor rides the lease so a backoff, a retry count or a bisected range
 * survives the invocation that started it: the next holder, in whichever
 * execution environment, carries on where it stopped (max_retry_attempts
 * counts every attempt, not those of one environment). A release with nothing
 * pending deletes the item, so an idle partition leaves no item behind.
 *
 * The lease bounds how long a holder may step, not only who steps: a holder
 * asks for its remaining time in the invocation plus a margin, and Lambda
 * ends (and resets) an execution environment at its timeout, so a holder
 * cannot outlive its lease.
 *
 * The mechanics are the partition leases' own (LeaseStore: acquire under a
 * holder name with a nonce, read back when the reply was lost; release and
 * delete conditioned on holder and epoch), with two additions LeaseStore
 * takes as options and arguments: the cursor kept with a released lease, and
 * an expiry for DynamoDB TTL (`ttl`, epoch seconds, `triggerLeaseItemLifeMs`
 * past the lease's expiry or its release), so an item left behind (a holder
 * that died with a cursor saved, a trigger deleted or re-created, whose key
 * holds the old creation time) is removed by DynamoDB, not kept for ever.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock';
import { LeaseStore, type Lease } from '../log/LeaseStore';
import type { PartitionCursor } from './partitionDelivery';
import type { Trigger } from './triggerSpec';

export const triggerLeaseKeyPrefix = 'trigger#';
/** The leases table's TTL attribute (epoch seconds); the CDK stack enables TTL on it (infra/strand.ts). */
export const triggerLeaseTtlAttribute = 'ttl';
/**
 * How long a trigger lease item outlives its last write. A saved cursor is
 * needed for a backoff (at most a minute) or a batching window (at most five):
 * a day is far past both, and losing a cursor only restarts the retry count.
 */
export const triggerLeaseItemLifeMs = 24 * 3_600_000;

export type TriggerLease = Lease;

/** A cursor as saved with the lease: valid only while the committed offset is still `atOffset`. */
export interface SavedCursor {
  atOffset: number;
  cursor: PartitionCursor;
}

export function triggerLeaseKey(trigger: Pick<Trigger, 'name' | 'createdAt'>, topicId: string, partition: number): string {
  return `${triggerLeaseKeyPrefix}${trigger.name}@${trigger.createdAt}#${topicId}#${partition}`;
}

/** True when the cursor holds something the next holder needs (a retry, a bisection, a window). */
export function cursorPending(cursor: PartitionCursor): boolean {
  return cursor.ranges.length > 0 || cursor.attempts > 0 || cursor.retryAt > 0 || cursor.pendingSince !== undefined;
}

/**
 * The cursor to step with, from the saved one and the committed offset now. A
 * saved cursor for another offset (its holder committed and then died before
 * releasing) keeps only its bisected ranges past the offset: the retries and
 * backoff were for a batch that is gone.
 */
export function restoreCursor(saved: SavedCursor | undefined, offset: number): PartitionCursor {
  if (!saved) return { ranges: [], attempts: 0, retryAt: 0 };
  const c = saved.cursor;
  if (saved.atOffset === offset) return { ...c, ranges: c.ranges.map((r) => ({ ...r })) };
  const ranges = c.ranges.filter((r) => r.end > offset).map((r) => ({ start: Math.max(r.start, offset), end: r.end }));
  return { ranges: saved.atOffset < offset ? ranges : [], attempts: 0, retryAt: 0 };
}

export class TriggerLeaseStore {
  private readonly leases: LeaseStore;

  constructor(ddb: DynamoDBDocumentClient, table: string, clock: Clock) {
    this.leases = new LeaseStore(ddb, table, clock, { expiry: { attribute: triggerLeaseTtlAttribute, afterMs: triggerLeaseItemLifeMs } });
  }

  /** Takes the lease if it is free or expired; undefined while another holder's lease is live. */
  async acquire(key: string, holder: string, ttlMs: number): Promise<{ lease: TriggerLease; saved?: SavedCursor } | undefined> {
    const got = await this.leases.acquireItem(key, holder, ttlMs);
    if (!got) return undefined;
    const cursor = got.item.cursor;
    if (typeof cursor !== 'string') return { lease: got.lease };
    try {
      return { lease: got.lease, saved: JSON.parse(cursor) as SavedCursor };
    } catch {
      return { lease: got.lease }; // an unreadable cursor: start again at the commit with a whole batch
    }
  }

  /**
   * Gives the lease up, saving the cursor when something is pending (the item
   * stays, free, until its TTL), else deleting the item. A lease lost meanwhile
   * (expired and taken) is left alone.
   */
  async release(lease: TriggerLease, saved: SavedCursor | undefined): Promise<void> {
    if (saved && cursorPending(saved.cursor)) await this.leases.release(lease, { cursor: JSON.stringify(saved) });
    else await this.leases.deleteHeld(lease);
  }
}
