/**
 * Zstandard for Kafka record batches: standard zstd frames (RFC 8878), as
 * Kafka's Java producer (zstd-jni's ZstdOutputStream) and librdkafka write
 * them.
 *
 * Decoding: fzstd (pure JavaScript, so it loads on Lambda arm64 and anywhere
 * else) does the entropy decoding. It trusts frame headers, so this module
 * first walks each frame's structure itself (header, every block header,
 * checksum) and decides how to decode it within the bound:
 *
 * - window at most 8 MiB (what zstd's spec asks every decoder to support;
 *   Kafka's producer at levels up to 19): fzstd's streaming decoder, block by
 *   block (a block is at most 128 KiB), counting output as it comes and
 *   stopping at the bound, so a lying content size or a run of RLE blocks
 *   cannot inflate past it; a declared content size must match exactly.
 * - a larger window with a declared content size within the bound: fzstd's
 *   one-shot decoder into a buffer of exactly that size. It cannot grow, so a
 *   lie cannot inflate past the declared size; it is not detected either (the
 *   output is cut or zero-filled to that size, and the records then fail to
 *   parse). Only levels 20-22 or long-distance matching write such windows.
 * - a larger window without a content size: refused (fzstd's streaming
 *   decoder would slide a window of up to 2 GiB for every block).
 *
 * A declared content size beyond the bound is refused before any decoding.
 * Frames with a dictionary are refused; a content checksum is not verified
 * (the batch's CRC-32C already covers the compressed bytes).
 *
 * Encoding: see `zstdCompress`.
 */
import { Decompress, decompress as decompressWhole } from 'fzstd';
import { CorruptBatchError, DecompressedTooLargeError } from '../errors';

const frameMagic = 0xfd2fb528;
/** Blocks are at most 128 KiB of content (Block_Maximum_Size). */
export const zstdBlockBytes = 128 * 1024;
/** The largest window decoded by the streaming decoder. */
export const zstdStreamWindowMax = 8 * 1024 * 1024;

class ZstdFormatError extends Error {}
const bad = (message: string): ZstdFormatError => new ZstdFormatError(message);

interface FrameInfo {
  start: number;
  end: number;
  windowSize: number;
  contentSize: number | undefined;
}

