/**
 * Armed watches and notice connections, in the subscriptions table
 * (src/storage/tables.ts):
 *
 *   watch       pk = "<topicId>#<partition>" (the partition's head key), sk = connection id
 *               o  the offset the watch waits past;  t, p  topic name and partition (for the notice)
 *   connection  pk = "connection#<id>", sk = "-"
 *               k  the API key id it authenticated with (keys mode);  w  the head keys it watches
 *               grp, mem  the group member that listens on it (its heartbeats named it), if any
 *
 * A watch is one put: arming it again (a retry, a re-arm at a new offset)
 * overwrites it. Disarming after a notice is conditioned on the offset the
 * notice was for, so a re-arm that raced the notice is not deleted. Every item
 * expires (ttl) after a connection's longest life.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../storage/batchWrite';
import { isConditionalCheckFailed } from '../storage/storageErrors';
import { subscriptionTtlSeconds, watchersPerPartitionMax, watchesPerConnectionMax } from './protocol';
import type { Clock } from '../clock';
import type { Runtime } from '../runtime';

export interface ArmedWatch {
  /** The partition's head key, "<topicId>#<partition>". */
  headKey: string;
  connectionId: string;
  topicName: string;
  partition: number;
  offset: number;
}

export interface NoticeConnection {
  connectionId: string;
  /** The API key the connection authenticated with (keys mode); absent with auth off. */
  apiKeyId?: string;
  /** Head keys of the watches it holds (armed or fired). */
  watching: string[];
  /** The group member that listens on it for nudges, if one named it. */
  member?: { groupId: string; memberId: string };
}

/** Too many watches on one connection: 400 / 40002 to the subscribe. */
export class TooManyWatchesError extends Error {
  override name = 'TooManyWatchesError';
}

const connectionKey = (connectionId: string) => ({ pk: `connection#${connectionId}`, sk: '-' });

export class SubscriptionStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  private expiry(): number {
    return Math.floor(this.clock.now() / 1000) + subscriptionTtlSeconds;
  }

  /** $connect: records who the connection is. A replay writes the same item. */
  async openConnection(connectionId: string, apiKeyId: string | undefined): Promise<void> {
    await this.ddb.send(
      new PutCommand({ TableName: this.table, Item: { ...connectionKey(connectionId), ...(apiKeyId ? { k: apiKeyId } : {}), ttl: this.expiry() } }),
    );
  }

  async connection(connectionId: string): Promise<NoticeConnection | undefined> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: connectionKey(connectionId), ConsistentRead: true }));
    if (!out.Item) return undefined;
    const watching = out.Item.w instanceof Set ? [...(out.Item.w as Set<string>)] : [];
    const member = typeof out.Item.grp === 'string' && typeof out.Item.mem === 'string' ? { member: { groupId: out.Item.grp, memberId: out.Item.mem } } : {};
    return { connectionId, ...(typeof out.Item.k === 'string' ? { apiKeyId: out.Item.k } : {}), watching, ...member };
  }

  /**
   * Arms watches for a connection. The connection item lists their head keys
   * first (so $disconnect finds them), refused past watchesPerConnectionMax;
   * then each watch is put. Both writes are idempotent.
   */
  async arm(connectionId: string, watches: readonly ArmedWatch[]): Promise<void> {
    if (watches.length === 0) return;
    const keys = [...new Set(watches.map((w) => w.headKey))];
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: connectionKey(connectionId),
          UpdateExpression: 'ADD w :keys SET #ttl = :ttl',
          // Counts keys already listed as new too: conservative, and one condition.
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(w) OR size(w) <= :room)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':keys': new Set(keys), ':room': watchesPerConnectionMax - keys.length, ':ttl': this.expiry() },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const known = await this.connection(connectionId);
      if (!known) throw new Error(`Notice connection ${connectionId} is not open.`);
      throw new TooManyWatchesError(`A connection watches at most ${watchesPerConnectionMax} partitions.`);
    }
    const ttl = this.expiry();
    await batchWriteAll(
      this.ddb,
      this.table,
      watches.map((w) => ({ PutRequest: { Item: { pk: w.headKey, sk: connectionId, o: w.offset, t: w.topicName, p: w.partition, ttl } } })),
    );
  }

  /**
   * Records which group member listens on a connection, so its closing can end
   * the member's session (GroupService.noticeConnectionClosed). Idempotent; a
   * connection that is not open is left alone (false).
   */
  async bindMember(connectionId: string, groupId: string, memberId: string): Promise<boolean> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: connectionKey(connectionId),
          UpdateExpression: 'SET grp = :g, mem = :m',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':g': groupId, ':m': memberId },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /** Removes watches (unsubscribe). Idempotent. */
  async unwatch(connectionId: string, headKeys: readonly string[]): Promise<void> {
    if (headKeys.length === 0) return;
    await batchWriteAll(this.ddb, this.table, headKeys.map((pk) => ({ DeleteRequest: { Key: { pk, sk: connectionId } } })));
    await this.ddb
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: connectionKey(connectionId),
          UpdateExpression: 'DELETE w :keys',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':keys': new Set(headKeys) },
        }),
      )
      .catch((err: unknown) => {
        if (!isConditionalCheckFailed(err)) throw err;
      });
  }

  /** After a notice: deletes the watch if it still waits past the offset the notice was for. */
  async disarm(watch: Pick<ArmedWatch, 'headKey' | 'connectionId' | 'offset'>): Promise<void> {
    try {
      await this.ddb.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: watch.headKey, sk: watch.connectionId },
          ConditionExpression: 'o = :o',
          ExpressionAttributeValues: { ':o': watch.offset },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  /** The watches on one partition, at most watchersPerPartitionMax. */
  async watchersOf(headKey: string): Promise<ArmedWatch[]> {
    const watches: ArmedWatch[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': headKey },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        watches.push({ headKey, connectionId: String(item.sk), topicName: String(item.t), partition: Number(item.p), offset: Number(item.o) });
      }
      start = out.LastEvaluatedKey;
    } while (start && watches.length < watchersPerPartitionMax);
    return watches.slice(0, watchersPerPartitionMax);
  }

  /** $disconnect, or a post that found the connection gone: its watches, then the connection. Idempotent. */
  async closeConnection(connectionId: string): Promise<void> {
    const known = await this.connection(connectionId);
    if (known) await batchWriteAll(this.ddb, this.table, known.watching.map((pk) => ({ DeleteRequest: { Key: { pk, sk: connectionId } } })));
    await this.ddb.send(new DeleteCommand({ TableName: this.table, Key: connectionKey(connectionId) }));
  }
}

const stores = new WeakMap<Runtime, SubscriptionStore>();

/** The subscriptions store of a runtime, made on first use (the socket's routes, the notifier, group heartbeats). */
export function subscriptionStore(runtime: Runtime): SubscriptionStore {
  let store = stores.get(runtime);
  if (!store) {
    store = new SubscriptionStore(runtime.clients.ddb, runtime.config.tables.subscriptions, runtime.clock);
    stores.set(runtime, store);
  }
  return store;
}
