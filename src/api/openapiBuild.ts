/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route table
 * (src/api/routes.ts) and the zod schemas that validate request bodies, so the
 * document cannot name a route, a path parameter or a body field the API does
 * not have. `npm run openapi` (this file as a script) writes it to
 * docs/openapi.json, which `GET /openapi.json` serves (src/api/openapi.ts);
 * test/api/openapi.test.ts fails when the checked-in copy and this builder drift.
 * Not imported by any function: it pulls in every function's request schemas.
 *
 *   routes            → paths, methods, path parameters, operationId, tags
 *   routeDocs         → summary, query parameters, request body (a zod schema, z.toJSONSchema),
 *                       success response (status, media type, schema), error codes
 *   ErrorCode         → each error response's status and the error_code values it may carry
 *
 * A route without an entry in routeDocs is still in the document, as
 * "Undocumented"; test/api/openapi.test.ts fails until it has one.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ErrorCode, httpStatusOf } from '../errors';
import { routeKey, routes, type RouteSpec } from './routes';
import { openApiPath } from './openapi';
import { requestBodyBytesMax } from './http';
import { createTopicBody, patchTopicBody, alterConfigsBody } from './topics';
import { batchEntrySchema, entriesPerBatchRequestMax, recordBatchMediaType, recordSchema, v2ProduceBody } from './produce';
import { deleteRecordsBody } from './records';
import { createUploadBody } from './uploads';
import { multiFetchBody } from './multiFetch';
import { partitionBatchesMediaType } from './partitionBatches';
import { batchUrlsMediaType } from './fetchForms';
import { initProducerBody } from './producers';
import { commitBody as groupCommitBody, heartbeatBody, resetBody } from './groups';
import {
  commitBody as instanceCommitBody,
  createBody as instanceCreateBody,
  partitionsBody,
  positionsBody,
  subscriptionBody,
} from './consumers';
import { createBody as apiKeyCreateBody } from './apiKeys';
import { compatibilityBody, schemaBody } from './schemas';
import { createTriggerBody, patchTriggerBody } from '../triggers/triggerSpec';
import { RegistryErrorCode } from '../schemas/errors';

export const openApiVersion = '3.1.0';
export { openApiPath };

type JsonSchema = Record<string, unknown>;

interface QueryParam {
  name: string;
  description: string;
  schema: JsonSchema;
  required?: boolean;
}

interface RouteDoc {
  summary: string;
  tag: string;
  description?: string;
  query?: QueryParam[];
  /** The request body: a zod schema (the one the operation validates with) or a JSON Schema; JSON unless mediaTypes say otherwise. */
  body?: { schema: z.ZodType | JsonSchema; mediaTypes?: string[]; required?: boolean; description?: string };
  /** The success answer. */
  ok: { status: number; description: string; schema?: JsonSchema; mediaTypes?: string[] };
  /** Contract error codes the operation itself may answer (auth, 5xx and malformed-request codes are added for every route). */
  errors?: number[];
}

// ---- shared shapes (JSON Schema 2020-12, as OpenAPI 3.1 takes it) -------------

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, JsonSchema>, required: string[] = [], extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...extra,
});
const int: JsonSchema = { type: 'integer' };
const str: JsonSchema = { type: 'string' };
const bool: JsonSchema = { type: 'boolean' };
const nullable = (s: JsonSchema): JsonSchema => ({ anyOf: [s, { type: 'null' }] });
const arrayOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
const listOf = (kind: string, item: JsonSchema): JsonSchema =>
  obj({ kind: { const: kind }, metadata: { type: 'object' }, data: arrayOf(item) }, ['kind', 'data']);
const anyJson: JsonSchema = {};
const anyObject: JsonSchema = { type: 'object' };

