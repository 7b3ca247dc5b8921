/**
 * RecordBatch v2 (magic 2), the unit Strand stores and serves.
 *
 *   RecordBatch =>                      offset
 *     baseOffset            INT64        0
 *     batchLength           INT32        8   bytes after this field
 *     partitionLeaderEpoch  INT32       12
 *     magic                 INT8        16   = 2
 *     crc                   UINT32      17   CRC-32C of attributes … end of batch
 *     attributes            INT16       21   bits 0-2 compression, 3 timestampType,
 *                                            4 isTransactional, 5 isControl
 *     lastOffsetDelta       INT32       23
 *     baseTimestamp         INT64       27
 *     maxTimestamp          INT64       35
 *     producerId            INT64       43
 *     producerEpoch         INT16       51
 *     baseSequence          INT32       53
 *     recordsCount          INT32       57
 *     records               [Record]    61   (./record.ts), compressed as a whole
 *                                            when bits 0-2 are not 0
 *
 * Follows `clients/src/main/java/org/apache/kafka/common/record/DefaultRecordBatch.java`
 * and, for the write side, `MemoryRecordsBuilder.java`: baseTimestamp is the first
 * record's timestamp and offsetDelta is the record's index (kafkajs does the same).
 *
 * The CRC does not cover baseOffset or partitionLeaderEpoch, so both can be patched
 * in place on the read path, as a Kafka broker does; changing the timestamp type
 * (withLogAppendTime) must recompute it.
 */
import { CorruptBatchError } from '../errors';
import { assert } from './assert';
import { ByteReader, ByteWriter, readInt64At, writeInt64At } from './bytes';
import {
  CompressionCodec,
  DecompressionBudget,
  compress,
  compressionCodecFromId,
  compressionCodecIds,
  decompress,
  isCompressionCodec,
} from './compression';
import { crc32c } from './crc32c';
import { LogRecord, RawRecord, checkRecord, decodeRecord, encodeRecord, recordBytesMin, sizeOfRecord } from './record';
import { isInt32 } from './varint';
import { readCheckedHeaders, recordsLookWellFormed, type ScanHeader } from './recordScan';

export type { CompressionCodec } from './compression';
export type { LogRecord, RecordHeader } from './record';

export interface DecodedRecord extends LogRecord {
  /** baseOffset + offsetDelta */
  offset: number;
}

export const TimestampType = { CreateTime: 0, LogAppendTime: 1 } as const;
export type TimestampType = 0 | 1;

export interface EncodeBatchOptions {
  /** @default 0 */
  baseOffset?: number;
  /** @default 'none' */
  compression?: CompressionCodec;
  /** @default TimestampType.CreateTime */
  timestampType?: TimestampType;
  /** Required when timestampType is LogAppendTime: becomes maxTimestamp, and readers report it as every record's timestamp. */
  logAppendTime?: number;
  /** @default -1 */
  partitionLeaderEpoch?: number;
  /** @default -1 */
  producerId?: number;
  /** @default -1 */
  producerEpoch?: number;
  /** @default -1 */
  baseSequence?: number;
  /** @default false */
  isTransactional?: boolean;
}