/** Walks one frame starting at its magic at `start`: header, block headers, checksum. */
function walkFrame(input: Buffer, start: number): FrameInfo {
  let at = start + 4;
  if (input.length - at < 1) throw bad('truncated frame header');
  const fhd = input[at++]!;
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const checksum = (fhd & 0x04) !== 0;
  if ((fhd & 0x08) !== 0) throw bad('reserved bit of the frame header is set');
  let windowSize = 0;
  if (!singleSegment) {
    if (input.length - at < 1) throw bad('truncated window descriptor');
    const wd = input[at++]!;
    const base = 2 ** (10 + (wd >>> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  if (input.length - at < dictBytes + fcsBytes) throw bad('truncated frame header');
  let dictId = 0;
  for (let i = 0; i < dictBytes; i++) dictId += input[at + i]! * 2 ** (8 * i);
  at += dictBytes;
  if (dictId !== 0) throw bad(`the frame needs dictionary ${dictId}`);
  let contentSize: number | undefined;
  if (fcsBytes > 0) {
    let size = 0;
    for (let i = 0; i < fcsBytes; i++) size += input[at + i]! * 2 ** (8 * i);
    if (fcsBytes === 2) size += 256;
    at += fcsBytes;
    contentSize = size; // beyond 2^53 only approximately, but then far beyond any bound too
  }
  if (singleSegment) windowSize = contentSize!;
  const blockMax = Math.min(zstdBlockBytes, windowSize);
  for (let last = false; !last; ) {
    if (input.length - at < 3) throw bad('truncated block header');
    const header = input[at]! | (input[at + 1]! << 8) | (input[at + 2]! << 16);
    at += 3;
    last = (header & 1) === 1;
    const type = (header >>> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw bad('reserved block type');
    if (size > blockMax) throw bad(`block of ${size} bytes exceeds the ${blockMax}-byte maximum`);
    const stored = type === 1 ? 1 : size; // an RLE block stores one byte
    if (input.length - at < stored) throw bad('block runs past the end');
    at += stored;
  }
  if (checksum) {
    if (input.length - at < 4) throw bad('truncated content checksum');
    at += 4;
  }
  return { start, end: at, windowSize, contentSize };
}

function tooLarge(bound: number): DecompressedTooLargeError {
  return new DecompressedTooLargeError(`zstd records section decompresses to more than ${bound} bytes`);
}

/** Decodes one walked frame within `limit` bytes of output; pushes its output to `parts` and returns its length. */
function decodeFrame(input: Buffer, frame: FrameInfo, limit: number, bound: number, parts: Uint8Array[]): number {
  if (frame.contentSize !== undefined && frame.contentSize > limit) throw tooLarge(bound);
  const bytes = input.subarray(frame.start, frame.end);
  if (frame.windowSize <= zstdStreamWindowMax) {
    const expected = frame.contentSize ?? limit;
    let total = 0;
    const decoder = new Decompress((chunk) => {
      total += chunk.length;
      if (total > expected) {
        if (frame.contentSize === undefined) throw tooLarge(bound);
        throw bad(`frame declares ${frame.contentSize} bytes and decompresses to more`);
      }
      if (chunk.length > 0) parts.push(chunk);
    });
    decoder.push(bytes, true);
    if (frame.contentSize !== undefined && total !== frame.contentSize) throw bad(`frame declares ${frame.contentSize} bytes and decompresses to ${total}`);
    return total;
  }
  if (frame.contentSize === undefined || frame.contentSize === 0) {
    throw bad(`a window of ${frame.windowSize} bytes without a content size (at most ${zstdStreamWindowMax} bytes are decoded without one)`);
  }
  // One shot into exactly contentSize bytes (fzstd allocates the declared size and writes in place).
  const out = decompressWhole(bytes);
  if (out.length !== frame.contentSize) throw bad(`frame declares ${frame.contentSize} bytes and decompresses to ${out.length}`);
  parts.push(out);
  return out.length;
}

/**
 * Decodes a records section of zstd frames (one, as Kafka writes, or several;
 * skippable frames are skipped). Failures and output beyond `maxOutputBytes`
 * are CorruptBatchErrors; the latter, a DecompressedTooLargeError, is raised
 * before the output passes the bound.
 */
export function zstdDecompress(input: Buffer, maxOutputBytes: number): Buffer {
  try {
    if (input.length === 0) throw bad('no frame');
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let at = 0; at < input.length; ) {
      if (input.length - at < 4) throw bad(`truncated frame magic at byte ${at}`);
      const magic = input.readUInt32LE(at);
      if ((magic & 0xfffffff0) === 0x184d2a50) {
        if (input.length - at < 8) throw bad('truncated skippable frame');
        const size = input.readUInt32LE(at + 4);
        if (size > input.length - at - 8) throw bad('skippable frame runs past the end');
        at += 8 + size;
        continue;
      }
      if (magic !== frameMagic) throw bad(`bad magic 0x${magic.toString(16)} at byte ${at}`);
      const frame = walkFrame(input, at);
      total += decodeFrame(input, frame, maxOutputBytes - total, maxOutputBytes, parts);
      at = frame.end;
    }
    return parts.length === 1 ? Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength) : Buffer.concat(parts, total);
  } catch (err) {
    if (err instanceof DecompressedTooLargeError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new CorruptBatchError(`zstd records section of ${input.length} bytes does not decompress: ${reason}`);
  }
}

// ---- compression -----------------------------------------------------------
//
// A small compressor: greedy LZ77 matching (a hash of 4 bytes, matches from
// anywhere earlier in the frame), sequences entropy-coded with zstd's
// predefined FSE distributions (RFC 8878 3.1.1.3.2.2), literals stored raw (no
// Huffman). Each block is written compressed, as one RLE byte, or raw,
// whichever is smallest. It compresses repetitive records about as well as LZ4;
// libzstd's level 1 is smaller still (Huffman literals, better matching).

const llBase = [16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
const llBits = [1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
/** Match length bases less 3 (the minimum match), for codes 32..52. */
const mlBase = [32, 34, 36, 38, 40, 44, 48, 56, 64, 80, 96, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
const mlBits = [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const llNorm = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1];
const mlNorm = [
  1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
];
const ofNorm = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1];

/** An FSE encoding table (zstd's FSE_buildCTable) for a normalized distribution. */
interface FseTable {
  log: number;
  states: Uint16Array;
  deltaNbBits: Int32Array;
  deltaFindState: Int32Array;
}

function fseTable(norm: number[], log: number): FseTable {
  const size = 1 << log;
  const mask = size - 1;
  let high = size - 1;
  const symbols = new Uint8Array(size);
  const cumul = new Int32Array(norm.length + 1);
  for (let s = 0; s < norm.length; s++) {
    if (norm[s] === -1) {
      cumul[s + 1] = cumul[s]! + 1;
      symbols[high--] = s;
    } else {
      cumul[s + 1] = cumul[s]! + norm[s]!;
    }
  }
  const step = (size >>> 1) + (size >>> 3) + 3;
  let pos = 0;
  for (let s = 0; s < norm.length; s++) {
    for (let n = 0; n < norm[s]!; n++) {
      symbols[pos] = s;
      do pos = (pos + step) & mask;
      while (pos > high);
    }
  }
  const states = new Uint16Array(size);
  for (let u = 0; u < size; u++) states[cumul[symbols[u]!]!++] = size + u;
  const deltaNbBits = new Int32Array(norm.length);
  const deltaFindState = new Int32Array(norm.length);
  let total = 0;
  for (let s = 0; s < norm.length; s++) {
    const count = norm[s]!;
    if (count === -1 || count === 1) {
      deltaNbBits[s] = (log << 16) - size;
      deltaFindState[s] = total - 1;
      total++;
    } else if (count > 1) {
      const maxBitsOut = log - (31 - Math.clz32(count - 1));
      deltaNbBits[s] = (maxBitsOut << 16) - (count << maxBitsOut);
      deltaFindState[s] = total - count;
      total += count;
    }
  }
  return { log, states, deltaNbBits, deltaFindState };
}

let predefined: { ll: FseTable; ml: FseTable; of: FseTable } | undefined;
const tables = () => (predefined ??= { ll: fseTable(llNorm, 6), ml: fseTable(mlNorm, 6), of: fseTable(ofNorm, 5) });

/** zstd's forward bit stream (BIT_CStream), read back from its end by the decoder. */
class BitWriter {
  private bytes = new Uint8Array(1024);
  private length = 0;
  private acc = 0;
  private bits = 0;

  add(value: number, n: number): void {
    if (n > 24) {
      this.add(value & 0xffff, 16);
      this.add(Math.floor(value / 65536), n - 16);
      return;
    }
    this.acc |= (value & ((1 << n) - 1)) << this.bits;
    this.bits += n;
    if (this.length + 4 > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    while (this.bits >= 8) {
      this.bytes[this.length++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  /** The end mark (a 1 bit) and padding to a byte. */
  close(): Buffer {
    this.add(1, 1);
    if (this.bits > 0) this.add(0, 8 - this.bits);
    return Buffer.from(this.bytes.subarray(0, this.length));
  }
}

class FseState {
  state = 0;
  constructor(private readonly t: FseTable) {}

  init(symbol: number): void {
    const nbBitsOut = (this.t.deltaNbBits[symbol]! + (1 << 15)) >> 16;
    const value = (nbBitsOut << 16) - this.t.deltaNbBits[symbol]!;
    this.state = this.t.states[(value >> nbBitsOut) + this.t.deltaFindState[symbol]!]!;
  }

  encode(out: BitWriter, symbol: number): void {
    const nbBitsOut = (this.state + this.t.deltaNbBits[symbol]!) >> 16;
    out.add(this.state, nbBitsOut);
    this.state = this.t.states[(this.state >> nbBitsOut) + this.t.deltaFindState[symbol]!]!;
  }

  flush(out: BitWriter): void {
    out.add(this.state, this.t.log);
  }
}

function codeOf(value: number, direct: number, bases: number[]): number {
  if (value < direct) return value;
  let i = bases.length - 1;
  while (bases[i]! > value) i--;
  return direct + i;
}

/** Sequences of one block: literal length, match length, offset. */
interface Sequences {
  count: number;
  ll: Int32Array;
  ml: Int32Array;
  of: Int32Array;
}

function sequencesSection(seqs: Sequences): Buffer {
  const n = seqs.count;
  let head: number[];
  if (n === 0) return Buffer.from([0]);
  if (n < 128) head = [n];
  else if (n < 0x7f00) head = [(n >>> 8) + 0x80, n & 0xff];
  else head = [0xff, (n - 0x7f00) & 0xff, (n - 0x7f00) >>> 8];
  head.push(0); // Symbol_Compression_Modes: predefined distributions for all three
  const t = tables();
  const llCode = new Uint8Array(n);
  const mlCode = new Uint8Array(n);
  const ofCode = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    llCode[i] = codeOf(seqs.ll[i]!, 16, llBase);
    mlCode[i] = codeOf(seqs.ml[i]! - 3, 32, mlBase);
    ofCode[i] = 31 - Math.clz32(seqs.of[i]! + 3);
  }
  const extra = (i: number, w: BitWriter) => {
    const lc = llCode[i]!;
    if (lc >= 16) w.add(seqs.ll[i]! - llBase[lc - 16]!, llBits[lc - 16]!);
    const mc = mlCode[i]!;
    if (mc >= 32) w.add(seqs.ml[i]! - 3 - mlBase[mc - 32]!, mlBits[mc - 32]!);
    w.add(seqs.of[i]! + 3, ofCode[i]!);
  };
  const w = new BitWriter();
  const ll = new FseState(t.ll);
  const ml = new FseState(t.ml);
  const of = new FseState(t.of);
  ml.init(mlCode[n - 1]!);
  of.init(ofCode[n - 1]!);
  ll.init(llCode[n - 1]!);
  extra(n - 1, w);
  for (let i = n - 2; i >= 0; i--) {
    of.encode(w, ofCode[i]!);
    ml.encode(w, mlCode[i]!);
    ll.encode(w, llCode[i]!);
    extra(i, w);
  }
  ml.flush(w);
  of.flush(w);
  ll.flush(w);
  return Buffer.concat([Buffer.from(head), w.close()]);
}

function rawLiteralsHeader(size: number): Buffer {
  if (size < 32) return Buffer.from([size << 3]);
  if (size < 4096) return Buffer.from([((size & 0xf) << 4) | 0x04, size >>> 4]);
  return Buffer.from([((size & 0xf) << 4) | 0x0c, (size >>> 4) & 0xff, size >>> 12]);
}

const hashLog = 16;
const minMatch = 4;

/**
 * One zstd frame of `input`: single segment (so the window is the content,
 * declared in the header), no checksum, blocks of at most 128 KiB, each
 * compressed (see above), RLE or raw, whichever is smallest.
 */
export function zstdCompress(input: Buffer): Buffer {
  const parts: Buffer[] = [frameHeader(input.length)];
  if (input.length === 0) parts.push(blockHeader(true, 0, 0));
  const table = new Int32Array(1 << hashLog).fill(-1);
  const maxSeqs = Math.ceil(zstdBlockBytes / minMatch) + 1;
  const seqs: Sequences = { count: 0, ll: new Int32Array(maxSeqs), ml: new Int32Array(maxSeqs), of: new Int32Array(maxSeqs) };
  const literals = Buffer.allocUnsafe(zstdBlockBytes);
  for (let start = 0; start < input.length; start += zstdBlockBytes) {
    const end = Math.min(input.length, start + zstdBlockBytes);
    const last = end === input.length;
    const block = input.subarray(start, end);
    if (isRun(block)) {
      parts.push(blockHeader(last, 1, block.length), block.subarray(0, 1));
      continue;
    }
    // Greedy matching; a match may reach back anywhere in the frame, and ends within this block.
    seqs.count = 0;
    let litLength = 0;
    let anchor = start;
    for (let i = start; i + minMatch <= end; ) {
      const h = Math.imul(input.readUInt32LE(i), 2654435761) >>> (32 - hashLog);
      const candidate = table[h]!;
      table[h] = i;
      // Offsets stay under 2^28: the predefined offset distribution codes up to 2^29 - 1 (offset + 3).
      if (candidate < 0 || i - candidate >= 1 << 28 || input.readUInt32LE(candidate) !== input.readUInt32LE(i)) {
        i += 1 + ((i - anchor) >> 6); // the longer without a match, the bigger the steps (as LZ4 does)
        continue;
      }
      let length = minMatch;
      while (i + length < end && input[candidate + length] === input[i + length]) length++;
      input.copy(literals, litLength, anchor, i);
      litLength += i - anchor;
      const n = seqs.count++;
      seqs.ll[n] = i - anchor;
      seqs.ml[n] = length;
      seqs.of[n] = i - candidate;
      i += length;
      anchor = i;
    }
    input.copy(literals, litLength, anchor, end);
    litLength += end - anchor;
    const body = Buffer.concat([rawLiteralsHeader(litLength), literals.subarray(0, litLength), sequencesSection(seqs)]);
    if (body.length < block.length) parts.push(blockHeader(last, 2, body.length), body);
    else parts.push(blockHeader(last, 0, block.length), block);
  }
  return Buffer.concat(parts);
}
function isRun(block: Buffer): boolean {
  const first = block[0];
  for (let i = 1; i < block.length; i++) if (block[i] !== first) return false;
  return true;
}

function blockHeader(last: boolean, type: number, size: number): Buffer {
  const value = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.from([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff]);
}

/** Magic, then a header with Single_Segment set and the smallest Frame_Content_Size field that holds `size`. */
function frameHeader(size: number): Buffer {
  if (size < 256) return Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, size]);
  if (size < 256 + 65536) {
    const b = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x60, 0, 0]);
    b.writeUInt16LE(size - 256, 5);
    return b;
  }
  const b = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0]);
  b.writeUInt32LE(size, 5);
  return b;
}
