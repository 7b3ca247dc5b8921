/**
 * Rewrites a RecordBatch v2 keeping only some of its records, as Kafka's log
 * cleaner does (`MemoryRecords.filterTo`): every kept record keeps its offset
 * delta and timestamp delta, and the header keeps its base offset,
 * lastOffsetDelta, timestamps, producer fields and attributes, so the batch
 * still spans exactly the offsets it spanned. A batch whose records are all
 * removed stays as an empty batch (recordCount 0) for the same reason: Strand's
 * index entries cover offset ranges, and offsets are never renumbered.
 */
import { ByteReader, ByteWriter } from './bytes';
import { compress, decompress } from './compression';
import { crc32c } from './crc32c';
import { decodeRecord, encodeRecord, type RawRecord } from './record';
import {
  TimestampType,
  batchBytesMax,
  batchFieldOffsets,
  readBatchHeader,
  recordBatchHeaderBytes,
  verifyBatchCrc,
  type DecodedRecord,
} from './recordBatch';

/**
 * Returns the rewritten batch (a new buffer), or the original bytes unchanged
 * when every record is kept.
 */
export function filterBatchRecords(buf: Buffer, start: number, keep: (record: DecodedRecord) => boolean): Buffer {
  const header = readBatchHeader(buf, start);
  verifyBatchCrc(buf, start);
  const original = buf.subarray(start, start + header.sizeInBytes);
  const plain = decompress(header.compression, buf.subarray(start + recordBatchHeaderBytes, start + header.sizeInBytes));
  const reader = new ByteReader(plain, 0, plain.length, `record batch at offset ${start} records`);
  const kept: RawRecord[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    const raw = decodeRecord(reader, i);
    const timestamp = header.timestampType === TimestampType.LogAppendTime ? header.maxTimestamp : header.baseTimestamp + raw.timestampDelta;
    if (keep({ offset: header.baseOffset + raw.offsetDelta, timestamp, key: raw.key, value: raw.value, headers: raw.headers })) kept.push(raw);
  }
  if (kept.length === header.recordCount) return Buffer.from(original);

  const writer = new ByteWriter(Math.max(64, plain.length), batchBytesMax);
  for (const raw of kept) encodeRecord(writer, raw);
  const section = kept.length === 0 ? Buffer.alloc(0) : compress(header.compression, writer.finish());
  const out = Buffer.alloc(recordBatchHeaderBytes + section.length);
  original.copy(out, 0, 0, recordBatchHeaderBytes);
  section.copy(out, recordBatchHeaderBytes);
  const f = batchFieldOffsets;
  out.writeInt32BE(out.length - 12, f.batchLength);
  out.writeInt32BE(kept.length, f.recordCount);
  // An empty batch has no records section to decompress: drop the codec bits.
  if (kept.length === 0) out.writeInt16BE(header.attributes & ~0x07, f.attributes);
  out.writeUInt32BE(crc32c(out, f.attributes, out.length), f.crc);
  const check = readBatchHeader(out, 0);
  if (check.lastOffsetDelta !== header.lastOffsetDelta || check.recordCount !== kept.length) {
    throw new Error('filterBatchRecords: the rewritten header does not match');
  }
  return out;
}
