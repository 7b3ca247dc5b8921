/**
 * Zigzag varints, as Kafka writes them in Record v2.
 *
 *   VARINT  => zigzag(int32), then LEB128: 7 bits per byte, low group first,
 *              high bit set on every byte but the last; 1..5 bytes
 *   VARLONG => zigzag(int64), same layout; 1..10 bytes
 *   zigzag(v) = (v << 1) ^ (v >> 63)   so 0,-1,1,-2,2 … map to 0,1,2,3,4 …
 *
 * Follows `clients/src/main/java/org/apache/kafka/common/utils/ByteUtils.java`
 * (writeVarint / readVarint / writeVarlong / readVarlong / sizeOfVarint).
 *
 * Values are JS numbers: a varint is an int32, and a varlong must be a safe
 * integer (|v| <= 2^53 - 1). A varlong whose value falls outside that range is
 * rejected rather than silently rounded. Readers never read past `end`, and a
 * varint longer than its maximum width, or whose last byte carries bits beyond
 * the type's width, is a CorruptBatchError (Java throws IllegalArgumentException
 * "Varint is too long" for the former and drops the stray bits of the latter;
 * we reject both).
 */
import { CorruptBatchError } from '../errors';
import { assert } from './assert';

export const varintBytesMax = 5;
export const varlongBytesMax = 10;

const int32Min = -0x8000_0000;
const int32Max = 0x7fff_ffff;

export function isInt32(v: number): boolean {
  return Number.isInteger(v) && v >= int32Min && v <= int32Max;
}

export function sizeOfVarint(value: number): number {
  if (!isInt32(value)) assert(false, `varint value ${value} is an int32`);
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (u >= 0x80) {
    u >>>= 7;
    bytes += 1;
  }
  return bytes;
}

export function sizeOfVarlong(value: number): number {
  if (!Number.isSafeInteger(value)) assert(false, `varlong value ${value} is a safe integer`);
  // zigzag(v) = 2m + s with m = v >= 0 ? v : -v - 1; the first byte holds 6 bits of m.
  let m = value >= 0 ? value : -value - 1;
  m = Math.floor(m / 64);
  let bytes = 1;
  while (m > 0) {
    m = Math.floor(m / 128);
    bytes += 1;
  }
  return bytes;
}

/** Writes `value` at `offset`; returns the offset after it. The caller ensures room for 5 bytes. */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  if (!isInt32(value)) assert(false, `varint value ${value} is an int32`);
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  let at = offset;
  while (u >= 0x80) {
    buf[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[at++] = u;
  return at;
}

/**
 * Writes `value` at `offset`; returns the offset after it. The caller ensures room for 10 bytes.
 * zigzag(v) may exceed 2^53, so it is never formed: with v = m (s = 0) or v = -m - 1 (s = 1),
 * zigzag(v) = 2m + s, whose low 7 bits are (m mod 64) * 2 + s and whose remaining bits are m / 64.
 */
export function writeVarlong(buf: Uint8Array, offset: number, value: number): number {
  if (!Number.isSafeInteger(value)) assert(false, `varlong value ${value} is a safe integer`);
  const s = value < 0 ? 1 : 0;
  let m = value >= 0 ? value : -value - 1;
  let group = (m % 64) * 2 + s;
  m = Math.floor(m / 64);
  let at = offset;
  while (m > 0) {
    buf[at++] = group | 0x80;
    group = m % 128;
    m = Math.floor(m / 128);
  }
  buf[at++] = group;
  return at;
}

export interface VarintRead {
  value: number;
  /** Bytes consumed. */
  bytes: number;
}

function truncated(field: string, offset: number, end: number): CorruptBatchError {
  return new CorruptBatchError(`${field} is truncated: varint at offset ${offset} runs past the end (${end})`);
}

export function readVarintAt(buf: Uint8Array, offset: number, end: number, field: string = 'varint'): VarintRead {
  let u = 0;
  for (let i = 0; i < varintBytesMax; i++) {
    const at = offset + i;
    if (at >= end) throw truncated(field, offset, end);
    const b = buf[at]!;
    if (i === varintBytesMax - 1 && b > 0x0f) {
      // The fifth byte holds bits 28..31; anything above is overflow (or a continuation).
      throw new CorruptBatchError(`${field} at offset ${offset} overflows 32 bits`);
    }
    u += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      // u < 2^32 here, so >>> 0 is exact; unzigzag to an int32.
      u = u >>> 0;
      return { value: (u >>> 1) ^ -(u & 1), bytes: i + 1 };
    }
  }
  throw new CorruptBatchError(`${field} at offset ${offset} is longer than ${varintBytesMax} bytes`);
}

/**
 * Reads a varlong as a safe integer. Accumulates m = zigzag >> 1 directly (the sign
 * bit s is bit 0 of the first byte), so every partial sum is exact until it would
 * pass 2^53 - 1, which is rejected.
 */
export function readVarlongAt(buf: Uint8Array, offset: number, end: number, field: string = 'varlong'): VarintRead {
  let s = 0;
  let m = 0;
  for (let i = 0; i < varlongBytesMax; i++) {
    const at = offset + i;
    if (at >= end) throw truncated(field, offset, end);
    const b = buf[at]!;
    const group = b & 0x7f;
    if (i === 0) {
      s = group & 1;
      m = group >>> 1;
    } else {
      m += group * 2 ** (7 * i - 1);
      if (m > Number.MAX_SAFE_INTEGER) {
        throw new CorruptBatchError(`${field} at offset ${offset} is outside the safe integer range`);
      }
    }
    if (b < 0x80) {
      const value = s === 0 ? m : -m - 1;
      if (!Number.isSafeInteger(value)) {
        throw new CorruptBatchError(`${field} at offset ${offset} is outside the safe integer range`);
      }
      return { value, bytes: i + 1 };
    }
  }
  throw new CorruptBatchError(`${field} at offset ${offset} is longer than ${varlongBytesMax} bytes`);
}
