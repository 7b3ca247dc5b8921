/**
 * Record v2, the unit inside a RecordBatch v2.
 *
 *   Record =>
 *     length          VARINT   bytes after this field
 *     attributes      INT8     unused, written as 0
 *     timestampDelta  VARLONG  timestamp - batch baseTimestamp
 *     offsetDelta     VARINT   offset - batch baseOffset
 *     keyLength       VARINT   -1 = null key
 *     key             BYTES
 *     valueLength     VARINT   -1 = null value
 *     value           BYTES
 *     headersCount    VARINT
 *     Header =>
 *       headerKeyLength    VARINT  (>= 0: a header key is never null)
 *       headerKey          UTF-8
 *       headerValueLength  VARINT  -1 = null value
 *       headerValue        BYTES
 *
 * Follows `clients/src/main/java/org/apache/kafka/common/record/DefaultRecord.java`
 * (writeTo / readFrom / readHeaders). As there, the declared length must be
 * consumed exactly: bytes left over, or fields running past it, are corrupt.
 */
import { CorruptBatchError } from '../errors';
import { assert } from './assert';
import { ByteReader, ByteWriter } from './bytes';
import { sizeOfVarint, sizeOfVarlong } from './varint';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface LogRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** Epoch milliseconds. */
  timestamp: number;
}

