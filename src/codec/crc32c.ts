/**
 * CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value
 * 0xFFFFFFFF, final XOR 0xFFFFFFFF. check("123456789") = 0xE3069283.
 *
 * RecordBatch v2 stores it as UINT32 over attributes … end of batch; see
 * `clients/src/main/java/org/apache/kafka/common/utils/Crc32C.java` and
 * `DefaultRecordBatch.computeChecksum`.
 *
 * Table-driven, slicing-by-8: eight 256-entry tables let the loop fold eight
 * bytes per step, which matters because every read and write of a batch
 * checksums the whole batch.
 */
import { assert } from './assert';

const polynomial = 0x82f63b78;
const tables: Uint32Array[] = buildTables();

function buildTables(): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    t0[n] = c >>> 0;
  }
  const result = [t0];
  for (let t = 1; t < 8; t++) {
    const prev = result[t - 1]!;
    const next = new Uint32Array(256);
    for (let n = 0; n < 256; n++) next[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
    result.push(next);
  }
  return result;
}

/** Continues a CRC-32C over `buf[start, end)`. `crc` is a previous result (0 to start afresh). */
export function crc32cUpdate(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  assert(Number.isInteger(start) && Number.isInteger(end), 'crc32c range is integral');
  assert(0 <= start && start <= end && end <= buf.length, `crc32c range [${start}, ${end}) is within ${buf.length} bytes`);
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [
    Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
  ];
  let c = ~crc >>> 0;
  let i = start;
  const end8 = start + ((end - start) & ~7);
  while (i < end8) {
    const lo = (c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    c =
      t7[lo & 0xff]! ^
      t6[(lo >>> 8) & 0xff]! ^
      t5[(lo >>> 16) & 0xff]! ^
      t4[lo >>> 24]! ^
      t3[buf[i + 4]!]! ^
      t2[buf[i + 5]!]! ^
      t1[buf[i + 6]!]! ^
      t0[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) {
    c = (c >>> 8) ^ t0[(c ^ buf[i]!) & 0xff]!;
    i += 1;
  }
  return ~c >>> 0;
}

/** CRC-32C of `buf[start, end)` as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return crc32cUpdate(0, buf, start, end);
}
