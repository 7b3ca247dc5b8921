/**
 * Produce: REST Proxy v3 single records and `records:batch`, and the binary
 * RecordBatch v2 extension. Every input is validated before anything is written;
 * a request (or, in a batch, an entry) that is rejected changes nothing.
 */
import { z } from 'zod';
import { ErrorCode, StrandError, badRequest, invalidValue } from '../errors';
import {
  TimestampType,
  checkProducedBatch,
  encodeRecordBatch,
  sizeOfSingleRecordBatch,
  splitBatches,
  withLogAppendTime,
  withMaxTimestamp,
  type LogRecord,
} from '../codec/recordBatch';
import { DecompressionBudget } from '../codec/compression';
import { recompressBatches } from '../codec/recompressBatch';
import { storedCodecOf } from '../log/topicConfig';
import { partitionForKey } from '../partitioner/murmur2';
import type { Topic } from '../log/TopicCatalog';
import type { PartitionAppend } from '../log/appendBatches';
import { producerOfBatches } from '../producers/producerState';
import { asStorageUnavailable } from '../storage/storageErrors';
import type { Runtime } from '../runtime';
import type { Operation } from './operations';
import { assertBodySize, assertContentType, jsonBodyText, loadTopicCached, mediaType, notJson, parseJsonBody, partitionParam, pathParam, validate } from './request';
import { splitJsonValues } from './jsonStream';
import type { ApiResponse } from './http';
import { recordBatchMediaType } from './mediaTypes';
import { RecordSchemas, schemaDataFields, validateBatches, type SchemaEncoded } from '../schemas/recordSchemas';

/** Entries one records:batch request may carry. */
export const entriesPerBatchRequestMax = 10_000;
/** Headers one record may carry (the codec's own bound is higher). */
export const headersPerRecordMax = 1_000;
/** Header names are short identifiers in practice. */
const headerNameLengthMax = 1_024;
export { recordBatchMediaType } from './mediaTypes';

const dataType = z.enum(['BINARY', 'JSON', 'STRING', 'AVRO', 'JSONSCHEMA', 'PROTOBUF']);
type DataType = z.infer<typeof dataType>;
const embeddedData = z.object({ type: dataType.optional(), data: z.unknown().optional(), ...schemaDataFields }).nullable().optional();

export const recordSchema = z.object({
  partition_id: z.number().int().min(0).nullable().optional(),
  headers: z
    .array(z.object({ name: z.string().max(headerNameLengthMax), value: z.string().nullable().optional() }))
    .max(headersPerRecordMax)
    .nullable()
    .optional(),
  key: embeddedData,
  value: embeddedData,
  timestamp: z.union([z.string(), z.number()]).nullable().optional(),
});
type RecordInput = z.infer<typeof recordSchema>;

export const batchEntrySchema = recordSchema.extend({ id: z.union([z.string().max(256), z.number()]) });
export const batchBodySchema = z.object({ entries: z.array(z.unknown()).max(entriesPerBatchRequestMax) });

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(s: string, field: string): Buffer {
  if (!base64Pattern.test(s)) throw invalidValue(`Field '${field}' is not valid base64.`);
  return Buffer.from(s, 'base64');
}

interface EncodedData {
  bytes: Buffer | null;
  type: DataType;
}

