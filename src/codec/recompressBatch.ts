/**
 * Re-compresses RecordBatch v2 bytes to a topic's codec, as a Kafka broker
 * does for a topic whose `compression.type` names a codec
 * (`LogValidator.validateMessagesAndAssignOffsetsCompressed`, when the
 * producer's codec differs from the topic's).
 *
 *   batch   => header (61 bytes) … recordsCount INT32, codec(Record…)
 *   rewrite => the same header but attributes bits 0-2 (the new codec),
 *              batchLength (the new section's size) and crc (recomputed);
 *              the records section decompressed and compressed again.
 *
 * Everything else is kept byte for byte: base offset, lastOffsetDelta,
 * timestamps and the timestamp type, producer id, epoch and sequence, the
 * records themselves (their deltas, keys, values, headers). Kafka's broker
 * rebuilds the batch and assigns offsets while it is at it; Strand's offsets
 * are assigned by the index commit (entries carry no offsets), so only the
 * compression changes.
 */
import { assert } from './assert';
import { compress, compressionCodecIds, compressionCodecMask, type CompressionCodec, type DecompressionBudget } from './compression';
import { crc32c } from './crc32c';
import { batchBytesMax, batchFieldOffsets, readBatchHeader, recordBatchHeaderBytes, splitBatches } from './recordBatch';

/** Bytes before batchLength's coverage starts: baseOffset + batchLength. */
const logOverheadBytes = 12;

/**
 * The batch at `start` of `buf` with its records section in `codec`, or the
 * same bytes (not a copy) when it already is. Decompresses within `budget`,
 * the request's (41301 past it). The caller has checked the batch (CRC,
 * records): this only changes its compression. An empty batch (no records,
 * left by compaction) keeps no codec, so it is returned as it is.
 */
export function recompressBatch(buf: Buffer, start: number, codec: CompressionCodec, budget: DecompressionBudget): Buffer {
  const header = readBatchHeader(buf, start);
  const original = buf.subarray(start, start + header.sizeInBytes);
  if (header.compression === codec || header.recordCount === 0) return original;
  const plain = budget.decompress(header.compression, original.subarray(recordBatchHeaderBytes));
  const section = compress(codec, plain);
  const sizeInBytes = recordBatchHeaderBytes + section.length;
  assert(sizeInBytes <= batchBytesMax, `re-compressed batch of ${sizeInBytes} bytes is within ${batchBytesMax} bytes`);
  const out = Buffer.allocUnsafe(sizeInBytes);
  original.copy(out, 0, 0, recordBatchHeaderBytes);
  section.copy(out, recordBatchHeaderBytes);
  const f = batchFieldOffsets;
  out.writeInt32BE(sizeInBytes - logOverheadBytes, f.batchLength);
  out.writeInt16BE((header.attributes & ~compressionCodecMask) | compressionCodecIds[codec], f.attributes);
  out.writeUInt32BE(crc32c(out, f.attributes, sizeInBytes), f.crc);
  // Read back: the header parses, names the new codec and still spans the same offsets.
  const check = readBatchHeader(out, 0);
  assert(check.compression === codec, 're-compressed batch names its new codec');
  assert(check.lastOffsetDelta === header.lastOffsetDelta && check.recordCount === header.recordCount, 're-compressed batch spans the same offsets');
  return out;
}

/**
 * Every batch of `body` (whole, concatenated batches) in `codec`: `body`
 * itself when none needed a change, else a new buffer.
 */
export function recompressBatches(body: Buffer, codec: CompressionCodec, budget: DecompressionBudget): Buffer {
  const slices = splitBatches(body, { verifyCrc: false });
  if (slices.every((s) => s.header.compression === codec || s.header.recordCount === 0)) return body;
  const parts = slices.map((s) => recompressBatch(body, s.start, codec, budget));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
