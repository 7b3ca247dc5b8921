/**
 * REST Proxy v2 consumer instances on top of the group coordinator. An instance
 * is one DynamoDB item (consumers table: pk = group, sk = instance) holding its
 * format, subscription or manual assignment, positions and member epoch, so any
 * function instance serves any consumer instance.
 *
 * A subscribed instance is a group member whose member id is the instance name;
 * every call on it heartbeats for it, so an instance nobody calls for its idle
 * timeout (default 5 minutes) loses its session and its partitions move. Its own
 * item is removed on the next call that finds it idle (40403), or, if nobody
 * calls it again, by DynamoDB TTL (`ttl`, kept a little past the idle timeout
 * on every save); its group membership by the maintenance pass (expireAll).
 *
 * At-least-once, as a REST Proxy client expects with auto commit: a `records`
 * call first commits the positions reached by the records it returned before,
 * then heartbeats (which may revoke partitions: their positions are dropped, and
 * the next call's heartbeat acknowledges), then fetches. A record is committed
 * only after the call that returned it was followed by another call, so a client
 * that crashes mid-batch gets those records again.
 *
 * A pattern subscription (`topic_pattern`) is a subscription to the topics the
 * pattern matches now: `subscription` holds them, and the heartbeat matches
 * the pattern against the catalog again once topicPatternRefreshMs has passed,
 * as Kafka's consumer re-evaluates its pattern when its metadata refreshes, so
 * topics created later join the subscription (and deleted ones leave it).
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ErrorCode, StrandError, invalidValue, OffsetOutOfRangeError } from '../errors';
import type { Runtime } from '../runtime';
import type { Topic } from '../log/TopicCatalog';
import type { FetchedRecord } from '../log/readPartition';
import { newAllowance, walkRecords } from '../log/recordWalk';
import { binaryResponseBytesMax, jsonResponseBytesMax, lambdaJsonBytes, TooLargeForResponse } from '../api/responseBudget';
import { isConditionalCheckFailed } from '../storage/storageErrors';
import { groupsOf, type GroupService } from './GroupService';
import { commitPartitionsMax } from './GroupStore';
import { flattenTopicPartitions, parseTpKey, sortTps, tpKey, type TopicPartitionKey } from './topicPartition';
import { subscribedTopicsMax } from './coordinator';
import { compileTopicPattern, matchingTopics } from './topicPattern';

/** REST Proxy's consumer.instance.timeout.ms default. */
export const instanceIdleMsDefault = 5 * 60_000;
/** Bytes one `records` call returns at most (REST Proxy caps max_bytes similarly). */
export const recordsBytesMax = 4 * 1024 * 1024;
export const recordsBytesDefault = 1024 * 1024;
/**
 * How often a pattern subscription is matched against the catalog again (one
 * scan of the topics table): Kafka's consumer does it on its metadata refresh
 * (metadata.max.age.ms, 5 minutes by default, sooner on changes it sees); a
 * topic created now is consumed by a pattern's instances within this time.
 */
export const topicPatternRefreshMs = 30_000;
/** Instances one group may have (each is also a group member). */
const instancesPerGroupMax = 500;

export type InstanceFormat = 'binary' | 'json' | 'string' | 'avro' | 'jsonschema' | 'protobuf';
export type OffsetReset = 'earliest' | 'latest';

export interface InstanceItem {
  pk: string;
  sk: string;
  format: InstanceFormat;
  autoOffsetReset: OffsetReset;
  autoCommit: boolean;
  /** Subscribed topics (for a pattern, the ones it matched last); empty when not subscribed. */
  subscription: string[];
  /** The `topic_pattern` of a pattern subscription, as given. */
  topicPattern?: string;
  /** When the pattern was last matched against the catalog. */
  patternMatchedAt?: number;
  /** Manually assigned partitions (POST assignments); exclusive with a subscription. */
  manual: TopicPartitionKey[];
  /** Next offset to read, per partition the instance consumes. */
  positions: Record<TopicPartitionKey, number>;
  /** Positions not yet committed (auto commit). */
  uncommitted: Record<TopicPartitionKey, number>;
  memberEpoch: number;
  /** The partitions of the last heartbeat response. */
  assignment: TopicPartitionKey[];
  idleMs: number;
  lastUsedAt: number;
  createdAt: number;
  version: number;
  /** When DynamoDB TTL may delete the item (epoch seconds): instanceTtlSecondsFor. */
  ttl?: number;
}