function encodeData(input: RecordInput['key'], field: string): EncodedData {
  if (input === null || input === undefined) return { bytes: null, type: 'BINARY' };
  const type = input.type ?? 'JSON';
  if (input.data === null || input.data === undefined) return { bytes: null, type };
  switch (type) {
    case 'BINARY':
      if (typeof input.data !== 'string') throw invalidValue(`Field '${field}.data' must be a base64 string for type BINARY.`);
      return { bytes: decodeBase64(input.data, `${field}.data`), type };
    case 'STRING':
      if (typeof input.data !== 'string') throw invalidValue(`Field '${field}.data' must be a string for type STRING.`);
      return { bytes: Buffer.from(input.data, 'utf8'), type };
    case 'JSON':
      return { bytes: Buffer.from(JSON.stringify(input.data), 'utf8'), type };
    case 'AVRO': // the schema types are encoded by RecordSchemas (src/schemas/recordSchemas.ts) before this is reached
    case 'JSONSCHEMA':
    case 'PROTOBUF':
      throw invalidValue(`Field '${field}' has type ${type} but no schema, schema_id or schema_version.`);
  }
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function parseTimestamp(input: RecordInput['timestamp'], now: number): number {
  if (input === null || input === undefined) return now;
  let ms: number;
  if (typeof input === 'number') ms = input;
  else if (/^\d+$/.test(input)) ms = Number(input);
  else if (rfc3339.test(input)) ms = Date.parse(input);
  else throw invalidValue(`Field 'timestamp' must be RFC 3339 or epoch milliseconds, not '${input}'.`);
  if (!Number.isSafeInteger(ms) || ms < 0) throw invalidValue(`Field 'timestamp' is out of range: ${String(input)}.`);
  return ms;
}

interface PreparedRecord {
  record: LogRecord;
  partition: number;
  key: EncodedData;
  value: EncodedData;
}

function prepareRecord(input: RecordInput, topic: Topic, stickyPartition: number, now: number, schemas: { key?: SchemaEncoded; value?: SchemaEncoded } = {}): PreparedRecord {
  const key = schemas.key ?? encodeData(input.key, 'key');
  const value = schemas.value ?? encodeData(input.value, 'value');
  const headers = (input.headers ?? []).map((h, i) => ({
    key: h.name,
    value: h.value === null || h.value === undefined ? null : decodeBase64(h.value, `headers[${i}].value`),
  }));
  let partition: number;
  if (input.partition_id !== null && input.partition_id !== undefined) {
    partition = input.partition_id;
    if (partition >= topic.partitionsCount) {
      throw new StrandError(ErrorCode.UnknownPartition, `Partition ${partition} of topic '${topic.name}' not found; it has ${topic.partitionsCount}.`);
    }
  } else if (key.bytes !== null) {
    partition = partitionForKey(key.bytes, topic.partitionsCount);
  } else {
    partition = stickyPartition;
  }
  return { record: { key: key.bytes, value: value.bytes, headers, timestamp: parseTimestamp(input.timestamp, now) }, partition, key, value };
}

/**
 * Encodes one partition's records as RecordBatches no larger than the topic's
 * max.message.bytes, splitting in halves where needed. A single record over the
 * limit is 41302.
 */
/** Throws 41302 unless `record`, alone in a batch, is within the topic's max.message.bytes (measured, not encoded). */
function assertFitsAlone(record: LogRecord, topic: Topic): void {
  const limit = topic.config['max.message.bytes'];
  const bytes = sizeOfSingleRecordBatch(record);
  if (bytes > limit) {
    throw new StrandError(ErrorCode.RecordTooLarge, `Record is ${bytes} bytes as a batch; topic '${topic.name}' allows ${limit} (max.message.bytes).`);
  }
}

export function encodeWithinLimit(records: LogRecord[], topic: Topic, appendTime: number): Buffer[] {
  const logAppend = topic.config['message.timestamp.type'] === 'LogAppendTime';
  const limit = topic.config['max.message.bytes'];
  // The server is the producer here: Kafka's `producer` setting leaves the choice to it, and it sends uncompressed.
  const compression = storedCodecOf(topic.config) ?? 'none';
  const encode = (rs: LogRecord[]) =>
    encodeRecordBatch(rs, { compression, ...(logAppend ? { timestampType: TimestampType.LogAppendTime, logAppendTime: appendTime } : {}) });
  const split = (rs: LogRecord[]): Buffer[] => {
    if (rs.length === 1) assertFitsAlone(rs[0]!, topic);
    const batch = encode(rs);
    if (batch.length <= limit) return [batch];
    const mid = Math.ceil(rs.length / 2);
    return [...split(rs.slice(0, mid)), ...split(rs.slice(mid))];
  };
  return split(records);
}

function recordTimestamp(prepared: PreparedRecord, topic: Topic, appendTime: number): number {
  return topic.config['message.timestamp.type'] === 'LogAppendTime' ? appendTime : prepared.record.timestamp;
}

/** Confluent's ProduceResponseData: type and size, and the schema's id, subject and version when one was used. */
function sizeOf(d: EncodedData | SchemaEncoded) {
  if (d.bytes === null) return null;
  const schema = 'schemaId' in d
    ? { schema_id: d.schemaId, ...(d.subject !== undefined ? { subject: d.subject } : {}), ...(d.version !== undefined ? { schema_version: d.version } : {}) }
    : {};
  return { type: d.type, size: d.bytes.length, ...schema };
}

export function appendFailure(runtime: Runtime, error: unknown): StrandError {
  if (error instanceof StrandError) return error;
  const transient = asStorageUnavailable(error);
  if (transient) return transient;
  runtime.logger.error('append failed', { error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) });
  return new StrandError(ErrorCode.Internal, 'Internal error.');
}


