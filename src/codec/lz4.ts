/**
 * LZ4 for Kafka record batches: the LZ4 frame format
 * (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md) as Kafka
 * writes it since 0.10 (KafkaLZ4BlockOutputStream, and librdkafka's LZ4F):
 *
 *   frame  => magic 0x184D2204 (LE), FLG, BD, [content size UINT64], HC, block…, end mark 0, [content checksum]
 *   block  => size UINT32 (bit 31: stored uncompressed), data, [block checksum]
 *   HC     => (xxh32(FLG … last descriptor byte) >> 8) & 0xFF
 *
 * Written here: FLG 0x60 (version 01, independent blocks, no checksums), BD
 * 0x40 (64 KiB blocks), exactly what Kafka's Java producer writes. Read: any
 * frame of version 01 without a dictionary (linked or independent blocks,
 * block and content checksums, content size), several frames in a row, and
 * skippable frames. Checksums and the header checksum are verified (message
 * format v0's broken header checksum cannot occur in a v2 batch).
 *
 * Why our own code: the pure-JS libraries on npm (lz4js) neither bound nor
 * check their output (a bad offset reads zeros, output past the buffer is
 * silently dropped, checksums are skipped), and the fast ones are native
 * addons that cannot load on Lambda arm64 from an x86 build. The block format
 * is small; every length and offset is checked before it is used, and output is
 * bounded as it is produced, so a bomb stops at `maxOutputBytes`.
 */
import { CorruptBatchError, DecompressedTooLargeError } from '../errors';
import { xxhash32 } from './xxhash32';

const frameMagic = 0x184d2204;
const minMatch = 4;
/** The last 5 bytes of a block are literals, and a match starts at least 12 bytes before its end. */
const lastLiterals = 5;
const mfLimit = 12;
const blockMaxSizes: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };
/** Kafka's block size (BD 4). */
export const lz4BlockBytes = 64 * 1024;
const hashLog = 14;

// ---- compression -----------------------------------------------------------

/** Compresses `src[start, end)` as one LZ4 block into `dst` at `at`; returns the end of what was written. `dst` has room for the worst case. */
function compressBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number, table: Int32Array): number {
  let anchor = start;
  let d = at;
  const writeLength = (n: number): void => {
    for (; n >= 255; n -= 255) dst[d++] = 255;
    dst[d++] = n;
  };
  if (end - start >= mfLimit + 1) {
    const matchEnd = end - lastLiterals;
    const lastStart = end - mfLimit;
    let i = start;
    while (i <= lastStart) {
      const seq = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
      const h = Math.imul(seq, 2654435761) >>> (32 - hashLog);
      const candidate = table[h]!;
      table[h] = i;
      if (
        candidate < start ||
        i - candidate > 0xffff ||
        src[candidate] !== src[i] ||
        src[candidate + 1] !== src[i + 1] ||
        src[candidate + 2] !== src[i + 2] ||
        src[candidate + 3] !== src[i + 3]
      ) {
        i += 1 + ((i - anchor) >> 6);
        continue;
      }
      let length = minMatch;
      while (i + length < matchEnd && src[candidate + length] === src[i + length]) length++;
      const literals = i - anchor;
      const ml = length - minMatch;
      dst[d++] = (Math.min(literals, 15) << 4) | Math.min(ml, 15);
      if (literals >= 15) writeLength(literals - 15);
      dst.set(src.subarray(anchor, i), d);
      d += literals;
      const offset = i - candidate;
      dst[d++] = offset & 0xff;
      dst[d++] = offset >>> 8;
      if (ml >= 15) writeLength(ml - 15);
      i += length;
      anchor = i;
    }
  }
  const literals = end - anchor;
  dst[d++] = Math.min(literals, 15) << 4;
  if (literals >= 15) writeLength(literals - 15);
  dst.set(src.subarray(anchor, end), d);
  return d + literals;
}

