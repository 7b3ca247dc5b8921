/**
 * Fetch by offset (extension): JSON records in an embedded format, or the stored
 * RecordBatches whole (Accept: application/vnd.kafka.record-batch.v2) with their
 * real base offsets, readable by any Kafka RecordBatch v2 decoder.
 */
import { ErrorCode, StrandError, invalidValue } from '../errors';
import { TimestampType } from '../codec/recordBatch';
import { coalesce, locateRanges, type FetchedRecord, type LocatedRanges } from '../log/readPartition';
import { newAllowance, walkRecords } from '../log/recordWalk';
import type { PlacedEntry } from '../log/indexEntry';
import { objectKey } from '../log/ObjectStore';
import type { Runtime } from '../runtime';
import type { Topic } from '../log/TopicCatalog';
import { base64Bytes, binaryResponseBytesMax, jsonResponseBytesMax, JsonRecordsFill, TooLargeForResponse, type RecordSizing } from './responseBudget';
import type { Operation } from './operations';
import type { ApiResponse } from './http';
import { jsonNestingDepthMax, loadTopicCached, partitionParam, queryInteger } from './request';
import { jsonNestsDeeperThan } from '../jsonNesting';
import { recordBatchMediaType } from './produce';
import { avroEmbedder, type AvroEmbedded } from '../schemas/recordSchemas';

export const fetchBytesDefault = 1024 * 1024;
export const fetchBytesMax = 4 * 1024 * 1024;
export const longPollMsMax = 20_000;
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
export { jsonResponseBytesMax } from './responseBudget';

type EmbeddedFormat = 'binary' | 'string' | 'json' | 'avro';
const embeddedFormats: EmbeddedFormat[] = ['binary', 'string', 'json', 'avro'];