/** One record of a multi-record produce: its id in the answer, its raw JSON, and where it was for messages. */
interface ProduceEntry {
  id: string;
  raw: unknown;
  where: string;
  label: string;
}

/**
 * Produces many records in one request (records:batch, the streamed produce):
 * each is validated alone, so a bad one fails alone; the rest are grouped by
 * partition, keeping their order, so one partition's records get contiguous
 * offsets, and appended together (one S3 object). Returns a report per id.
 */
async function produceEntries(runtime: Runtime, topic: Topic, entries: readonly ProduceEntry[], schema: z.ZodType, now: number) {
  const sticky = randomPartition(topic);
  const failures: { id: string; error_code: number; message: string }[] = [];
  const accepted: { id: string; prepared: PreparedRecord }[] = [];
  const schemas = new RecordSchemas(runtime, topic);
  for (const { id, raw, where, label } of entries) {
    try {
      const entry = validate(schema, raw, where) as RecordInput;
      const prepared = prepareRecord(entry, topic, sticky, now, await schemas.encode(entry));
      await schemas.validate(prepared.record, label);
      // A record over max.message.bytes fails alone (41302), not with every entry of its partition.
      assertFitsAlone(prepared.record, topic);
      accepted.push({ id, prepared });
    } catch (err) {
      if (!(err instanceof StrandError)) throw err;
      failures.push({ id, error_code: err.code, message: err.message });
    }
  }
  // Group by partition, keeping entry order: entries of one partition get contiguous offsets.
  const byPartition = new Map<number, { id: string; prepared: PreparedRecord }[]>();
  for (const a of accepted) {
    const list = byPartition.get(a.prepared.partition) ?? [];
    list.push(a);
    byPartition.set(a.prepared.partition, list);
  }
  const appends: PartitionAppend[] = [];
  const groups: { id: string; prepared: PreparedRecord }[][] = [];
  for (const [partition, group] of byPartition) {
    try {
      appends.push({ partition, batches: encodeWithinLimit(group.map((g) => g.prepared.record), topic, now) });
      groups.push(group);
    } catch (err) {
      if (!(err instanceof StrandError)) throw err;
      for (const g of group) failures.push({ id: g.id, error_code: err.code, message: err.message });
    }
  }
  const successes: Record<string, unknown>[] = [];
  const results = appends.length > 0 ? await runtime.engine.append(topic, appends) : [];
  results.forEach((result, i) => {
    const group = groups[i]!;
    if (!result.ok) {
      const err = appendFailure(runtime, result.error);
      for (const g of group) failures.push({ id: g.id, error_code: err.code, message: err.message });
      return;
    }
    group.forEach((g, j) => {
      successes.push({
        id: g.id,
        cluster_id: runtime.config.clusterId,
        topic_name: topic.name,
        partition_id: result.partition,
        offset: result.baseOffset + j,
        timestamp: new Date(recordTimestamp(g.prepared, topic, now)).toISOString(),
        key: sizeOf(g.prepared.key),
        value: sizeOf(g.prepared.value),
      });
    });
  });
  return { successes, failures };
}