const components: Record<string, JsonSchema> = {
  Error: obj(
    { error_code: { type: 'integer', description: 'HTTP status × 100 + a detail digit pair (see the error table).' }, message: str },
    ['error_code', 'message'],
    { additionalProperties: true, description: 'Every error of the contract. Some carry more fields (41601: log_start_offset, high_watermark).' },
  ),
  GatewayError: obj({ message: str }, ['message'], { description: "API Gateway's own answers (413 payload too large, 500 function error, 503 integration timeout): no error_code." }),
  KafkaCluster: obj({ kind: { const: 'KafkaCluster' }, cluster_id: str }, ['kind', 'cluster_id'], { additionalProperties: true }),
  KafkaTopic: obj(
    {
      kind: { const: 'KafkaTopic' },
      cluster_id: str,
      topic_name: str,
      is_internal: bool,
      replication_factor: int,
      partitions_count: int,
    },
    ['kind', 'cluster_id', 'topic_name', 'partitions_count'],
    { additionalProperties: true },
  ),
  KafkaPartition: obj(
    { kind: { const: 'KafkaPartition' }, cluster_id: str, topic_name: str, partition_id: int, log_start_offset: int, high_watermark: int },
    ['kind', 'topic_name', 'partition_id'],
    { additionalProperties: true },
  ),
  KafkaTopicConfig: obj({ kind: { const: 'KafkaTopicConfig' }, name: str, value: nullable(str), is_default: bool }, ['name'], { additionalProperties: true }),
  EmbeddedData: nullable(obj({ type: { enum: ['BINARY', 'JSON', 'STRING', 'AVRO'] }, size: int, schema_id: int }, [], { additionalProperties: true })),
  ProduceResult: obj(
    {
      error_code: { const: 200 },
      cluster_id: str,
      topic_name: str,
      partition_id: int,
      offset: int,
      timestamp: { type: 'string', format: 'date-time' },
      key: ref('EmbeddedData'),
      value: ref('EmbeddedData'),
    },
    ['error_code', 'topic_name', 'partition_id', 'offset'],
    { additionalProperties: true },
  ),
  AppendResult: obj(
    { cluster_id: str, topic_name: str, partition_id: int, base_offset: int, last_offset: int, log_append_time: int, duplicate: bool },
    ['topic_name', 'partition_id', 'base_offset', 'last_offset'],
    { additionalProperties: true, description: 'duplicate: only for idempotent batches; true when the batch was appended before (same offsets).' },
  ),
  FetchedRecord: obj(
    {
      offset: int,
      timestamp: int,
      timestamp_type: str,
      key: nullable(obj({ type: str, data: anyJson })),
      value: nullable(obj({ type: str, data: anyJson })),
      headers: arrayOf(obj({ name: str, value: nullable(str) })),
    },
    ['offset'],
    { additionalProperties: true },
  ),
  FetchResponse: obj(
    {
      cluster_id: str,
      topic_name: str,
      partition_id: int,
      high_watermark: int,
      log_start_offset: int,
      next_offset: int,
      records: arrayOf(ref('FetchedRecord')),
      skipped: arrayOf(anyObject),
    },
    ['topic_name', 'partition_id', 'high_watermark', 'log_start_offset', 'next_offset', 'records'],
    { additionalProperties: true },
  ),
  HeartbeatResponse: obj(
    {
      member_id: str,
      member_epoch: int,
      heartbeat_interval_ms: int,
      assignment: arrayOf(obj({ topic_name: str, partition_ids: arrayOf(int) })),
    },
    ['member_id', 'member_epoch', 'heartbeat_interval_ms'],
    { additionalProperties: true },
  ),
  GroupOffsets: obj({ offsets: arrayOf(obj({ topic_name: str, partition_id: int, offset: int, metadata: nullable(str) })) }, ['offsets'], { additionalProperties: true }),
  ConsumerGroup: obj({ kind: { const: 'KafkaConsumerGroup' }, consumer_group_id: str, state: str, partition_assignor: str }, ['consumer_group_id'], { additionalProperties: true }),
  ConsumerLag: obj(
    { kind: { const: 'KafkaConsumerLag' }, topic_name: str, partition_id: int, current_offset: int, log_end_offset: int, lag: int, consumer_id: str },
    ['topic_name', 'partition_id', 'current_offset', 'log_end_offset', 'lag'],
    { additionalProperties: true },
  ),
  RegistrySchema: obj({ subject: str, version: int, id: int, schemaType: str, schema: str }, [], { additionalProperties: true }),
};

// ---- per-route documentation -------------------------------------------------

const C = '/v3/clusters/{cluster_id}';
const T = `${C}/topics/{topic_name}`;
const P = `${T}/partitions/{partition_id}`;
const G = `${C}/consumer-groups/{consumer_group_id}`;
const V2 = '/consumers/{group_name}';
const I = `${V2}/instances/{instance}`;
const SV = '/subjects/{subject}/versions';

const v2Json = 'application/vnd.kafka.v2+json';
const registryJson = ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json', 'application/json'];
const json200 = (description: string, schema: JsonSchema = anyObject): RouteDoc['ok'] => ({ status: 200, description, schema });
const noContent = (description: string): RouteDoc['ok'] => ({ status: 204, description });

const embeddedFormat: QueryParam = {
  name: 'embedded_format',
  description: 'How keys and values are embedded in a JSON answer: binary (base64), string (UTF-8) or json (parsed).',
  schema: { enum: ['binary', 'string', 'json'], default: 'binary' },
};
const flag = (name: string, description: string): QueryParam => ({ name, description, schema: { type: 'boolean', default: false } });
const deletedFlag = flag('deleted', 'Include soft-deleted subjects or versions.');
const permanentFlag = flag('permanent', 'Delete for good (after a soft delete).');
const defaultToGlobal = flag('defaultToGlobal', "Answer the global setting when the subject has none of its own.");

const topicErrors = [ErrorCode.UnknownCluster, ErrorCode.UnknownTopic];
const partitionErrors = [...topicErrors, ErrorCode.UnknownPartition];
const produceErrors = [...topicErrors, ErrorCode.UnknownPartition, ErrorCode.BodyTooLarge, ErrorCode.RecordTooLarge, ErrorCode.UnsupportedMediaType, ErrorCode.Throttled];
const groupErrors = [ErrorCode.UnknownCluster, ErrorCode.UnknownGroup];
/** The registry answers in Confluent's codes (src/schemas/errors.ts), on the same wire shape. */
const registryErrors: number[] = Object.values(RegistryErrorCode);

const batchRequestBody = z.object({ entries: z.array(batchEntrySchema).min(1).max(entriesPerBatchRequestMax) });
const configValueBody = z.object({ value: z.union([z.string().max(1024), z.number()]).nullable() });
const modeBody = z.object({ mode: z.enum(['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT']) });

