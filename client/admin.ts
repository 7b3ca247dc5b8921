/**
 * Admin: topics, configs, partitions and offsets (REST Proxy v3), named after
 * kafkajs's admin client where the idea is the same (`listTopics`,
 * `createTopics`, `deleteTopics`, `createPartitions`, `fetchTopicOffsets`,
 * `fetchTopicOffsetsByTimestamp`), with Strand-shaped helpers beside them.
 */
import { TopicExistsError } from './errors';
import type { StrandClient } from './StrandClient';

export interface TopicDescription {
  name: string;
  partitions: number;
  replicationFactor: number;
  isInternal: boolean;
}

export interface PartitionDescription {
  partitionId: number;
  logStartOffset: number;
  highWatermark: number;
}

export interface TopicConfigEntry {
  name: string;
  value: string | null;
  isDefault: boolean;
}

export interface ITopicConfig {
  topic: string;
  /** @default 1 */
  numPartitions?: number;
  replicationFactor?: number;
  configEntries?: { name: string; value: string }[];
}

export interface TopicOffsets {
  partition: number;
  /** The high watermark: the offset the next record will get (kafkajs's `offset`). */
  offset: number;
  high: number;
  low: number;
}

interface KafkaTopicJson {
  topic_name: string;
  partitions_count: number;
  replication_factor: number;
  is_internal: boolean;
}
interface KafkaPartitionJson {
  partition_id: number;
  log_start_offset: number;
  high_watermark: number;
}

export interface GroupDescription {
  groupId: string;
  /** EMPTY, ASSIGNING, RECONCILING or STABLE (KIP-848). */
  state: string;
  assignor: string;
  membersCount: number;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  memberEpoch: number;
  subscribedTopics: string[];
  assignment: { topic: string; partition: number }[];
}

export interface GroupOffset {
  topic: string;
  partition: number;
  /** The next offset the group will consume. */
  offset: number;
  metadata: string;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  currentOffset: number;
  logEndOffset: number;
  lag: number;
  /** The member consuming the partition, '' when none. */
  memberId: string;
}

/** An API key as the api-keys endpoint describes it (docs/security.md); the secret only in `apiKey`, once, at creation. */
export interface ApiKeyDescription {
  keyId: string;
  name: string;
  /** Text form: `produce:orders-*`, `consume:group:billing`, `admin:cluster`. */
  permissions: string[];
  createdAt: string;
  revokedAt: string | null;
}

interface ApiKeyJson {
  key_id: string;
  name: string;
  permissions: { operation: string; resource_type: string; pattern: string }[];
  created_at: string;
  revoked_at: string | null;
  api_key?: string;
}

function apiKeyDescription(k: ApiKeyJson): ApiKeyDescription {
  const text = (p: ApiKeyJson['permissions'][number]) =>
    p.resource_type === 'cluster' ? 'admin:cluster' : p.resource_type === 'topic' ? `${p.operation}:${p.pattern}` : `${p.operation}:${p.resource_type}:${p.pattern}`;
  return { keyId: k.key_id, name: k.name, permissions: k.permissions.map(text), createdAt: k.created_at, revokedAt: k.revoked_at };
}

export type ResetTarget = 'earliest' | 'latest' | { timestamp: number } | { offset: number };

/** Where a trigger delivers (docs/triggers.md): a signed webhook, a local handler module, a Lambda function on AWS, or the S3 archive. */
export type TriggerTarget =
  | { type: 'http'; url: string; /** Signs each delivery (X-Strand-Signature); write-only. */ secret?: string }
  | { type: 'module'; /** `./handlers/orders.ts#handler`, relative to the local Strand's working directory. */ handler: string }
  | { type: 'lambda'; functionArn: string }
  | {
      type: 's3';
      /** @default the deployment's own bucket */
      bucket?: string;
      /** Empty or ending in '/'. @default 'archive/' */
      prefix?: string;
    };

/** A trigger's delivery settings; every one may be changed later (alterTrigger). */
export interface TriggerSettings {
  /** Records per delivery, 1–10,000. @default 100 */
  batchSize?: number;
  /** How long a partition may wait to fill a batch, 0–300,000 ms. @default 0 */
  maxBatchingWindowMs?: number;
  /** Retries of a failing batch; -1 forever. @default 3 with a dead-letter topic, else -1 */
  maxRetryAttempts?: number;
  /** Records older than this are not delivered; -1 no limit. @default -1 */
  maxRecordAgeMs?: number;
  /** Split a failing batch in halves to isolate the bad record. @default false */
  bisectBatchOnError?: boolean;
  /** Where records that could not be delivered go, with headers saying why (null removes it). */
  deadLetterTopic?: string | null;
}