/** Records one streamed produce may carry (as records:batch's entries). */
export const streamedRecordsMax = entriesPerBatchRequestMax;

/**
 * Confluent's streamed produce: a body of concatenated JSON records (`{…}{…}`,
 * or one per line) instead of one. Looked for only when the body is not one
 * JSON value, so a single record's body is scanned and parsed once; undefined
 * when the text is one (bad) value, which the single-record path reports.
 */
function streamedRecords(text: string): string[] | undefined {
  const split = splitJsonValues(text, streamedRecordsMax);
  if (split.tooMany) throw invalidValue(`A streamed produce carries at most ${streamedRecordsMax} records; send the rest in another request.`);
  const values = split.trailing !== undefined ? [...split.values, split.trailing] : split.values;
  return values.length > 1 ? values : undefined;
}

/**
 * Produces streamed records in order and answers a stream of delivery
 * reports, one per record in the same order, as Confluent does: a record
 * that fails reports its error inside the 200 stream, and the others are
 * produced. One partition's records get contiguous offsets in stream order.
 */
async function produceStream(runtime: Runtime, topic: Topic, texts: string[]): Promise<ApiResponse> {
  const now = runtime.clock.now();
  const unparsed = new Map<string, StrandError>();
  const entries: ProduceEntry[] = [];
  texts.forEach((text, i) => {
    try {
      entries.push({ id: String(i), raw: JSON.parse(text), where: '', label: `Record ${i}` });
    } catch (err) {
      unparsed.set(String(i), badRequest(`Record ${i} is not valid JSON: ${(err as Error).message}`));
    }
  });
  const { successes, failures } = await produceEntries(runtime, topic, entries, recordSchema, now);
  const reports = new Map<string, Record<string, unknown>>();
  for (const { id, ...report } of successes) reports.set(String(id), { error_code: 200, ...report });
  for (const f of failures) reports.set(f.id, { error_code: f.error_code, message: f.message });
  for (const [id, err] of unparsed) reports.set(id, { error_code: err.code, message: err.message });
  const text = texts.map((_, i) => JSON.stringify(reports.get(String(i)))).join('\n') + '\n';
  return { status: 200, headers: { 'content-type': 'application/json' }, text };
}

/** REST Proxy v2 produce: `application/vnd.kafka.<format>.v2+json`, the format naming how keys and values are embedded. */
const v2ProduceMediaType = /^application\/vnd\.kafka\.(json|binary|avro|jsonschema|protobuf)\.v2\+json$/;
/** The v3 `type` each v2 schema format means (kafka-rest's EmbeddedFormat). */
const v2SchemaFormats: Record<string, string> = { avro: 'AVRO', jsonschema: 'JSONSCHEMA', protobuf: 'PROTOBUF' };
export const v2ProduceBody = z.object({
  key_schema: z.string().nullable().optional(),
  key_schema_id: z.number().int().min(1).nullable().optional(),
  value_schema: z.string().nullable().optional(),
  value_schema_id: z.number().int().min(1).nullable().optional(),
  records: z
    .array(z.object({ key: z.unknown().optional(), value: z.unknown().optional(), partition: z.number().int().min(0).nullable().optional() }))
    .min(1)
    .max(entriesPerBatchRequestMax),
});

