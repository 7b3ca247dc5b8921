/**
 * The pieces of a fetch answer shared by the single-partition fetch (fetch.ts)
 * and the multi-partition fetch (multiFetch.ts): records as JSON in an embedded
 * format, their sizing for JsonRecordsFill, presigned ranged-GET URLs for the
 * direct form, and the error for an entry no response can carry. One copy, so
 * both routes answer a record the same way and within the same bounds.
 */
import { ErrorCode, StrandError, invalidValue } from '../errors';
import { TimestampType } from '../codec/recordBatch';
import type { FetchedRecord, RangeRun } from '../log/readPartition';
import type { PlacedEntry } from '../log/indexEntry';
import { objectKey } from '../log/ObjectStore';
import type { Topic } from '../log/TopicCatalog';
import type { Runtime } from '../runtime';
import { base64Bytes, binaryResponseBytesMax, TooLargeForResponse, type RecordSizing } from './responseBudget';
import type { ApiRequest } from './http';
import { jsonNestingDepthMax } from './request';
import { jsonNestsDeeperThan } from '../jsonNesting';
import { recordBatchMediaType } from './mediaTypes';
import type { AvroEmbedded } from '../schemas/recordSchemas';

/** Media type of a fetch answered with presigned ranged-GET URLs (the direct-to-S3 data plane). */
export const batchUrlsMediaType = 'application/vnd.strand.batch-urls+json';
/** How long a fetch's presigned GET URLs work. */
export const batchUrlSeconds = 300;
/**
 * Ranges one batch-URL answer lists at most. Each carries a presigned URL (about
 * 1.5 KB on AWS, where the function's session token is part of it), and a fetch
 * of small entries from many objects would otherwise list tens of thousands:
 * 512 keep the answer under 1 MB, far inside Lambda's 6 MB.
 */
export const batchUrlRangesMax = 512;

export type EmbeddedFormat = 'binary' | 'string' | 'json' | 'avro';
const embeddedFormats: EmbeddedFormat[] = ['binary', 'string', 'json', 'avro'];

/** The `embedded_format` query parameter (default binary), or 40002. */
export function embeddedFormatParam(req: ApiRequest): EmbeddedFormat {
  const format = (req.query.embedded_format ?? 'binary').toLowerCase() as EmbeddedFormat;
  if (!embeddedFormats.includes(format)) {
    throw invalidValue(`'embedded_format' must be one of ${embeddedFormats.join(', ')}, not '${req.query.embedded_format}'.`);
  }
  return format;
}

/** Base64 of `bytes`, unless it alone would pass `room` bytes: then TooLargeForResponse, and nothing is encoded. */
function base64Within(bytes: Buffer, room: number): string {
  if (base64Bytes(bytes.length) > room) throw new TooLargeForResponse(base64Bytes(bytes.length));
  return bytes.toString('base64');
}

/**
 * A stored key or value as a JSON value; undefined when it is not JSON, or nests
 * deeper than jsonNestingDepthMax (serializing the response would overflow the
 * stack: a 500 that blocks the partition for every JSON consumer).
 */
export function storedJson(bytes: Buffer): { value: unknown } | undefined {
  const text = bytes.toString('utf8');
  if (jsonNestsDeeperThan(text, jsonNestingDepthMax)) return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

function embed(bytes: Buffer | null, format: EmbeddedFormat, room: number, avro?: (b: Buffer) => AvroEmbedded): { type: string; data: unknown } | null {
  if (bytes === null) return null;
  switch (format) {
    case 'binary':
      return { type: 'BINARY', data: base64Within(bytes, room) };
    case 'string':
      // Decoding never shrinks bytes (an invalid sequence becomes U+FFFD, 3 bytes), so this bound is safe.
      if (bytes.length > room) throw new TooLargeForResponse(bytes.length);
      return { type: 'STRING', data: bytes.toString('utf8') };
    case 'json': {
      // A record that is not JSON is still delivered, as bytes, rather than
      // blocking the partition for a consumer that asked for JSON.
      const json = storedJson(bytes);
      return json ? { type: 'JSON', data: json.value } : { type: 'BINARY', data: base64Within(bytes, room) };
    }
    case 'avro':
      // Confluent wire format with a known schema id → {type: AVRO, data, schema_id}; anything else as BINARY (src/schemas/recordSchemas.ts).
      return avro!(bytes);
  }
}

function recordJson(r: FetchedRecord, format: EmbeddedFormat, room: number, avro?: (b: Buffer) => AvroEmbedded) {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    timestamp_type: r.timestampType === TimestampType.LogAppendTime ? 'LogAppendTime' : 'CreateTime',
    key: embed(r.key, format, room, avro),
    value: embed(r.value, format, room, avro),
    headers: r.headers.map((h) => ({ name: h.key, value: h.value === null ? null : base64Within(h.value, room) })),
  };
}