export const routeDocs: Record<string, RouteDoc> = {
  'GET /health': { tag: 'Health', summary: 'Liveness: 200 when storage is reachable.', ok: json200('The store answered.', obj({ status: { const: 'ok' } }, ['status'])) },
  [`GET ${openApiPath}`]: { tag: 'Health', summary: 'This OpenAPI 3.1 document.', ok: json200('The document, as docs/openapi.json in the repository.') },
  'GET /v3/clusters': { tag: 'Cluster', summary: 'The one cluster of this deployment.', ok: json200('KafkaClusterList.', listOf('KafkaClusterList', ref('KafkaCluster'))) },
  [`GET ${C}`]: { tag: 'Cluster', summary: 'The cluster.', ok: json200('KafkaCluster.', ref('KafkaCluster')), errors: [ErrorCode.UnknownCluster] },
  [`GET ${C}/topics`]: { tag: 'Topics', summary: 'List topics.', ok: json200('KafkaTopicList.', listOf('KafkaTopicList', ref('KafkaTopic'))), errors: [ErrorCode.UnknownCluster] },
  [`POST ${C}/topics`]: {
    tag: 'Topics',
    summary: 'Create a topic (partitions_count defaults to 1; configs as Kafka names them, docs/topic-configs.md).',
    body: { schema: createTopicBody },
    ok: { status: 201, description: 'The new topic.', schema: ref('KafkaTopic') },
    errors: [ErrorCode.UnknownCluster, ErrorCode.TopicExists],
  },
  [`GET ${T}`]: { tag: 'Topics', summary: 'Describe a topic.', ok: json200('KafkaTopic.', ref('KafkaTopic')), errors: topicErrors },
  [`PATCH ${T}`]: { tag: 'Topics', summary: 'Grow the partition count (never shrinks).', body: { schema: patchTopicBody }, ok: json200('KafkaTopic.', ref('KafkaTopic')), errors: topicErrors },
  [`DELETE ${T}`]: { tag: 'Topics', summary: "Delete a topic and its data.", ok: noContent('Deleted.'), errors: topicErrors },
  [`GET ${T}/configs`]: { tag: 'Topic configs', summary: "Every config of the topic, defaults included.", ok: json200('KafkaTopicConfigList.', listOf('KafkaTopicConfigList', ref('KafkaTopicConfig'))), errors: topicErrors },
  [`POST ${T}/configs:alter`]: { tag: 'Topic configs', summary: 'Set or delete several configs at once.', body: { schema: alterConfigsBody }, ok: noContent('Altered.'), errors: topicErrors },
  [`GET ${T}/configs/{name}`]: { tag: 'Topic configs', summary: 'One config.', ok: json200('KafkaTopicConfig.', ref('KafkaTopicConfig')), errors: [...topicErrors, ErrorCode.UnknownTopicConfig] },
  [`PUT ${T}/configs/{name}`]: { tag: 'Topic configs', summary: 'Set one config.', body: { schema: configValueBody }, ok: noContent('Set.'), errors: topicErrors },
  [`DELETE ${T}/configs/{name}`]: { tag: 'Topic configs', summary: 'Reset one config to its default.', ok: noContent('Reset.'), errors: topicErrors },
  [`GET ${T}/partitions`]: { tag: 'Partitions', summary: "List the topic's partitions with their bounds.", ok: json200('KafkaPartitionList.', listOf('KafkaPartitionList', ref('KafkaPartition'))), errors: topicErrors },
  [`GET ${P}`]: { tag: 'Partitions', summary: 'One partition: log start offset and high watermark.', ok: json200('KafkaPartition.', ref('KafkaPartition')), errors: partitionErrors },
  [`GET ${P}/offsets`]: {
    tag: 'Partitions',
    summary: "The first offset whose timestamp is at or after `timestamp`, or the high watermark (Kafka's ListOffsets).",
    query: [{ name: 'timestamp', description: 'Epoch milliseconds.', schema: { type: 'integer', minimum: 0 }, required: true }],
    ok: json200('The offset.', obj({ partition_id: int, offset: int, timestamp: int }, ['partition_id', 'offset'])),
    errors: partitionErrors,
  },
  [`GET ${P}/replicas`]: { tag: 'Partitions', summary: "The partition's replicas: the API itself, as Kafka's one broker.", ok: json200('KafkaReplicaList.'), errors: partitionErrors },
  [`GET ${P}/replicas/{broker_id}`]: { tag: 'Partitions', summary: 'One replica.', ok: json200('KafkaReplica.'), errors: [...partitionErrors, ErrorCode.UnknownBroker] },
  [`GET ${C}/brokers`]: { tag: 'Cluster', summary: 'The brokers: the API itself.', ok: json200('KafkaBrokerList.'), errors: [ErrorCode.UnknownCluster] },
  [`GET ${C}/brokers/{broker_id}`]: { tag: 'Cluster', summary: 'One broker.', ok: json200('KafkaBroker.'), errors: [ErrorCode.UnknownCluster, ErrorCode.UnknownBroker] },
  [`POST ${T}/records`]: {
    tag: 'Produce',
    summary: 'Produce one record (REST Proxy v3).',
    description:
      "A keyed record without partition_id goes where Kafka's default partitioner puts it (murmur2). A body of several JSON records one after another (a stream) is produced in order and answered by a stream of delivery reports, one JSON value per line.",
    body: { schema: recordSchema },
    ok: json200('Where the record landed.', ref('ProduceResult')),
    errors: produceErrors,
  },
  [`POST ${T}/records:batch`]: {
    tag: 'Produce',
    summary: 'Produce many records; entries to one partition get contiguous offsets in entry order.',
    body: { schema: batchRequestBody },
    ok: {
      status: 207,
      description: 'Per-entry successes and failures.',
      schema: obj({ successes: arrayOf(obj({ id: str, partition_id: int, offset: int }, [], { additionalProperties: true })), failures: arrayOf(obj({ id: str, error_code: int, message: str })) }, ['successes', 'failures']),
    },
    errors: [...produceErrors, ErrorCode.InvalidProduceBatch],
  },
  [`POST ${P}/records:delete`]: {
    tag: 'Records',
    summary: "Move the log start offset up (Kafka's DeleteRecords); -1 means the high watermark.",
    body: { schema: deleteRecordsBody },
    ok: json200('The new log start offset.', obj({ partition_id: int, log_start_offset: int }, ['partition_id', 'log_start_offset'])),
    errors: partitionErrors,
  },
  [`POST ${P}/batches`]: {
    tag: 'Produce',
    summary: 'Append Kafka RecordBatch v2 bytes, exactly as a Kafka producer writes them; idempotent when the batch carries a producer id.',
    body: { schema: { type: 'string', contentMediaType: recordBatchMediaType, description: 'One or more RecordBatch v2 (magic 2, CRC-32C).' }, mediaTypes: [recordBatchMediaType] },
    ok: json200('The offsets the batches got.', ref('AppendResult')),
    errors: [...produceErrors, ErrorCode.CorruptBatch, ErrorCode.ProducerFenced],
  },
  [`POST ${P}/uploads`]: {
    tag: 'Uploads',
    summary: 'Direct-to-S3 produce, step 1: a presigned PUT URL for batches of the given size and SHA-256.',
    body: { schema: createUploadBody },
    ok: { status: 201, description: 'Where to PUT the bytes, and the upload id to commit.', schema: obj({ upload_id: str, url: str, headers: anyObject, expires_at: str }, ['upload_id', 'url'], { additionalProperties: true }) },
    errors: produceErrors,
  },
  [`POST ${P}/uploads/{upload_id}/commit`]: {
    tag: 'Uploads',
    summary: 'Direct-to-S3 produce, step 2: validate the uploaded batches and append them (once per upload id).',
    ok: json200('The offsets the batches got.', ref('AppendResult')),
    errors: [...produceErrors, ErrorCode.CorruptBatch, ErrorCode.ProducerFenced],
  },
  [`GET ${P}/records`]: {
    tag: 'Fetch',
    summary: 'Fetch records from an offset; long-polls up to max_wait_ms at the end of the log.',
    description: `Accept: ${recordBatchMediaType} answers the stored batches (headers Kafka-High-Watermark, Kafka-Log-Start-Offset, Kafka-Next-Offset); Accept: ${batchUrlsMediaType} answers presigned ranged GETs instead of bytes.`,
    query: [
      { name: 'offset', description: 'First offset to return.', schema: { type: 'integer', minimum: 0 }, required: true },
      { name: 'max_bytes', description: 'Soft bound on the answer (at least one record is returned).', schema: { type: 'integer', minimum: 1, default: 1048576, maximum: 4194304 } },
      { name: 'max_wait_ms', description: 'Long poll when offset is the high watermark.', schema: { type: 'integer', minimum: 0, default: 0, maximum: 20000 } },
      embeddedFormat,
    ],
    ok: { status: 200, description: 'Records (JSON), batches (binary) or batch URLs.', schema: ref('FetchResponse'), mediaTypes: ['application/json', recordBatchMediaType, batchUrlsMediaType] },
    errors: [...partitionErrors, ErrorCode.OffsetOutOfRange],
  },
  [`POST ${C}/records:fetch`]: {
    tag: 'Fetch',
    summary: "Many partitions in one fetch (Kafka's Fetch): one long poll for all of them.",
    query: [embeddedFormat],
    body: { schema: multiFetchBody },
    ok: { status: 200, description: `JSON per partition; Accept: ${partitionBatchesMediaType} for batches, ${batchUrlsMediaType} for presigned URLs.`, schema: obj({ cluster_id: str, partitions: arrayOf(anyObject) }, ['partitions']), mediaTypes: ['application/json', partitionBatchesMediaType, batchUrlsMediaType] },
    errors: [ErrorCode.UnknownCluster],
  },
  [`GET ${C}/notifications`]: { tag: 'Fetch', summary: 'Where waiting consumers get notices (a WebSocket URL), docs/notifications.md.', ok: json200('The socket URL.', obj({ url: str }, [], { additionalProperties: true })), errors: [ErrorCode.UnknownCluster] },
  [`POST ${C}/api-keys`]: {
    tag: 'API keys',
    summary: 'Create an API key (STRAND_AUTH=keys); its secret is in this answer only.',
    body: { schema: apiKeyCreateBody },
    ok: { status: 201, description: 'The key, with its secret.', schema: anyObject },
    errors: [ErrorCode.UnknownCluster],
  },
  [`GET ${C}/api-keys`]: { tag: 'API keys', summary: 'List keys (never their secrets).', ok: json200('The keys.'), errors: [ErrorCode.UnknownCluster] },
  [`GET ${C}/api-keys/{key_id}`]: { tag: 'API keys', summary: 'One key.', ok: json200('The key.'), errors: [ErrorCode.UnknownCluster, ErrorCode.UnknownApiKey] },
  [`DELETE ${C}/api-keys/{key_id}`]: { tag: 'API keys', summary: 'Revoke a key.', ok: noContent('Revoked.'), errors: [ErrorCode.UnknownCluster, ErrorCode.UnknownApiKey] },
  [`POST ${C}/triggers`]: {
    tag: 'Triggers',
    summary: "Push a topic's records to a function, webhook or bucket (docs/triggers.md).",
    body: { schema: createTriggerBody },
    ok: { status: 201, description: 'The trigger.', schema: anyObject },
    errors: [ErrorCode.UnknownCluster, ErrorCode.UnknownTopic, ErrorCode.TriggerExists],
  },
  [`GET ${C}/triggers`]: { tag: 'Triggers', summary: 'List triggers.', ok: json200('The triggers.'), errors: [ErrorCode.UnknownCluster] },
  [`GET ${C}/triggers/{trigger_name}`]: { tag: 'Triggers', summary: 'One trigger, with its lag.', ok: json200('The trigger.'), errors: [ErrorCode.UnknownCluster, ErrorCode.UnknownTrigger] },
  [`PATCH ${C}/triggers/{trigger_name}`]: { tag: 'Triggers', summary: 'Pause, resume (state) or change delivery settings.', body: { schema: patchTriggerBody }, ok: json200('The trigger.'), errors: [ErrorCode.UnknownCluster, ErrorCode.UnknownTrigger] },
  [`DELETE ${C}/triggers/{trigger_name}`]: { tag: 'Triggers', summary: 'Delete a trigger.', ok: noContent('Deleted.'), errors: [ErrorCode.UnknownCluster, ErrorCode.UnknownTrigger] },
  [`POST ${C}/producers`]: {
    tag: 'Produce',
    summary: "An idempotent producer's id and epoch (Kafka's InitProducerId); with producer_id, bumps its epoch.",
    body: { schema: initProducerBody, required: false },
    ok: { status: 201, description: 'The producer id and epoch.', schema: obj({ producer_id: int, producer_epoch: int }, ['producer_id', 'producer_epoch']) },
    errors: [ErrorCode.UnknownCluster, ErrorCode.ProducerFenced],
  },
  [`GET ${C}/consumer-groups`]: { tag: 'Consumer groups', summary: 'List groups.', ok: json200('KafkaConsumerGroupList.', listOf('KafkaConsumerGroupList', ref('ConsumerGroup'))), errors: [ErrorCode.UnknownCluster] },
  [`GET ${G}`]: { tag: 'Consumer groups', summary: 'Describe a group.', ok: json200('KafkaConsumerGroup.', ref('ConsumerGroup')), errors: groupErrors },
  [`DELETE ${G}`]: { tag: 'Consumer groups', summary: 'Delete an empty group and its offsets.', ok: noContent('Deleted.'), errors: [...groupErrors, ErrorCode.GroupNotEmpty] },
  [`POST ${G}/heartbeat`]: {
    tag: 'Consumer groups',
    summary: 'Join (member_epoch 0), stay (the current epoch) or leave (-1): KIP-848; the answer carries the assignment.',
    body: { schema: heartbeatBody },
    ok: json200('The member and its assignment.', ref('HeartbeatResponse')),
    errors: [ErrorCode.UnknownCluster, ErrorCode.FencedMember, ErrorCode.UnknownMember],
  },
  [`POST ${G}/offsets:commit`]: {
    tag: 'Consumer groups',
    summary: "Commit offsets (a member's, or a standalone consumer's while the group has no members).",
    body: { schema: groupCommitBody },
    ok: json200('Committed.'),
    errors: [ErrorCode.UnknownCluster, ErrorCode.FencedMember, ErrorCode.PartitionNotOwned, ErrorCode.UnknownMember, ErrorCode.GroupNotEmpty],
  },
  [`GET ${G}/offsets`]: { tag: 'Consumer groups', summary: 'Committed offsets.', ok: json200('The offsets.', ref('GroupOffsets')), errors: [ErrorCode.UnknownCluster] },
  [`POST ${G}/offsets:reset`]: {
    tag: 'Consumer groups',
    summary: 'Reset offsets to earliest, latest, a timestamp or an offset (the group must be empty).',
    body: { schema: resetBody },
    ok: json200('The new offsets.', ref('GroupOffsets')),
    errors: [...groupErrors, ErrorCode.GroupNotEmpty, ErrorCode.UnknownTopic],
  },
  [`GET ${G}/consumers`]: { tag: 'Consumer groups', summary: "The group's members.", ok: json200('KafkaConsumerList.'), errors: groupErrors },
  [`GET ${G}/consumers/{consumer_id}`]: { tag: 'Consumer groups', summary: 'One member.', ok: json200('KafkaConsumer.'), errors: [...groupErrors, ErrorCode.UnknownMember] },
  [`GET ${G}/consumers/{consumer_id}/assignments`]: { tag: 'Consumer groups', summary: "A member's partitions.", ok: json200('KafkaConsumerAssignmentList.'), errors: [...groupErrors, ErrorCode.UnknownMember] },
  [`GET ${G}/lags`]: { tag: 'Consumer groups', summary: 'Lag of every partition with a committed offset.', ok: json200('KafkaConsumerLagList.', listOf('KafkaConsumerLagList', ref('ConsumerLag'))), errors: groupErrors },
  [`GET ${G}/lags/{topic_name}/partitions/{partition_id}`]: { tag: 'Consumer groups', summary: "One partition's lag.", ok: json200('KafkaConsumerLag.', ref('ConsumerLag')), errors: [...groupErrors, ErrorCode.UnknownTopic, ErrorCode.UnknownPartition] },
  [`GET ${G}/lag-summary`]: { tag: 'Consumer groups', summary: 'Max and total lag.', ok: json200('KafkaConsumerGroupLagSummary.', obj({ max_lag: int, total_lag: int }, [], { additionalProperties: true })), errors: groupErrors },
  'GET /topics': { tag: 'REST Proxy v2', summary: 'Topic names (v2).', ok: { status: 200, description: 'Names.', schema: arrayOf(str), mediaTypes: [v2Json] } },
  'GET /topics/{topic_name}': { tag: 'REST Proxy v2', summary: 'A topic (v2).', ok: { status: 200, description: 'The topic.', schema: anyObject, mediaTypes: [v2Json] }, errors: [40401] },
  'POST /topics/{topic_name}': {
    tag: 'REST Proxy v2',
    summary: 'Produce records (v2): the content type names how keys and values are embedded.',
    body: { schema: v2ProduceBody, mediaTypes: ['application/vnd.kafka.json.v2+json', 'application/vnd.kafka.binary.v2+json', 'application/vnd.kafka.avro.v2+json', 'application/vnd.kafka.jsonschema.v2+json', 'application/vnd.kafka.protobuf.v2+json'] },
    ok: { status: 200, description: 'Per-record partitions and offsets or errors, in order.', schema: obj({ key_schema_id: nullable(int), value_schema_id: nullable(int), offsets: arrayOf(anyObject) }, ['offsets']), mediaTypes: [v2Json] },
    errors: [40401, ErrorCode.UnsupportedMediaType, ErrorCode.BodyTooLarge],
  },
  [`POST ${V2}`]: {
    tag: 'REST Proxy v2',
    summary: 'Create a consumer instance.',
    body: { schema: instanceCreateBody, mediaTypes: [v2Json, 'application/json'] },
    ok: { status: 200, description: 'The instance id and its base URI.', schema: obj({ instance_id: str, base_uri: str }, ['instance_id', 'base_uri']), mediaTypes: [v2Json] },
    errors: [ErrorCode.ConsumerInstanceExists],
  },
  [`DELETE ${I}`]: { tag: 'REST Proxy v2', summary: 'Delete a consumer instance (leaves the group).', ok: noContent('Deleted.'), errors: [ErrorCode.UnknownConsumerInstance] },
  [`POST ${I}/subscription`]: { tag: 'REST Proxy v2', summary: 'Subscribe to topics.', body: { schema: subscriptionBody, mediaTypes: [v2Json, 'application/json'] }, ok: noContent('Subscribed.'), errors: [ErrorCode.UnknownConsumerInstance, ErrorCode.SubscriptionConflict] },
  [`GET ${I}/subscription`]: { tag: 'REST Proxy v2', summary: 'The subscription.', ok: { status: 200, description: 'Topics.', schema: obj({ topics: arrayOf(str) }, ['topics']), mediaTypes: [v2Json] }, errors: [ErrorCode.UnknownConsumerInstance] },
  [`DELETE ${I}/subscription`]: { tag: 'REST Proxy v2', summary: 'Unsubscribe.', ok: noContent('Unsubscribed.'), errors: [ErrorCode.UnknownConsumerInstance] },
  [`POST ${I}/assignments`]: { tag: 'REST Proxy v2', summary: 'Assign partitions by hand.', body: { schema: partitionsBody, mediaTypes: [v2Json, 'application/json'] }, ok: noContent('Assigned.'), errors: [ErrorCode.UnknownConsumerInstance, ErrorCode.SubscriptionConflict] },
  [`GET ${I}/assignments`]: { tag: 'REST Proxy v2', summary: 'The assigned partitions.', ok: { status: 200, description: 'Partitions.', schema: anyObject, mediaTypes: [v2Json] }, errors: [ErrorCode.UnknownConsumerInstance] },
  [`GET ${I}/records`]: {
    tag: 'REST Proxy v2',
    summary: "Fetch the next records of the instance's partitions.",
    query: [
      { name: 'timeout', description: 'Longest wait for records, ms.', schema: { type: 'integer', minimum: 0 } },
      { name: 'max_bytes', description: 'Soft bound on the answer.', schema: { type: 'integer', minimum: 1 } },
    ],
    ok: { status: 200, description: 'Records with topic, partition and offset.', schema: arrayOf(anyObject), mediaTypes: ['application/vnd.kafka.binary.v2+json', 'application/vnd.kafka.json.v2+json', 'application/vnd.kafka.avro.v2+json', 'application/vnd.kafka.jsonschema.v2+json', 'application/vnd.kafka.protobuf.v2+json'] },
    errors: [ErrorCode.UnknownConsumerInstance, ErrorCode.ConsumerFormatMismatch, ErrorCode.DeserializationFailed],
  },
  [`POST ${I}/offsets`]: { tag: 'REST Proxy v2', summary: 'Commit offsets (none: the positions consumed).', body: { schema: instanceCommitBody, mediaTypes: [v2Json, 'application/json'], required: false }, ok: { status: 200, description: 'Committed (no body).' }, errors: [ErrorCode.UnknownConsumerInstance] },
  [`GET ${I}/offsets`]: { tag: 'REST Proxy v2', summary: 'Committed offsets of the given partitions.', body: { schema: partitionsBody, mediaTypes: [v2Json, 'application/json'] }, ok: { status: 200, description: 'Offsets.', schema: anyObject, mediaTypes: [v2Json] }, errors: [ErrorCode.UnknownConsumerInstance] },
  [`POST ${I}/positions`]: { tag: 'REST Proxy v2', summary: 'Seek to offsets.', body: { schema: positionsBody, mediaTypes: [v2Json, 'application/json'] }, ok: noContent('Moved.'), errors: [ErrorCode.UnknownConsumerInstance] },
  [`POST ${I}/positions/beginning`]: { tag: 'REST Proxy v2', summary: 'Seek to the beginning.', body: { schema: partitionsBody, mediaTypes: [v2Json, 'application/json'] }, ok: noContent('Moved.'), errors: [ErrorCode.UnknownConsumerInstance] },
  [`POST ${I}/positions/end`]: { tag: 'REST Proxy v2', summary: 'Seek to the end.', body: { schema: partitionsBody, mediaTypes: [v2Json, 'application/json'] }, ok: noContent('Moved.'), errors: [ErrorCode.UnknownConsumerInstance] },
  'GET /': { tag: 'Schema registry', summary: 'The registry root (an empty object, as Confluent answers).', ok: json200('{}') },
};