/** One v2 record as the v3 record it means: the format names the embedding, v2's schema fields name the schema. */
function v2AsV3Record(format: string, record: { key?: unknown; value?: unknown; partition?: number | null }, body: z.infer<typeof v2ProduceBody>): unknown {
  const side = (data: unknown, schema: string | null | undefined, schemaId: number | null | undefined) => {
    if (data === undefined || data === null) return null;
    if (format === 'binary') return { type: 'BINARY', data };
    const schemaFormat = v2SchemaFormats[format];
    if (schemaFormat) return { type: schemaFormat, data, ...(schemaId ? { schema_id: schemaId } : {}), ...(schema ? { schema } : {}) };
    return { type: 'JSON', data };
  };
  return {
    ...(record.partition !== undefined && record.partition !== null ? { partition_id: record.partition } : {}),
    key: side(record.key, body.key_schema, body.key_schema_id),
    value: side(record.value, body.value_schema, body.value_schema_id),
  };
}

export const produceOperations: Record<string, Operation> = {
  'POST /v3/clusters/{cluster_id}/topics/{topic_name}/records': async (req, runtime) => {
    const topic = await loadTopicCached(req, runtime);
    const text = jsonBodyText(req);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const streamed = streamedRecords(text);
      if (streamed) return produceStream(runtime, topic, streamed);
      throw notJson(err);
    }
    const input = validate(recordSchema, parsed);
    const now = runtime.clock.now();
    const schemas = new RecordSchemas(runtime, topic);
    const prepared = prepareRecord(input, topic, randomPartition(topic), now, await schemas.encode(input));
    await schemas.validate(prepared.record, 'Record');
    const batches = encodeWithinLimit([prepared.record], topic, now);
    const [result] = await runtime.engine.append(topic, [{ partition: prepared.partition, batches }]);
    if (!result!.ok) throw appendFailure(runtime, result!.error);
    return {
      status: 200,
      json: {
        error_code: 200,
        cluster_id: runtime.config.clusterId,
        topic_name: topic.name,
        partition_id: prepared.partition,
        offset: result!.baseOffset,
        timestamp: new Date(recordTimestamp(prepared, topic, now)).toISOString(),
        key: sizeOf(prepared.key),
        value: sizeOf(prepared.value),
      },
    };
  },

  /**
   * REST Proxy v2's produce: every record appended (one S3 object), each
   * answered in order with its partition and offset or its error, as Confluent
   * answers (per-record errors inside the 200).
   */
  'POST /topics/{topic_name}': async (req, runtime) => {
    // v2 paths name no cluster: the deployment's one.
    const topic = await runtime.engine.topics.getCached(pathParam(req, 'topic_name'));
    assertContentType(req, v2ProduceMediaType);
    const format = v2ProduceMediaType.exec(mediaType(req)!)![1]!;
    const body = parseJsonBody(req, v2ProduceBody, { accepted: v2ProduceMediaType });
    const now = runtime.clock.now();
    const entries = body.records.map((r, i) => ({ id: String(i), raw: v2AsV3Record(format, r, body), where: `.records[${i}]`, label: `Record ${i}` }));
    const { successes, failures } = await produceEntries(runtime, topic, entries, recordSchema, now);
    const byId = new Map<string, Record<string, unknown>>();
    for (const ok of successes) byId.set(String(ok.id), { partition: ok.partition_id, offset: ok.offset, error_code: null, error: null });
    for (const f of failures) byId.set(f.id, { partition: null, offset: null, error_code: f.error_code, error: f.message });
    const schemaIdOf = (side: 'key' | 'value') => {
      const first = successes.find((ok) => (ok[side] as { schema_id?: number } | null)?.schema_id !== undefined);
      return first ? (first[side] as { schema_id: number }).schema_id : null;
    };
    return {
      status: 200,
      headers: { 'content-type': 'application/vnd.kafka.v2+json' },
      json: { key_schema_id: schemaIdOf('key'), value_schema_id: schemaIdOf('value'), offsets: body.records.map((_, i) => byId.get(String(i))) },
    };
  },

  'POST /v3/clusters/{cluster_id}/topics/{topic_name}/records:batch': async (req, runtime) => {
    const topic = await loadTopicCached(req, runtime);
    const body = parseJsonBody(req, batchBodySchema);
    const now = runtime.clock.now();
    // As Confluent's REST Proxy: an empty batch, or one id twice, is refused whole (422 / 42208) before anything is produced.
    if (body.entries.length === 0) throw new StrandError(ErrorCode.InvalidProduceBatch, 'A batch needs at least one entry.');
    const ids = new Set<string>();
    for (const [i, raw] of body.entries.entries()) {
      const rawId = (raw as { id?: unknown } | null)?.id;
      if (typeof rawId !== 'string' && typeof rawId !== 'number') throw badRequest(`Field 'entries[${i}].id' is required.`);
      if (ids.has(String(rawId))) throw new StrandError(ErrorCode.InvalidProduceBatch, `Entry id '${String(rawId)}' appears twice in the batch: ids must be unique.`);
      ids.add(String(rawId));
    }
    const { successes, failures } = await produceEntries(
      runtime,
      topic,
      body.entries.map((raw, i) => ({ id: String((raw as { id: string | number }).id), raw, where: `.entries[${i}]`, label: `Entry '${String((raw as { id: string | number }).id)}'` })),
      batchEntrySchema,
      now,
    );
    return { status: 207, json: { successes, failures } };
  },

  'POST /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/batches': async (req, runtime) => {
    const topic = await loadTopicCached(req, runtime);
    const partition = partitionParam(req);
    runtime.engine.assertPartition(topic, partition);
    assertBodySize(req);
    assertContentType(req, recordBatchMediaType);
    // The request's own bytes (decoded from the event for this request alone): validation
    // may rewrite timestamps in them in place, and they are stored as they are, not copied.
    const body = req.body;
    const now = runtime.clock.now();
    const { producer, logAppend } = await validateBinaryBatches(runtime, topic, body, now);
    const stored = inTopicCodec(topic, body);
    const [result] = await runtime.engine.append(topic, [{ partition, batches: [stored], ...(producer ? { producer } : {}) }]);
    if (!result!.ok) throw appendFailure(runtime, result!.error);
    return {
      status: 200,
      json: {
        cluster_id: runtime.config.clusterId,
        topic_name: topic.name,
        partition_id: partition,
        base_offset: result!.baseOffset,
        last_offset: result!.lastOffset,
        log_append_time: logAppend ? now : -1,
        ...(producer ? { duplicate: result!.duplicate === true } : {}),
      },
    };
  },
};