/** Slack past the idle timeout before TTL may delete an instance (a call at the last moment still finds it). */
const instanceTtlSlackSeconds = 3600;

/** The item's `ttl`: its idle timeout from its last use, plus slack. */
export function instanceTtlSecondsFor(item: Pick<InstanceItem, 'lastUsedAt' | 'idleMs'>): number {
  return Math.ceil((item.lastUsedAt + item.idleMs) / 1000) + instanceTtlSlackSeconds;
}

/**
 * Thrown by a `records` renderer that needs an asynchronous lookup (a schema
 * by id) before it can render a record: the walk stops before that record,
 * the lookup runs, and the partition is read again from there, so rendering
 * stays synchronous and a schema is read once, not once per record.
 */
export class LookupFirst extends Error {
  override name = 'LookupFirst';
  constructor(readonly lookup: () => Promise<void>) {
    super('a lookup is needed before this record can be rendered');
  }
}
/** Lookups one `records` call makes at most; past them it answers with what it has. */
export const lookupsPerRecordsCallMax = 16;

/** Subscribed by topic names or by a pattern (a pattern may match no topic yet). */
export function isSubscribed(item: Pick<InstanceItem, 'subscription' | 'topicPattern'>): boolean {
  return item.subscription.length > 0 || item.topicPattern !== undefined;
}

/** What to subscribe to: a list of topics, or a pattern (REST Proxy's `topics` / `topic_pattern`). */
export type Subscription = { topics: string[] } | { pattern: string };

export const unknownInstance = (group: string, instance: string) =>
  new StrandError(ErrorCode.UnknownConsumerInstance, `Consumer instance '${instance}' of group '${group}' not found.`);

/** As Confluent's REST Proxy (Kafka's consumer): a subscription and a manual assignment exclude each other; unsubscribe first (409 / 40903). */
const subscriptionConflict = () =>
  new StrandError(ErrorCode.SubscriptionConflict, 'Subscription to topics, partitions and pattern are mutually exclusive: DELETE the subscription (which also clears an assignment) first.');

export class ConsumerInstances {
  private readonly ddb: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly groups: GroupService;

  constructor(private readonly runtime: Runtime) {
    this.ddb = runtime.clients.ddb;
    this.table = runtime.config.tables.consumers;
    this.groups = groupsOf(runtime);
  }

  private get now(): number {
    return this.runtime.clock.now();
  }

