/**
 * Partition leader leases: (holder, epoch, expiry) per partition, in DynamoDB.
 *
 * The holder is the partition's leader for the work that must have one writer
 * (spilling index entries; later retention and compaction). Epochs only grow: an
 * acquire adds one. A lease only says who *may* lead; what keeps a stale leader
 * from doing harm is the store — every leader write is conditioned on its epoch
 * (see PartitionIndex.fence), so a holder whose lease expired and was taken over
 * is rejected by DynamoDB, never by a clock check alone.
 */
import { randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock';
import { conditionally, isConditionalCheckFailed, isTransientStorageError } from '../storage/storageErrors';

export interface Lease {
  key: string;
  holder: string;
  epoch: number;
  expiresAt: number;
}

/** Longest a lease may be asked for: a holder that dies blocks leadership at most this long. */
export const leaseTtlMsMax = 5 * 60_000;

export interface LeaseStoreOptions {
  /**
   * Items left behind expire: every acquire, renew and release also sets
   * `attribute` to an epoch-seconds time `afterMs` past the lease's expiry (or
   * past the release), for DynamoDB TTL. Trigger leases use it
   * (src/triggers/triggerLeases.ts). @default none: partition leases live with their partition
   */
  expiry?: { attribute: string; afterMs: number };
}

export class LeaseStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
    private readonly options: LeaseStoreOptions = {},
  ) {}

  /** The TTL attribute's SET clause and values, when `expiry` is set: `afterMs` past `atMs`. */
  private expirySet(atMs: number): { clause: string; names: Record<string, string>; values: Record<string, unknown> } {
    const e = this.options.expiry;
    if (!e) return { clause: '', names: {}, values: {} };
    return { clause: ', #ttl = :ttl', names: { '#ttl': e.attribute }, values: { ':ttl': Math.ceil((atMs + e.afterMs) / 1000) } };
  }

  /** Removes a partition's lease (topic deletion). */
  delete(key: string): Promise<void> {
    return deleteLease(this.ddb, this.table, key);
  }

  /**
   * Takes the lease if it is free or expired, bumping the epoch. Returns
   * undefined when another holder's lease is still live.
   *
   * `ADD epoch` is not idempotent: when the SDK retries an acquire whose reply
   * was lost, the retry fails the condition the first attempt's own write made
   * false. So every acquire holds under a name of its own (`holder` plus a
   * nonce), and a refused or failed acquire reads the lease back: if it carries
   * that name, the first attempt won and the lease is ours.
   */
  async acquire(key: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    return (await this.acquireItem(key, holder, ttlMs))?.lease;
  }

  /** `acquire`, also answering the whole item (attributes others keep with the lease, as trigger leases' cursor). */
  async acquireItem(key: string, holder: string, ttlMs: number): Promise<{ lease: Lease; item: Record<string, unknown> } | undefined> {
    assertTtl(ttlMs);
    const now = this.clock.now();
    const name = `${holder}/${randomBytes(6).toString('hex')}`;
    const expiry = this.expirySet(now + ttlMs);
    try {
      const out = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: key },
          UpdateExpression: `SET holder = :h, expiresAt = :exp${expiry.clause} ADD epoch :one`,
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ...(expiry.clause ? { ExpressionAttributeNames: expiry.names } : {}),
          ExpressionAttributeValues: { ':h': name, ':exp': now + ttlMs, ':one': 1, ':now': now, ...expiry.values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { lease: toLease(key, out.Attributes), item: out.Attributes ?? {} };
    } catch (err) {
      if (!isConditionalCheckFailed(err) && !isTransientStorageError(err)) throw err;
      const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: key }, ConsistentRead: true }));
      if (out.Item && String(out.Item.holder) === name) return { lease: toLease(key, out.Item), item: out.Item };
      if (isConditionalCheckFailed(err)) return undefined;
      throw err;
    }
  }

  /**
   * Removes a lease this holder still has (its partition's topic was deleted
   * while it led it), so a stale turn leaves no lease item behind.
   */
  async deleteHeld(lease: Lease): Promise<void> {
    await conditionally(
      this.ddb.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: lease.key },
          ConditionExpression: 'holder = :h AND epoch = :e',
          ExpressionAttributeValues: { ':h': lease.holder, ':e': lease.epoch },
        }),
      ),
    );
  }

  /** Extends a lease this holder still has at this epoch; undefined if it was lost. */
  async renew(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    assertTtl(ttlMs);
    const now = this.clock.now();
    const expiry = this.expirySet(now + ttlMs);
    try {
      const out = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: lease.key },
          UpdateExpression: `SET expiresAt = :exp${expiry.clause}`,
          ConditionExpression: 'holder = :h AND epoch = :e',
          ...(expiry.clause ? { ExpressionAttributeNames: expiry.names } : {}),
          ExpressionAttributeValues: { ':h': lease.holder, ':e': lease.epoch, ':exp': now + ttlMs, ...expiry.values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toLease(lease.key, out.Attributes);
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw err;
    }
  }

  /**
   * Gives the lease up early so the next leader need not wait for expiry. The
   * epoch stays. `keep`: attributes to leave with the free lease for its next
   * holder (names are escaped, so reserved words are fine).
   */
  async release(lease: Lease, keep: Record<string, unknown> = {}): Promise<void> {
    const kept = Object.entries(keep);
    const expiry = this.expirySet(this.clock.now());
    const names = { ...Object.fromEntries(kept.map(([n], i) => [`#k${i}`, n])), ...expiry.names };
    await conditionally(
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: lease.key },
          UpdateExpression: `SET expiresAt = :zero${kept.map((_, i) => `, #k${i} = :k${i}`).join('')}${expiry.clause}`,
          ConditionExpression: 'holder = :h AND epoch = :e',
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: { ':h': lease.holder, ':e': lease.epoch, ':zero': 0, ...Object.fromEntries(kept.map(([, v], i) => [`:k${i}`, v])), ...expiry.values },
        }),
      ),
    );
  }
}

/** Removes a lease item (its partition was deleted). */
export async function deleteLease(ddb: DynamoDBDocumentClient, table: string, key: string): Promise<void> {
  await ddb.send(new DeleteCommand({ TableName: table, Key: { pk: key } }));
}

function assertTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > leaseTtlMsMax) {
    throw new Error(`Lease TTL ${ttlMs} ms is outside 1..${leaseTtlMsMax}.`);
  }
}

function toLease(key: string, item: Record<string, unknown> | undefined): Lease {
  if (!item) throw new Error(`Lease ${key} update returned no item.`);
  return { key, holder: String(item.holder), epoch: Number(item.epoch), expiresAt: Number(item.expiresAt) };
}
