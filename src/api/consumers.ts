/**
 * REST Proxy v2 consumer instances (api.md "Consumer instances"), at REST Proxy's
 * paths and content types, so a REST Proxy v2 client script works unchanged.
 * State lives in DynamoDB (src/groups/ConsumerInstances.ts); topic patterns in
 * src/groups/topicPattern.ts; the avro, jsonschema and protobuf formats' decoding in
 * src/api/schemaFormats.ts.
 */
import { doorbellFor } from '../notify/doorbell';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ErrorCode, StrandError, invalidValue } from '../errors';
import { consumerInstancesOf, recordsBytesDefault, recordsBytesMax, type InstanceFormat, type InstanceItem } from '../groups/ConsumerInstances';
import { subscribedTopicsMax } from '../groups/coordinator';
import { topicPatternCharsMax } from '../groups/topicPattern';
import { groupsOf } from '../groups/GroupService';
import { commitPartitionsMax } from '../groups/GroupStore';
import { parseTpKey, tpKey, type TopicPartitionKey } from '../groups/topicPartition';
import type { Topic } from '../log/TopicCatalog';
import { mapBounded } from '../mapBounded';
import type { ApiRequest, ApiResponse } from './http';
import type { Operation } from './operations';
import { parseJsonBody, pathParam, queryInteger } from './request';
import { storedJson } from './fetchForms';
import { longPollMsMax } from './fetch';
import type { FetchedRecord } from '../log/readPartition';
import { base64Bytes, TooLargeForResponse } from './responseBudget';
import { isSchemaFormat, SchemaDecoder, UndecodableData } from './schemaFormats';
import type { Runtime } from '../runtime';

/**
 * Waits until any partition the instance consumes has records past its
 * position (or its log start passed it), or `timeoutMs` passes: the engine's
 * multi-partition long poll, which reads partition heads only, waits on the
 * request's doorbell between reads (src/notify/doorbell.ts), and ends before
 * the request's deadline. True when there is something to read.
 */
async function waitForAnyPartition(runtime: Runtime, req: Pick<ApiRequest, 'headers'>, item: InstanceItem, timeoutMs: number): Promise<boolean> {
  const watched = await mapBounded(consumerInstancesOf(runtime).consumed(item), topicLookupsInFlightMax, async (tp) => {
    const { topic, partition } = parseTpKey(tp);
    const offset = item.positions[tp];
    const t = await runtime.engine.topics.getCached(topic).catch(() => undefined);
    return !t || offset === undefined || partition >= t.partitionsCount ? [] : [{ topic: t, partition, offset }];
  });
  return runtime.engine.waitForAnyData(watched.flat(), 1, timeoutMs, doorbellFor(runtime, req));
}

/** Topics a long poll looks up at once (each a cached catalog read). */
const topicLookupsInFlightMax = 8;

const V2 = '/consumers/{group_name}';
const I = `${V2}/instances/{instance}`;
const v2Json = 'application/vnd.kafka.v2+json';

const instanceName = z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'use 1 to 200 of [A-Za-z0-9._-]');
const topicName = z.string().min(1).max(249);
const partition = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Partitions one assignment, offsets lookup or seek may name. */
const instancePartitionsMax = 10_000;
/** Partition bounds one seek reads at once. */
const seekReadsInFlightMax = 16;

export const createBody = z.object({
  name: instanceName.nullable().optional(),
  format: z.enum(['binary', 'json', 'string', 'avro', 'jsonschema', 'protobuf', 'BINARY', 'JSON', 'STRING', 'AVRO', 'JSONSCHEMA', 'PROTOBUF']).nullable().optional(),
  'auto.offset.reset': z.enum(['earliest', 'latest', 'smallest', 'largest']).nullable().optional(),
  'auto.commit.enable': z.union([z.enum(['true', 'false']), z.boolean()]).nullable().optional(),
});
/**
 * Confluent's ConsumerSubscriptionRecord: `topics` or `topic_pattern`. As
 * kafka-rest's KafkaConsumerState.subscribe: `topics` wins when both are given,
 * and a body with neither changes nothing (204); an empty `topics` is Kafka's
 * subscribe(emptyList), an unsubscribe. The pattern's own bounds are checked
 * where it is compiled (src/groups/topicPattern.ts).
 */
export const subscriptionBody = z.object({
  topics: z.array(topicName).max(subscribedTopicsMax).nullable().optional(),
  topic_pattern: z.string().max(topicPatternCharsMax).nullable().optional(),
});
export const partitionsBody = z.object({ partitions: z.array(z.object({ topic: topicName, partition })).max(instancePartitionsMax) });
const offsetEntry = (offsetMax: number) =>
  z.object({ topic: topicName, partition, offset: z.number().int().min(0).max(offsetMax), metadata: z.string().nullable().optional() });
