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

/**
 * One zstd frame of `input`: single segment (so the window is the content,
 * declared in the header), no checksum, blocks of at most 128 KiB.
 */
export function zstdCompress(input: Buffer): Buffer {
  const parts: Buffer[] = [frameHeader(input.length)];
  if (input.length === 0) parts.push(blockHeader(true, 0, 0));
  for (let start = 0; start < input.length; start += zstdBlockBytes) {
    const end = Math.min(input.length, start + zstdBlockBytes);
    const last = end === input.length;
    const block = input.subarray(start, end);
    if (isRun(block)) {
      parts.push(blockHeader(last, 1, block.length), block.subarray(0, 1));
    } else {
      parts.push(blockHeader(last, 0, block.length), block);
    }
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