export interface TriggerConfig extends TriggerSettings {
  /** The topic delivered; or give `topicPattern` instead (exactly one of the two). */
  topic?: string;
  /** A regular expression over whole topic names: every matching topic is delivered, topics created later too. */
  topicPattern?: string;
  target: TriggerTarget;
  /** @default 'LATEST' */
  startingPosition?: 'EARLIEST' | 'LATEST' | { timestamp: number };
}

export interface TriggerDescription {
  name: string;
  /** The topic delivered, or null when `topicPattern` names the topics. */
  topic: string | null;
  /** The regular expression over whole topic names, or null for a single topic. */
  topicPattern: string | null;
  /** The target; a webhook's secret is never returned, only whether one is set. */
  target:
    | { type: 'http'; url: string; secretSet: boolean }
    | { type: 'module'; handler: string }
    | { type: 'lambda'; functionArn: string }
    | { type: 's3'; bucket: string; prefix: string };
  state: 'ACTIVE' | 'PAUSED';
  batchSize: number;
  maxBatchingWindowMs: number;
  startingPosition: 'EARLIEST' | 'LATEST' | { timestamp: number };
  maxRetryAttempts: number;
  maxRecordAgeMs: number;
  bisectBatchOnError: boolean;
  deadLetterTopic: string | null;
  /** The consumer group holding the trigger's progress (its lag is the trigger's backlog). */
  groupId: string;
  createdAt: string;
  updatedAt: string;
}

interface TriggerJson {
  trigger_name: string;
  topic_name: string | null;
  topic_pattern?: string | null;
  target:
    | { type: 'http'; url: string; secret_set: boolean }
    | { type: 'module'; handler: string }
    | { type: 'lambda'; function_arn: string }
    | { type: 's3'; bucket: string; prefix: string };
  state: 'ACTIVE' | 'PAUSED';
  batch_size: number;
  max_batching_window_ms: number;
  starting_position: TriggerDescription['startingPosition'];
  max_retry_attempts: number;
  max_record_age_ms: number;
  bisect_batch_on_error: boolean;
  dead_letter_topic: string | null;
  consumer_group_id: string;
  created_at: string;
  updated_at: string;
}

function triggerDescription(j: TriggerJson): TriggerDescription {
  const target: TriggerDescription['target'] =
    j.target.type === 'http'
      ? { type: 'http', url: j.target.url, secretSet: j.target.secret_set }
      : j.target.type === 'module'
        ? { type: 'module', handler: j.target.handler }
        : j.target.type === 's3'
          ? { type: 's3', bucket: j.target.bucket, prefix: j.target.prefix }
          : { type: 'lambda', functionArn: j.target.function_arn };
  return {
    name: j.trigger_name,
    topic: j.topic_name,
    topicPattern: j.topic_pattern ?? null,
    target,
    state: j.state,
    batchSize: j.batch_size,
    maxBatchingWindowMs: j.max_batching_window_ms,
    startingPosition: j.starting_position,
    maxRetryAttempts: j.max_retry_attempts,
    maxRecordAgeMs: j.max_record_age_ms,
    bisectBatchOnError: j.bisect_batch_on_error,
    deadLetterTopic: j.dead_letter_topic,
    groupId: j.consumer_group_id,
    createdAt: j.created_at,
    updatedAt: j.updated_at,
  };
}

function settingsJson(s: TriggerSettings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.batchSize !== undefined) out.batch_size = s.batchSize;
  if (s.maxBatchingWindowMs !== undefined) out.max_batching_window_ms = s.maxBatchingWindowMs;
  if (s.maxRetryAttempts !== undefined) out.max_retry_attempts = s.maxRetryAttempts;
  if (s.maxRecordAgeMs !== undefined) out.max_record_age_ms = s.maxRecordAgeMs;
  if (s.bisectBatchOnError !== undefined) out.bisect_batch_on_error = s.bisectBatchOnError;
  if (s.deadLetterTopic !== undefined) out.dead_letter_topic = s.deadLetterTopic;
  return out;
}

interface GroupJson {
  consumer_group_id: string;
  state: string;
  partition_assignor: string;
  members_count?: number;
}

/** Partitions whose offsets are looked up at once by fetchTopicOffsetsByTimestamp. */
const offsetLookupsInFlightMax = 16;

export class Admin {
  constructor(private readonly client: StrandClient) {}

  /** Nothing to open: every call is one HTTP request. Kept for kafkajs familiarity. */
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  private get http() {
    return this.client.transport;
  }

  private topicPath(topic: string): string {
    return `${this.client.clusterPath}/topics/${encodeURIComponent(topic)}`;
  }

