/** Admin operations: cluster, topics, configs, partitions and offsets by timestamp (REST Proxy v3). */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ErrorCode, StrandError, invalidValue } from '../errors';
import { parseConfig, describeConfigs, defaultOfConfig, effectiveConfig, type ConfigOverrides } from '../log/topicConfig';
import { assertPartitions } from '../log/TopicCatalog';
import { topicNameProblem } from '../log/topicName';
import { asStorageUnavailable } from '../storage/storageErrors';
import type { Operation } from './operations';
import { assertCluster, loadTopic, parseJsonBody, partitionParam, pathParam, queryInteger } from './request';
import { mapBounded } from '../mapBounded';
import { topicsVisibleTo } from '../auth/authorize';
import { apiBrokerId, brokerResource, clusterResource, partitionResource, replicaResource, topicResource } from './resources';

/** Configs one create or alter request may carry. */
const configsPerRequestMax = 100;
/** Partitions whose bounds one list request reads at once. */
const boundsReadsInFlightMax = 16;

const configEntry = z.object({
  name: z.string().max(255),
  value: z.union([z.string().max(1024), z.number()]).nullable().optional(),
  operation: z.enum(['SET', 'DELETE', 'set', 'delete']).optional(),
});

export const createTopicBody = z.object({
  topic_name: z.string(),
  partitions_count: z.number().int().optional(),
  replication_factor: z.number().int().min(-1).max(32767).optional(),
  configs: z.array(configEntry).max(configsPerRequestMax).optional(),
  /** Confluent's dry run: every check a create makes, nothing created; 200 instead of 201. */
  validate_only: z.boolean().optional(),
});

export const patchTopicBody = z.object({ partitions_count: z.number().int() });
export const alterConfigsBody = z.object({
  data: z.array(configEntry).max(configsPerRequestMax),
  /** Confluent's dry run: the configs are checked, nothing is set. */
  validate_only: z.boolean().optional(),
});

/** Validates config entries; all of them are checked before anything changes. */
function applyConfigEntries(current: ConfigOverrides, entries: z.infer<typeof configEntry>[]): ConfigOverrides {
  const next: ConfigOverrides = { ...current };
  for (const entry of entries) {
    const remove = entry.operation?.toUpperCase() === 'DELETE' || entry.value === null || entry.value === undefined;
    const parsed = parseConfig(entry.name, remove ? '0' : entry.value);
    if ('error' in parsed) {
      // A reset of a known config needs no valid value.
      if (!(remove && !parsed.error.startsWith('Unknown'))) throw invalidValue(parsed.error);
    }
    if (remove) delete next[entry.name as keyof ConfigOverrides];
    else if ('value' in parsed) next[parsed.name] = parsed.value;
  }
  return next;
}

/** Confluent's KafkaTopicConfig, with its synonyms (the topic's own value, then the default it overrides; Strand has no broker-level layer). */
function topicConfigResource(clusterId: string, topicName: string, c: ReturnType<typeof describeConfigs>[number]) {
  return {
    kind: 'KafkaTopicConfig',
    metadata: {
      self: `/v3/clusters/${clusterId}/topics/${topicName}/configs/${c.name}`,
      resource_name: `crn:///kafka=${clusterId}/topic=${topicName}/config=${c.name}`,
    },
    cluster_id: clusterId,
    topic_name: topicName,
    ...c,
    is_read_only: false,
    is_sensitive: false,
    source: c.is_default ? 'DEFAULT_CONFIG' : 'DYNAMIC_TOPIC_CONFIG',
    synonyms: [
      ...(c.is_default ? [] : [{ name: c.name, value: c.value, source: 'DYNAMIC_TOPIC_CONFIG' }]),
      { name: c.name, value: defaultOfConfig(c.name), source: 'DEFAULT_CONFIG' },
    ],
  };
}