export interface RecordBatchHeader {
  baseOffset: number;
  /** Bytes after the batchLength field. */
  batchLength: number;
  /** batchLength + 12: the whole batch. */
  sizeInBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: CompressionCodec;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface BatchSlice {
  start: number;
  header: RecordBatchHeader;
}

export const recordBatchHeaderBytes = 61;
export const recordBatchMagic = 2;

/** Field positions, relative to the batch start. */
export const batchFieldOffsets = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const;

/** Bytes before batchLength's coverage starts: baseOffset + batchLength. */
const logOverheadBytes = 12;

/** Ceiling on one encoded batch (Kafka's default max.message.bytes is ~1 MiB; we allow headroom). */
export const batchBytesMax = 64 * 1024 * 1024;
/** Ceiling on the records of one batch. */
export const recordsPerBatchMax = 1 << 20;
/** Ceiling on the batches splitBatches walks in one buffer. */
export const batchesPerBufferMax = 1 << 16;

const attributeCompressionMask = 0x07;
const attributeTimestampTypeBit = 0x08;
const attributeTransactionalBit = 0x10;
const attributeControlBit = 0x20;

// ---------------------------------------------------------------------------
// Encode

export function encodeRecordBatch(records: LogRecord[], options: EncodeBatchOptions = {}): Buffer {
  const baseOffset = options.baseOffset ?? 0;
  const compression = options.compression ?? 'none';
  const timestampType = options.timestampType ?? TimestampType.CreateTime;
  const partitionLeaderEpoch = options.partitionLeaderEpoch ?? -1;
  const producerId = options.producerId ?? -1;
  const producerEpoch = options.producerEpoch ?? -1;
  const baseSequence = options.baseSequence ?? -1;
  const isTransactional = options.isTransactional ?? false;

  assert(records.length >= 1, 'a batch holds at least one record');
  assert(records.length <= recordsPerBatchMax, `a batch holds at most ${recordsPerBatchMax} records`);
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, `baseOffset ${baseOffset} is a non-negative safe integer`);
  assert(Number.isSafeInteger(baseOffset + records.length - 1), 'the last offset is a safe integer');
  assert(isCompressionCodec(compression), `compression ${String(compression)} is a known codec`);
  assert(timestampType === 0 || timestampType === 1, `timestampType ${timestampType} is 0 or 1`);
  assert(isInt32(partitionLeaderEpoch), `partitionLeaderEpoch ${partitionLeaderEpoch} is an int32`);
  assert(Number.isSafeInteger(producerId), `producerId ${producerId} is a safe integer`);
  assert(Number.isInteger(producerEpoch) && producerEpoch >= -0x8000 && producerEpoch <= 0x7fff, `producerEpoch ${producerEpoch} is an int16`);
  assert(isInt32(baseSequence), `baseSequence ${baseSequence} is an int32`);

  const baseTimestamp = records[0]!.timestamp;
  let maxTimestamp = baseTimestamp;
  for (const record of records) {
    assert(Number.isSafeInteger(record.timestamp), `record timestamp ${record.timestamp} is a safe integer`);
    if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp;
  }
  if (timestampType === TimestampType.LogAppendTime) {
    assert(options.logAppendTime !== undefined, 'logAppendTime is given when timestampType is LogAppendTime');
    assert(Number.isSafeInteger(options.logAppendTime), `logAppendTime ${options.logAppendTime} is a safe integer`);
    maxTimestamp = options.logAppendTime;
  }

  // Sized up front from an upper estimate, so the writer does not grow (and copy) its way up to a 1 MiB batch.
  const recordsWriter = new ByteWriter(Math.min(batchBytesMax, Math.max(1024, estimatedRecordsBytes(records))), batchBytesMax);
  records.forEach((record, index) => {
    const raw: RawRecord = {
      attributes: 0,
      timestampDelta: record.timestamp - baseTimestamp,
      offsetDelta: index,
      key: record.key,
      value: record.value,
      headers: record.headers,
    };
    encodeRecord(recordsWriter, raw);
  });
  const recordsSection = compress(compression, recordsWriter.finish());

  const attributes =
    compressionCodecIds[compression] |
    (timestampType === TimestampType.LogAppendTime ? attributeTimestampTypeBit : 0) |
    (isTransactional ? attributeTransactionalBit : 0);

  const sizeInBytes = recordBatchHeaderBytes + recordsSection.length;
  assert(sizeInBytes <= batchBytesMax, `encoded batch of ${sizeInBytes} bytes is within ${batchBytesMax} bytes`);
  // Every byte is written below: the 61 header bytes field by field (CRC last), then the records.
  const out = Buffer.allocUnsafe(sizeInBytes);
  const f = batchFieldOffsets;
  writeInt64At(out, f.baseOffset, baseOffset, 'baseOffset');
  out.writeInt32BE(sizeInBytes - logOverheadBytes, f.batchLength);
  out.writeInt32BE(partitionLeaderEpoch, f.partitionLeaderEpoch);
  out.writeInt8(recordBatchMagic, f.magic);
  out.writeInt16BE(attributes, f.attributes);
  out.writeInt32BE(records.length - 1, f.lastOffsetDelta);
  writeInt64At(out, f.baseTimestamp, baseTimestamp, 'baseTimestamp');
  writeInt64At(out, f.maxTimestamp, maxTimestamp, 'maxTimestamp');
  writeInt64At(out, f.producerId, producerId, 'producerId');
  out.writeInt16BE(producerEpoch, f.producerEpoch);
  out.writeInt32BE(baseSequence, f.baseSequence);
  out.writeInt32BE(records.length, f.recordCount);
  recordsSection.copy(out, recordBatchHeaderBytes);
  out.writeUInt32BE(crc32c(out, f.attributes, sizeInBytes), f.crc);