const registry = (summary: string, ok: RouteDoc['ok'], extra: Partial<RouteDoc> = {}): RouteDoc => ({ tag: 'Schema registry', summary, ok: { mediaTypes: ['application/vnd.schemaregistry.v1+json'], ...ok }, errors: registryErrors, ...extra });
const registryBody = (schema: z.ZodType): RouteDoc['body'] => ({ schema, mediaTypes: registryJson });
const subjectPrefix: QueryParam = { name: 'subjectPrefix', description: 'Only subjects starting with this.', schema: str };
Object.assign(routeDocs, {
  'GET /schemas': registry('Schemas, newest versions or all.', json200('Schemas.', arrayOf(ref('RegistrySchema'))), {
    query: [subjectPrefix, deletedFlag, flag('latestOnly', 'Only the latest version of each subject.'), { name: 'offset', description: 'Skip this many.', schema: int }, { name: 'limit', description: 'At most this many.', schema: int }],
  }),
  'GET /schemas/types': registry('Supported schema types.', json200('Types.', arrayOf(str))),
  'GET /schemas/ids/{id}': registry('A schema by id.', json200('The schema.', ref('RegistrySchema'))),
  'GET /schemas/ids/{id}/schema': registry('A schema by id, the schema alone.', json200('The schema.', anyJson)),
  'GET /schemas/ids/{id}/versions': registry('Subject-versions using a schema id.', json200('Pairs.', arrayOf(obj({ subject: str, version: int })))),
  'GET /schemas/ids/{id}/subjects': registry('Subjects using a schema id.', json200('Subjects.', arrayOf(str))),
  'GET /subjects': registry('Subjects.', json200('Subjects.', arrayOf(str)), { query: [subjectPrefix, deletedFlag] }),
  'POST /subjects/{subject}': registry('Look a schema up under a subject.', json200('Its subject, version and id.', ref('RegistrySchema')), { body: registryBody(schemaBody), query: [deletedFlag] }),
  'DELETE /subjects/{subject}': registry('Delete a subject (soft, or permanent after soft).', json200('The deleted versions.', arrayOf(int)), { query: [permanentFlag] }),
  [`GET ${SV}`]: registry("A subject's versions.", json200('Versions.', arrayOf(int)), { query: [deletedFlag] }),
  [`POST ${SV}`]: registry('Register a schema (the same schema again returns its id).', json200('The id.', obj({ id: int }, ['id'])), { body: registryBody(schemaBody) }),
  [`GET ${SV}/{version}`]: registry('One version (a number or "latest").', json200('The version.', ref('RegistrySchema')), { query: [deletedFlag] }),
  [`DELETE ${SV}/{version}`]: registry('Delete a version.', json200('The version deleted.', int), { query: [permanentFlag] }),
  [`GET ${SV}/{version}/schema`]: registry('One version, the schema alone.', json200('The schema.', anyJson), { query: [deletedFlag] }),
  [`GET ${SV}/{version}/referencedby`]: registry('Ids of the live schemas that reference this version.', json200('Schema ids.', arrayOf(int))),
  'GET /mode': registry('The global mode.', json200('The mode.', obj({ mode: str }, ['mode']))),
  'PUT /mode': registry('Set the global mode.', json200('The mode.', obj({ mode: str }, ['mode'])), { body: registryBody(modeBody) }),
  'DELETE /mode': registry('Reset the global mode.', json200('The previous mode.', obj({ mode: str }))),
  'GET /mode/{subject}': registry("A subject's mode.", json200('The mode.', obj({ mode: str }, ['mode'])), { query: [defaultToGlobal] }),
  'PUT /mode/{subject}': registry("Set a subject's mode.", json200('The mode.', obj({ mode: str }, ['mode'])), { body: registryBody(modeBody) }),
  'DELETE /mode/{subject}': registry("Remove a subject's mode.", json200('The previous mode.', obj({ mode: str }))),
  'GET /config': registry('The global compatibility level.', json200('The level.', obj({ compatibilityLevel: str }))),
  'PUT /config': registry('Set the global compatibility level.', json200('The level.', obj({ compatibility: str })), { body: registryBody(compatibilityBody) }),
  'DELETE /config': registry('Reset the global compatibility level.', json200('The previous level.', obj({ compatibilityLevel: str }))),
  'GET /config/{subject}': registry("A subject's compatibility level.", json200('The level.', obj({ compatibilityLevel: str })), { query: [defaultToGlobal] }),
  'PUT /config/{subject}': registry("Set a subject's compatibility level.", json200('The level.', obj({ compatibility: str })), { body: registryBody(compatibilityBody) }),
  'DELETE /config/{subject}': registry("Remove a subject's compatibility level.", json200('The previous level.', obj({ compatibilityLevel: str }))),
  [`POST /compatibility${SV}`]: registry('Is a schema compatible with every version it must be?', json200('The verdict.', obj({ is_compatible: bool, messages: arrayOf(str) }, ['is_compatible'])), { body: registryBody(schemaBody), query: [flag('verbose', 'Say why not.')] }),
  [`POST /compatibility${SV}/{version}`]: registry('Is a schema compatible with one version?', json200('The verdict.', obj({ is_compatible: bool, messages: arrayOf(str) }, ['is_compatible'])), { body: registryBody(schemaBody), query: [flag('verbose', 'Say why not.')] }),
} satisfies Record<string, RouteDoc>);

