/**
 * Compression of the records section of a RecordBatch v2.
 *
 *   attributes bits 0-2 => 0 none | 1 gzip | 2 snappy | 3 lz4 | 4 zstd   (5-7 invalid)
 *   compressed batch    => header … recordsCount INT32, codec(Record…)
 *
 * Follows `clients/src/main/java/org/apache/kafka/common/record/CompressionType.java`.
 * Every codec Kafka has is implemented, in pure JavaScript or Node's own zlib
 * (so each loads on Lambda arm64 and locally): gzip (node:zlib, synchronously),
 * snappy (./snappy.ts, Kafka's xerial framing), lz4 (./lz4.ts, the LZ4 frame
 * format Kafka writes) and zstd (./zstd.ts, standard zstd frames). Decompression
 * is bounded by `decompressedBytesMax` (and a request's DecompressionBudget),
 * checked as output is produced, so a bomb becomes a CorruptBatchError (or
 * 41301 against the budget) instead of an out-of-memory crash.
 */
import * as zlib from 'node:zlib';
import { CorruptBatchError, DecompressedTooLargeError, ErrorCode, StrandError } from '../errors';
import { assert } from './assert';
import { lz4Compress, lz4Decompress } from './lz4';
import { snappyCompress, snappyDecompress } from './snappy';
import { zstdCompress, zstdDecompress } from './zstd';

export type CompressionCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Kafka's attribute ids, bits 0-2 of a batch's attributes. */
export const compressionCodecIds: Readonly<Record<CompressionCodec, number>> = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};

const codecsById: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export const compressionCodecMask = 0x07;

/** Ceiling on the decompressed records section of one batch. */
export const decompressedBytesMax = 64 * 1024 * 1024;

/**
 * The decompressed bytes one request may make the server produce, all its
 * batches together. The per-batch ceiling alone let a request of small bombs
 * inflate ten times 64 MiB; every section is decompressed with at most what is
 * left, so the request is refused as soon as it would pass the budget, never
 * after inflating past it.
 */
export class DecompressionBudget {
  private used = 0;

  constructor(
    readonly bytesMax: number,
    /** Why the budget is what it is, for the refusal's message. */
    private readonly describe = `${bytesMax} bytes`,
  ) {
    assert(Number.isSafeInteger(bytesMax) && bytesMax > 0, `budget ${bytesMax} is a positive integer`);
  }

  get remaining(): number {
    return this.bytesMax - this.used;
  }

  /** Decompresses `buf` within both the per-batch ceiling and what is left of the budget, and charges its output. */
  decompress(codec: CompressionCodec, buf: Buffer): Buffer {
    const bound = Math.min(decompressedBytesMax, this.remaining);
    if (bound <= 0) throw this.exceeded();
    let plain: Buffer;
    try {
      plain = decompress(codec, buf, bound);
    } catch (err) {
      if (err instanceof DecompressedTooLargeError && bound < decompressedBytesMax) throw this.exceeded();
      throw err;
    }
    this.used += plain.length;
    return plain;
  }

  private exceeded(): StrandError {
    return new StrandError(
      ErrorCode.BodyTooLarge,
      `The request's record batches decompress to more than ${this.describe}; send fewer records per request.`,
    );
  }
}

export function isCompressionCodec(value: unknown): value is CompressionCodec {
  return typeof value === 'string' && (codecsById as readonly string[]).includes(value);
}

/** The codec for attribute id `id` (0..4); any other id is a CorruptBatchError. */
export function compressionCodecFromId(id: number): CompressionCodec {
  const codec = codecsById[id];
  if (codec === undefined) throw new CorruptBatchError(`unknown compression codec id ${id}`);
  return codec;
}

export function compress(codec: CompressionCodec, buf: Buffer): Buffer {
  assert(isCompressionCodec(codec), `compression codec ${String(codec)} is known`);
  switch (codec) {
    case 'none':
      return buf;
    case 'gzip':
      return zlib.gzipSync(buf);
    case 'snappy':
      return snappyCompress(buf);
    case 'lz4':
      return lz4Compress(buf);
    case 'zstd':
      return zstdCompress(buf);
  }
}

/**
 * Inverse of `compress`. Any failure of the codec (bad header, bad checksum,
 * truncation, output beyond `maxOutputBytes`) is a CorruptBatchError.
 */
export function decompress(codec: CompressionCodec, buf: Buffer, maxOutputBytes = decompressedBytesMax): Buffer {
  assert(isCompressionCodec(codec), `compression codec ${String(codec)} is known`);
  assert(Number.isInteger(maxOutputBytes) && maxOutputBytes > 0, `maxOutputBytes ${maxOutputBytes} is positive`);
  switch (codec) {
    case 'none':
      if (buf.length > maxOutputBytes) {
        throw new DecompressedTooLargeError(`records section of ${buf.length} bytes exceeds ${maxOutputBytes} bytes`);
      }
      return buf;
    case 'gzip':
      try {
        return zlib.gunzipSync(buf, { maxOutputLength: maxOutputBytes });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        // zlib stops at maxOutputLength with ERR_BUFFER_TOO_LARGE: it never inflates past the bound.
        const tooLarge = (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
        throw new (tooLarge ? DecompressedTooLargeError : CorruptBatchError)(`gzip records section of ${buf.length} bytes does not decompress: ${reason}`);
      }
    case 'snappy':
      return snappyDecompress(buf, maxOutputBytes);
    case 'lz4':
      return lz4Decompress(buf, maxOutputBytes);
    case 'zstd':
      return zstdDecompress(buf, maxOutputBytes);
  }
}
