/**
 * Decoding records for a JSON answer without letting one stored batch decide
 * how much work a fetch does. `recordsFrom` inflates every batch and builds
 * every record before anything is measured: a 65 KB gzip batch of one 60 MiB
 * value, or of a million tiny records, then cost seconds and gigabytes for a
 * response that can hold 5 MiB. This walk instead
 *
 *  - decompresses a batch only when the walk reaches it, within what is left of
 *    the fetch's `fetchDecompressedBytesMax`, and stops before a batch that does
 *    not fit (the next fetch starts there, with the whole budget);
 *  - hands records over one at a time, and stops as soon as the caller says the
 *    response is full, so records past it are never built.
 *
 * The bytes come from readEntries with its CRC-32C check (the JSON fetch and the
 * v2 consumer decode, so they check: ARCHITECTURE "checked where it is
 * decoded"); each record is read by the codec's own full record reader.
 */
import { CorruptBatchError } from '../errors';
import { ByteReader } from '../codec/bytes';
import { decompress, decompressedBytesMax } from '../codec/compression';
import { decodeRecord } from '../codec/record';
import { recordBatchHeaderBytes, splitBatches, TimestampType } from '../codec/recordBatch';
import type { FetchedRecord } from './readPartition';

/**
 * Decompressed bytes one fetch (a JSON fetch, or one v2 `records` call over all
 * its partitions) may produce. Equal to the codec's per-batch ceiling, so any
 * batch the produce path accepted decodes when it is the first of a fetch, and
 * no fetch inflates more than one such batch's worth: the fetch function's
 * 1,024 MB (infra/access.ts) holds it with the read bytes and the response.
 */
export const fetchDecompressedBytesMax = decompressedBytesMax;

/** What is left of a fetch's decompression budget; shared by every walk of the fetch. */
export interface DecompressionAllowance {
  bytesLeft: number;
}

export const newAllowance = (): DecompressionAllowance => ({ bytesLeft: fetchDecompressedBytesMax });

/**
 * Walks the records of `batches` (patched, CRC-checked, as readEntries returns
 * them) from `fromOffset` on, skipping control batches. `take` returns false
 * to stop at that record (it is not consumed). Returns the offset the next
 * fetch resumes at when the walk stopped early, or undefined when it went
 * through every batch.
 */
export function walkRecords(
  batches: Buffer,
  fromOffset: number,
  allowance: DecompressionAllowance,
  take: (record: FetchedRecord) => boolean,
): number | undefined {
  if (batches.length === 0) return undefined;
  for (const slice of splitBatches(batches, { verifyCrc: false })) {
    const h = slice.header;
    if (h.isControl || h.baseOffset + h.lastOffsetDelta < fromOffset) continue;
    const resumeHere = Math.max(h.baseOffset, fromOffset);
    const bound = Math.min(decompressedBytesMax, allowance.bytesLeft);
    if (bound <= 0) return resumeHere;
    let plain: Buffer;
    try {
      plain = decompress(h.compression, batches.subarray(slice.start + recordBatchHeaderBytes, slice.start + h.sizeInBytes), bound);
    } catch (err) {
      // Under a bound tighter than the codec's own, a failure may only mean the
      // budget is spent: stop before the batch, which the next fetch decodes
      // first, with the whole budget (where a real corruption is reported).
      if (err instanceof CorruptBatchError && bound < decompressedBytesMax) return resumeHere;
      throw err;
    }
    allowance.bytesLeft -= plain.length;

    const where = `record batch at offset ${h.baseOffset}`;
    const r = new ByteReader(plain, 0, plain.length, `${where} records`);
    let previousDelta = -1;
    for (let i = 0; i < h.recordCount; i++) {
      const raw = decodeRecord(r, i);
      if (raw.offsetDelta <= previousDelta || raw.offsetDelta > h.lastOffsetDelta) {
        throw new CorruptBatchError(`${where}: record ${i} has offsetDelta ${raw.offsetDelta}; expected above ${previousDelta} and at most ${h.lastOffsetDelta}`);
      }
      previousDelta = raw.offsetDelta;
      const offset = h.baseOffset + raw.offsetDelta;
      if (offset < fromOffset) continue;
      const timestamp = h.timestampType === TimestampType.LogAppendTime ? h.maxTimestamp : h.baseTimestamp + raw.timestampDelta;
      if (!Number.isSafeInteger(timestamp)) throw new CorruptBatchError(`${where}: record ${i} timestamp overflows`);
      const record: FetchedRecord = { offset, timestamp, key: raw.key, value: raw.value, headers: raw.headers, timestampType: h.timestampType };
      if (!take(record)) return offset;
    }
    if (r.remaining !== 0) throw new CorruptBatchError(`${where}: ${r.remaining} bytes left over after ${h.recordCount} records`);
  }
  return undefined;
}
