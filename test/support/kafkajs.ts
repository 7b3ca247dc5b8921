/**
 * kafkajs as the independent reference in HTTP tests: its own RecordBatch v2
 * encoder (how its producer writes a batch), its decoder (how its consumer reads
 * a fetch response) and its default partitioner. kafkajs is a dev dependency,
 * used in tests only; its internals have no type declarations, hence `require`.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const KafkajsDecoder = require('kafkajs/src/protocol/decoder');
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const { Types: KafkajsCompression } = require('kafkajs/src/protocol/message/compression');
const createKafkajsDefaultPartitioner = require('kafkajs/src/producer/partitioners/default');
const kafkajsMurmur2: (key: Buffer) => number = require('kafkajs/src/producer/partitioners/default/murmur2');

export { kafkajsMurmur2 };

export interface TestRecord {
  key: string | null;
  value: string | null;
  /** Header values; kafkajs cannot encode null header values. */
  headers?: Record<string, string>;
  timestamp?: number;
}

export interface EncodeOptions {
  gzip?: boolean;
  /** The batch's base offset as the producer writes it (Kafka producers write 0; any value is legal). */
  baseOffset?: number;
  transactional?: boolean;
}

/** One RecordBatch v2, encoded by kafkajs exactly as its Produce request does. */
export async function kafkajsBatch(records: TestRecord[], options: EncodeOptions = {}): Promise<Buffer> {
  const now = Date.now();
  const timestamps = records.map((r) => r.timestamp ?? now);
  const firstTimestamp = timestamps[0]!;
  const encoded = records.map((r, i) => {
    const headers: Record<string, Buffer> = {};
    for (const [name, value] of Object.entries(r.headers ?? {})) headers[name] = Buffer.from(value);
    return KafkajsRecord({
      offsetDelta: i,
      timestampDelta: timestamps[i]! - firstTimestamp,
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      headers,
    });
  });
  const encoder = await kafkajsRecordBatch({
    compression: options.gzip ? KafkajsCompression.GZIP : KafkajsCompression.None,
    firstOffset: String(options.baseOffset ?? 0),
    firstTimestamp,
    maxTimestamp: Math.max(...timestamps),
    lastOffsetDelta: records.length - 1,
    transactional: options.transactional ?? false,
    records: encoded,
  });
  return encoder.buffer as Buffer;
}

export interface KafkajsDecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}

export interface KafkajsDecodedBatch {
  firstOffset: string;
  lastOffsetDelta: number;
  timestampType: number;
  maxTimestamp: string;
  records: KafkajsDecodedRecord[];
}

/** Decodes concatenated batches (a binary fetch body) with kafkajs's decoder, batch by batch. */
export async function kafkajsDecodeBatches(body: Buffer): Promise<KafkajsDecodedBatch[]> {
  const decoder = new KafkajsDecoder(body);
  const batches: KafkajsDecodedBatch[] = [];
  while (decoder.canReadInt64()) batches.push(await kafkajsDecodeBatch(decoder));
  return batches;
}

/** The partition kafkajs's default partitioner (Kafka's murmur2 partitioner) picks for `key`. */
export function kafkajsPartitionFor(key: Buffer, partitionsCount: number): number {
  const partitioner = createKafkajsDefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitionsCount }, (_, partitionId) => ({ partitionId, leader: 0 }));
  return partitioner({ topic: 't', partitionMetadata, message: { key } });
}