  async listTopics(): Promise<string[]> {
    const res = await this.http.json<{ data: KafkaTopicJson[] }>('GET', `${this.client.clusterPath}/topics`);
    return res.data.map((t) => t.topic_name).sort();
  }

  /** Creates one topic; throws TopicExistsError when it exists. */
  async createTopic(name: string, options: { partitions?: number; replicationFactor?: number; configs?: Record<string, string | number> } = {}): Promise<TopicDescription> {
    const body = {
      topic_name: name,
      partitions_count: options.partitions ?? 1,
      ...(options.replicationFactor !== undefined ? { replication_factor: options.replicationFactor } : {}),
      configs: Object.entries(options.configs ?? {}).map(([n, value]) => ({ name: n, value: String(value) })),
    };
    const json = await this.http.json<KafkaTopicJson>('POST', `${this.client.clusterPath}/topics`, { json: body });
    this.client.metadata.set(name, json.partitions_count);
    return topicDescription(json);
  }

  /** kafkajs's createTopics: true if every topic was created, false if any already existed. */
  async createTopics(options: { topics: ITopicConfig[]; waitForLeaders?: boolean }): Promise<boolean> {
    let allCreated = true;
    for (const t of options.topics) {
      try {
        const configs: Record<string, string> = {};
        for (const c of t.configEntries ?? []) configs[c.name] = c.value;
        await this.createTopic(t.topic, { partitions: t.numPartitions, replicationFactor: t.replicationFactor, configs });
      } catch (err) {
        if (!(err instanceof TopicExistsError)) throw err;
        allCreated = false;
      }
    }
    return allCreated;
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const json = await this.http.json<KafkaTopicJson>('GET', this.topicPath(name));
    this.client.metadata.set(name, json.partitions_count);
    return topicDescription(json);
  }

  async deleteTopic(name: string): Promise<void> {
    await this.http.request('DELETE', this.topicPath(name));
    this.client.metadata.delete(name);
  }

  async deleteTopics(options: { topics: string[] }): Promise<void> {
    for (const t of options.topics) await this.deleteTopic(t);
  }

  /** Grows a topic to `count` partitions (partitions never shrink). */
  async growPartitions(topic: string, count: number): Promise<TopicDescription> {
    const json = await this.http.json<KafkaTopicJson>('PATCH', this.topicPath(topic), { json: { partitions_count: count } });
    this.client.metadata.set(topic, json.partitions_count);
    return topicDescription(json);
  }

  /** kafkajs's createPartitions: `count` is the new total. */
  async createPartitions(options: { topicPartitions: { topic: string; count: number }[] }): Promise<boolean> {
    for (const tp of options.topicPartitions) await this.growPartitions(tp.topic, tp.count);
    return true;
  }

  async describeTopicConfigs(topic: string): Promise<TopicConfigEntry[]> {
    const res = await this.http.json<{ data: { name: string; value: string | null; is_default: boolean }[] }>('GET', `${this.topicPath(topic)}/configs`);
    return res.data.map((c) => ({ name: c.name, value: c.value === null ? null : String(c.value), isDefault: c.is_default }));
  }

  /** Sets configs; a null value resets that config to its default. */
  async alterTopicConfigs(topic: string, configs: Record<string, string | number | null>): Promise<void> {
    const data = Object.entries(configs).map(([name, value]) => (value === null ? { name, operation: 'DELETE' } : { name, value: String(value) }));
    await this.http.request('POST', `${this.topicPath(topic)}/configs:alter`, { json: { data } });
  }

  async describePartitions(topic: string): Promise<PartitionDescription[]> {
    const res = await this.http.json<{ data: KafkaPartitionJson[] }>('GET', `${this.topicPath(topic)}/partitions`);
    return res.data.map(partitionDescription).sort((a, b) => a.partitionId - b.partitionId);
  }

  async describePartition(topic: string, partition: number): Promise<PartitionDescription> {
    return partitionDescription(await this.http.json<KafkaPartitionJson>('GET', `${this.topicPath(topic)}/partitions/${partition}`));
  }

  /** kafkajs's fetchTopicOffsets: per partition, the high watermark (`offset`, `high`) and the log start (`low`). */
  async fetchTopicOffsets(topic: string): Promise<TopicOffsets[]> {
    return (await this.describePartitions(topic)).map((p) => ({ partition: p.partitionId, offset: p.highWatermark, high: p.highWatermark, low: p.logStartOffset }));
  }

