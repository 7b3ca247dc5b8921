/**
 * Fetch by offset (extension): JSON records in an embedded format, or the stored
 * RecordBatches whole (Accept: application/vnd.kafka.record-batch.v2) with their
 * real base offsets, readable by any Kafka RecordBatch v2 decoder.
 */
import { invalidValue } from '../errors';
import { TimestampType } from '../codec/recordBatch';
import { recordsFrom, type FetchedRecord } from '../log/readPartition';
import { objectKey } from '../log/ObjectStore';
import type { Operation } from './operations';
import type { ApiResponse } from './http';
import { loadTopicCached, partitionParam, queryInteger } from './request';
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
 * Lambda caps a response at 6 MB. Binary bodies are base64-encoded by API Gateway
 * (4 MiB of batches → 5.6 MB); a JSON body stops adding records once it passes
 * this budget, after at least one, and next_offset tells the client where to go on.
 */
export const jsonResponseBytesMax = 5 * 1024 * 1024;

type EmbeddedFormat = 'binary' | 'string' | 'json' | 'avro';
const embeddedFormats: EmbeddedFormat[] = ['binary', 'string', 'json', 'avro'];

function embed(bytes: Buffer | null, format: EmbeddedFormat, avro?: (b: Buffer) => AvroEmbedded): { type: string; data: unknown } | null {
  if (bytes === null) return null;
  switch (format) {
    case 'binary':
      return { type: 'BINARY', data: bytes.toString('base64') };
    case 'string':
      return { type: 'STRING', data: bytes.toString('utf8') };
    case 'json':
      try {
        return { type: 'JSON', data: JSON.parse(bytes.toString('utf8')) };
      } catch {
        // A record that is not JSON is still delivered, as bytes, rather than
        // blocking the partition for a consumer that asked for JSON.
        return { type: 'BINARY', data: bytes.toString('base64') };
      }
    case 'avro':
      // Confluent wire format with a known schema id → {type: AVRO, data, schema_id}; anything else as BINARY (src/schemas/recordSchemas.ts).
      return avro!(bytes);
  }
}

function recordJson(r: FetchedRecord, format: EmbeddedFormat, avro?: (b: Buffer) => AvroEmbedded) {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    timestamp_type: r.timestampType === TimestampType.LogAppendTime ? 'LogAppendTime' : 'CreateTime',
    key: embed(r.key, format, avro),
    value: embed(r.value, format, avro),
    headers: r.headers.map((h) => ({ name: h.key, value: h.value === null ? null : h.value.toString('base64') })),
  };
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
    if (accept.includes(batchUrlsMediaType)) {
      // Direct-to-S3: where the batches are, as presigned ranged GETs; no bytes through Lambda.
      let located = await runtime.engine.locate(topic, partition, offset, maxBytes);
      if (located.runs.length === 0 && maxWaitMs > 0) {
        await runtime.engine.waitForData(topic, partition, offset, maxWaitMs);
        located = await runtime.engine.locate(topic, partition, offset, maxBytes);
      }
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
    const binary = accept.includes(recordBatchMediaType);

    // Binary answers go to a consumer that checks every CRC itself; JSON answers are decoded here, so checked here.
    const readOptions = { verifyCrc: !binary };
    let result = await runtime.engine.read(topic, partition, offset, maxBytes, readOptions);
    if (result.batches.length === 0 && maxWaitMs > 0) {
      await runtime.engine.waitForData(topic, partition, offset, maxWaitMs);
      result = await runtime.engine.read(topic, partition, offset, maxBytes, readOptions);
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
    const records: ReturnType<typeof recordJson>[] = [];
    let nextOffset = result.nextOffset;
    let budget = jsonResponseBytesMax;
    // At the high watermark (or after a long poll that timed out) there are no batches to decode.
    const fetched = recordsFrom(result.batches, offset);
    const avro = format === 'avro' ? await avroEmbedder(runtime, fetched) : undefined;
    for (const r of fetched) {
      const json = recordJson(r, format, avro);
      budget -= Buffer.byteLength(JSON.stringify(json), 'utf8');
      if (budget < 0 && records.length > 0) {
        nextOffset = r.offset;
        break;
      }
      records.push(json);
    }
    return {
      status: 200,
      json: {
        cluster_id: runtime.config.clusterId,
        topic_name: topic.name,
        partition_id: partition,
        high_watermark: result.highWatermark,
        log_start_offset: result.logStartOffset,
        next_offset: nextOffset,
        records,
      },
    };
  },
};
