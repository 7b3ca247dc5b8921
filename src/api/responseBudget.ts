/**
 * What fits in one Lambda response, and filling a JSON answer with records up
 * to it.
 *
 * Lambda refuses a synchronous response over 6 MB — 6,291,456 bytes — of JSON:
 * the result object `{statusCode, headers, body, isBase64Encoded}` as it is
 * serialized. API Gateway needs a binary body base64-encoded, so a binary body
 * counts 4/3 of its bytes; a JSON body is a string inside that JSON, so every
 * `"` and `\` in it counts twice. Past the limit the client gets a 502 and
 * retries the same offset forever, so every bound below is checked while a
 * response is built, never after.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { assert } from '../codec/assert';
import type { FetchedRecord } from '../log/readPartition';

/** Lambda's limit on a synchronous response payload (AWS quota, not ours to raise). */
export const lambdaResponseBytesMax = 6 * 1024 * 1024;

/** Room kept for the result's envelope: status, headers and field names (a few hundred bytes in practice). */
export const responseEnvelopeBytesMax = 64 * 1024;

/**
 * Batch bytes one binary response carries at most: 4.25 MiB, 5,941,932 bytes
 * once base64-encoded, leaving 349,524 bytes of the limit for the envelope.
 * The fetch stops adding index entries before this, and an entry holding the
 * fetch offset that is larger by itself goes out as presigned URLs (fetch.ts).
 */
export const binaryResponseBytesMax = 4_456_448;

/**
 * Bytes of a JSON response's records, measured as Lambda counts them
 * (lambdaJsonBytes): 5 MiB, leaving 1 MiB of the limit for the envelope, the
 * response's other fields and the skipped offsets.
 */
export const jsonResponseBytesMax = 5 * 1024 * 1024;

/** Offsets one JSON fetch reports as skipped at most; the rest are left for the next fetch. */
export const skippedPerResponseMax = 100;

export const base64Bytes = (n: number): number => 4 * Math.ceil(n / 3);

assert(base64Bytes(binaryResponseBytesMax) + responseEnvelopeBytesMax <= lambdaResponseBytesMax, 'a full binary response fits Lambda after base64');
assert(jsonResponseBytesMax + responseEnvelopeBytesMax + skippedPerResponseMax * 64 <= lambdaResponseBytesMax, 'a full JSON response fits Lambda');

/**
 * Bytes `value`'s JSON takes as a response body inside Lambda's serialized
 * result, where it is escaped a second time. That second escaping adds one
 * byte per `"` and `\` and nothing else (the first already escaped control
 * characters and lone surrogates), so it is counted instead of built: this
 * runs once per record of every JSON fetch.
 */
export function lambdaJsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  let escapes = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) escapes++;
  }
  return Buffer.byteLength(json, 'utf8') + escapes;
}

/** Bytes of a Lambda result as Lambda serializes it: what its 6 MB limit is checked against. */
export function lambdaResultBytes(result: APIGatewayProxyStructuredResultV2): number {
  return Buffer.byteLength(JSON.stringify(result), 'utf8');
}

/** Thrown by a record's JSON builder when one of its parts alone passes the room it was given. */
export class TooLargeForResponse extends Error {
  constructor(readonly bytesAtLeast: number) {
    super(`needs at least ${bytesAtLeast} bytes`);
  }
}

/** A record that no JSON response can hold, reported in place of its data. */
export interface SkippedRecord {
  offset: number;
  /** Bytes its JSON needs at least, against `jsonResponseBytesMax`. */
  json_bytes: number;
}

/**
 * How a record's JSON is sized: `lowerBound` without building anything (bytes
 * the JSON takes at least), `build` for the real thing, which may throw
 * TooLargeForResponse instead of building a part bigger than `room`.
 */
export interface RecordSizing<J> {
  lowerBound(r: FetchedRecord): number;
  build(r: FetchedRecord, room: number): J;
}

/**
 * The records of one JSON response, in two steps so that nothing beyond the
 * response is built: `offer` (called by the decoding walk) keeps a record while
 * the lower bounds fit, and `finish` builds and measures them for real, stopping
 * at the first that does not fit. A record too large for any response is
 * skipped only while nothing was kept before it, so what a response holds is
 * always "skipped offsets, then records", and next_offset covers both.
 */
export interface FillLimits {
  /**
   * A record whose JSON needs more than this is skipped (when nothing was kept
   * before it). Default: the fill's room. A fill given only part of a
   * response (one partition of a multi-partition fetch) passes the whole
   * response's bound, so that a record which merely does not fit what is left
   * is left for the next fetch, not skipped.
   */
  skipAbove?: number;
  /** Records this fill may skip at most. Default skippedPerResponseMax; a fill sharing a response gets what is left of it. */
  skippedMax?: number;
}

export class JsonRecordsFill<J> {
  readonly records: J[] = [];
  readonly skipped: SkippedRecord[] = [];
  /** Where the next fetch starts, when this response ends before the bytes read did. */
  resumeAt: number | undefined;
  private readonly kept: FetchedRecord[] = [];
  private room: number;
  private readonly skipAbove: number;
  private readonly skippedMax: number;

  constructor(
    private readonly sizing: RecordSizing<J>,
    private readonly roomMax = jsonResponseBytesMax,
    limits: FillLimits = {},
  ) {
    this.room = roomMax;
    this.skipAbove = limits.skipAbove ?? roomMax;
    this.skippedMax = limits.skippedMax ?? skippedPerResponseMax;
  }

  /** Bytes of the room the built records take (after finish), commas included. */
  get bytesUsed(): number {
    return this.roomMax - this.room;
  }

  /** For walkRecords: false stops the walk at `r`. */
  offer = (r: FetchedRecord): boolean => {
    const atLeast = this.sizing.lowerBound(r) + 1;
    if (atLeast > this.skipAbove && this.kept.length === 0) return this.skip(r.offset, atLeast);
    if (atLeast > this.room) return false;
    this.room -= atLeast;
    this.kept.push(r);
    return true;
  };

  /** The records kept, for lookups that need them all before building (Avro schemas). */
  get candidates(): readonly FetchedRecord[] {
    return this.kept;
  }

  /** Builds the kept records' JSON until the response is full; sets resumeAt at the first left out. */
  finish(): void {
    this.room = this.roomMax;
    for (const r of this.kept) {
      let json: J | undefined;
      let size: number;
      try {
        json = this.sizing.build(r, this.room);
        size = lambdaJsonBytes(json) + 1; // and its comma
      } catch (err) {
        if (!(err instanceof TooLargeForResponse)) throw err;
        size = err.bytesAtLeast;
      }
      if (size > this.skipAbove && this.records.length === 0) {
        if (this.skip(r.offset, size)) continue;
        this.resumeAt = r.offset;
        return;
      }
      if (json === undefined || size > this.room) {
        this.resumeAt = r.offset;
        return;
      }
      this.room -= size;
      this.records.push(json);
    }
  }

  private skip(offset: number, bytes: number): boolean {
    if (this.skipped.length >= this.skippedMax) return false;
    this.skipped.push({ offset, json_bytes: bytes });
    return true;
  }
}