/** Records without a key go to one partition per request (sticky), chosen at random. */
function randomPartition(topic: Topic): number {
  return Math.floor(Math.random() * topic.partitionsCount);
}


/**
 * What the batches of one request (a /batches body, or an upload at its commit)
 * may decompress to, all together: 16 times the bytes received, and never less
 * than 32 MiB. The per-batch ceiling alone let a 652 KB request of ten 65 KB
 * gzip bombs inflate 640 MiB (7 s of CPU, the event loop blocked). Legitimate
 * records compress 3-10 times under gzip or snappy (JSON, logs), so a full
 * 4 MiB body (bound: 64 MiB) and a full 64 MiB upload (1 GiB, its own
 * records' size, which it needs) pass; the floor lets a small request of very
 * repetitive values through. What a request costs in decompression is then
 * proportional to what it sent, as every other part of its validation is
 * (about 0.7 s of gzip at the 4 MiB body limit).
 */
export const decompressionRatioMax = 16;
export const decompressedBytesPerRequestMin = 32 * 1024 * 1024;
export function decompressedBytesPerRequestMax(bodyBytes: number): number {
  return Math.max(decompressedBytesPerRequestMin, decompressionRatioMax * bodyBytes);
}

/**
 * Validates RecordBatch v2 bytes from a client (the binary endpoint and direct
 * uploads) before anything is written: structure and CRC-32C, every record's
 * structure (a batch that cannot be read back is refused now, not at fetch time),
 * one offset per record (checkProducedHeader: a header may not claim offsets its
 * records do not fill), no transactions, max.message.bytes, decompression within
 * the request's budget (41301 past it), schema validation where the topic asks
 * for it. Rewrites in place a CreateTime maxTimestamp that disagrees with the
 * records (as Kafka's LogValidator does) and stamps LogAppendTime when the topic
 * uses it; `rewritten` says the bytes changed. Returns the idempotent producer
 * the batches carry, if any.
 */