export const topicOperations: Record<string, Operation> = {
  'GET /health': async (_req, runtime) => {
    try {
      await Promise.all([
        runtime.clients.ddb.send(new GetCommand({ TableName: runtime.config.tables.topics, Key: { pk: '~health' } })),
        runtime.clients.s3.send(new HeadBucketCommand({ Bucket: runtime.config.bucket })),
      ]);
    } catch (err) {
      throw asStorageUnavailable(err) ?? err;
    }
    return { status: 200, json: { status: 'ok' } };
  },

  /** REST Proxy v2: the topic names (those the caller may describe, with API keys). */
  'GET /topics': async (req, runtime) => {
    const visible = topicsVisibleTo(req, runtime);
    return { status: 200, headers: { 'content-type': 'application/vnd.kafka.v2+json' }, json: (await runtime.engine.topics.list()).map((t) => t.name).filter(visible).sort() };
  },

  /** REST Proxy v2's topic: its effective configs and partitions, each led by the API's one broker (apiBrokerId). */
  'GET /topics/{topic_name}': async (req, runtime) => {
    // v2 paths name no cluster: the deployment's one.
    const topic = await runtime.engine.topics.get(pathParam(req, 'topic_name'));
    const configs = Object.fromEntries(describeConfigs(topic.overrides).map((c) => [c.name, c.value]));
    const partitions = Array.from({ length: topic.partitionsCount }, (_, partition) => ({
      partition,
      leader: apiBrokerId,
      replicas: [{ broker: apiBrokerId, leader: true, in_sync: true }],
    }));
    return { status: 200, headers: { 'content-type': 'application/vnd.kafka.v2+json' }, json: { name: topic.name, configs, partitions } };
  },

  'GET /v3/clusters': async (_req, runtime) => ({
    status: 200,
    json: { kind: 'KafkaClusterList', metadata: { self: '/v3/clusters' }, data: [clusterResource(runtime.config.clusterId)] },
  }),

  'GET /v3/clusters/{cluster_id}': async (req, runtime) => ({ status: 200, json: clusterResource(assertCluster(req, runtime)) }),

  'GET /v3/clusters/{cluster_id}/topics': async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const topics = await runtime.engine.topics.list();
    return {
      status: 200,
      json: { kind: 'KafkaTopicList', metadata: { self: `/v3/clusters/${clusterId}/topics` }, data: topics.map((t) => topicResource(clusterId, t)) },
    };
  },

  'POST /v3/clusters/{cluster_id}/topics': async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const body = parseJsonBody(req, createTopicBody);
    const problem = topicNameProblem(body.topic_name);
    if (problem) throw invalidValue(problem);
    const overrides = applyConfigEntries({}, body.configs ?? []);
    const replicationFactor = body.replication_factor === undefined || body.replication_factor === -1 ? 3 : body.replication_factor;
    if (replicationFactor < 1) throw invalidValue(`'replication_factor' must be at least 1, not ${replicationFactor}.`);
    const partitionsCount = body.partitions_count ?? 1;
    if (body.validate_only) {
      // Kafka's CreateTopics with validateOnly: the same answers a create would give, and nothing stored.
      assertPartitions(partitionsCount);
      if (await runtime.engine.topics.find(body.topic_name)) throw new StrandError(ErrorCode.TopicExists, `Topic '${body.topic_name}' already exists.`);
      const wouldBe = { name: body.topic_name, topicId: '', partitionsCount, replicationFactor, overrides, config: effectiveConfig(overrides), createdAt: 0 };
      return { status: 200, json: topicResource(clusterId, wouldBe) };
    }
    const topic = await runtime.engine.createTopic(body.topic_name, partitionsCount, replicationFactor, overrides);
    return { status: 201, json: topicResource(clusterId, topic) };
  },

  'GET /v3/clusters/{cluster_id}/topics/{topic_name}': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    return { status: 200, json: topicResource(runtime.config.clusterId, topic) };
  },

  'PATCH /v3/clusters/{cluster_id}/topics/{topic_name}': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const body = parseJsonBody(req, patchTopicBody);
    const grown = await runtime.engine.topics.growPartitions(topic.name, body.partitions_count);
    return { status: 200, json: topicResource(runtime.config.clusterId, grown) };
  },

  'DELETE /v3/clusters/{cluster_id}/topics/{topic_name}': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    await runtime.engine.deleteTopic(topic.name);
    return { status: 204 };
  },

  'GET /v3/clusters/{cluster_id}/topics/{topic_name}/configs': async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    // Confluent's `topics/-/configs`: the configs of every topic in one list.
    const topics = req.pathParameters.topic_name === '-' ? await runtime.engine.topics.list() : [await loadTopic(req, runtime)];
    return {
      status: 200,
      json: {
        kind: 'KafkaTopicConfigList',
        metadata: { self: `/v3/clusters/${clusterId}/topics/${req.pathParameters.topic_name}/configs` },
        data: topics.flatMap((topic) => describeConfigs(topic.overrides).map((c) => topicConfigResource(clusterId, topic.name, c))),
      },
    };
  },

  'GET /v3/clusters/{cluster_id}/topics/{topic_name}/configs/{name}': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const config = describeConfigs(topic.overrides).find((c) => c.name === pathParam(req, 'name'));
    if (!config) throw new StrandError(ErrorCode.UnknownTopicConfig, `Config '${pathParam(req, 'name')}' is not a topic config Strand knows.`);
    return { status: 200, json: topicConfigResource(runtime.config.clusterId, topic.name, config) };
  },

  /** Confluent's single-config update: `{"value": "…"}`, 204. */
  'PUT /v3/clusters/{cluster_id}/topics/{topic_name}/configs/{name}': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const body = parseJsonBody(req, z.object({ value: z.union([z.string().max(1024), z.number()]).nullable() }));
    const overrides = applyConfigEntries(topic.overrides, [{ name: pathParam(req, 'name'), value: body.value }]);
    await runtime.engine.topics.setOverrides(topic, overrides);
    return { status: 204 };
  },

  /** Back to the default (Kafka's DELETE operation of IncrementalAlterConfigs), 204. */
  'DELETE /v3/clusters/{cluster_id}/topics/{topic_name}/configs/{name}': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const overrides = applyConfigEntries(topic.overrides, [{ name: pathParam(req, 'name'), operation: 'DELETE' }]);
    await runtime.engine.topics.setOverrides(topic, overrides);
    return { status: 204 };
  },

  'POST /v3/clusters/{cluster_id}/topics/{topic_name}/configs:alter': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const body = parseJsonBody(req, alterConfigsBody);
    const overrides = applyConfigEntries(topic.overrides, body.data);
    if (!body.validate_only) await runtime.engine.topics.setOverrides(topic, overrides);
    return { status: 204 };
  },

  'GET /v3/clusters/{cluster_id}/topics/{topic_name}/partitions': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const ids = Array.from({ length: topic.partitionsCount }, (_, p) => p);
    const partitions = await mapBounded(ids, boundsReadsInFlightMax, async (p) =>
      partitionResource(runtime.config.clusterId, topic, p, await runtime.engine.bounds(topic, p)),
    );
    return { status: 200, json: { kind: 'KafkaPartitionList', data: partitions } };
  },

  'GET /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const p = partitionParam(req);
    return { status: 200, json: partitionResource(runtime.config.clusterId, topic, p, await runtime.engine.bounds(topic, p)) };
  },

  'GET /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/replicas': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const p = partitionParam(req);
    runtime.engine.assertPartition(topic, p);
    const clusterId = runtime.config.clusterId;
    return {
      status: 200,
      json: { kind: 'KafkaReplicaList', metadata: { self: `/v3/clusters/${clusterId}/topics/${topic.name}/partitions/${p}/replicas`, next: null }, data: [replicaResource(clusterId, topic, p)] },
    };
  },

  'GET /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/replicas/{broker_id}': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const p = partitionParam(req);
    runtime.engine.assertPartition(topic, p);
    if (pathParam(req, 'broker_id') !== String(apiBrokerId)) throw new StrandError(ErrorCode.UnknownBroker, `Broker ${pathParam(req, 'broker_id')} not found: Strand's API is broker ${apiBrokerId}, every partition's one replica.`);
    return { status: 200, json: replicaResource(runtime.config.clusterId, topic, p) };
  },

  'GET /v3/clusters/{cluster_id}/brokers': async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    return {
      status: 200,
      json: { kind: 'KafkaBrokerList', metadata: { self: `/v3/clusters/${clusterId}/brokers`, next: null }, data: [brokerResource(clusterId, req.headers.host)] },
    };
  },

  'GET /v3/clusters/{cluster_id}/brokers/{broker_id}': async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    if (pathParam(req, 'broker_id') !== String(apiBrokerId)) throw new StrandError(ErrorCode.UnknownBroker, `Broker ${pathParam(req, 'broker_id')} not found: Strand's API is broker ${apiBrokerId}.`);
    return { status: 200, json: brokerResource(clusterId, req.headers.host) };
  },

  'GET /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/offsets': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const p = partitionParam(req);
    const timestamp = queryInteger(req, 'timestamp', { min: -2, max: Number.MAX_SAFE_INTEGER });
    const found = await runtime.engine.offsetForTimestamp(topic, p, timestamp);
    return { status: 200, json: { partition_id: p, offset: found.offset, timestamp: found.timestamp } };
  },
};