  async create(group: string, instance: string, options: { format: InstanceFormat; autoOffsetReset: OffsetReset; autoCommit: boolean }): Promise<InstanceItem> {
    const existing = await this.ddb.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :g', ExpressionAttributeValues: { ':g': group }, Select: 'COUNT' }),
    );
    if ((existing.Count ?? 0) >= instancesPerGroupMax) throw invalidValue(`Group '${group}' already has ${instancesPerGroupMax} consumer instances.`);
    const now = this.now;
    const item: InstanceItem = {
      pk: group,
      sk: instance,
      ...options,
      subscription: [],
      manual: [],
      positions: {},
      uncommitted: {},
      memberEpoch: 0,
      assignment: [],
      idleMs: instanceIdleMsDefault,
      lastUsedAt: now,
      createdAt: now,
      version: 1,
    };
    item.ttl = instanceTtlSecondsFor(item);
    try {
      // An idle-expired instance of the same name may be replaced.
      await this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR lastUsedAt < :stale',
          ExpressionAttributeValues: { ':stale': now - instanceIdleMsDefault },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        throw new StrandError(ErrorCode.ConsumerInstanceExists, `Consumer instance '${instance}' already exists in group '${group}'.`);
      }
      throw err;
    }
    return item;
  }

  /** The instance, or 40403 when unknown or idle past its timeout (then it is removed and leaves the group). */
  async get(group: string, instance: string): Promise<InstanceItem> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: group, sk: instance }, ConsistentRead: true }));
    const item = out.Item as InstanceItem | undefined;
    if (!item) throw unknownInstance(group, instance);
    if (item.lastUsedAt + item.idleMs <= this.now) {
      await this.remove(item);
      throw unknownInstance(group, instance);
    }
    return item;
  }

  /** Saves the instance if nobody else changed it since it was read (else a retriable 409-free conflict: 50301). */
  async save(item: InstanceItem): Promise<void> {
    const version = item.version;
    item.version = version + 1;
    item.lastUsedAt = this.now;
    item.ttl = instanceTtlSecondsFor(item);
    try {
      await this.ddb.send(
        new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': version } }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        throw new StrandError(ErrorCode.StorageUnavailable, `Consumer instance '${item.sk}' was changed by a concurrent request; retry.`, {
          headers: { 'Retry-After': '1' },
        });
      }
      throw err;
    }
  }

  /** Deletes the instance and leaves the group (its partitions are free at once). */
  async remove(item: InstanceItem): Promise<void> {
    if (isSubscribed(item) && item.memberEpoch > 0) {
      await this.groups.heartbeat(item.pk, { memberId: item.sk, memberEpoch: -1 }).catch(() => undefined);
    }
    await this.ddb.send(new DeleteCommand({ TableName: this.table, Key: { pk: item.pk, sk: item.sk } }));
  }

  /**
   * Subscribes (or subscribes again, replacing the topics or the pattern). As
   * Kafka's consumer: a pattern while subscribed to topics, topics while
   * subscribed to a pattern, or either while assigned, is 409 / 40903.
   */
  async subscribe(item: InstanceItem, subscription: Subscription): Promise<void> {
    if (item.manual.length > 0) throw subscriptionConflict();
    if ('pattern' in subscription) {
      if (item.subscription.length > 0 && item.topicPattern === undefined) throw subscriptionConflict();
      const pattern = compileTopicPattern(subscription.pattern);
      const matched = matchingTopics(pattern, await this.topicNames());
      if (matched.length > subscribedTopicsMax) {
        throw invalidValue(`Pattern '${subscription.pattern}' matches ${matched.length} topics; an instance may subscribe to at most ${subscribedTopicsMax}.`);
      }
      item.topicPattern = subscription.pattern;
      item.patternMatchedAt = this.now;
      item.subscription = matched;
    } else {
      if (item.topicPattern !== undefined) throw subscriptionConflict();
      item.subscription = [...new Set(subscription.topics)].sort();
    }
    await this.heartbeat(item);
    await this.save(item);
  }

  private async topicNames(): Promise<string[]> {
    return (await this.runtime.engine.topics.list()).map((t) => t.name);
  }

  /**
   * Matches a pattern subscription against the catalog again once
   * topicPatternRefreshMs has passed since it last did. A pattern that has come
   * to match more than subscribedTopicsMax topics keeps the first ones by name
   * (the subscribe refused it outright; topics created since cannot).
   */
  private async refreshPatternMatch(item: InstanceItem): Promise<void> {
    if (item.topicPattern === undefined) return;
    if (item.patternMatchedAt !== undefined && this.now - item.patternMatchedAt < topicPatternRefreshMs) return;
    const matched = matchingTopics(compileTopicPattern(item.topicPattern), await this.topicNames());
    if (matched.length > subscribedTopicsMax) {
      this.runtime.logger.warn('a topic pattern matches more topics than an instance may subscribe to; keeping the first by name', {
        group: item.pk,
        instance: item.sk,
        matched: matched.length,
      });
    }
    item.subscription = matched.slice(0, subscribedTopicsMax);
    item.patternMatchedAt = this.now;
  }

  async unsubscribe(item: InstanceItem): Promise<void> {
    await this.commitPending(item);
    if (isSubscribed(item) && item.memberEpoch > 0) {
      await this.groups.heartbeat(item.pk, { memberId: item.sk, memberEpoch: -1 }).catch(() => undefined);
    }
    item.subscription = [];
    delete item.topicPattern;
    delete item.patternMatchedAt;
    item.assignment = [];
    // Kafka's unsubscribe() clears a manual assignment too.
    item.manual = [];
    item.memberEpoch = 0;
    item.positions = {};
    item.uncommitted = {};
    await this.save(item);
  }

  async assign(item: InstanceItem, tps: TopicPartitionKey[]): Promise<void> {
    if (isSubscribed(item)) throw subscriptionConflict();
    for (const tp of tps) {
      const { topic, partition } = parseTpKey(tp);
      const t = await this.runtime.engine.topics.get(topic);
      this.runtime.engine.assertPartition(t, partition);
    }
    item.manual = sortTps(new Set(tps));
    for (const tp of Object.keys(item.positions)) if (!item.manual.includes(tp)) delete item.positions[tp];
    await this.save(item);
  }

  /** Partitions the instance consumes now. */
  consumed(item: InstanceItem): TopicPartitionKey[] {
    return isSubscribed(item) ? item.assignment : item.manual;
  }

  /**
   * Heartbeats for a subscribed instance, with its pattern's topics matched
   * again when due; on fencing rejoins with its name. Drops positions of
   * partitions it no longer has.
   */
  async heartbeat(item: InstanceItem): Promise<void> {
    if (!isSubscribed(item)) return;
    await this.refreshPatternMatch(item);
    const join = () =>
      this.groups.heartbeat(item.pk, {
        memberId: item.sk,
        memberEpoch: 0,
        subscribedTopicNames: item.subscription,
        sessionTimeoutMs: item.idleMs,
        clientId: `rest-proxy-v2:${item.sk}`,
      });
    let response;
    if (item.memberEpoch <= 0) response = await join();
    else {
      try {
        response = await this.groups.heartbeat(item.pk, { memberId: item.sk, memberEpoch: item.memberEpoch, subscribedTopicNames: item.subscription });
      } catch (err) {
        if (!(err instanceof StrandError) || (err.code !== ErrorCode.FencedMember && err.code !== ErrorCode.UnknownMember)) throw err;
        item.positions = {};
        item.uncommitted = {};
        response = await join();
      }
    }
    item.memberEpoch = response.member_epoch;
    item.assignment = flattenTopicPartitions(response.assignment);
    const keep = new Set(item.assignment);
    for (const tp of Object.keys(item.positions)) if (!keep.has(tp)) delete item.positions[tp];
    for (const tp of Object.keys(item.uncommitted)) if (!keep.has(tp)) delete item.uncommitted[tp];
  }

  /**
   * Commits offsets for the instance: as its member when subscribed, else
   * standalone. Up to commitPartitionsMax partitions (all an explicit commit
   * body may name) are one conditional write; the positions of an instance
   * consuming more are committed in such chunks, one after another.
   */
  async commit(item: InstanceItem, offsets: Record<TopicPartitionKey, number>): Promise<void> {
    const entries = Object.entries(offsets).map(([tp, offset]) => ({ ...parseTpKey(tp), offset }));
    if (entries.length === 0) return;
    const auth = isSubscribed(item) ? { memberId: item.sk, memberEpoch: item.memberEpoch } : {};
    for (let i = 0; i < entries.length; i += commitPartitionsMax) {
      await this.groups.commit(item.pk, auth, entries.slice(i, i + commitPartitionsMax));
    }
  }

  /** Auto commit: the positions reached by records already returned. A fenced instance's commit is dropped, as Kafka drops it. */
  private async commitPending(item: InstanceItem): Promise<void> {
    if (!item.autoCommit || Object.keys(item.uncommitted).length === 0) return;
    try {
      await this.commit(item, item.uncommitted);
    } catch (err) {
      if (!(err instanceof StrandError) || ![ErrorCode.FencedMember, ErrorCode.PartitionNotOwned, ErrorCode.UnknownMember, ErrorCode.GroupNotEmpty].includes(err.code as never)) throw err;
    }
    item.uncommitted = {};
  }

  /** Where to start reading a partition with no position: the committed offset, else auto.offset.reset. */
  private async initialPositions(item: InstanceItem, topics: Map<string, Topic>): Promise<void> {
    const missing = this.consumed(item).filter((tp) => item.positions[tp] === undefined);
    if (missing.length === 0) return;
    const committed = new Map((await this.groups.offsets(item.pk)).map((o) => [tpKey(o.topic, o.partition), o.offset]));
    for (const tp of missing) {
      const c = committed.get(tp);
      item.positions[tp] = c ?? (await this.resetPosition(item, tp, topics));
    }
  }

  private async resetPosition(item: InstanceItem, tp: TopicPartitionKey, topics: Map<string, Topic>): Promise<number> {
    const { topic, partition } = parseTpKey(tp);
    const t = await this.topic(topic, topics);
    const bounds = await this.runtime.engine.bounds(t, partition);
    return item.autoOffsetReset === 'earliest' ? bounds.logStartOffset : bounds.highWatermark;
  }

  private async topic(name: string, topics: Map<string, Topic>): Promise<Topic> {
    let t = topics.get(name);
    if (!t) topics.set(name, (t = await this.runtime.engine.topics.get(name)));
    return t;
  }

  /**
   * One `records` call: commit what was returned before, heartbeat, fetch from
   * each partition in turn. `toJson` builds a record's JSON as the response
   * sends it (it may throw TooLargeForResponse rather than build a part larger
   * than the room it is given): `maxBytes` counts those bytes, not the stored
   * ones, and the response never passes jsonResponseBytesMax however small the
   * stored batches are. Positions move only past records in the response.
   *
   * `toJson` may also throw LookupFirst (the partition is read again after the
   * lookup) or a 40801 for a record it cannot decode: as Kafka's consumer
   * returns the records before an undeserializable one and fails the next
   * poll, the call answers with the records before it, or, when it is the
   * first, fails with the 40801, the position left at that record.
   */
  async records<J>(item: InstanceItem, maxBytes: number, toJson: (r: FetchedRecord & { topic: string; partition: number }, room: number) => J): Promise<J[]> {
    await this.commitPending(item);
    await this.heartbeat(item);
    const topics = new Map<string, Topic>();
    await this.initialPositions(item, topics);
    const out: J[] = [];
    let room = Math.min(maxBytes, jsonResponseBytesMax);
    const allowance = newAllowance();
    let lookupsLeft = lookupsPerRecordsCallMax;
    let undecodable: StrandError | undefined;
    let full = false;
    partitions: for (const tp of this.consumed(item)) {
      const { topic, partition } = parseTpKey(tp);
      const t = await this.topic(topic, topics);
      // Once per partition, and again after each lookup a record needed.
      for (;;) {
        if (room <= 0 || allowance.bytesLeft <= 0) break partitions;
        let position = item.positions[tp]!;
        // Stored bytes are no measure of the response (compression, base64), so the read asks for the
        // response's room and the walk below decides what goes out.
        const read = () => this.runtime.engine.read(t, partition, position, room, { bytesMax: binaryResponseBytesMax });
        let result;
        try {
          result = await read();
        } catch (err) {
          if (!(err instanceof OffsetOutOfRangeError)) throw err;
          position = item.positions[tp] = await this.resetPosition(item, tp, topics);
          result = await read();
        }
        if (result.batches.length === 0) continue partitions;
        let pending: LookupFirst | undefined;
        const stoppedAt = walkRecords(result.batches, position, allowance, (r) => {
          // The first record goes out whatever max_bytes says, if any response can hold it (KIP-74: a call always makes progress).
          const limit = out.length === 0 ? jsonResponseBytesMax : room;
          let json: J;
          let size: number;
          try {
            json = toJson({ ...r, topic, partition }, limit);
            size = lambdaJsonBytes(json) + 1;
          } catch (err) {
            if (err instanceof LookupFirst) {
              if (lookupsLeft > 0) pending = err;
              else full = true;
              return false;
            }
            if (err instanceof StrandError && err.code === ErrorCode.DeserializationFailed) {
              if (out.length === 0) undecodable = err;
              full = true;
              return false;
            }
            if (!(err instanceof TooLargeForResponse)) throw err;
            size = err.bytesAtLeast;
          }
          if (size > jsonResponseBytesMax && out.length === 0) throw recordTooLargeForJson(topic, partition, r.offset, size);
          if (size > limit) {
            full = true;
            return false;
          }
          room -= size;
          out.push(json!);
          return true;
        });
        const next = stoppedAt ?? result.nextOffset;
        if (next !== position) {
          item.positions[tp] = next;
          item.uncommitted[tp] = next;
        }
        if (full) break partitions;
        if (!pending) continue partitions;
        lookupsLeft--;
        await pending.lookup();
      }
    }
    // Saved before a 40801 too: the heartbeat's epoch and the positions reached must not be lost with the answer.
    await this.save(item);
    if (undecodable) throw undecodable;
    return out;
  }
}

/**
 * A record no JSON response can carry (Lambda's 6 MB, after the JSON encoding).
 * REST Proxy has no way to skip a record in a `records` answer, so the call
 * fails with 41302, naming the record and the offset to seek to (POST
 * positions) to step past it; the binary fetch still reads it.
 */
function recordTooLargeForJson(topic: string, partition: number, offset: number, bytes: number): StrandError {
  return new StrandError(
    ErrorCode.RecordTooLarge,
    `The record at offset ${offset} of partition ${partition} of '${topic}' needs at least ${bytes} bytes of JSON, more than a response can carry ` +
      `(${jsonResponseBytesMax}); seek past it (POST positions with offset ${offset + 1}) or read it with the binary fetch.`,
    { details: { topic, partition, offset, next_offset: offset + 1 } },
  );
}

const services = new WeakMap<Runtime, ConsumerInstances>();

export function consumerInstancesOf(runtime: Runtime): ConsumerInstances {
  let s = services.get(runtime);
  if (!s) services.set(runtime, (s = new ConsumerInstances(runtime)));
  return s;
}