/** Seeks (POST positions): any offset a partition can have. */
export const positionsBody = z.object({ offsets: z.array(offsetEntry(Number.MAX_SAFE_INTEGER)).max(instancePartitionsMax) });
/**
 * Commits: REST Proxy commits `offset + 1`, so the offset stays below
 * MAX_SAFE_INTEGER; and at most commitPartitionsMax partitions, so the commit is
 * one conditional write and a refused commit writes nothing (invariant 3).
 */
export const commitBody = z.object({ offsets: z.array(offsetEntry(Number.MAX_SAFE_INTEGER - 1)).max(commitPartitionsMax) });

const ok = (json?: unknown, status = json === undefined ? 204 : 200): ApiResponse =>
  json === undefined ? { status } : { status, headers: { 'content-type': v2Json }, json };

/** The embedded formats a v2 Accept header names (`application/vnd.kafka.<format>.v2+json`). */
const acceptedFormat = /application\/vnd\.kafka\.(binary|json|avro|jsonschema|protobuf)\.v2\+json/gi;

/**
 * REST Proxy v2: records are read in the instance's format, and an Accept
 * header naming only other embedded formats is 406 / 40601, as Confluent
 * answers. No Accept, `*\/*` or the plain v2 type accept any.
 */
function assertAcceptsFormat(req: ApiRequest, format: string): void {
  const accept = req.headers.accept ?? '';
  const named = [...accept.matchAll(acceptedFormat)].map((m) => m[1]!.toLowerCase());
  if (named.length === 0) return;
  const own = format === 'string' ? 'binary' : format;
  if (!named.includes(own)) {
    throw new StrandError(ErrorCode.ConsumerFormatMismatch, `Consumer format does not match the embedded format requested by the Accept header: the instance reads ${own}, the request accepts ${named.join(', ')}.`);
  }
}

function groupName(req: ApiRequest): string {
  const g = pathParam(req, 'group_name');
  if (g.length === 0 || g.length > 255 || /[\u0000-\u001f]/.test(g)) throw invalidValue('Consumer group name must be 1 to 255 printable characters.');
  return g;
}

async function instance(req: ApiRequest, runtime: Parameters<Operation>[1]): Promise<InstanceItem> {
  return consumerInstancesOf(runtime).get(groupName(req), pathParam(req, 'instance'));
}

/** An optional JSON body: REST Proxy clients may send none (e.g. commit everything consumed). */
function optionalBody<S extends z.ZodType>(req: ApiRequest, schema: S): z.infer<S> | undefined {
  return req.body.length === 0 ? undefined : parseJsonBody(req, schema);
}

function baseUri(req: ApiRequest, group: string, name: string): string {
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  const proto = req.headers['x-forwarded-proto']?.split(',')[0]?.trim() ?? 'http';
  return `${proto}://${host}/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(name)}`;
}

/**
 * A key or value as REST Proxy v2 sends it; TooLargeForResponse instead of
 * building one larger than `room` bytes. `avro`, `jsonschema` and `protobuf` decode through
 * `schemas` (src/api/schemaFormats.ts), which may throw LookupFirst or
 * UndecodableData.
 */
function embed(bytes: Buffer | null, format: InstanceFormat, room: number, schemas?: SchemaDecoder): unknown {
  if (bytes === null) return null;
  if (format === 'binary') return base64Within(bytes, room);
  if (schemas) return schemas.decode(bytes);
  if (format === 'json') {
    // Not JSON, or nested too deep to serialize: sent as a string, below.
    const json = storedJson(bytes);
    if (json) return json.value;
  }
  // Decoding never shrinks bytes (an invalid sequence becomes U+FFFD, 3 bytes), so this bound is safe.
  if (bytes.length > room) throw new TooLargeForResponse(bytes.length);
  return bytes.toString('utf8');
}

/**
 * A key or value the instance's format cannot decode: 408 / 40801, as
 * kafka-rest answers the SerializationException Kafka's consumer throws, with
 * Kafka's own message (RecordDeserializationException) and the reason; the
 * details name the record and the offset to seek to past it.
 */