// ---- building the document ---------------------------------------------------

/** Path parameters that are integers on the wire (the operations parse them as such). */
const integerPathParams = new Set(['partition_id', 'broker_id', 'id']);
const pathParamDescriptions: Record<string, string> = {
  cluster_id: "The deployment's cluster id (GET /v3/clusters; `local` locally).",
  topic_name: "A topic: 1–249 of [a-zA-Z0-9._-], not '.' or '..'.",
  partition_id: 'A partition number, from 0.',
  consumer_group_id: 'A consumer group id.',
  group_name: 'A consumer group id (REST Proxy v2).',
  instance: 'A consumer instance name (REST Proxy v2).',
  version: 'A version number, or `latest`.',
};

/** The names of a route path's `{param}` segments, in order. */
export function pathParamsOf(path: string): string[] {
  return [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]!);
}

/** An operationId from the route key: method, then the path's literal and parameter words in camelCase. */
export function operationIdOf(route: Pick<RouteSpec, 'method' | 'path'>): string {
  const cluster = '/v3/clusters/{cluster_id}';
  const path = route.path === cluster ? '/v3/cluster' : route.path.startsWith(`${cluster}/`) ? `/v3${route.path.slice(cluster.length)}` : route.path;
  const words = path
    .split('/')
    .filter((s) => s.length > 0)
    .flatMap((s) => {
      const param = /^\{([a-z_]+)\}$/.exec(s);
      return param ? ['by', ...param[1]!.split('_')] : s.split(/[^A-Za-z0-9]+/);
    })
    .filter((w) => w.length > 0);
  const camel = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return `${route.method.toLowerCase()}${camel || 'Root'}`;
}

