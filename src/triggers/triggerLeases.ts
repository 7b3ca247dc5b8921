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
 * cannot outlive its lease. Acquire follows LeaseStore.acquire: a holder name
 * with a nonce, read back when the reply was lost.
 */
import { randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock';
import { leaseTtlMsMax } from '../log/LeaseStore';
import { conditionally, isConditionalCheckFailed, isTransientStorageError } from '../storage/storageErrors';
import type { PartitionCursor } from './partitionDelivery';
import type { Trigger } from './triggerSpec';

export const triggerLeaseKeyPrefix = 'trigger#';

export interface TriggerLease {
  key: string;
  holder: string;
  epoch: number;
  expiresAt: number;
}

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
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  /** Takes the lease if it is free or expired; undefined while another holder's lease is live. */
  async acquire(key: string, holder: string, ttlMs: number): Promise<{ lease: TriggerLease; saved?: SavedCursor } | undefined> {
    if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > leaseTtlMsMax) throw new Error(`Lease TTL ${ttlMs} ms is outside 1..${leaseTtlMsMax}.`);
    const now = this.clock.now();
    const name = `${holder}/${randomBytes(6).toString('hex')}`;
    try {
      const out = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: key },
          UpdateExpression: 'SET holder = :h, expiresAt = :exp ADD epoch :one',
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':h': name, ':exp': now + ttlMs, ':one': 1, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(key, out.Attributes);
    } catch (err) {
      if (!isConditionalCheckFailed(err) && !isTransientStorageError(err)) throw err;
      const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: key }, ConsistentRead: true }));
      if (out.Item && String(out.Item.holder) === name) return fromItem(key, out.Item);
      if (isConditionalCheckFailed(err)) return undefined;
      throw err;
    }
  }

  /**
   * Gives the lease up, saving the cursor when something is pending (the item
   * stays, free), else deleting the item. A lease lost meanwhile (expired and
   * taken) is left alone.
   */
  async release(lease: TriggerLease, saved: SavedCursor | undefined): Promise<void> {
    const condition = { ConditionExpression: 'holder = :h AND epoch = :e', ExpressionAttributeValues: { ':h': lease.holder, ':e': lease.epoch } };
    if (saved && cursorPending(saved.cursor)) {
      await conditionally(
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: lease.key },
            // `cursor` is a reserved word in DynamoDB expressions.
            UpdateExpression: 'SET expiresAt = :zero, #cursor = :c',
            ...condition,
            ExpressionAttributeNames: { '#cursor': 'cursor' },
            ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ':zero': 0, ':c': JSON.stringify(saved) },
          }),
        ),
      );
      return;
    }
    await conditionally(this.ddb.send(new DeleteCommand({ TableName: this.table, Key: { pk: lease.key }, ...condition })));
  }
}

function fromItem(key: string, item: Record<string, unknown> | undefined): { lease: TriggerLease; saved?: SavedCursor } {
  if (!item) throw new Error(`Trigger lease ${key} update returned no item.`);
  const lease = { key, holder: String(item.holder), epoch: Number(item.epoch), expiresAt: Number(item.expiresAt) };
  if (typeof item.cursor !== 'string') return { lease };
  try {
    return { lease, saved: JSON.parse(item.cursor) as SavedCursor };
  } catch {
    return { lease }; // an unreadable cursor: start again at the commit with a whole batch
  }
}
