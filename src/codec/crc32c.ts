/**
 * CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value
 * 0xFFFFFFFF, final XOR 0xFFFFFFFF. check("123456789") = 0xE3069283.
 *
 * RecordBatch v2 stores it as UINT32 over attributes … end of batch; see
 * `clients/src/main/java/org/apache/kafka/common/utils/Crc32C.java` and
 * `DefaultRecordBatch.computeChecksum`.
 *
 * Table-driven, slicing-by-16: sixteen 256-entry tables, kept in one flat
 * Int32Array, let the loop fold sixteen bytes per step, read as four 32-bit
 * little-endian words. Every produce checksums each batch twice (the client
 * writes the CRC, the handler checks it) and every fetch once more (the
 * consumer checks it), so this loop is the hottest code per byte in Strand;
 * measured in `bench`, it runs at about twice the speed of byte-wise
 * slicing-by-8. Short inputs and big-endian hosts take the byte-wise loop.
 */
import { endianness } from 'node:os';
import { assert } from './assert';

const polynomial = 0x82f63b78;
const slices = 16;
/** tables[k * 256 + n]: the CRC of byte n followed by k zero bytes. */
const tables = buildTables();
/** Below this many bytes, making a word view costs more than it saves. */
const wordLoopMinBytes = 64;
const littleEndian = endianness() === 'LE';

function buildTables(): Int32Array {
  const t = new Int32Array(256 * slices);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < slices; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
}

/** Folds bytes one at a time: `c` is the running (inverted) register. */
function byteLoop(c: number, bytes: Uint8Array, from: number, to: number): number {
  const t = tables;
  for (let i = from; i < to; i++) c = (c >>> 8) ^ t[(c ^ bytes[i]!) & 0xff]!;
  return c;
}

/** Continues a CRC-32C over `buf[start, end)`. `crc` is a previous result (0 to start afresh). */
export function crc32cUpdate(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  assert(Number.isInteger(start) && Number.isInteger(end), 'crc32c range is integral');
  assert(0 <= start && start <= end && end <= buf.length, `crc32c range [${start}, ${end}) is within ${buf.length} bytes`);
  let c = ~crc;
  if (!littleEndian || end - start < wordLoopMinBytes) return ~byteLoop(c, buf, start, end) >>> 0;

  // Work in the coordinates of the underlying ArrayBuffer, so that words are aligned.
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  let i = start;
  const aligned = start + ((4 - ((buf.byteOffset + start) & 3)) & 3);
  c = byteLoop(c, bytes, i, aligned);
  i = aligned;
  const words = new Int32Array(buf.buffer, buf.byteOffset + i, (end - i) >>> 2);
  const t = tables;
  const wordEnd = words.length & ~3;
  for (let w = 0; w < wordEnd; w += 4) {
    const a = c ^ words[w]!;
    const b = words[w + 1]!;
    const d = words[w + 2]!;
    const e = words[w + 3]!;
    c =
      t[3840 + (a & 0xff)]! ^ t[3584 + ((a >>> 8) & 0xff)]! ^ t[3328 + ((a >>> 16) & 0xff)]! ^ t[3072 + (a >>> 24)]! ^
      t[2816 + (b & 0xff)]! ^ t[2560 + ((b >>> 8) & 0xff)]! ^ t[2304 + ((b >>> 16) & 0xff)]! ^ t[2048 + (b >>> 24)]! ^
      t[1792 + (d & 0xff)]! ^ t[1536 + ((d >>> 8) & 0xff)]! ^ t[1280 + ((d >>> 16) & 0xff)]! ^ t[1024 + (d >>> 24)]! ^
      t[768 + (e & 0xff)]! ^ t[512 + ((e >>> 8) & 0xff)]! ^ t[256 + ((e >>> 16) & 0xff)]! ^ t[e >>> 24]!;
  }
  i += wordEnd * 4;
  return ~byteLoop(c, bytes, i, end) >>> 0;
}

/** CRC-32C of `buf[start, end)` as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return crc32cUpdate(0, buf, start, end);
}
