/** Message shapes shared by the producer and consumer, after kafkajs's. */
import type { LogRecord, RecordHeader } from '../src/codec/record';

/** kafkajs's IHeaders: a repeated header is an array. */
export interface IHeaders {
  [key: string]: Buffer | string | null | (Buffer | string | null)[] | undefined;
}

export interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
  /** Send to this partition instead of the partitioner's choice. */
  partition?: number;
  /** Epoch ms (number, numeric string or Date). @default now */
  timestamp?: number | string | Date;
}

export interface RecordMetadata {
  topicName: string;
  partition: number;
  offset: number;
  /** The record's timestamp: its CreateTime, or the broker's time when the topic uses LogAppendTime. */
  timestamp: number;
  /** The server had already appended this batch (an idempotent retry); offsets are the original ones. */
  duplicate?: boolean;
}

/** A consumed record. Offsets and timestamps are numbers (safe integers), not kafkajs's strings. */
export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: { [key: string]: Buffer | null | (Buffer | null)[] };
  offset: number;
  timestamp: number;
  /** Encoded size of key + value in bytes. */
  size: number;
}

export function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8');
}

export function encodeHeaders(headers: IHeaders | undefined): RecordHeader[] {
  const out: RecordHeader[] = [];
  for (const [key, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push({ key, value: toBuffer(one) });
  }
  return out;
}

export function decodeHeaders(headers: RecordHeader[]): KafkaMessage['headers'] {
  const out: KafkaMessage['headers'] = {};
  for (const h of headers) {
    const prev = out[h.key];
    if (prev === undefined) out[h.key] = h.value;
    else out[h.key] = Array.isArray(prev) ? [...prev, h.value] : [prev, h.value];
  }
  return out;
}

export function toTimestamp(t: Message['timestamp'], now: number): number {
  if (t === undefined || t === null) return now;
  const ms = t instanceof Date ? t.getTime() : Number(t);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`message timestamp must be epoch milliseconds, not ${String(t)}`);
  return ms;
}

export function toLogRecord(m: Message, now: number): LogRecord {
  return { key: toBuffer(m.key), value: toBuffer(m.value), headers: encodeHeaders(m.headers), timestamp: toTimestamp(m.timestamp, now) };
}

/** Bytes a record adds to a batch, near enough for batching decisions (varint lengths, deltas, attributes). */
export function estimatedRecordBytes(r: LogRecord): number {
  let n = 21 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}