  // Read back what we wrote: the header must parse and agree with the input.
  const check = readBatchHeader(out, 0);
  assert(check.sizeInBytes === out.length, 'the encoded batch length covers the whole buffer');
  assert(check.recordCount === records.length, 'the encoded record count matches the input');
  return out;
}

/** Bytes of `record` encoded alone as an uncompressed batch (encodeRecordBatch([record]).length), without encoding it. */
export function sizeOfSingleRecordBatch(record: LogRecord): number {
  return recordBatchHeaderBytes + sizeOfRecord({ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: record.key, value: record.value, headers: record.headers });
}

/** At least the bytes `records` take encoded (varints are at most 10 bytes; UTF-8 at most 3 bytes per UTF-16 unit). */
function estimatedRecordsBytes(records: LogRecord[]): number {
  let bytes = 0;
  for (const r of records) {
    bytes += 40 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
    for (const h of r.headers) bytes += 20 + 3 * h.key.length + (h.value?.length ?? 0);
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Decode

function checkStart(buf: Buffer, start: number): void {
  if (!Number.isInteger(start) || start < 0 || start > buf.length) {
    throw new CorruptBatchError(`record batch start ${start} is outside the buffer of ${buf.length} bytes`);
  }
}

/**
 * Parses and validates the fixed 61-byte header at `start`: that it fits, that
 * magic is 2, that batchLength covers at least the header and stays within the
 * buffer, and that offsets, counts and flags are sane. Does not check the CRC.
 */
export function readBatchHeader(buf: Buffer, start = 0): RecordBatchHeader {
  checkStart(buf, start);
  const where = `record batch at offset ${start}`;
  const available = buf.length - start;
  const f = batchFieldOffsets;
  if (available > f.magic) {
    // Magic sits at the same place in legacy message sets (v0/v1), so check it first
    // for the clearest message.
    const magic = buf.readInt8(start + f.magic);
    if (magic !== recordBatchMagic) {
      throw new CorruptBatchError(`${where} has magic ${magic}; only magic ${recordBatchMagic} (RecordBatch v2) is supported`);
    }
  }
  if (available < recordBatchHeaderBytes) {
    throw new CorruptBatchError(`${where} is truncated: the header needs ${recordBatchHeaderBytes} bytes but only ${available} remain`);
  }
  const r = new ByteReader(buf, start, buf.length, where);
  const baseOffset = r.int64('baseOffset');
  const batchLength = r.int32('batchLength');
  const partitionLeaderEpoch = r.int32('partitionLeaderEpoch');
  const magic = r.int8('magic');
  const crc = r.uint32('crc');
  const attributes = r.int16('attributes');
  const lastOffsetDelta = r.int32('lastOffsetDelta');
  const baseTimestamp = r.int64('baseTimestamp');
  const maxTimestamp = r.int64('maxTimestamp');
  const producerId = r.int64('producerId');
  const producerEpoch = r.int16('producerEpoch');
  const baseSequence = r.int32('baseSequence');
  const recordCount = r.int32('recordCount');

  if (batchLength < recordBatchHeaderBytes - logOverheadBytes) {
    throw new CorruptBatchError(`${where} has batchLength ${batchLength}, below the header's ${recordBatchHeaderBytes - logOverheadBytes}`);
  }
  const sizeInBytes = batchLength + logOverheadBytes;
  if (sizeInBytes > batchBytesMax) {
    throw new CorruptBatchError(`${where} has batchLength ${batchLength}, above the bound of ${batchBytesMax} bytes`);
  }
  if (sizeInBytes > available) {
    throw new CorruptBatchError(`${where} is truncated: batchLength ${batchLength} needs ${sizeInBytes} bytes but only ${available} remain`);
  }
  if (baseOffset < 0) {
    throw new CorruptBatchError(`${where} has negative baseOffset ${baseOffset}`);
  }
  if (lastOffsetDelta < 0) {
    throw new CorruptBatchError(`${where} has negative lastOffsetDelta ${lastOffsetDelta}`);
  }
  if (!Number.isSafeInteger(baseOffset + lastOffsetDelta)) {
    throw new CorruptBatchError(`${where}: baseOffset ${baseOffset} + lastOffsetDelta ${lastOffsetDelta} is not a safe integer`);
  }
  if (recordCount < 0 || recordCount > recordsPerBatchMax) {
    throw new CorruptBatchError(`${where} has recordCount ${recordCount}, outside [0, ${recordsPerBatchMax}]`);
  }
  if (recordCount > lastOffsetDelta + 1) {
    throw new CorruptBatchError(`${where} has recordCount ${recordCount} but lastOffsetDelta ${lastOffsetDelta} leaves room for ${lastOffsetDelta + 1}`);
  }
  // Checks the bits 0-2 id; bits above 5 (e.g. KIP-534's delete-horizon flag) are carried, not interpreted.
  const compression = compressionCodecFromId(attributes & attributeCompressionMask);

  return {
    baseOffset,
    batchLength,
    sizeInBytes,
    partitionLeaderEpoch,
    magic,
    crc,
    attributes,
    compression,
    timestampType: attributes & attributeTimestampTypeBit ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: (attributes & attributeTransactionalBit) !== 0,
    isControl: (attributes & attributeControlBit) !== 0,
    lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    baseSequence,
    recordCount,
  };
}

function computeBatchCrc(buf: Buffer, start: number, header: RecordBatchHeader): number {
  return crc32c(buf, start + batchFieldOffsets.attributes, start + header.sizeInBytes);
}

export function verifyBatchCrc(buf: Buffer, start = 0): void {
  const header = readBatchHeader(buf, start);
  const actual = computeBatchCrc(buf, start, header);
  if (actual !== header.crc) {
    throw new CorruptBatchError(
      `record batch at offset ${start} fails its CRC-32C check: stored 0x${hex32(header.crc)}, computed 0x${hex32(actual)}`,
    );
  }
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * Walks concatenated batches that must cover `buf` exactly. An empty buffer,
 * trailing bytes that are not a whole batch, or more than batchesPerBufferMax
 * batches are corrupt.
 */
export function splitBatches(buf: Buffer, options: { verifyCrc?: boolean } = {}): BatchSlice[] {
  const verifyCrc = options.verifyCrc ?? true;
  if (buf.length === 0) throw new CorruptBatchError('expected at least one record batch, got 0 bytes');
  const slices: BatchSlice[] = [];
  let start = 0;
  while (start < buf.length) {
    if (slices.length >= batchesPerBufferMax) {
      throw new CorruptBatchError(`buffer holds more than ${batchesPerBufferMax} record batches`);
    }
    const header = readBatchHeader(buf, start);
    if (verifyCrc) verifyBatchCrc(buf, start);
    slices.push({ start, header });
    start += header.sizeInBytes; // > 0: readBatchHeader guarantees sizeInBytes >= 61
  }
  assert(start === buf.length, 'the batches cover the buffer exactly');
  return slices;
}

/**
 * Verifies the CRC, decompresses, and decodes every record. The record count
 * must match the header, the records section must be consumed exactly, and
 * offset deltas must increase strictly within [0, lastOffsetDelta] (compaction
 * may leave gaps, never reorder).
 */
export function decodeRecordBatch(
  buf: Buffer,
  start = 0,
  options: { /** false only for bytes whose CRC was just checked. @default true */ verifyCrc?: boolean } = {},
): { header: RecordBatchHeader; records: DecodedRecord[] } {
  const header = readBatchHeader(buf, start);
  if (options.verifyCrc ?? true) verifyBatchCrc(buf, start);
  const plain = decompress(header.compression, recordsSection(buf, start, header));
  // The common case is read by the fast scan; anything it does not vouch for takes the full walk, which names the error.
  const fast = fastDecode(header, plain);
  if (fast) return { header, records: fast };
  const records: DecodedRecord[] = [];
  walkRecords(header, plain, start, decodeRecord, (offset, timestamp, raw) => {
    records.push({ offset, timestamp, key: raw.key, value: raw.value, headers: raw.headers });
  });
  return { header, records };
}


/**
 * The record-by-record walk alone, without the fast scan: the reference the
 * fast scan must agree with (property tests compare the two).
 */
export function decodeRecordBatchByWalk(buf: Buffer, start = 0): { header: RecordBatchHeader; records: DecodedRecord[] } {
  const records: DecodedRecord[] = [];
  const header = walkRecordBatch(buf, start, true, decodeRecord, (offset, timestamp, raw) => {
    records.push({ offset, timestamp, key: raw.key, value: raw.value, headers: raw.headers });
  });
  return { header, records };
}

function scanHeaderOf(header: RecordBatchHeader): ScanHeader {
  return {
    recordCount: header.recordCount,
    lastOffsetDelta: header.lastOffsetDelta,
    baseTimestamp: header.baseTimestamp,
    createTime: header.timestampType === TimestampType.CreateTime,
  };
}

/** The records of `plain` (a batch's decompressed records section) by the fast scan, or undefined to take the full walk. */
function fastDecode(header: RecordBatchHeader, plain: Buffer): DecodedRecord[] | undefined {
  const records: DecodedRecord[] = [];
  const logAppend = header.timestampType === TimestampType.LogAppendTime;
  const ok = recordsLookWellFormed(plain, 0, plain.length, scanHeaderOf(header), (offsetDelta, timestampDelta, keyAt, keyLength, valueAt, valueLength, headersAt, headersCount) => {
    records.push({
      offset: header.baseOffset + offsetDelta,
      timestamp: logAppend ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
      key: keyLength < 0 ? null : plain.subarray(keyAt, keyAt + keyLength),
      value: valueLength < 0 ? null : plain.subarray(valueAt, valueAt + valueLength),
      headers: headersCount === 0 ? [] : readCheckedHeaders(plain, headersAt, headersCount),
    });
  });
  return ok ? records : undefined;
}

/**
 * Accepts exactly the batches decodeRecordBatch accepts, and throws the same
 * errors for the rest, without building any record: the CRC, decompression,
 * every record's structure, offset deltas and timestamps are checked.
 */
export function checkRecordBatch(buf: Buffer, start = 0): RecordBatchHeader {
  const header = readBatchHeader(buf, start);
  verifyBatchCrc(buf, start);
  const plain = decompress(header.compression, recordsSection(buf, start, header));
  // The common case is scanned without a reader per record; anything else, and every error, takes the full walk.
  if (recordsLookWellFormed(plain, 0, plain.length, scanHeaderOf(header))) return header;
  return walkRecords(header, plain, start, checkRecord, () => {});
}

/** A batch from a client, checked (checkProducedBatch). */
export interface ProducedBatch {
  header: RecordBatchHeader;
  /**
   * The maxTimestamp the batch should carry: for CreateTime the largest record
   * timestamp, and never below -1 (NO_TIMESTAMP), as Kafka's LogValidator
   * computes it; for a LogAppendTime batch, its header's.
   */
  maxTimestamp: number;
}

/**
 * What a broker requires of a batch from a client on top of what decoding
 * needs (Kafka's LogValidator.validateBatch, AppendOrigin.CLIENT): at least one
 * record, and exactly as many records as offsets (`lastOffsetDelta + 1 ==
 * recordCount`). The index adds `lastOffsetDelta + 1` to the high watermark, so
 * a header that claims more offsets than it has records (one record, delta
 * 2^31 - 1) would burn offset space; offsets stored batches leave unused are
 * compaction's doing (decoding accepts those), never a client's. With the
 * decoder's own rule (offset deltas strictly increasing within [0,
 * lastOffsetDelta]) this makes the deltas exactly 0..n-1, which Kafka's
 * producers write and Strand, storing the bytes as sent, cannot renumber.
 * Checked on the header alone, before the CRC and any decompression.
 */
export function checkProducedHeader(header: RecordBatchHeader, start: number): void {
  const where = `record batch at offset ${start}`;
  if (header.recordCount < 1) throw new CorruptBatchError(`${where} holds no records; a batch from a client holds at least one`);
  if (header.recordCount !== header.lastOffsetDelta + 1) {
    throw new CorruptBatchError(
      `${where} has lastOffsetDelta ${header.lastOffsetDelta} (${header.lastOffsetDelta + 1} offsets) but recordCount ${header.recordCount}; a batch from a client has one offset per record`,
    );
  }
}

/**
 * checkRecordBatch for a batch a client sent: checkProducedHeader first, then
 * the same checks, decompressing within `budget` (the request's, shared by its
 * batches) when given. Returns the maxTimestamp the records give, which the
 * produce path writes over a header that disagrees (as Kafka does).
 */
export function checkProducedBatch(buf: Buffer, start = 0, budget?: DecompressionBudget): ProducedBatch {
  const header = readBatchHeader(buf, start);
  checkProducedHeader(header, start);
  verifyBatchCrc(buf, start);
  const section = recordsSection(buf, start, header);
  const plain = budget ? budget.decompress(header.compression, section) : decompress(header.compression, section);
  if (header.timestampType === TimestampType.LogAppendTime) {
    checkRecordsOf(header, plain, start);
    return { header, maxTimestamp: header.maxTimestamp };
  }
  // One closure per batch, nothing per record: the scan stays allocation-free.
  let maxDelta = -Infinity;
  const ok = recordsLookWellFormed(plain, 0, plain.length, scanHeaderOf(header), (_offsetDelta, timestampDelta) => {
    if (timestampDelta > maxDelta) maxDelta = timestampDelta;
  });
  if (ok) return { header, maxTimestamp: Math.max(noTimestamp, header.baseTimestamp + maxDelta) };
  let maxTimestamp = noTimestamp;
  walkRecords(header, plain, start, checkRecord, (_offset, timestamp) => {
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  });
  return { header, maxTimestamp };
}

/**
 * checkProducedBatch by the record-by-record walk alone: the reference the fast
 * scan must agree with (property tests compare the two).
 */
export function checkProducedBatchByWalk(buf: Buffer, start = 0): ProducedBatch {
  const header = readBatchHeader(buf, start);
  checkProducedHeader(header, start);
  let maxTimestamp = noTimestamp;
  walkRecordBatch(buf, start, true, decodeRecord, (_offset, timestamp) => {
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  });
  return { header, maxTimestamp: header.timestampType === TimestampType.LogAppendTime ? header.maxTimestamp : maxTimestamp };
}

/** Kafka's RecordBatch.NO_TIMESTAMP: the maxTimestamp of a batch whose records carry none. */
const noTimestamp = -1;

function checkRecordsOf(header: RecordBatchHeader, plain: Buffer, start: number): void {
  if (recordsLookWellFormed(plain, 0, plain.length, scanHeaderOf(header))) return;
  walkRecords(header, plain, start, checkRecord, () => {});
}

function recordsSection(buf: Buffer, start: number, header: RecordBatchHeader): Buffer {
  return buf.subarray(start + recordBatchHeaderBytes, start + header.sizeInBytes);
}

function walkRecordBatch(
  buf: Buffer,
  start: number,
  verifyCrc: boolean,
  read: (r: ByteReader, index: number) => RawRecord,
  onRecord: (offset: number, timestamp: number, raw: RawRecord) => void,
): RecordBatchHeader {
  const header = readBatchHeader(buf, start);
  if (verifyCrc) verifyBatchCrc(buf, start);
  return walkRecords(header, decompress(header.compression, recordsSection(buf, start, header)), start, read, onRecord);
}

/** The record-by-record walk of a batch's decompressed records section `plain` (decompressed once, by the caller). */
function walkRecords(
  header: RecordBatchHeader,
  plain: Buffer,
  start: number,
  read: (r: ByteReader, index: number) => RawRecord,
  onRecord: (offset: number, timestamp: number, raw: RawRecord) => void,
): RecordBatchHeader {
  const where = `record batch at offset ${start}`;
  if (header.recordCount * recordBytesMin > plain.length) {
    throw new CorruptBatchError(
      `${where} declares ${header.recordCount} records, which cannot fit in its ${plain.length}-byte records section`,
    );
  }

  const r = new ByteReader(plain, 0, plain.length, `${where} records`);
  let previousDelta = -1;
  for (let i = 0; i < header.recordCount; i++) {
    const raw = read(r, i);
    if (raw.offsetDelta <= previousDelta || raw.offsetDelta > header.lastOffsetDelta) {
      throw new CorruptBatchError(
        `${where}: record ${i} has offsetDelta ${raw.offsetDelta}; expected above ${previousDelta} and at most lastOffsetDelta ${header.lastOffsetDelta}`,
      );
    }
    previousDelta = raw.offsetDelta;
    let timestamp: number;
    if (header.timestampType === TimestampType.LogAppendTime) {
      timestamp = header.maxTimestamp;
    } else {
      timestamp = header.baseTimestamp + raw.timestampDelta;
      if (!Number.isSafeInteger(timestamp)) {
        throw new CorruptBatchError(`${where}: record ${i} timestamp overflows (baseTimestamp ${header.baseTimestamp} + delta ${raw.timestampDelta})`);
      }
    }
    onRecord(header.baseOffset + raw.offsetDelta, timestamp, raw);
  }
  if (r.remaining !== 0) {
    throw new CorruptBatchError(`${where}: ${r.remaining} bytes left over after ${header.recordCount} records`);
  }
  return header;
}

// ---------------------------------------------------------------------------
// In-place patches

/**
 * Sets the real base offset of each batch in `buf`, the first at `baseOffset`
 * and each next one after the last offset of the one before: what a broker does
 * to stored batches on the read path. Returns the batches' slices.
 */
export function patchBaseOffsets(buf: Buffer, baseOffset: number, options: { verifyCrc?: boolean } = {}): BatchSlice[] {
  const slices = splitBatches(buf, options);
  let base = baseOffset;
  for (const slice of slices) {
    patchBaseOffset(buf, slice.start, base);
    base += slice.header.lastOffsetDelta + 1;
  }
  return slices;
}

/** Writes baseOffset in place. The CRC does not cover it, so the batch stays valid. */
export function patchBaseOffset(buf: Buffer, start: number, baseOffset: number): void {
  const header = readBatchHeader(buf, start);
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, `baseOffset ${baseOffset} is a non-negative safe integer`);
  assert(Number.isSafeInteger(baseOffset + header.lastOffsetDelta), 'the batch last offset stays a safe integer');
  writeInt64At(buf, start + batchFieldOffsets.baseOffset, baseOffset, 'baseOffset');
  assert(readInt64At(buf, start, 'baseOffset') === baseOffset, 'baseOffset reads back as written');
}

/** Writes partitionLeaderEpoch in place; also outside the CRC. */
export function patchPartitionLeaderEpoch(buf: Buffer, start: number, epoch: number): void {
  readBatchHeader(buf, start);
  assert(isInt32(epoch), `partitionLeaderEpoch ${epoch} is an int32`);
  buf.writeInt32BE(epoch, start + batchFieldOffsets.partitionLeaderEpoch);
}

/**
 * Writes maxTimestamp in place and recomputes the CRC, as Kafka's
 * DefaultRecordBatch.setMaxTimestamp does when its validator finds a client's
 * header disagreeing with the records. The CRC is verified first, so a corrupt
 * batch is never re-signed as valid. A no-op when the field already holds it.
 */
export function withMaxTimestamp(batch: Buffer, start: number, maxTimestamp: number): void {
  assert(Number.isSafeInteger(maxTimestamp), `maxTimestamp ${maxTimestamp} is a safe integer`);
  verifyBatchCrc(batch, start);
  const header = readBatchHeader(batch, start);
  if (header.maxTimestamp === maxTimestamp) return;
  writeInt64At(batch, start + batchFieldOffsets.maxTimestamp, maxTimestamp, 'maxTimestamp');
  batch.writeUInt32BE(computeBatchCrc(batch, start, header), start + batchFieldOffsets.crc);
}

/**
 * Stamps the batch with LogAppendTime in place: sets the timestampType bit,
 * writes maxTimestamp = appendTime and recomputes the CRC. The CRC is verified
 * first, so a corrupt batch is never re-signed as valid.
 */
export function withLogAppendTime(batch: Buffer, start: number, appendTime: number): void {
  assert(Number.isSafeInteger(appendTime), `appendTime ${appendTime} is a safe integer`);
  verifyBatchCrc(batch, start);
  const header = readBatchHeader(batch, start);
  const f = batchFieldOffsets;
  batch.writeInt16BE(header.attributes | attributeTimestampTypeBit, start + f.attributes);
  writeInt64At(batch, start + f.maxTimestamp, appendTime, 'maxTimestamp');
  batch.writeUInt32BE(computeBatchCrc(batch, start, header), start + f.crc);
}