  /** The first offset whose timestamp is ≥ `timestamp` in one partition, or the high watermark if none (Kafka ListOffsets). */
  async offsetForTimestamp(topic: string, partition: number, timestamp: number): Promise<number> {
    const res = await this.http.json<{ offset: number }>('GET', `${this.topicPath(topic)}/partitions/${partition}/offsets`, { query: { timestamp } });
    return res.offset;
  }

  /** kafkajs's fetchTopicOffsetsByTimestamp: per partition, offsetForTimestamp. */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<{ partition: number; offset: number }[]> {
    const { partitions } = await this.describeTopic(topic);
    const ids = Array.from({ length: partitions }, (_, p) => p);
    const out: { partition: number; offset: number }[] = [];
    for (let i = 0; i < ids.length; i += offsetLookupsInFlightMax) {
      const slice = ids.slice(i, i + offsetLookupsInFlightMax);
      out.push(...(await Promise.all(slice.map(async (p) => ({ partition: p, offset: await this.offsetForTimestamp(topic, p, timestamp) })))));
    }
    return out;
  }

  // Consumer groups ----------------------------------------------------------

  private groupPath(groupId: string): string {
    return `${this.client.clusterPath}/consumer-groups/${encodeURIComponent(groupId)}`;
  }

  async listGroups(): Promise<GroupDescription[]> {
    const res = await this.http.json<{ data: GroupJson[] }>('GET', `${this.client.clusterPath}/consumer-groups`);
    return res.data.map(groupDescription).sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  /** The group and its members; UnknownGroupError when there is no such group. */
  async describeGroup(groupId: string): Promise<GroupDescription & { members: GroupMember[] }> {
    const [group, consumers] = await Promise.all([
      this.http.json<GroupJson>('GET', this.groupPath(groupId)),
      this.http.json<{ data: { consumer_id: string; client_id: string; member_epoch?: number; subscribed_topic_names?: string[]; assignment?: { topic_name: string; partition_ids: number[] }[] }[] }>(
        'GET',
        `${this.groupPath(groupId)}/consumers`,
      ),
    ]);
    return {
      ...groupDescription(group),
      members: consumers.data.map((c) => ({
        memberId: c.consumer_id,
        clientId: c.client_id,
        memberEpoch: c.member_epoch ?? 0,
        subscribedTopics: c.subscribed_topic_names ?? [],
        assignment: (c.assignment ?? []).flatMap((a) => a.partition_ids.map((partition) => ({ topic: a.topic_name, partition }))),
      })),
    };
  }

  async describeGroups(groupIds: string[]): Promise<{ groups: (GroupDescription & { members: GroupMember[] })[] }> {
    return { groups: await Promise.all(groupIds.map((g) => this.describeGroup(g))) };
  }

  /** Committed offsets of a group, optionally for some topics only. */
  async groupOffsets(groupId: string, topics?: string[]): Promise<GroupOffset[]> {
    const res = await this.http.json<{ offsets: { topic_name: string; partition_id: number; offset: number; metadata?: string }[] }>('GET', `${this.groupPath(groupId)}/offsets`);
    return res.offsets
      .filter((o) => !topics || topics.includes(o.topic_name))
      .map((o) => ({ topic: o.topic_name, partition: o.partition_id, offset: o.offset, metadata: o.metadata ?? '' }));
  }

  /** kafkajs's fetchOffsets: per topic, per partition, the committed offset. */
  async fetchOffsets(options: { groupId: string; topics?: string[] }): Promise<{ topic: string; partitions: { partition: number; offset: number; metadata: string }[] }[]> {
    const byTopic = new Map<string, { partition: number; offset: number; metadata: string }[]>();
    for (const o of await this.groupOffsets(options.groupId, options.topics)) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, offset: o.offset, metadata: o.metadata }]);
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a.partition - b.partition) }));
  }

  /** Per partition: committed offset, log end, lag, and who consumes it. */
  async groupLag(groupId: string): Promise<PartitionLag[]> {
    const res = await this.http.json<{ data: { topic_name: string; partition_id: number; current_offset: number; log_end_offset: number; lag: number; consumer_id: string }[] }>(
      'GET',
      `${this.groupPath(groupId)}/lags`,
    );
    return res.data
      .map((l) => ({ topic: l.topic_name, partition: l.partition_id, currentOffset: l.current_offset, logEndOffset: l.log_end_offset, lag: l.lag, memberId: l.consumer_id }))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** Moves a group's committed offsets (only while the group is empty: else GroupNotEmptyError). */
  async resetOffsets(groupId: string, to: ResetTarget, topics?: string[]): Promise<GroupOffset[]> {
    const res = await this.http.json<{ offsets: { topic_name: string; partition_id: number; offset: number; metadata?: string }[] }>('POST', `${this.groupPath(groupId)}/offsets:reset`, {
      json: { to, ...(topics && topics.length > 0 ? { topic_names: topics } : {}) },
    });
    return res.offsets.map((o) => ({ topic: o.topic_name, partition: o.partition_id, offset: o.offset, metadata: o.metadata ?? '' }));
  }

  /** Deletes a group and its offsets (only while it is empty). */
  async deleteGroup(groupId: string): Promise<void> {
    await this.http.request('DELETE', this.groupPath(groupId));
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    for (const g of groupIds) await this.deleteGroup(g);
  }

  /** Creates an API key (needs admin on the cluster when auth is on). `apiKey` is the secret: shown this once. */
  async createApiKey(name: string, permissions: string[]): Promise<ApiKeyDescription & { apiKey: string }> {
    const json = await this.http.json<ApiKeyJson>('POST', `${this.client.clusterPath}/api-keys`, { json: { name, permissions } });
    return { ...apiKeyDescription(json), apiKey: json.api_key ?? '' };
  }

  /** Every key, revoked ones included; never a secret. */
  async listApiKeys(): Promise<ApiKeyDescription[]> {
    const res = await this.http.json<{ data: ApiKeyJson[] }>('GET', `${this.client.clusterPath}/api-keys`);
    return res.data.map(apiKeyDescription);
  }

  // Triggers (docs/triggers.md) ------------------------------------------------

  private triggerPath(name?: string): string {
    return `${this.client.clusterPath}/triggers${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
  }

  /** Attaches a target to a topic: its records are pushed there from `startingPosition` on. */
  async createTrigger(name: string, config: TriggerConfig): Promise<TriggerDescription> {
    const t = config.target;
    const target = t.type === 'lambda' ? { type: 'lambda', function_arn: t.functionArn } : t;
    const body = {
      trigger_name: name,
      ...(config.topic !== undefined ? { topic_name: config.topic } : {}),
      ...(config.topicPattern !== undefined ? { topic_pattern: config.topicPattern } : {}),
      target,
      ...(config.startingPosition !== undefined ? { starting_position: config.startingPosition } : {}),
      ...settingsJson(config),
    };
    return triggerDescription(await this.http.json<TriggerJson>('POST', this.triggerPath(), { json: body }));
  }

  async listTriggers(): Promise<TriggerDescription[]> {
    const res = await this.http.json<{ data: TriggerJson[] }>('GET', this.triggerPath());
    return res.data.map(triggerDescription);
  }

  async describeTrigger(name: string): Promise<TriggerDescription> {
    return triggerDescription(await this.http.json<TriggerJson>('GET', this.triggerPath(name)));
  }

  /** Changes delivery settings; topic, target and starting position are fixed (delete and create instead). */
  async alterTrigger(name: string, settings: TriggerSettings): Promise<TriggerDescription> {
    return triggerDescription(await this.http.json<TriggerJson>('PATCH', this.triggerPath(name), { json: settingsJson(settings) }));
  }

  /** Stops delivery, keeping the position (its group's offsets); records produced meanwhile show as lag. */
  async pauseTrigger(name: string): Promise<TriggerDescription> {
    return triggerDescription(await this.http.json<TriggerJson>('PATCH', this.triggerPath(name), { json: { state: 'PAUSED' } }));
  }

  /** Delivers again from where the trigger stopped. */
  async resumeTrigger(name: string): Promise<TriggerDescription> {
    return triggerDescription(await this.http.json<TriggerJson>('PATCH', this.triggerPath(name), { json: { state: 'ACTIVE' } }));
  }

  /** Deletes the trigger and its consumer group. */
  async deleteTrigger(name: string): Promise<void> {
    await this.http.request('DELETE', this.triggerPath(name));
  }

  /** Revokes a key: refused from then on (by other Lambda containers within 10 s). */
  async revokeApiKey(keyId: string): Promise<void> {
    await this.http.request('DELETE', `${this.client.clusterPath}/api-keys/${encodeURIComponent(keyId)}`);
  }
}

function topicDescription(json: KafkaTopicJson): TopicDescription {
  return { name: json.topic_name, partitions: json.partitions_count, replicationFactor: json.replication_factor, isInternal: json.is_internal };
}

function partitionDescription(json: KafkaPartitionJson): PartitionDescription {
  return { partitionId: json.partition_id, logStartOffset: json.log_start_offset, highWatermark: json.high_watermark };
}

function groupDescription(json: GroupJson): GroupDescription {
  return { groupId: json.consumer_group_id, state: json.state, assignor: json.partition_assignor, membersCount: json.members_count ?? 0 };
}
