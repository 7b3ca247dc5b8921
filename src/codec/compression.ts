/**
 * Compression of the records section of a RecordBatch v2.
 *
 *   attributes bits 0-2 => 0 none | 1 gzip | 2 snappy | 3 lz4 | 4 zstd   (5-7 invalid)
 *   compressed batch    => header … recordsCount INT32, codec(Record…)
 *
 * Follows `clients/src/main/java/org/apache/kafka/common/record/CompressionType.java`.
 * gzip (node:zlib, synchronously) and snappy (./snappy.ts, Kafka's xerial
 * framing) are implemented; lz4 and zstd are recognised but rejected as
 * unsupported. Decompression is bounded by `decompressedBytesMax`, so a bomb
 * becomes a CorruptBatchError instead of an out-of-memory crash.
 */
import * as zlib from 'node:zlib';
import { CorruptBatchError } from '../errors';
import { assert } from './assert';
import { snappyCompress, snappyDecompress } from './snappy';

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

export function isCompressionCodec(value: unknown): value is CompressionCodec {
  return typeof value === 'string' && (codecsById as readonly string[]).includes(value);
}

/** The codec for attribute id `id` (0..4); any other id is a CorruptBatchError. */
export function compressionCodecFromId(id: number): CompressionCodec {
  const codec = codecsById[id];
  if (codec === undefined) throw new CorruptBatchError(`unknown compression codec id ${id}`);
  return codec;
}

function unsupported(codec: CompressionCodec): CorruptBatchError {
  return new CorruptBatchError(`compression codec ${codec} is not supported`);
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
    default:
      throw unsupported(codec);
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
        throw new CorruptBatchError(`records section of ${buf.length} bytes exceeds ${maxOutputBytes} bytes`);
      }
      return buf;
    case 'gzip':
      try {
        return zlib.gunzipSync(buf, { maxOutputLength: maxOutputBytes });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new CorruptBatchError(`gzip records section of ${buf.length} bytes does not decompress: ${reason}`);
      }
    case 'snappy':
      return snappyDecompress(buf, maxOutputBytes);
    default:
      throw unsupported(codec);
  }
}