/** An LZ4 frame of `input`, in Kafka's framing (independent 64 KiB blocks, no checksums). */
export function lz4Compress(input: Buffer): Buffer {
  const blocks = Math.ceil(input.length / lz4BlockBytes);
  // Worst case per block: its bytes, a length byte per 255 literals, the token, and the block size field.
  const out = Buffer.alloc(7 + 4 + input.length + blocks * (4 + 1 + Math.ceil(lz4BlockBytes / 255) + 16));
  out.writeUInt32LE(frameMagic, 0);
  out[4] = 0x60;
  out[5] = 0x40;
  out[6] = (xxhash32(out, 4, 6) >>> 8) & 0xff;
  let at = 7;
  const table = new Int32Array(1 << hashLog).fill(-1);
  const scratch = Buffer.alloc(lz4BlockBytes + Math.ceil(lz4BlockBytes / 255) + 16);
  for (let start = 0; start < input.length; start += lz4BlockBytes) {
    const end = Math.min(input.length, start + lz4BlockBytes);
    const size = compressBlock(input, start, end, scratch, 0, table);
    if (size < end - start) {
      out.writeUInt32LE(size, at);
      scratch.copy(out, at + 4, 0, size);
      at += 4 + size;
    } else {
      out.writeUInt32LE((0x80000000 | (end - start)) >>> 0, at);
      input.copy(out, at + 4, start, end);
      at += 4 + end - start;
    }
  }
  out.writeUInt32LE(0, at);
  return out.subarray(0, at + 4);
}

// ---- decompression ---------------------------------------------------------

/** Output that grows (doubling) up to a bound, and refuses to pass it. */
class BoundedOutput {
  buf: Buffer;
  length = 0;

  constructor(
    initial: number,
    private readonly bound: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(64, Math.min(initial, bound)));
  }

  ensure(more: number): void {
    const need = this.length + more;
    if (need > this.bound) throw new DecompressedTooLargeError(`lz4 records section decompresses to more than ${this.bound} bytes`);
    if (need <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.min(this.bound, Math.max(need, this.buf.length * 2)));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}

class Lz4FormatError extends Error {}
const bad = (message: string): Lz4FormatError => new Lz4FormatError(message);

/** Decodes one block `src[at, end)` onto `out`; matches may reach back to `windowStart` in `out`. */
function decompressBlock(src: Buffer, at: number, end: number, out: BoundedOutput, windowStart: number, blockMax: number): void {
  const blockStart = out.length;
  const readLength = (n: number): number => {
    let b: number;
    do {
      if (at >= end) throw bad('a length runs past the end of its block');
      b = src[at++]!;
      n += b;
    } while (b === 255);
    return n;
  };
  for (;;) {
    if (at >= end) throw bad('a block ends without its last literals');
    const token = src[at++]!;
    let literals = token >>> 4;
    if (literals === 15) literals = readLength(literals);
    if (literals > end - at) throw bad(`${literals} literals run past the end of their block`);
    if (out.length - blockStart + literals > blockMax) throw bad(`a block decompresses to more than its ${blockMax}-byte maximum`);
    out.ensure(literals);
    src.copy(out.buf, out.length, at, at + literals);
    out.length += literals;
    at += literals;
    if (at === end) return; // the last sequence is literals alone
    if (end - at < 2) throw bad('a match offset runs past the end of its block');
    const offset = src[at]! | (src[at + 1]! << 8);
    at += 2;
    if (offset === 0 || offset > out.length - windowStart) throw bad(`match offset ${offset} points before the start of the data`);
    let length = token & 15;
    if (length === 15) length = readLength(length);
    length += minMatch;
    if (out.length - blockStart + length > blockMax) throw bad(`a block decompresses to more than its ${blockMax}-byte maximum`);
    out.ensure(length);
    const buf = out.buf;
    let from = out.length - offset;
    let to = out.length;
    if (offset >= length) {
      buf.copy(buf, to, from, from + length);
    } else {
      for (const stop = to + length; to < stop; ) buf[to++] = buf[from++]!;
    }
    out.length += length;
  }
}