function undeserializable(r: { topic: string; partition: number; offset: number }, which: 'key' | 'value', reason: string): StrandError {
  return new StrandError(
    ErrorCode.DeserializationFailed,
    `Error deserializing ${which} for partition ${r.topic}-${r.partition} at offset ${r.offset}: ${reason}. If needed, please seek past the record to continue consumption.`,
    { details: { topic: r.topic, partition: r.partition, offset: r.offset, next_offset: r.offset + 1 } },
  );
}

function base64Within(bytes: Buffer, room: number): string {
  if (base64Bytes(bytes.length) > room) throw new TooLargeForResponse(base64Bytes(bytes.length));
  return bytes.toString('base64');
}

export const consumerOperations: Record<string, Operation> = {
  [`POST ${V2}`]: async (req, runtime) => {
    const group = groupName(req);
    const body = parseJsonBody(req, createBody);
    const name = body.name ?? `rest-consumer-${randomUUID()}`;
    const reset = body['auto.offset.reset'];
    const autoCommit = body['auto.commit.enable'];
    await consumerInstancesOf(runtime).create(group, name, {
      format: (body.format?.toLowerCase() ?? 'binary') as InstanceFormat,
      autoOffsetReset: reset === 'earliest' || reset === 'smallest' ? 'earliest' : 'latest',
      autoCommit: autoCommit === undefined || autoCommit === null ? true : autoCommit === true || autoCommit === 'true',
    });
    return ok({ instance_id: name, base_uri: baseUri(req, group, name) });
  },

  [`DELETE ${I}`]: async (req, runtime) => {
    const item = await instance(req, runtime);
    await consumerInstancesOf(runtime).remove(item);
    return ok();
  },

  [`POST ${I}/subscription`]: async (req, runtime) => {
    const item = await instance(req, runtime);
    const body = parseJsonBody(req, subscriptionBody);
    const instances = consumerInstancesOf(runtime);
    if (body.topics !== undefined && body.topics !== null) {
      if (body.topics.length === 0) await instances.unsubscribe(item);
      else await instances.subscribe(item, { topics: body.topics });
    } else if (body.topic_pattern !== undefined && body.topic_pattern !== null) {
      await instances.subscribe(item, { pattern: body.topic_pattern });
    }
    return ok();
  },

  /** The subscribed topics; for a pattern, the topics it matched last (Kafka's consumer.subscription()). */
  [`GET ${I}/subscription`]: async (req, runtime) => ok({ topics: (await instance(req, runtime)).subscription }),

  [`DELETE ${I}/subscription`]: async (req, runtime) => {
    await consumerInstancesOf(runtime).unsubscribe(await instance(req, runtime));
    return ok();
  },

  [`POST ${I}/assignments`]: async (req, runtime) => {
    const item = await instance(req, runtime);
    const body = parseJsonBody(req, partitionsBody);
    await consumerInstancesOf(runtime).assign(item, body.partitions.map((p) => tpKey(p.topic, p.partition)));
    return ok();
  },

  [`GET ${I}/assignments`]: async (req, runtime) => {
    const instances = consumerInstancesOf(runtime);
    const item = await instance(req, runtime);
    await instances.heartbeat(item);
    await instances.save(item);
    return ok({ partitions: instances.consumed(item).map((tp) => ({ topic: parseTpKey(tp).topic, partition: parseTpKey(tp).partition })) });
  },

  [`GET ${I}/records`]: async (req, runtime) => {
    const item = await instance(req, runtime);
    assertAcceptsFormat(req, item.format);
    const maxBytes = queryInteger(req, 'max_bytes', { min: 1, max: recordsBytesMax, default: recordsBytesDefault });
    // REST Proxy's `timeout`: how long to wait for records when there are none yet (a long poll).
    const timeoutMs = queryInteger(req, 'timeout', { min: 0, max: longPollMsMax, default: 0 });
    const instances = consumerInstancesOf(runtime);
    const schemas = isSchemaFormat(item.format) ? new SchemaDecoder(runtime, item.format) : undefined;
    const side = (r: FetchedRecord & { topic: string; partition: number }, which: 'key' | 'value', room: number) => {
      try {
        return embed(r[which], item.format, room, schemas);
      } catch (err) {
        if (err instanceof UndecodableData) throw undeserializable(r, which, err.message);
        throw err;
      }
    };
    // Built and measured while decoding (ConsumerInstances.records), so positions move only past what this answer sends.
    const toJson = (r: FetchedRecord & { topic: string; partition: number }, room: number) => ({
      topic: r.topic,
      key: side(r, 'key', room),
      value: side(r, 'value', room),
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : base64Within(h.value, room) })),
    });
    let records = await instances.records(item, maxBytes, toJson);
    if (records.length === 0 && timeoutMs > 0 && (await waitForAnyPartition(runtime, req, item, timeoutMs))) {
      records = await instances.records(item, maxBytes, toJson);
    }
    return {
      status: 200,
      headers: { 'content-type': `application/vnd.kafka.${item.format === 'string' ? 'binary' : item.format}.v2+json` },
      json: records,
    };
  },

  /** REST Proxy commits `offset + 1` for each given record offset; with no body, every position consumed so far. */
  [`POST ${I}/offsets`]: async (req, runtime) => {
    const instances = consumerInstancesOf(runtime);
    const item = await instance(req, runtime);
    const body = optionalBody(req, commitBody);
    const offsets: Record<string, number> = {};
    if (body && body.offsets.length > 0) for (const o of body.offsets) offsets[tpKey(o.topic, o.partition)] = o.offset + 1;
    else Object.assign(offsets, item.positions);
    await instances.commit(item, offsets);
    for (const tp of Object.keys(offsets)) delete item.uncommitted[tp];
    await instances.save(item);
    return { status: 200 }; // REST Proxy answers a commit with 200 and no body.
  },

  /** Committed offsets of the named partitions (REST Proxy sends them in a GET body), or of every consumed partition. */
  [`GET ${I}/offsets`]: async (req, runtime) => {
    const instances = consumerInstancesOf(runtime);
    const item = await instance(req, runtime);
    const body = optionalBody(req, partitionsBody);
    const wanted = body ? body.partitions.map((p) => tpKey(p.topic, p.partition)) : instances.consumed(item);
    const committed = new Map((await groupsOf(runtime).offsets(item.pk)).map((o) => [tpKey(o.topic, o.partition), o]));
    return ok({
      offsets: wanted
        .filter((tp) => committed.has(tp))
        .map((tp) => {
          const c = committed.get(tp)!;
          return { topic: c.topic, partition: c.partition, offset: c.offset, metadata: c.metadata ?? '' };
        }),
    });
  },

  [`POST ${I}/positions`]: async (req, runtime) => {
    const instances = consumerInstancesOf(runtime);
    const item = await instance(req, runtime);
    const body = parseJsonBody(req, positionsBody);
    const consumed = new Set(instances.consumed(item));
    const positions = new Map<TopicPartitionKey, number>();
    for (const o of body.offsets) positions.set(consumedTp(item, consumed, o.topic, o.partition), o.offset);
    for (const [tp, offset] of positions) item.positions[tp] = offset;
    await instances.save(item);
    return ok();
  },

  [`POST ${I}/positions/beginning`]: async (req, runtime) => seekTo(req, runtime, 'beginning'),
  [`POST ${I}/positions/end`]: async (req, runtime) => seekTo(req, runtime, 'end'),
};

