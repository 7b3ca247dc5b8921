/**
 * Bounds-checked big-endian cursor over a Buffer, and a growable writer.
 *
 * Wire primitives (Kafka protocol guide, "Protocol Primitive Types"):
 *   INT8 | INT16 | INT32 | UINT32 | INT64   big-endian, two's complement
 *   VARINT | VARLONG                         zigzag LEB128 (see ./varint.ts)
 *
 * Follows the reads of `clients/src/main/java/org/apache/kafka/common/utils/ByteUtils.java`
 * but never lets a read run past `end`: every read first checks that the bytes
 * are there and otherwise throws CorruptBatchError naming the field and the
 * offset, so a truncated or lying input can never surface as a RangeError.
 */
import { CorruptBatchError } from '../errors';
import { assert } from './assert';
import { readVarintAt, readVarlongAt, writeVarint, writeVarlong } from './varint';

export class ByteReader {
  offset: number;

  /**
   * @param describe names the structure being read, for error messages ("record batch at 0").
   *   A function is called only when an error is raised, keeping string building off the hot path.
   */
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
    private readonly describe: string | (() => string),
  ) {
    // Hot path (one reader per record): test first, build the message only on failure.
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= buf.length)) {
      assert(false, `reader range [${start}, ${end}) is within the buffer (${buf.length})`);
    }
    this.offset = start;
  }

  get what(): string {
    return typeof this.describe === 'string' ? this.describe : this.describe();
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Throws CorruptBatchError unless `n` more bytes are available for `field`. */
  need(n: number, field: string): void {
    if (n > this.end - this.offset) {
      throw new CorruptBatchError(
        `${this.what} is truncated: ${field} needs ${n} bytes at offset ${this.offset} but only ${this.end - this.offset} remain`,
      );
    }
  }

  int8(field: string): number {
    this.need(1, field);
    const v = this.buf.readInt8(this.offset);
    this.offset += 1;
    return v;
  }

  int16(field: string): number {
    this.need(2, field);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(field: string): number {
    this.need(4, field);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** INT64 as a JS number; a value outside the safe-integer range is corrupt. */
  int64(field: string): number {
    this.need(8, field);
    const v = readInt64At(this.buf, this.offset, `${this.what}: ${field}`);
    this.offset += 8;
    return v;
  }

  varint(field: string): number {
    try {
      const { value, bytes } = readVarintAt(this.buf, this.offset, this.end, field);
      this.offset += bytes;
      return value;
    } catch (err) {
      throw this.withContext(err);
    }
  }

  varlong(field: string): number {
    try {
      const { value, bytes } = readVarlongAt(this.buf, this.offset, this.end, field);
      this.offset += bytes;
      return value;
    } catch (err) {
      throw this.withContext(err);
    }
  }

  /** Prefixes a varint error with what is being read; message strings are built only on failure. */
  private withContext(err: unknown): unknown {
    return err instanceof CorruptBatchError ? new CorruptBatchError(`${this.what}: ${err.message}`) : err;
  }

  /** Steps over the next `n` bytes (as `bytes`, without making a view). */
  skip(n: number, field: string): void {
    if (!(Number.isInteger(n) && n >= 0)) assert(false, `byte count ${n} is a non-negative integer`);
    this.need(n, field);
    this.offset += n;
  }

  /** A view (no copy) of the next `n` bytes. */
  bytes(n: number, field: string): Buffer {
    if (!(Number.isInteger(n) && n >= 0)) assert(false, `byte count ${n} is a non-negative integer`);
    this.need(n, field);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
}

const twoPow32 = 0x1_0000_0000;

/**
 * Reads a big-endian INT64 as a number. `hi * 2^32` is exact for every int32 `hi`,
 * and adding `lo` is exact while the true value is a safe integer; when it is not,
 * the rounded sum is at least 2^53 in magnitude, so the safe-integer check still
 * rejects it. No BigInt on the hot path.
 */
export function readInt64At(buf: Buffer, offset: number, field: string): number {
  const hi = buf.readInt32BE(offset);
  const lo = buf.readUInt32BE(offset + 4);
  const v = hi * twoPow32 + lo;
  if (!Number.isSafeInteger(v)) {
    throw new CorruptBatchError(
      `${field} at offset ${offset} is outside the safe integer range (int64 0x${buf.toString('hex', offset, offset + 8)})`,
    );
  }
  return v;
}

export function writeInt64At(buf: Buffer, offset: number, value: number, field: string): void {
  if (!Number.isSafeInteger(value)) assert(false, `${field} ${value} is a safe integer`);
  buf.writeBigInt64BE(BigInt(value), offset);
}

/** Growable writer with a hard ceiling, so a runaway encoder fails instead of eating memory. */
export class ByteWriter {
  private buf: Buffer;
  private length = 0;

  constructor(
    initialBytes: number,
    private readonly bytesMax: number,
  ) {
    assert(Number.isInteger(initialBytes) && initialBytes > 0, `initial size ${initialBytes} is positive`);
    assert(initialBytes <= bytesMax, `initial size ${initialBytes} is within the bound ${bytesMax}`);
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get size(): number {
    return this.length;
  }

  private ensure(n: number): void {
    const needed = this.length + n;
    if (needed > this.bytesMax) assert(false, `encoded size ${needed} is within the bound ${this.bytesMax} bytes`);
    if (needed <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.min(this.bytesMax, Math.max(needed, this.buf.length * 2)));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.length);
    this.length += 1;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.length);
    this.length += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.length);
    this.length += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.length);
    this.length += 4;
    return this;
  }

  int64(v: number, field = 'int64'): this {
    this.ensure(8);
    writeInt64At(this.buf, this.length, v, field);
    this.length += 8;
    return this;
  }

  varint(v: number): this {
    this.ensure(5);
    this.length = writeVarint(this.buf, this.length, v);
    return this;
  }

  varlong(v: number): this {
    this.ensure(10);
    this.length = writeVarlong(this.buf, this.length, v);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Writes a string as UTF-8 (its length must be written separately). */
  utf8(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.ensure(n);
    this.length += this.buf.write(s, this.length, n, 'utf8');
    return this;
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
