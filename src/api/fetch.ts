/**
 * Fetch by offset (extension): JSON records in an embedded format, or the stored
 * RecordBatches whole (Accept: application/vnd.kafka.record-batch.v2) with their
 * real base offsets, readable by any Kafka RecordBatch v2 decoder.
 */
import { doorbellFor } from '../notify/doorbell';
import { coalesce, locateRanges, type LocatedRanges } from '../log/readPartition';
import { newAllowance, walkRecords } from '../log/recordWalk';
import type { Runtime } from '../runtime';
import type { Topic } from '../log/TopicCatalog';
import { binaryResponseBytesMax, JsonRecordsFill } from './responseBudget';
import type { Operation } from './operations';
import type { ApiResponse } from './http';
import { loadTopicCached, partitionParam, queryInteger } from './request';
import { recordBatchMediaType } from './mediaTypes';
import { batchUrlRangesMax, batchUrlsExpireAt, batchUrlsMediaType, embeddedFormatParam, oversizedEntry, presignedRanges, recordSizing } from './fetchForms';

export const fetchBytesDefault = 1024 * 1024;
export const fetchBytesMax = 4 * 1024 * 1024;
export const longPollMsMax = 20_000;
export { batchUrlRangesMax, batchUrlSeconds, batchUrlsMediaType } from './fetchForms';
export { jsonResponseBytesMax } from './responseBudget';

/** The batch-URL answer: where the located runs are, as presigned ranged GETs. */
async function batchUrlsResponse(runtime: Runtime, topic: Topic, partition: number, located: LocatedRanges): Promise<ApiResponse> {
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
      expires_at: batchUrlsExpireAt(runtime),
      ranges: await presignedRanges(runtime, topic, located.runs),
    },
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
    const format = embeddedFormatParam(req);
    const accept = (req.headers.accept ?? '').toLowerCase();
    const binary = accept.includes(recordBatchMediaType);
    const acceptsUrls = accept.includes(batchUrlsMediaType);
    if (acceptsUrls && !binary) {
      // Direct-to-S3: where the batches are, as presigned ranged GETs; no bytes through Lambda.
      const locate = () => locateRanges(runtime.engine.context, topic, partition, offset, maxBytes, { runsMax: batchUrlRangesMax });
      let located = await locate();
      if (located.runs.length === 0 && maxWaitMs > 0) {
        await runtime.engine.waitForData(topic, partition, offset, maxWaitMs, doorbellFor(runtime, req));
        located = await locate();
      }
      return batchUrlsResponse(runtime, topic, partition, located);
    }

    // Binary answers go to a consumer that checks every CRC itself; JSON answers are decoded here, so checked here.
    // Both stop adding entries before a binary response's worth of batches; the binary one reads no entry larger than that.
    const readOptions = { verifyCrc: !binary, bytesMax: binaryResponseBytesMax, entryBytesMax: binary ? binaryResponseBytesMax : undefined };
    let result = await runtime.engine.read(topic, partition, offset, maxBytes, readOptions);
    if (result.batches.length === 0 && !result.oversized && maxWaitMs > 0) {
      await runtime.engine.waitForData(topic, partition, offset, maxWaitMs, doorbellFor(runtime, req));
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
    const sizing = recordSizing(runtime, format);
    const fill = new JsonRecordsFill(sizing);
    const walkStop = walkRecords(result.batches, offset, newAllowance(), fill.offer);
    await sizing.prepare(fill.candidates);
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