function toJsonSchema(schema: z.ZodType | JsonSchema): JsonSchema {
  if (schema instanceof z.ZodType) {
    // 'input': what a client sends (defaults optional); unrepresentable parts (refinements) document as any.
    const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as JsonSchema;
    delete out.$schema;
    return out;
  }
  return schema;
}

/** HTTP status → the contract error codes answered with it, from the error table. */
function errorCodesByStatus(codes: Iterable<number>): Map<number, number[]> {
  const by = new Map<number, number[]>();
  for (const code of new Set(codes)) {
    // Confluent's incompatible-schema answer is error_code 409 itself.
    const status = code < 1000 ? code : httpStatusOf(code);
    by.set(status, [...(by.get(status) ?? []), code].sort((a, b) => a - b));
  }
  return new Map([...by].sort(([a], [b]) => a - b));
}

/** Names of the error table's codes (two names may share a code: v2's reuse of v3's numbers). */
function errorTable(codes: Record<string, number> = ErrorCode): Record<string, string[]> {
  const table: Record<string, string[]> = {};
  for (const [name, code] of Object.entries(codes)) (table[String(code)] ??= []).push(name);
  return Object.fromEntries(Object.entries(table).sort(([a], [b]) => Number(a) - Number(b)));
}

/** Codes any route may answer: malformed requests, auth (STRAND_AUTH=keys), throttling and server faults. */
const everyRouteErrors = [ErrorCode.BadRequest, ErrorCode.InvalidValue, ErrorCode.Unauthenticated, ErrorCode.Forbidden, ErrorCode.Internal, ErrorCode.StorageUnavailable];

