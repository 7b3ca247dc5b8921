/**
 * Kafka's default partitioner hash: MurmurHash2, 32-bit, seed 0x9747b28c.
 *
 *   h = seed ^ len
 *   for each 4-byte little-endian word k:  k *= m; k ^= k >>> r; k *= m; h *= m; h ^= k
 *   tail (len % 4 bytes): h ^= b2 << 16; h ^= b1 << 8; h ^= b0; h *= m
 *   h ^= h >>> 13; h *= m; h ^= h >>> 15
 *   with m = 0x5bd1e995, r = 24, all arithmetic on Java's signed 32-bit int.
 *
 * Follows `clients/src/main/java/org/apache/kafka/common/utils/Utils.java`
 * (murmur2, toPositive) and `clients/.../producer/internals/BuiltInPartitioner.java`
 * (partitionForKey). Math.imul gives Java's wrapping int multiply; `>>>` is Java's
 * unsigned shift, and `| 0` / `^` bring results back to a signed int32.
 */
import { assert } from '../codec/assert';

const seed = 0x9747b28c | 0;
const m = 0x5bd1e995;
const r = 24;

/** The Java `int` Kafka's Utils.murmur2 returns for `data` (signed 32-bit). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = seed ^ length;
  const length4 = length >>> 2;

  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }

  // Java's switch falls through from case 3 to case 1; spelled out as nested tests.
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }

  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which fails for MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's Java producer (and kafkajs's default partitioner) picks for a keyed record. */
export function partitionForKey(key: Uint8Array, partitionsCount: number): number {
  assert(Number.isInteger(partitionsCount) && partitionsCount > 0, `partitionsCount ${partitionsCount} is a positive integer`);
  return toPositive(murmur2(key)) % partitionsCount;
}