/**
 * Inverse of `lz4Compress` for any LZ4 frame (see the header). Failures and
 * output beyond `maxOutputBytes` are CorruptBatchErrors; the latter, a
 * DecompressedTooLargeError, is raised before the output grows past the bound.
 */
export function lz4Decompress(input: Buffer, maxOutputBytes: number): Buffer {
  const out = new BoundedOutput(input.length * 4, maxOutputBytes);
  try {
    let at = 0;
    if (input.length === 0) throw bad('no frame');
    while (at < input.length) {
      if (input.length - at < 4) throw bad(`truncated frame magic at byte ${at}`);
      const magic = input.readUInt32LE(at);
      if ((magic & 0xfffffff0) === 0x184d2a50) {
        // A skippable frame: magic, size UINT32, that many bytes.
        if (input.length - at < 8) throw bad('truncated skippable frame');
        const size = input.readUInt32LE(at + 4);
        if (size > input.length - at - 8) throw bad('skippable frame runs past the end');
        at += 8 + size;
        continue;
      }
      if (magic !== frameMagic) throw bad(`bad magic 0x${magic.toString(16)} at byte ${at}`);
      at = decompressFrame(input, at + 4, out);
    }
    return out.buf.subarray(0, out.length);
  } catch (err) {
    if (err instanceof DecompressedTooLargeError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new CorruptBatchError(`lz4 records section of ${input.length} bytes does not decompress: ${reason}`);
  }
}

/** Decodes the frame whose descriptor starts at `at` onto `out`; returns where the frame ends. */
function decompressFrame(input: Buffer, at: number, out: BoundedOutput): number {
  const descriptorStart = at;
  if (input.length - at < 3) throw bad('truncated frame descriptor');
  const flg = input[at++]!;
  const bd = input[at++]!;
  if (flg >>> 6 !== 1) throw bad(`frame version ${flg >>> 6} is not 1`);
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw bad('reserved bits of the frame descriptor are set');
  const independent = (flg & 0x20) !== 0;
  const blockChecksums = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  if ((flg & 0x01) !== 0) throw bad('the frame needs a dictionary');
  const blockMax = blockMaxSizes[(bd >>> 4) & 7];
  if (blockMax === undefined) throw bad(`block maximum size id ${(bd >>> 4) & 7} is not 4..7`);
  let contentSize: number | undefined;
  if (hasContentSize) {
    if (input.length - at < 9) throw bad('truncated content size');
    const size = input.readBigUInt64LE(at);
    at += 8;
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecompressedTooLargeError(`lz4 frame declares ${size} bytes`);
    contentSize = Number(size);
  }
  const hc = input[at]!;
  if (hc !== ((xxhash32(input, descriptorStart, at) >>> 8) & 0xff)) throw bad('frame header checksum mismatch');
  at++;
  const frameStart = out.length;
  if (contentSize !== undefined) out.ensure(contentSize); // refuses a declared size beyond the bound before decoding
  for (;;) {
    if (input.length - at < 4) throw bad('truncated block size');
    const word = input.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const stored = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > blockMax) throw bad(`block of ${size} bytes exceeds the frame's ${blockMax}-byte maximum`);
    if (input.length - at < size + (blockChecksums ? 4 : 0)) throw bad('block runs past the end');
    if (blockChecksums && input.readUInt32LE(at + size) !== xxhash32(input, at, at + size)) throw bad('block checksum mismatch');
    if (stored) {
      out.ensure(size);
      input.copy(out.buf, out.length, at, at + size);
      out.length += size;
    } else {
      decompressBlock(input, at, at + size, out, independent ? out.length : frameStart, blockMax);
    }
    at += size + (blockChecksums ? 4 : 0);
  }
  if (contentChecksum) {
    if (input.length - at < 4) throw bad('truncated content checksum');
    if (input.readUInt32LE(at) !== xxhash32(out.buf, frameStart, out.length)) throw bad('content checksum mismatch');
    at += 4;
  }
  if (contentSize !== undefined && out.length - frameStart !== contentSize) {
    throw bad(`frame declares ${contentSize} bytes and decompresses to ${out.length - frameStart}`);
  }
  return at;
}