const commonErrors = errorCodesByStatus(everyRouteErrors);
const undocumented: RouteDoc = { tag: 'Undocumented', summary: 'Not yet documented (src/api/openapiBuild.ts routeDocs).', ok: json200('Success.') };
const errorDescription = (codes: number[]) => `error_code ${codes.join(', ')} (x-error-codes names them)`;

export interface OpenApiOptions {
  /** The server URL in `servers`. @default http://localhost:8082 */
  serverUrl?: string;
}

export function buildOpenApi(options: OpenApiOptions = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const route of routes) {
    const key = routeKey(route);
    // A route added without its entry is still in the document (test/api/openapi.test.ts fails until it has one).
    const doc = routeDocs[key] ?? undocumented;
    tags.add(doc.tag);
    const parameters = [
      ...pathParamsOf(route.path).map((name) => ({
        name,
        in: 'path',
        required: true,
        ...(pathParamDescriptions[name] ? { description: pathParamDescriptions[name] } : {}),
        schema: integerPathParams.has(name) ? { type: 'integer', minimum: 0 } : { type: 'string', maxLength: 249 },
      })),
      ...(doc.query ?? []).map((q) => ({ name: q.name, in: 'query', required: q.required ?? false, description: q.description, schema: q.schema })),
    ];
    const errors = errorCodesByStatus([...(doc.errors ?? []), ...everyRouteErrors]);
    const responses: Record<string, unknown> = {
      [String(doc.ok.status)]: {
        description: doc.ok.description,
        ...(doc.ok.schema || doc.ok.mediaTypes
          ? { content: Object.fromEntries((doc.ok.mediaTypes ?? ['application/json']).map((m) => [m, doc.ok.schema ? { schema: doc.ok.schema } : {}])) }
          : {}),
      },
    };
    for (const [status, codes] of errors) {
      const shared = commonErrors.get(status);
      responses[String(status)] =
        shared && shared.join() === codes.join()
          ? { $ref: `#/components/responses/Error${status}` }
          : { description: errorDescription(codes), content: { 'application/json': { schema: ref('Error') } } };
    }
    const operation: Record<string, unknown> = {
      operationId: operationIdOf(route),
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      tags: [doc.tag],
      'x-strand-function': route.fn,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc.body
        ? {
            requestBody: {
              required: doc.body.required ?? true,
              ...(doc.body.description ? { description: doc.body.description } : {}),
              content: Object.fromEntries((doc.body.mediaTypes ?? ['application/json']).map((m) => [m, { schema: toJsonSchema(doc.body!.schema) }])),
            },
          }
        : {}),
      responses,
      ...(route.path === '/health' || route.path === '/openapi.json' ? { security: [] } : {}),
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: openApiVersion,
    info: {
      title: 'Strand HTTP API',
      version: '0.1.0',
      description:
        "Kafka's model on S3 and DynamoDB, over the Confluent REST Proxy v3/v2 and Schema Registry conventions. Generated from src/api/routes.ts and the request schemas (src/api/openapiBuild.ts); the prose reference is docs/api.md. " +
        `Request bodies are at most ${requestBodyBytesMax} bytes (41301). Errors: status = the first three digits of error_code.`,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: options.serverUrl ?? 'http://localhost:8082', description: '`npm start`' }],
    tags: [...tags].map((name) => ({ name })),
    security: [{}, { apiKey: [] }, { bearer: [] }],
    paths,
    components: {
      schemas: components,
      responses: Object.fromEntries(
        [...commonErrors].map(([status, codes]) => [`Error${status}`, { description: errorDescription(codes), content: { 'application/json': { schema: ref('Error') } } }]),
      ),
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'STRAND_AUTH=keys: a Strand API key (docs/security.md).' },
        bearer: { type: 'http', scheme: 'bearer', description: 'STRAND_AUTH=keys: `Authorization: Bearer strand_…`; on AWS with JWT auth, the JWT.' },
      },
    },
    'x-error-codes': errorTable(),
    'x-registry-error-codes': errorTable(RegistryErrorCode),
  };
}

/** The checked-in copy: `docs/openapi.json`, two-space JSON and a final newline. */
export const openApiDocPath = resolve(__dirname, '../../docs/openapi.json');
export function renderOpenApi(): string {
  return `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(openApiDocPath, renderOpenApi());
  console.log(`Wrote ${openApiDocPath}`);
}
