/**
 * The topic catalog: one DynamoDB item per topic with its partition count, its
 * config overrides and a topicId. Partition index keys and S3 keys use the
 * topicId, not the name, so a topic deleted and created again never sees the
 * old topic's data, even while the old data is still being removed.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ErrorCode, StrandError, invalidValue, unknownTopic } from '../errors';
import { isConditionalCheckFailed } from '../storage/storageErrors';
import { effectiveConfig, type ConfigOverrides, type TopicConfig } from './topicConfig';

/** Kafka has no fixed limit; ours keeps per-topic fan-out (deletes, lag reads) bounded. */
export const partitionsPerTopicMax = 10_000;
/**
 * Bound on topics one list call returns (pages of the catalog scan). Past it
 * the list throws: the sweep deletes the data of topics it does not list, so
 * a list cut short would delete live topics' data.
 */
const topicsListedMax = 100_000;

export interface Topic {
  name: string;
  topicId: string;
  partitionsCount: number;
  replicationFactor: number;
  overrides: ConfigOverrides;
  config: TopicConfig;
  createdAt: number;
}

/** The DynamoDB partition key of one partition's index and lease. */
export function partitionKey(topic: Pick<Topic, 'topicId'>, partition: number): string {
  return `${topic.topicId}#${partition}`;
}

/**
 * How long the data path (produce, fetch) trusts a topic it read: a config
 * change or a deletion reaches it within this time, as topic metadata reaches
 * Kafka clients and brokers with a delay. It saves one DynamoDB read per
 * produce and fetch request.
 */
export const topicCacheMs = 1_000;
const topicsCachedMax = 10_000;

export class TopicCatalog {
  private readonly cache = new Map<string, { topic: Topic; at: number }>();

  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
    /** Injectable so a test can show the refusal without writing 100,000 topics. */
    private readonly listedMax = topicsListedMax,
  ) {}

  /** Drops cached topics (all, or one), so the next data-path read goes to the table. */
  forget(name?: string): void {
    if (name === undefined) this.cache.clear();
    else this.cache.delete(name);
  }

  /** The topic as read at most topicCacheMs ago (the data path); admin reads use get(). */
  async getCached(name: string): Promise<Topic> {
    const hit = this.cache.get(name);
    const now = this.now();
    if (hit && now - hit.at < topicCacheMs) return hit.topic;
    const topic = await this.get(name);
    if (this.cache.size >= topicsCachedMax) this.cache.clear();
    this.cache.set(name, { topic, at: now });
    return topic;
  }

  async create(name: string, partitionsCount: number, replicationFactor: number, overrides: ConfigOverrides, now: number): Promise<Topic> {
    assertPartitions(partitionsCount);
    const item = {
      pk: name,
      topicId: randomUUID().replace(/-/g, ''),
      partitions: partitionsCount,
      rf: replicationFactor,
      configs: overrides,
      createdAt: now,
    };
    try {
      await this.ddb.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new StrandError(ErrorCode.TopicExists, `Topic '${name}' already exists.`);
      throw err;
    }
    return toTopic(item);
  }

  async find(name: string): Promise<Topic | undefined> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: name }, ConsistentRead: true }));
    return out.Item ? toTopic(out.Item) : undefined;
  }

  async get(name: string): Promise<Topic> {
    const topic = await this.find(name);
    if (!topic) throw unknownTopic(name);
    return topic;
  }

  async list(): Promise<Topic[]> {
    const topics: Topic[] = [];
    let lastKey: Record<string, unknown> | undefined;
    do {
      const out = await this.ddb.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: lastKey, ConsistentRead: true }));
      topics.push(...(out.Items ?? []).map(toTopic));
      lastKey = out.LastEvaluatedKey;
      if (topics.length > this.listedMax) throw new Error(`The catalog holds more than ${this.listedMax} topics; refusing to list part of them.`);
    } while (lastKey);
    return topics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Grows the partition count; Kafka never shrinks it. The same count is a no-op. */
  async growPartitions(name: string, partitionsCount: number): Promise<Topic> {
    assertPartitions(partitionsCount);
    this.cache.delete(name);
    try {
      const out = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: name },
          // `partitions` is a DynamoDB reserved word.
          UpdateExpression: 'SET #p = :n',
          ConditionExpression: 'attribute_exists(pk) AND #p <= :n',
          ExpressionAttributeNames: { '#p': 'partitions' },
          ExpressionAttributeValues: { ':n': partitionsCount },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toTopic(out.Attributes!);
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // Not every DynamoDB implementation returns the item on a failed condition: read it.
      const current = await this.find(name);
      if (!current) throw unknownTopic(name);
      throw invalidValue(
        `Topic '${name}' has ${current.partitionsCount} partitions; partitions_count can only grow, and ${partitionsCount} is fewer.`,
      );
    }
  }

  /** Replaces the topic's config overrides as a whole (the caller merged them). */
  async setOverrides(topic: Topic, overrides: ConfigOverrides): Promise<void> {
    this.cache.delete(topic.name);
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: topic.name },
          UpdateExpression: 'SET configs = :c',
          ConditionExpression: 'topicId = :id',
          ExpressionAttributeValues: { ':c': overrides, ':id': topic.topicId },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw unknownTopic(topic.name);
      throw err;
    }
  }

  /** Removes the catalog entry; returns the topic that was removed, for its data to be deleted. */
  async remove(name: string): Promise<Topic> {
    this.cache.delete(name);
    try {
      const out = await this.ddb.send(
        new DeleteCommand({ TableName: this.table, Key: { pk: name }, ConditionExpression: 'attribute_exists(pk)', ReturnValues: 'ALL_OLD' }),
      );
      return toTopic(out.Attributes!);
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw unknownTopic(name);
      throw err;
    }
  }
}

/** 40002 unless `n` is a partition count a topic may have (also a create's dry run, src/api/topics.ts). */
export function assertPartitions(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > partitionsPerTopicMax) {
    throw invalidValue(`partitions_count must be an integer from 1 to ${partitionsPerTopicMax}, not ${n}.`);
  }
}

function toTopic(item: Record<string, unknown>): Topic {
  const overrides = (item.configs ?? {}) as ConfigOverrides;
  return {
    name: String(item.pk),
    topicId: String(item.topicId),
    partitionsCount: Number(item.partitions),
    replicationFactor: Number(item.rf ?? 3),
    overrides,
    config: effectiveConfig(overrides),
    createdAt: Number(item.createdAt),
  };
}
