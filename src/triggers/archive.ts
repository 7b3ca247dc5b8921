/**
 * The S3 sink ("the archive", issue 16): a trigger whose target is
 * `{ type: "s3", bucket, prefix }` writes each delivered batch as gzip NDJSON
 * objects, one per hour of record time the batch touches:
 *
 *   <prefix>topic=<topic>/dt=<YYYY-MM-DD>/hour=<HH>/<topic>+<partition>+<first offset, 20 digits>.json.gz
 *
 * (the file name is Confluent's S3 sink's `<topic>+<partition>+<start offset>`).
 * The hour is the record's timestamp in UTC. A batch's records are grouped by
 * hour, each group in offset order; an object is named by its group's first
 * offset.
 *
 * Exactly once in the archive, though delivery is at least once: a name is
 * either the batch's first offset (the trigger's committed offset) or the first
 * record of its hour after it, so a retry from the same commit, with the same
 * records or more, writes the same names again and PutObject overwrites them;
 * a record is in exactly one object once the batch is committed.
 * docs/triggers.md ("S3 sink (archive)") has the argument, and why an archive
 * refuses bisecting, record expiry and dead letters (archiveSettingProblems).
 *
 * One line per record (archiveLine): topic, partition, offset, timestamp (ISO
 * 8601), timestamp_ms, timestamp_type, key, key_encoding, key_schema_id,
 * value, value_encoding, value_schema_id, headers [{key, value, value_encoding}].
 * An encoding is `utf8` (the bytes are valid UTF-8 text, JSON included, written
 * as they are), `base64` (anything else), or `avro` (Confluent wire format with
 * a registered schema id: the decoded datum as Avro JSON text); key and value
 * are strings (or null), so an Athena table has one column type for each.
 */
import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Runtime } from '../runtime';
import type { FetchedRecord } from '../log/readPartition';
import { TimestampType } from '../codec/recordBatch';
import { avroEmbedder, type AvroEmbedded } from '../schemas/recordSchemas';
import type { Target } from './triggerSpec';

const gzip = promisify(gzipCallback);

/**
 * Uncompressed bytes of one batch's lines (an estimate bounds the read: see
 * archiveBytesOf), so of any object, since objects never span batches. 32 MiB:
 * big enough for Athena to read efficiently, small enough that the 16
 * partitions a runner delivers at once fit in a Lambda's memory.
 */
export const archiveBatchBytesMax = 32 * 1024 * 1024;
/** Records in one object: at most a batch (batch_size, 1–10,000). */
export { batchSizeMax as archiveRecordsPerObjectMax } from './triggerSpec';
/**
 * Bytes of one line. A record whose line would be longer is written without
 * its key, value and headers (`"truncated": true`, their sizes kept), so the
 * archive still says where it is in the topic; Athena's JSON readers handle
 * lines far shorter than their 32 MB row limit best.
 */
export const archiveLineBytesMax = 8 * 1024 * 1024;
/** The offset in an object's name, zero-padded so names sort in offset order (a Kafka offset is at most 19 digits). */
const offsetDigits = 20;
/** JSON overhead of one line's fixed fields, an upper bound. */
const lineOverheadBytes = 400;

/** An upper bound (escapes aside) of the bytes `record` adds to a batch's lines: text as it is, base64 grows by 4/3. */
export function archiveBytesOf(topic: string, record: FetchedRecord): number {
  const field = (b: Buffer | null) => (b === null ? 0 : Math.ceil(b.length / 3) * 4 + 16);
  let bytes = lineOverheadBytes + 2 * Buffer.byteLength(topic, 'utf8') + field(record.key) + field(record.value);
  for (const h of record.headers) bytes += 48 + Buffer.byteLength(h.key, 'utf8') + field(h.value);
  return bytes;
}