async function seekTo(req: ApiRequest, runtime: Parameters<Operation>[1], where: 'beginning' | 'end'): Promise<ApiResponse> {
  const instances = consumerInstancesOf(runtime);
  const item = await instance(req, runtime);
  const body = parseJsonBody(req, partitionsBody);
  const consumed = new Set(instances.consumed(item));
  const tps = [...new Set(body.partitions.map((p) => consumedTp(item, consumed, p.topic, p.partition)))];
  // Every bound is read before the one write, so a failed read changes nothing.
  const topics = new Map<string, Promise<Topic>>();
  const topicOf = (name: string): Promise<Topic> => {
    let t = topics.get(name);
    if (!t) topics.set(name, (t = runtime.engine.topics.get(name)));
    return t;
  };
  const offsets = await mapBounded(tps, seekReadsInFlightMax, async (tp) => {
    const { topic, partition } = parseTpKey(tp);
    const bounds = await runtime.engine.bounds(await topicOf(topic), partition);
    return where === 'beginning' ? bounds.logStartOffset : bounds.highWatermark;
  });
  tps.forEach((tp, i) => (item.positions[tp] = offsets[i]!));
  await instances.save(item);
  return ok();
}

/**
 * The key of a partition the instance consumes now, else 40002: as Kafka refuses
 * seeking a partition that is not assigned, so a seek cannot grow the instance's
 * item with positions it would never read.
 */
function consumedTp(item: InstanceItem, consumed: ReadonlySet<TopicPartitionKey>, topic: string, partition: number): TopicPartitionKey {
  const tp = tpKey(topic, partition);
  if (!consumed.has(tp)) {
    throw invalidValue(`Partition ${partition} of topic '${topic}' is not assigned to consumer instance '${item.sk}'; an instance can seek only the partitions it consumes.`);
  }
  return tp;
}
