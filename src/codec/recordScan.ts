/**
 * A fast, allocation-free scan of a (decompressed) records section: the common
 * case of both the produce path's check and every decode. It answers true only
 * for sections the full walk (walkRecordBatch with checkRecord or decodeRecord)
 * accepts, and false for anything it does not handle or that looks wrong, for
 * the full walk to decide and name the error. Varints longer than 4 bytes (values beyond ±2^27, which no record
 * field of a batch under 8 MiB needs) are left to the full check, as are
 * timestamps the header would not make safe integers.
 */
import { headersPerRecordMax, recordBytesMin, type RecordHeader } from './record';

/** Reads a zigzag varint of 1-4 bytes at `at` (before `end`): returns the value and sets `next`, or NaN. */
let next = 0;
function varint4(buf: Uint8Array, at: number, end: number): number {
  if (at >= end) return NaN;
  let b = buf[at]!;
  let u = b & 0x7f;
  if (b >= 0x80) {
    if (at + 1 >= end) return NaN;
    b = buf[at + 1]!;
    u |= (b & 0x7f) << 7;
    if (b >= 0x80) {
      if (at + 2 >= end) return NaN;
      b = buf[at + 2]!;
      u |= (b & 0x7f) << 14;
      if (b >= 0x80) {
        if (at + 3 >= end) return NaN;
        b = buf[at + 3]!;
        if (b >= 0x80) return NaN;
        u |= b << 21;
        next = at + 4;
        return (u >>> 1) ^ -(u & 1);
      }
      next = at + 3;
      return (u >>> 1) ^ -(u & 1);
    }
    next = at + 2;
    return (u >>> 1) ^ -(u & 1);
  }
  next = at + 1;
  return (u >>> 1) ^ -(u & 1);
}

/** Steps over a nullable BYTES field at `at`; returns the position after it, or -1. */
function skipNullableBytes(buf: Uint8Array, at: number, end: number): number {
  const length = varint4(buf, at, end);
  if (length === -1) return next;
  if (!(length >= 0) || next + length > end) return -1;
  return next + length;
}

export interface ScanHeader {
  recordCount: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  /** Whether record timestamps come from the records (CreateTime) and so must be checked. */
  createTime: boolean;
}

/**
 * Told of each record once the whole record is checked: positions in the
 * scanned buffer; a length of -1 is a null key or value. Records told of before
 * a scan answers false are to be dropped.
 */
export type RecordSink = (
  offsetDelta: number,
  timestampDelta: number,
  keyAt: number,
  keyLength: number,
  valueAt: number,
  valueLength: number,
  headersAt: number,
  headersCount: number,
) => void;

/** The headers of a record the scan has checked, read at `at`. */
export function readCheckedHeaders(buf: Buffer, at: number, count: number): RecordHeader[] {
  const headers: RecordHeader[] = [];
  const end = buf.length;
  for (let k = 0; k < count; k++) {
    const keyLength = varint4(buf, at, end);
    const keyAt = next;
    const valueLength = varint4(buf, keyAt + keyLength, end);
    const valueAt = next;
    headers.push({ key: buf.toString('utf8', keyAt, keyAt + keyLength), value: valueLength < 0 ? null : buf.subarray(valueAt, valueAt + valueLength) });
    at = valueLength < 0 ? valueAt : valueAt + valueLength;
  }
  return headers;
}

/** True when `buf[start, end)` holds exactly `h.recordCount` well-formed records; `sink` hears of each. */
export function recordsLookWellFormed(buf: Uint8Array, start: number, end: number, h: ScanHeader, sink?: RecordSink): boolean {
  if (h.recordCount * recordBytesMin > end - start) return false;
  let at = start;
  let previousDelta = -1;
  for (let i = 0; i < h.recordCount; i++) {
    const length = varint4(buf, at, end);
    if (!(length >= recordBytesMin - 1) || next + length > end) return false;
    const recordEnd = next + length;
    at = next + 1; // attributes: any INT8
    const timestampDelta = varint4(buf, at, recordEnd);
    if (Number.isNaN(timestampDelta)) return false;
    if (h.createTime && !Number.isSafeInteger(h.baseTimestamp + timestampDelta)) return false;
    const offsetDelta = varint4(buf, next, recordEnd);
    if (!(offsetDelta > previousDelta && offsetDelta <= h.lastOffsetDelta)) return false;
    previousDelta = offsetDelta;
    const keyLength = varint4(buf, next, recordEnd);
    const keyAt = next;
    if (!(keyLength >= -1) || keyAt + keyLength > recordEnd) return false;
    const valueLength = varint4(buf, keyLength < 0 ? keyAt : keyAt + keyLength, recordEnd);
    const valueAt = next;
    if (!(valueLength >= -1) || valueAt + valueLength > recordEnd) return false;
    at = valueLength < 0 ? valueAt : valueAt + valueLength;
    const headersCount = varint4(buf, at, recordEnd);
    if (!(headersCount >= 0 && headersCount <= headersPerRecordMax)) return false;
    at = next;
    const headersAt = at;
    for (let k = 0; k < headersCount; k++) {
      const headerKeyLength = varint4(buf, at, recordEnd);
      if (!(headerKeyLength >= 0) || next + headerKeyLength > recordEnd) return false;
      at = skipNullableBytes(buf, next + headerKeyLength, recordEnd);
      if (at < 0) return false;
    }
    if (at !== recordEnd) return false;
    sink?.(offsetDelta, timestampDelta, keyAt, keyLength, valueAt, valueLength, headersAt, headersCount);
  }
  return at === end;
}