/** A record as it sits on the wire, before the batch gives it an offset and a timestamp. */
export interface RawRecord {
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** Ceiling on the headers of one record (Kafka has none but int32; ours keeps loops short). */
export const headersPerRecordMax = 4096;
/** Smallest encoding: length, attributes, timestampDelta, offsetDelta, key, value, headersCount — 1 byte each. */
export const recordBytesMin = 7;
/** Smallest header: key length 0 and value length -1, 1 byte each. */
const headerBytesMin = 2;

/** Bytes of a record's encoding, including its leading length varint. */
export function sizeOfRecord(record: RawRecord): number {
  const body = sizeOfRecordBody(record);
  return sizeOfVarint(body) + body;
}

function sizeOfNullableBytes(b: Buffer | null): number {
  return b === null ? 1 : sizeOfVarint(b.length) + b.length;
}

function sizeOfRecordBody(record: RawRecord): number {
  let size =
    1 +
    sizeOfVarlong(record.timestampDelta) +
    sizeOfVarint(record.offsetDelta) +
    sizeOfNullableBytes(record.key) +
    sizeOfNullableBytes(record.value) +
    sizeOfVarint(record.headers.length);
  for (const header of record.headers) {
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    size += sizeOfVarint(keyBytes) + keyBytes + sizeOfNullableBytes(header.value);
  }
  return size;
}

/**
 * Appends one record to `w`. Sizes are computed first (as DefaultRecord.sizeInBytes
 * does) so the length prefix is written directly, with no intermediate buffer.
 */
export function encodeRecord(w: ByteWriter, record: RawRecord): void {
  if (record.headers.length > headersPerRecordMax) assert(false, `record has at most ${headersPerRecordMax} headers`);
  for (const header of record.headers) assert(typeof header.key === 'string', 'a header key is a string');
  assert(record.key === null || record.key instanceof Uint8Array, 'a record key is a Buffer or null');
  assert(record.value === null || record.value instanceof Uint8Array, 'a record value is a Buffer or null');
  const bodyBytes = sizeOfRecordBody(record);
  const before = w.size;
  w.varint(bodyBytes);
  const bodyStart = w.size;
  w.int8(record.attributes);
  w.varlong(record.timestampDelta);
  w.varint(record.offsetDelta);
  writeNullableBytes(w, record.key);
  writeNullableBytes(w, record.value);
  w.varint(record.headers.length);
  for (const header of record.headers) {
    w.varint(Buffer.byteLength(header.key, 'utf8'));
    w.utf8(header.key);
    writeNullableBytes(w, header.value);
  }
  if (w.size - bodyStart !== bodyBytes) assert(false, `record body is ${bodyBytes} bytes as computed`);
  assert(w.size - before === sizeOfVarint(bodyBytes) + bodyBytes, 'record length prefix and body add up');
}

function writeNullableBytes(w: ByteWriter, b: Buffer | null): void {
  if (b === null) {
    w.varint(-1);
    return;
  }
  assert(b instanceof Uint8Array, 'header values are Buffers or null');
  w.varint(b.length);
  w.bytes(b);
}

/**
 * Reads one record at `r.offset`. `index` names it in error messages. Key, value
 * and header values are views into the reader's buffer (no copy).
 */
export function decodeRecord(r: ByteReader, index: number): RawRecord {
  return readRecord(r, index, true);
}

/**
 * Checks one record at `r.offset` exactly as decodeRecord does — it throws the
 * same CorruptBatchError for the same bytes — but makes no views, strings or
 * header objects: the returned record has null key and value and no headers.
 * The produce path validates every record this way before it stores the batch
 * unchanged, so nothing it would build is ever used.
 */
export function checkRecord(r: ByteReader, index: number): RawRecord {
  return readRecord(r, index, false);
}

const noHeaders: RecordHeader[] = [];

function readRecord(r: ByteReader, index: number, keep: boolean): RawRecord {
  const recordStart = r.offset;
  const where = () => `${r.what}: record ${index} at offset ${recordStart}`;
  const length = r.varint(`record ${index} length`);
  if (length < recordBytesMin - 1) {
    throw new CorruptBatchError(`${where()} declares length ${length}, below the minimum ${recordBytesMin - 1}`);
  }
  if (length > r.remaining) {
    throw new CorruptBatchError(`${where()} declares length ${length} but only ${r.remaining} bytes remain`);
  }
  const body = new ByteReader(r.buf, r.offset, r.offset + length, where);
  r.offset += length;

  const attributes = body.int8('attributes');
  const timestampDelta = body.varlong('timestampDelta');
  const offsetDelta = body.varint('offsetDelta');
  const key = readNullableBytes(body, 'key', keep);
  const value = readNullableBytes(body, 'value', keep);
  const headersCount = body.varint('headersCount');
  if (headersCount < 0 || headersCount > headersPerRecordMax) {
    throw new CorruptBatchError(`${body.what}: headersCount ${headersCount} is outside [0, ${headersPerRecordMax}]`);
  }
  if (headersCount * headerBytesMin > body.remaining) {
    throw new CorruptBatchError(
      `${body.what}: headersCount ${headersCount} cannot fit in the ${body.remaining} bytes that remain`,
    );
  }
  const headers: RecordHeader[] = keep ? [] : noHeaders;
  for (let h = 0; h < headersCount; h++) {
    const keyLength = body.varint('header key length');
    if (keyLength < 0) {
      throw new CorruptBatchError(`${body.what}: header ${h} has negative key length ${keyLength}`);
    }
    if (keep) {
      const headerKey = body.bytes(keyLength, 'header key').toString('utf8');
      headers.push({ key: headerKey, value: readNullableBytes(body, 'header value', true) });
    } else {
      body.skip(keyLength, 'header key');
      readNullableBytes(body, 'header value', false);
    }
  }
  if (body.remaining !== 0) {
    throw new CorruptBatchError(`${body.what}: ${body.remaining} bytes left over after the headers`);
  }
  return { attributes, timestampDelta, offsetDelta, key, value, headers };
}

/** Reads (`keep`) or steps over a nullable BYTES field; stepped-over fields read as null. */
function readNullableBytes(r: ByteReader, field: string, keep: boolean): Buffer | null {
  const length = r.varint(field + ' length');
  if (length === -1) return null;
  if (length < -1) throw new CorruptBatchError(`${r.what}: ${field} has invalid length ${length}`);
  if (keep) return r.bytes(length, field);
  r.skip(length, field);
  return null;
}
