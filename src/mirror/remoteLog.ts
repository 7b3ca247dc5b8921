/**
 * The mirror's two data-path calls against a Strand over HTTP, below the SDK's
 * Producer and Consumer (which cannot name a producer id and sequence, nor
 * hand back a stored batch's producer fields):
 *
 *   readRecords  GET  …/partitions/{p}/records   (binary RecordBatch v2, or presigned ranges
 *                                                  for an entry larger than one response)
 *   appendBatch  POST …/partitions/{p}/batches   (one idempotent RecordBatch v2)
 *
 * Both go through the SDK's Transport, so API keys, SigV4 and retries of 429,
 * 503 and network errors are the client's. Retrying an append is safe: it is
 * idempotent (producer id, epoch and sequence), so a replay is answered with
 * the original offsets and `duplicate: true`.
 */
import { decodeRecordBatch, encodeRecordBatch, patchBaseOffsets, splitBatches, type DecodedRecord, type RecordBatchHeader } from '../codec/recordBatch';
import type { LogRecord } from '../codec/record';
import type { CompressionCodec } from '../codec/compression';
import { objectRequest } from '../../client/objectHttp';
import { StrandClientError } from '../../client/errors';
import type { StrandClient } from '../../client/StrandClient';
import { mapBounded } from '../mapBounded';

export const recordBatchMediaType = 'application/vnd.kafka.record-batch.v2';
const batchUrlsMediaType = 'application/vnd.strand.batch-urls+json';
/** Ranged GETs of one oversized-entry answer in flight at once. */
const rangeReadsInFlightMax = 4;

/** A fetched record with the producer fields of the stored batch it came in. */
export interface FetchedRecord extends DecodedRecord {
  batch: Pick<RecordBatchHeader, 'producerId' | 'producerEpoch' | 'baseSequence' | 'recordCount' | 'baseOffset' | 'lastOffsetDelta' | 'compression'>;
}

export interface FetchResult {
  records: FetchedRecord[];
  /** Where the next fetch starts (past skipped offsets too). */
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

const partitionPath = (client: StrandClient, topic: string, partition: number) =>
  `${client.clusterPath}/topics/${encodeURIComponent(topic)}/partitions/${partition}`;

/** Records at and after `offset` (whole stored batches, records below `offset` dropped); no long poll. */
export async function readRecords(client: StrandClient, topic: string, partition: number, offset: number, maxBytes: number): Promise<FetchResult> {
  const res = await client.transport.request('GET', `${partitionPath(client, topic, partition)}/records`, {
    query: { offset, max_bytes: maxBytes, max_wait_ms: 0 },
    headers: { accept: `${recordBatchMediaType}, ${batchUrlsMediaType}` },
  });
  if ((res.headers.get('content-type') ?? '').includes(batchUrlsMediaType)) {
    const located = res.json as { high_watermark: number; next_offset: number; log_start_offset?: number; ranges: { url: string; range: string; size: number; base_offset: number }[] };
    const parts = await mapBounded(located.ranges, rangeReadsInFlightMax, async (r) => {
      const got = await objectRequest('GET', r.url, { range: r.range }, undefined, AbortSignal.timeout(client.transport.requestTimeout));
      if (got.status !== 206 && got.status !== 200) throw new StrandClientError(`S3 answered ${got.status} for a batch range of ${topic}/${partition}.`);
      if (got.body.length !== r.size) throw new StrandClientError(`S3 returned ${got.body.length} bytes for a range of ${r.size}.`);
      patchBaseOffsets(got.body, r.base_offset, { verifyCrc: false });
      return got.body;
    });
    const records = parts.flatMap((p) => recordsOf(p, offset));
    const last = records.length > 0 ? records[records.length - 1]!.offset + 1 : offset;
    return { records, nextOffset: Math.max(located.next_offset, last), highWatermark: located.high_watermark, logStartOffset: Number(located.log_start_offset ?? 0) };
  }
  const records = recordsOf(res.body, offset);
  const last = records.length > 0 ? records[records.length - 1]!.offset + 1 : offset;
  const next = Number(res.headers.get('kafka-next-offset') ?? NaN);
  return {
    records,
    nextOffset: Number.isFinite(next) ? Math.max(next, last) : last,
    highWatermark: Number(res.headers.get('kafka-high-watermark') ?? NaN),
    logStartOffset: Number(res.headers.get('kafka-log-start-offset') ?? 0),
  };
}

/** Decodes fetched batches (CRC checked here, as Kafka's check.crcs), keeping records at or after `offset`. */
function recordsOf(bytes: Buffer, offset: number): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  if (bytes.length === 0) return out;
  for (const slice of splitBatches(bytes, { verifyCrc: false })) {
    const { header, records } = decodeRecordBatch(bytes, slice.start);
    if (header.isControl) continue;
    const batch = {
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      recordCount: header.recordCount,
      baseOffset: header.baseOffset,
      lastOffsetDelta: header.lastOffsetDelta,
      compression: header.compression,
    };
    for (const r of records) if (r.offset >= offset) out.push({ ...r, batch });
  }
  return out;
}

export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

export interface AppendReply {
  baseOffset: number;
  lastOffset: number;
  duplicate: boolean;
}

/** The encoded idempotent batch a mirror append sends: built once, so a replay sends the very same bytes. */
export function encodeMirrorBatch(records: LogRecord[], identity: ProducerIdentity, baseSequence: number, compression: CompressionCodec = 'none'): Buffer {
  return encodeRecordBatch(records, { producerId: identity.producerId, producerEpoch: identity.producerEpoch, baseSequence, compression });
}

/** POSTs one encoded batch to a partition. */
export async function appendBatch(client: StrandClient, topic: string, partition: number, body: Buffer): Promise<AppendReply> {
  const json = await client.transport.json<{ base_offset: number; last_offset: number; duplicate?: boolean }>('POST', `${partitionPath(client, topic, partition)}/batches`, {
    body,
    headers: { 'content-type': recordBatchMediaType },
  });
  return { baseOffset: Number(json.base_offset), lastOffset: Number(json.last_offset), duplicate: json.duplicate === true };
}

/** Kafka's InitProducerId: a fresh id (epoch 0), or `producerId` with its epoch bumped. */
export async function initProducer(client: StrandClient, producerId?: number): Promise<ProducerIdentity> {
  const json = await client.transport.json<{ producer_id: number; producer_epoch: number }>('POST', `${client.clusterPath}/producers`, {
    json: producerId === undefined ? {} : { producer_id: producerId },
  });
  return { producerId: Number(json.producer_id), producerEpoch: Number(json.producer_epoch) };
}
