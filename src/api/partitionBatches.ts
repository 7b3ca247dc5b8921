/**
 * The binary form of the multi-partition fetch: Kafka RecordBatch v2 bytes of
 * many partitions in one body, with an index saying whose bytes are where.
 *
 *   uint32 (big-endian)  N, the index's length in bytes
 *   N bytes              the index: UTF-8 JSON {cluster_id, partitions: [...]}
 *   then                 each partition's batches, in the index's order, `size` bytes each
 *
 * Each index item is a partition's answer as in the JSON form, without records,
 * and with `size`, the bytes of its batches (0 with an error). A small JSON
 * index and one byte run rather than multipart: no boundary to search for in
 * batch bytes, one length read to split it, and any JSON parser for the rest.
 * The batches are stored bytes with their real base offsets, as the
 * single-partition binary fetch returns them; the consumer checks their CRCs.
 */
import { CorruptBatchError } from '../errors';

/** Media type of the framed answer (Accept on the request, Content-Type on the answer). */
export const partitionBatchesMediaType = 'application/vnd.strand.partition-batches.v1';

export interface FramedPartition {
  topic_name: string;
  partition_id: number;
  size: number;
  [field: string]: unknown;
}

export interface PartitionBatchesIndex {
  cluster_id: string;
  partitions: FramedPartition[];
}

/** Bytes the frame adds before the index. */
export const frameLengthBytes = 4;

export function encodePartitionBatches(index: PartitionBatchesIndex, batches: readonly Buffer[]): Buffer {
  const head = Buffer.from(JSON.stringify(index), 'utf8');
  const length = Buffer.alloc(frameLengthBytes);
  length.writeUInt32BE(head.length, 0);
  return Buffer.concat([length, head, ...batches]);
}

/** Splits a framed body into its index and each partition's batches (a view of the body, not a copy). */
export function decodePartitionBatches(body: Buffer): { index: PartitionBatchesIndex; batches: Buffer[] } {
  if (body.length < frameLengthBytes) throw new CorruptBatchError(`A partition-batches body is ${body.length} bytes; its length prefix alone is ${frameLengthBytes}.`);
  const n = body.readUInt32BE(0);
  if (frameLengthBytes + n > body.length) throw new CorruptBatchError(`A partition-batches index of ${n} bytes passes the body's end.`);
  const index = JSON.parse(body.subarray(frameLengthBytes, frameLengthBytes + n).toString('utf8')) as PartitionBatchesIndex;
  let at = frameLengthBytes + n;
  const batches = index.partitions.map((p) => {
    if (!Number.isInteger(p.size) || p.size < 0 || at + p.size > body.length) throw new CorruptBatchError(`Partition ${p.partition_id} of '${p.topic_name}' claims ${p.size} bytes past the body's end.`);
    const bytes = body.subarray(at, at + p.size);
    at += p.size;
    return bytes;
  });
  if (at !== body.length) throw new CorruptBatchError(`A partition-batches body has ${body.length - at} bytes no partition claims.`);
  return { index, batches };
}