export type RecordJson = ReturnType<typeof recordJson>;

/** Bytes a record's JSON takes at least in `format`, from its sizes alone (JSON and Avro can shrink, so only headers count). */
function jsonBytesAtLeast(r: FetchedRecord, format: EmbeddedFormat): number {
  const part = (b: Buffer | null) => (b === null ? 0 : format === 'binary' ? base64Bytes(b.length) : format === 'string' ? b.length : 0);
  let n = part(r.key) + part(r.value);
  for (const h of r.headers) n += h.key.length + (h.value === null ? 0 : base64Bytes(h.value.length));
  return n;
}

/**
 * How records are sized and built in `format`. For Avro, `prepare` must run
 * (with the records kept) before the fill builds anything: it looks up their
 * schemas once.
 */
export function recordSizing(runtime: Runtime, format: EmbeddedFormat): RecordSizing<RecordJson> & { prepare(kept: readonly FetchedRecord[]): Promise<void> } {
  let avro: ((b: Buffer) => AvroEmbedded) | undefined;
  return {
    lowerBound: (r) => jsonBytesAtLeast(r, format),
    build: (r, room) => recordJson(r, format, room, avro),
    prepare: async (kept) => {
      // Loaded on first use (a require esbuild bundles but evaluates only when
      // called): the schema code (avsc, the registry) is no part of a fetch's cold start.
      if (format === 'avro') {
        const { avroEmbedder } = require('../schemas/recordSchemas') as typeof import('../schemas/recordSchemas');
        avro = await avroEmbedder(runtime, [...kept]);
      }
    },
  };
}

export interface BatchUrlRange {
  url: string;
  range: string;
  size: number;
  base_offset: number;
  last_offset: number;
}

/** Presigned ranged GETs for `runs` of one topic: one URL per object, one range per run. */
export async function presignedRanges(runtime: Runtime, topic: Topic, runs: readonly RangeRun[]): Promise<BatchUrlRange[]> {
  const objects = runtime.engine.context.objects;
  const urls = new Map<string, string>();
  for (const run of runs) {
    if (!urls.has(run.objectId)) urls.set(run.objectId, await objects.presignGet(objectKey(topic.topicId, run.objectId), batchUrlSeconds));
  }
  return runs.map((run) => ({
    url: urls.get(run.objectId)!,
    range: `bytes=${run.position}-${run.position + run.size - 1}`,
    size: run.size,
    base_offset: run.entries[0]!.baseOffset,
    last_offset: run.entries[run.entries.length - 1]!.baseOffset + run.entries[run.entries.length - 1]!.span - 1,
  }));
}

/** When presigned URLs made now stop working, as the answer states it. */
export const batchUrlsExpireAt = (runtime: Runtime): string => new Date(runtime.clock.now() + batchUrlSeconds * 1000).toISOString();

/**
 * A binary fetch whose offset sits in an index entry larger than any binary
 * response (an upload holds up to 64 MiB in one entry): no Lambda response can
 * carry it, so a client that accepts batch URLs gets that entry as one, and
 * any other client an error naming the entry and the way to read it.
 */
export function oversizedEntry(entry: PlacedEntry, topic: Topic, partition: number, bytesMax = binaryResponseBytesMax): StrandError {
  return new StrandError(
    ErrorCode.RecordTooLarge,
    `Offsets ${entry.baseOffset} to ${entry.baseOffset + entry.span - 1} of partition ${partition} of '${topic.name}' are stored as ${entry.size} bytes, ` +
      `more than one response can carry (${bytesMax}); fetch them with 'Accept: ${recordBatchMediaType}, ${batchUrlsMediaType}' ` +
      `to be answered with a presigned URL for them.`,
    { details: { base_offset: entry.baseOffset, last_offset: entry.baseOffset + entry.span - 1, size: entry.size } },
  );
}