/** Base64 of `bytes`, unless it alone would pass `room` bytes: then TooLargeForResponse, and nothing is encoded. */
function base64Within(bytes: Buffer, room: number): string {
  if (base64Bytes(bytes.length) > room) throw new TooLargeForResponse(base64Bytes(bytes.length));
  return bytes.toString('base64');
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
    case 'json':
      try {
        const text = bytes.toString('utf8');
        // A value nested past the bound would overflow the stack when the response
        // is serialized (a 500 that blocks the partition): it goes out as bytes.
        if (jsonNestsDeeperThan(text, jsonNestingDepthMax)) throw new Error('nested too deep');
        return { type: 'JSON', data: JSON.parse(text) };
      } catch {
        // A record that is not JSON is still delivered, as bytes, rather than
        // blocking the partition for a consumer that asked for JSON.
        return { type: 'BINARY', data: base64Within(bytes, room) };
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

/** Bytes a record's JSON takes at least in `format`, from its sizes alone (JSON and Avro can shrink, so only headers count). */
function jsonBytesAtLeast(r: FetchedRecord, format: EmbeddedFormat): number {
  const part = (b: Buffer | null) => (b === null ? 0 : format === 'binary' ? base64Bytes(b.length) : format === 'string' ? b.length : 0);
  let n = part(r.key) + part(r.value);
  for (const h of r.headers) n += h.key.length + (h.value === null ? 0 : base64Bytes(h.value.length));
  return n;
}

/** The batch-URL answer: where the located runs are, as presigned ranged GETs. */
async function batchUrlsResponse(runtime: Runtime, topic: Topic, partition: number, located: LocatedRanges): Promise<ApiResponse> {
  const objects = runtime.engine.context.objects;
  const urls = new Map<string, string>();
  for (const run of located.runs) {
    if (!urls.has(run.objectId)) urls.set(run.objectId, await objects.presignGet(objectKey(topic.topicId, run.objectId), batchUrlSeconds));
  }
  return {
    status: 200,
    headers: { 'content-type': batchUrlsMediaType },
    json: {
      cluster_id: runtime.config.clusterId,
      topic_name: topic.name,
      partition_id: partition,
      high_watermark: located.highWatermark,
      log_start_offset: located.logStartOffset,
      next_offset: located.nextOffset,
      expires_at: new Date(runtime.clock.now() + batchUrlSeconds * 1000).toISOString(),
      ranges: located.runs.map((run) => ({
        url: urls.get(run.objectId),
        range: `bytes=${run.position}-${run.position + run.size - 1}`,
        size: run.size,
        base_offset: run.entries[0]!.baseOffset,
        last_offset: run.entries[run.entries.length - 1]!.baseOffset + run.entries[run.entries.length - 1]!.span - 1,
      })),
    },
  };
}

/**
 * A binary fetch whose offset sits in an index entry larger than any binary
 * response (an upload holds up to 64 MiB in one entry): no Lambda response can
 * carry it, so a client that accepts batch URLs gets that entry as one, and
 * any other client an error naming the entry and the way to read it.
 */
function oversizedEntry(entry: PlacedEntry, topic: Topic, partition: number): StrandError {
  return new StrandError(
    ErrorCode.RecordTooLarge,
    `Offsets ${entry.baseOffset} to ${entry.baseOffset + entry.span - 1} of partition ${partition} of '${topic.name}' are stored as ${entry.size} bytes, ` +
      `more than one response can carry (${binaryResponseBytesMax}); fetch them with 'Accept: ${recordBatchMediaType}, ${batchUrlsMediaType}' ` +
      `to be answered with a presigned URL for them.`,
    { details: { base_offset: entry.baseOffset, last_offset: entry.baseOffset + entry.span - 1, size: entry.size } },
  );
}

export const fetchOperations: Record<string, Operation> = {
  'GET /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/records': async (req, runtime): Promise<ApiResponse> => {
    const topic = await loadTopicCached(req, runtime);
    const partition = partitionParam(req);
    runtime.engine.assertPartition(topic, partition);
    const offset = queryInteger(req, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const maxBytes = queryInteger(req, 'max_bytes', { min: 1, max: fetchBytesMax, default: fetchBytesDefault });
    const maxWaitMs = queryInteger(req, 'max_wait_ms', { min: 0, max: longPollMsMax, default: 0 });
    const format = (req.query.embedded_format ?? 'binary').toLowerCase() as EmbeddedFormat;
    if (!embeddedFormats.includes(format)) {
      throw invalidValue(`'embedded_format' must be one of ${embeddedFormats.join(', ')}, not '${req.query.embedded_format}'.`);
    }
    const accept = (req.headers.accept ?? '').toLowerCase();
    const binary = accept.includes(recordBatchMediaType);
    const acceptsUrls = accept.includes(batchUrlsMediaType);
    if (acceptsUrls && !binary) {
      // Direct-to-S3: where the batches are, as presigned ranged GETs; no bytes through Lambda.
      const locate = () => locateRanges(runtime.engine.context, topic, partition, offset, maxBytes, { runsMax: batchUrlRangesMax });
      let located = await locate();
      if (located.runs.length === 0 && maxWaitMs > 0) {
        await runtime.engine.waitForData(topic, partition, offset, maxWaitMs);
        located = await locate();
      }
      return batchUrlsResponse(runtime, topic, partition, located);
    }

    // Binary answers go to a consumer that checks every CRC itself; JSON answers are decoded here, so checked here.
    // Both stop adding entries before a binary response's worth of batches; the binary one reads no entry larger than that.
    const readOptions = { verifyCrc: !binary, bytesMax: binaryResponseBytesMax, entryBytesMax: binary ? binaryResponseBytesMax : undefined };
    let result = await runtime.engine.read(topic, partition, offset, maxBytes, readOptions);
    if (result.batches.length === 0 && !result.oversized && maxWaitMs > 0) {
      await runtime.engine.waitForData(topic, partition, offset, maxWaitMs);
      result = await runtime.engine.read(topic, partition, offset, maxBytes, readOptions);
    }

    if (result.oversized) {
      if (!acceptsUrls) throw oversizedEntry(result.oversized, topic, partition);
      const entry = result.oversized;
      return batchUrlsResponse(runtime, topic, partition, { ...result, runs: coalesce([entry]), nextOffset: entry.baseOffset + entry.span });
    }
    if (binary) {
      return {
        status: 200,
        headers: {
          'content-type': recordBatchMediaType,
          'kafka-high-watermark': String(result.highWatermark),
          'kafka-log-start-offset': String(result.logStartOffset),
          'kafka-next-offset': String(result.nextOffset),
        },
        binary: result.batches,
      };
    }

    // Decoded one batch at a time, within the fetch's decompression budget, and
    // only until the response is full: records past it are never built.
    let avro: ((b: Buffer) => AvroEmbedded) | undefined;
    const sizing: RecordSizing<ReturnType<typeof recordJson>> = {
      lowerBound: (r) => jsonBytesAtLeast(r, format),
      build: (r, room) => recordJson(r, format, room, avro),
    };
    const fill = new JsonRecordsFill(sizing);
    const walkStop = walkRecords(result.batches, offset, newAllowance(), fill.offer);
    if (format === 'avro') avro = await avroEmbedder(runtime, [...fill.candidates]);
    fill.finish();
    return {
      status: 200,
      json: {
        cluster_id: runtime.config.clusterId,
        topic_name: topic.name,
        partition_id: partition,
        high_watermark: result.highWatermark,
        log_start_offset: result.logStartOffset,
        next_offset: fill.resumeAt ?? walkStop ?? result.nextOffset,
        records: fill.records,
        // Records no JSON response can hold (read them with the binary fetch); next_offset is past them.
        ...(fill.skipped.length > 0 ? { skipped: fill.skipped } : {}),
      },
    };
  },
};
