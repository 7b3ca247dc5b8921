/**
 * The payload a trigger delivers: AWS Lambda's event for Amazon MSK event
 * sources (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html), so a
 * handler written for an MSK trigger (`MSKHandler` in @types/aws-lambda) runs
 * unchanged:
 *
 *   { eventSource: "aws:kafka", eventSourceArn, bootstrapServers,
 *     records: { "<topic>-<partition>": [ { topic, partition, offset, timestamp,
 *       timestampType: "CREATE_TIME" | "LOG_APPEND_TIME",
 *       key: base64, value: base64, headers: [ { "<name>": [bytes…] } ] } ] } }
 *
 * MSK's value, not self-managed Kafka's ("SelfManagedKafka", no ARN): MSK's
 * type is the one handlers are usually written against, and it is a superset.
 * A null key or value (a tombstone) has no `key` / `value` field, as Lambda
 * sends it; a header with a null value has an empty byte array.
 */
import { TimestampType } from '../codec/recordBatch';
import type { FetchedRecord } from '../log/readPartition';

export interface KafkaEventRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  key?: string;
  value?: string;
  headers: Record<string, number[]>[];
}

export interface KafkaEvent {
  eventSource: 'aws:kafka';
  eventSourceArn: string;
  bootstrapServers: string;
  records: Record<string, KafkaEventRecord[]>;
}

/**
 * Bytes one event may take as JSON: Lambda's synchronous invocation payload
 * limit (6 MB), less room for the envelope. A delivery always carries at least
 * one record, whatever its size.
 */
export const eventBytesMax = 6 * 1024 * 1024 - 64 * 1024;
/** JSON overhead of one record's fixed fields, an upper bound. */
const recordOverheadBytes = 256;

/**
 * Where the records come from, in ARN form: Strand is not MSK, so the service
 * segment says so, but the shape is an ARN as handlers expect.
 */
export function eventSourceArnOf(clusterId: string, triggerName: string, region = process.env.AWS_REGION ?? 'local'): string {
  return `arn:aws:kafka:${region}:000000000000:cluster/strand-${clusterId}/trigger-${triggerName}`;
}

/** An upper bound of the bytes `record` adds to an event: base64 grows by 4/3, a header byte is at most 4 characters ("255,"). */
export function eventBytesOf(topic: string, record: FetchedRecord): number {
  const b64 = (b: Buffer | null) => (b === null ? 0 : Math.ceil(b.length / 3) * 4);
  let bytes = recordOverheadBytes + Buffer.byteLength(topic, 'utf8') * 6 + b64(record.key) + b64(record.value);
  for (const h of record.headers) bytes += Buffer.byteLength(h.key, 'utf8') * 6 + 8 + (h.value?.length ?? 0) * 4;
  return bytes;
}

export function eventRecordOf(topic: string, partition: number, r: FetchedRecord): KafkaEventRecord {
  return {
    topic,
    partition,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: r.timestampType === TimestampType.LogAppendTime ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
    ...(r.key !== null ? { key: r.key.toString('base64') } : {}),
    ...(r.value !== null ? { value: r.value.toString('base64') } : {}),
    headers: r.headers.map((h) => ({ [h.key]: h.value === null ? [] : [...h.value] })),
  };
}

/** One partition's records as one event (a trigger's delivery is always one partition: ordered, one batch in flight). */
export function kafkaEventOf(source: { eventSourceArn: string; bootstrapServers: string }, topic: string, partition: number, records: readonly FetchedRecord[]): KafkaEvent {
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: source.eventSourceArn,
    bootstrapServers: source.bootstrapServers,
    records: { [`${topic}-${partition}`]: records.map((r) => eventRecordOf(topic, partition, r)) },
  };
}