/** `YYYY-MM-DD` and `HH` of a timestamp in UTC; a timestamp no Date holds files under the epoch. */
export function hourOf(timestampMs: number): { dt: string; hour: string } {
  const d = new Date(timestampMs);
  const iso = Number.isNaN(d.getTime()) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999 ? '1970-01-01T00' : d.toISOString();
  return { dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

export interface ArchiveGroup<R> {
  dt: string;
  hour: string;
  /** The first record's offset: the object's name. */
  firstOffset: number;
  /** In offset order. */
  records: R[];
}

/**
 * A batch's records (in offset order) grouped by UTC hour of their timestamps,
 * each group in offset order, the groups in order of their first offsets. Pure:
 * the names depend only on the batch's first offset and the records after it,
 * which is what makes a retry overwrite rather than add (docs/triggers.md).
 */
export function groupByHour<R extends { offset: number; timestamp: number }>(records: readonly R[]): ArchiveGroup<R>[] {
  const groups = new Map<string, ArchiveGroup<R>>();
  for (const r of records) {
    const { dt, hour } = hourOf(r.timestamp);
    const key = `${dt}/${hour}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { dt, hour, firstOffset: r.offset, records: [] }));
    g.records.push(r);
  }
  return [...groups.values()];
}

/** The object key of a group: `<prefix>topic=<t>/dt=<d>/hour=<h>/<t>+<p>+<offset, 20 digits>.json.gz`. */
export function archiveKey(prefix: string, topic: string, partition: number, group: { dt: string; hour: string; firstOffset: number }): string {
  return `${prefix}topic=${topic}/dt=${group.dt}/hour=${group.hour}/${topic}+${partition}+${String(group.firstOffset).padStart(offsetDigits, '0')}.json.gz`;
}

type Encoded = { text: string | null; encoding: 'utf8' | 'base64' | 'avro' | null; schemaId: number | null };

function encodeBytes(bytes: Buffer | null, avro: (b: Buffer) => AvroEmbedded): Encoded {
  if (bytes === null) return { text: null, encoding: null, schemaId: null };
  const embedded = avro(bytes);
  if (embedded.type === 'AVRO') return { text: JSON.stringify(embedded.data), encoding: 'avro', schemaId: embedded.schema_id };
  if (isUtf8(bytes)) return { text: bytes.toString('utf8'), encoding: 'utf8', schemaId: null };
  return { text: bytes.toString('base64'), encoding: 'base64', schemaId: null };
}

function plainBytes(bytes: Buffer | null): { value: string | null; value_encoding: 'utf8' | 'base64' | null } {
  if (bytes === null) return { value: null, value_encoding: null };
  return isUtf8(bytes) ? { value: bytes.toString('utf8'), value_encoding: 'utf8' } : { value: bytes.toString('base64'), value_encoding: 'base64' };
}

/** One record's line (without the newline). `avro` decodes keys and values that carry a registered schema id. */
export function archiveLine(topic: string, partition: number, r: FetchedRecord, avro: (b: Buffer) => AvroEmbedded): string {
  const key = encodeBytes(r.key, avro);
  const value = encodeBytes(r.value, avro);
  const d = new Date(r.timestamp);
  const fixed = {
    topic,
    partition,
    offset: r.offset,
    timestamp: Number.isNaN(d.getTime()) ? null : d.toISOString(),
    timestamp_ms: r.timestamp,
    timestamp_type: r.timestampType === TimestampType.LogAppendTime ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
  };
  const line = JSON.stringify({
    ...fixed,
    key: key.text,
    key_encoding: key.encoding,
    key_schema_id: key.schemaId,
    value: value.text,
    value_encoding: value.encoding,
    value_schema_id: value.schemaId,
    headers: r.headers.map((h) => ({ key: h.key, ...plainBytes(h.value) })),
  });
  if (Buffer.byteLength(line, 'utf8') <= archiveLineBytesMax) return line;
  return JSON.stringify({
    ...fixed,
    key: null,
    key_encoding: null,
    key_schema_id: key.schemaId,
    value: null,
    value_encoding: null,
    value_schema_id: value.schemaId,
    headers: [],
    truncated: true,
    key_bytes: r.key?.length ?? null,
    value_bytes: r.value?.length ?? null,
  });
}

export class ArchiveFailedError extends Error {
  override name = 'ArchiveFailedError';
}

export interface ArchiveDelivery {
  /** Aborted when the runtime stops: the batch counts as failed and is not committed. */
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * Writes one batch (one partition's records, in offset order) to the archive:
 * one PutObject per hour group, one after another. Resolves when S3 took every
 * object; any failure (or an abort) rejects, and the runner retries the batch
 * from the same committed offset, overwriting what was written.
 */
export async function archiveBatch(
  runtime: Runtime,
  target: Extract<Target, { type: 's3' }>,
  topic: string,
  partition: number,
  records: readonly FetchedRecord[],
  delivery: ArchiveDelivery,
): Promise<void> {
  const controller = new AbortController();
  const abort = (why: string) => controller.abort(new ArchiveFailedError(why));
  const onStop = () => abort('delivery aborted');
  if (delivery.signal.aborted) onStop();
  delivery.signal.addEventListener('abort', onStop, { once: true });
  const timer = setTimeout(() => abort(`S3 did not take the batch within ${delivery.timeoutMs} ms`), delivery.timeoutMs);
  // A request that never settles (a crash in a fault test, a hung connection) must not hold the step past an abort.
  const stopped = new Promise<never>((_, reject) => {
    const fail = () => reject(controller.signal.reason);
    if (controller.signal.aborted) fail();
    else controller.signal.addEventListener('abort', fail, { once: true });
  });
  stopped.catch(() => {});
  try {
    const avro = await Promise.race([avroEmbedder(runtime, records as FetchedRecord[]), stopped]);
    for (const group of groupByHour(records)) {
      const body = await Promise.race([gzip(Buffer.from(group.records.map((r) => archiveLine(topic, partition, r, avro) + '\n').join(''), 'utf8')), stopped]);
      const key = archiveKey(target.prefix, topic, partition, group);
      try {
        await Promise.race([
          runtime.clients.s3.send(
            new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'application/gzip' }),
            { abortSignal: controller.signal },
          ),
          stopped,
        ]);
      } catch (err) {
        if (controller.signal.aborted) throw controller.signal.reason;
        throw new ArchiveFailedError(`s3://${target.bucket}/${key}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    clearTimeout(timer);
    delivery.signal.removeEventListener('abort', onStop);
    if (!controller.signal.aborted) controller.abort(new ArchiveFailedError('done'));
  }
}
