/**
 * A fast, allocation-free scan of an uncompressed records section: the produce
 * path's common case. It answers true only for sections the full check
 * (checkRecord, through walkRecordBatch) accepts, and false for anything it
 * does not handle or that looks wrong, for the full check to decide and name
 * the error. Varints longer than 4 bytes (values beyond ±2^27, which no record
 * field of a batch under 8 MiB needs) are left to the full check, as are
 * timestamps the header would not make safe integers.
 */
import { headersPerRecordMax, recordBytesMin } from './record';

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

/** True when `buf[start, end)` holds exactly `h.recordCount` well-formed records. */
export function recordsLookWellFormed(buf: Uint8Array, start: number, end: number, h: ScanHeader): boolean {
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
    at = skipNullableBytes(buf, next, recordEnd); // key
    if (at < 0) return false;
    at = skipNullableBytes(buf, at, recordEnd); // value
    if (at < 0) return false;
    const headersCount = varint4(buf, at, recordEnd);
    if (!(headersCount >= 0 && headersCount <= headersPerRecordMax)) return false;
    at = next;
    for (let k = 0; k < headersCount; k++) {
      const keyLength = varint4(buf, at, recordEnd);
      if (!(keyLength >= 0) || next + keyLength > recordEnd) return false;
      at = skipNullableBytes(buf, next + keyLength, recordEnd);
      if (at < 0) return false;
    }
    if (at !== recordEnd) return false;
  }
  return at === end;
}