export async function validateBinaryBatches(
  runtime: Runtime,
  topic: Topic,
  body: Buffer,
  now: number,
): Promise<{ producer: ReturnType<typeof producerOfBatches>; logAppend: boolean; rewritten: boolean }> {
  // The CRC-32C of each batch is verified once, by checkProducedBatch below.
  const slices = splitBatches(body, { verifyCrc: false });
  const limit = topic.config['max.message.bytes'];
  const logAppend = topic.config['message.timestamp.type'] === 'LogAppendTime';
  const bound = decompressedBytesPerRequestMax(body.length);
  const budget = new DecompressionBudget(bound, `${bound} bytes (the bound for a request of ${body.length} bytes)`);
  const fixes: { start: number; maxTimestamp: number }[] = [];
  for (const slice of slices) {
    const h = slice.header;
    if (h.isControl || h.isTransactional) throw invalidValue(`Batch at byte ${slice.start} is transactional or a control batch; Strand does not support transactions.`);
    if (h.sizeInBytes > limit) {
      throw new StrandError(ErrorCode.RecordTooLarge, `Batch at byte ${slice.start} is ${h.sizeInBytes} bytes; topic '${topic.name}' allows ${limit} (max.message.bytes).`);
    }
    const checked = checkProducedBatch(body, slice.start, budget);
    if (!logAppend && checked.maxTimestamp !== h.maxTimestamp) fixes.push({ start: slice.start, maxTimestamp: checked.maxTimestamp });
  }
  // Batches from an idempotent producer (producerId >= 0) are appended at most once (40926 on a gap or stale epoch).
  const producer = producerOfBatches(slices.map((s) => s.header));
  await validateBatches(runtime, topic, body);
  // Only once every check passed: a refused request leaves the caller's bytes as they were.
  for (const fix of fixes) withMaxTimestamp(body, fix.start, fix.maxTimestamp);
  if (logAppend) for (const slice of slices) withLogAppendTime(body, slice.start, now);
  return { producer, logAppend, rewritten: logAppend || fixes.length > 0 };
}

/**
 * Checked batches (validateBinaryBatches) as the topic stores them: in its
 * `compression.type` codec, each batch whose codec differs re-compressed
 * (src/codec/recompressBatch.ts), as Kafka's broker re-compresses; `producer`
 * keeps the bytes as sent. Re-compression decompresses a second time, within a
 * budget of the same bound as validation's. A batch that re-compresses past
 * max.message.bytes is 41302, as Kafka re-checks sizes after re-compressing.
 * Direct uploads keep their codec: their object is already in S3, and the
 * commit does not rewrite it (docs/topic-configs.md).
 */
export function inTopicCodec(topic: Topic, body: Buffer): Buffer {
  const codec = storedCodecOf(topic.config);
  if (codec === undefined) return body;
  const bound = decompressedBytesPerRequestMax(body.length);
  const stored = recompressBatches(body, codec, new DecompressionBudget(bound, `${bound} bytes (the bound for a request of ${body.length} bytes)`));
  if (stored === body) return body;
  const limit = topic.config['max.message.bytes'];
  for (const [i, slice] of splitBatches(stored, { verifyCrc: false }).entries()) {
    if (slice.header.sizeInBytes > limit) {
      throw new StrandError(
        ErrorCode.RecordTooLarge,
        `Batch ${i} of the request is ${slice.header.sizeInBytes} bytes once re-compressed to ${codec} (the topic's compression.type); topic '${topic.name}' allows ${limit} (max.message.bytes).`,
      );
    }
  }
  return stored;
}
