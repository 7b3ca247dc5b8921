/**
 * Snappy for Kafka record batches, in the framing Kafka's Java client writes
 * (xerial snappy-java's SnappyOutputStream, used by CompressionType.SNAPPY):
 *
 *   header => magic [0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00], version INT32 (1), compatible INT32 (1)
 *   block  => length INT32, snappy-compressed bytes (blocks of at most 32 KiB uncompressed)
 *
 * Decoding also accepts a bare snappy stream (what some clients, e.g.
 * librdkafka's older versions, write). The block codec itself is snappyjs
 * (pure JavaScript, so it loads wherever Strand runs). Every failure and any
 * output beyond the bound is a CorruptBatchError.
 */
import { CorruptBatchError, DecompressedTooLargeError } from '../errors';
// snappyjs ships no types; its two functions take and return Buffers in Node.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const snappyjs = require('snappyjs') as {
  compress(input: Buffer): Buffer;
  uncompress(input: Buffer, maxLength?: number): Buffer;
};

const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const xerialHeaderBytes = 16;
/** snappy-java's default block size. */
export const snappyBlockBytes = 32 * 1024;

export function snappyCompress(input: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(xerialHeaderBytes);
  xerialMagic.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  parts.push(header);
  for (let at = 0; at < input.length; at += snappyBlockBytes) {
    const block = snappyjs.compress(input.subarray(at, Math.min(input.length, at + snappyBlockBytes)));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

export function snappyDecompress(input: Buffer, maxOutputBytes: number): Buffer {
  try {
    if (input.length >= xerialHeaderBytes && input.subarray(0, 8).equals(xerialMagic)) {
      const out: Buffer[] = [];
      let total = 0;
      let at = xerialHeaderBytes;
      while (at < input.length) {
        if (at + 4 > input.length) throw new Error(`truncated block length at byte ${at}`);
        const length = input.readInt32BE(at);
        at += 4;
        if (length < 0 || at + length > input.length) throw new Error(`block of ${length} bytes at byte ${at} runs past the end`);
        // snappyjs reads a block's declared length first and refuses one over the bound before allocating it.
        const block = snappyjs.uncompress(input.subarray(at, at + length), maxOutputBytes - total);
        total += block.length;
        out.push(block);
        at += length;
      }
      return Buffer.concat(out);
    }
    return snappyjs.uncompress(input, maxOutputBytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const tooLarge = /uncompressed length of \d+ is too big/.test(reason);
    throw new (tooLarge ? DecompressedTooLargeError : CorruptBatchError)(`snappy records section of ${input.length} bytes does not decompress: ${reason}`);
  }
}
