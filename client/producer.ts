/**
 * Producer: per-partition batching (`lingerMs`, `batchSize`), Kafka's key
 * partitioner, binary RecordBatch v2 appends, retries, and idempotence through
 * the producers endpoint.
 *
 * Flow of a message: `send` picks its partition (explicit, else murmur2 of the
 * key over the topic's partition count, else the topic's sticky partition) and
 * queues it. A partition's queue is sent as one RecordBatch when it reaches
 * `batchSize` bytes or has waited `lingerMs`, whichever comes first. A partition
 * has at most one request in flight, so its batches land in order and an
 * idempotent producer's sequence numbers arrive in order; records queued while
 * a request is in flight go in the next batch as soon as it returns.
 *
 * Idempotence (on by default). The first send asks `POST /producers` for a
 * producer id and epoch; each batch carries them and the partition's next
 * sequence number, so a batch the transport retries after a lost response is
 * appended once and answered with its original offsets. If a batch fails for
 * good, the server may or may not have appended it, so its sequence cannot be
 * reused or skipped: the producer takes a new producer id (sequences restart
 * at 0) before its next batch. A server without the endpoint (404) gets
 * non-idempotent batches and one warning.
 */
import { createHash } from 'node:crypto';
import { encodeRecordBatch } from '../src/codec/recordBatch';
import { isCompressionCodec, type CompressionCodec } from '../src/codec/compression';
import type { LogRecord } from '../src/codec/record';
import { partitionForKey } from '../src/partitioner/murmur2';
import { StrandApiError, StrandClientError, StrandUsageError, apiErrorFrom, UnknownPartitionError, UnknownTopicError } from './errors';
import { estimatedRecordBytes, toLogRecord, type Message, type RecordMetadata } from './messages';
import { backoffMs, sleep, type RetryOptions } from './retry';
import type { StrandClient } from './StrandClient';
import { objectRequest } from './objectHttp';

export const recordBatchMediaType = 'application/vnd.kafka.record-batch.v2';

/** The codecs Strand's RecordBatch codec writes: all of Kafka's. */
export const supportedCompressionCodecs: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** kafkajs's CompressionTypes, by name. */
export const CompressionTypes = { None: 'none', GZIP: 'gzip', Snappy: 'snappy', LZ4: 'lz4', ZSTD: 'zstd' } as const;

export interface ProducerConfig {
  /** How long a partition's records may wait for more before they are sent. @default 5 */
  lingerMs?: number;
  /** Bytes of records per batch; a batch this full is sent at once. @default 16384 */
  batchSize?: number;
  /** 'none', 'gzip', 'snappy', 'lz4' (Kafka's LZ4 frame) or 'zstd'. @default 'none' */
  compression?: CompressionCodec;
  /** Deduplicate retried batches through the producers endpoint. @default true */
  idempotent?: boolean;
  /** Retries of one batch (429, 503, network errors); the client's policy by default. */
  retry?: RetryOptions;
  /** Bytes of queued, unsent records; `send` waits while the queue is fuller. @default 33554432 (Kafka's buffer.memory) */
  bufferMemory?: number;
  /**
   * Batches of at least this many bytes go straight to S3 through a presigned
   * PUT and are then committed (the direct-to-S3 data plane), instead of through
   * the API; Infinity turns it off. The API takes at most 4 MiB per request, an
   * upload up to 64 MiB. @default 1048576
   */
  directUploadBytes?: number;
}

export interface ProducerRecord {
  topic: string;
  messages: Message[];
  /** Overrides the producer's compression for these messages' batches. */
  compression?: CompressionCodec;
  /** Accepted for kafkajs compatibility; Strand acknowledges once the append is durable. */
  acks?: number;
}

/** One queued message: where its acknowledgment goes is its send's `SendAck`, at `index`. */
interface Pending {
  record: LogRecord;
  bytes: number;
  compression: CompressionCodec;
  ack: SendAck;
  index: number;
}

/**
 * The acknowledgment of one send(): it resolves, in message order, once every
 * message it queued is acknowledged, and rejects with the first failure (as
 * Promise.all over per-message promises would, without a promise and two
 * callbacks per message: a 1 MiB send holds a thousand 1 KiB messages).
 */
class SendAck {
  readonly results: RecordMetadata[] = [];
  readonly promise: Promise<RecordMetadata[]>;
  private resolve!: (results: RecordMetadata[]) => void;
  private rejectWith!: (err: unknown) => void;
  private outstanding = 0;
  private sealed = false;
  private settled = false;

  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.rejectWith = reject;
    });
  }

  /** A message at `index` was queued. */
  expect(): void {
    this.outstanding++;
  }

  /** Every message the send will queue is queued (`count` of them: fewer when queueing stopped on an error). */
  seal(count: number): void {
    this.sealed = true;
    this.results.length = count;
    this.settleIfDone();
  }

  acknowledge(index: number, meta: RecordMetadata): void {
    this.results[index] = meta;
    this.outstanding--;
    this.settleIfDone();
  }

  reject(err: unknown): void {
    this.outstanding--;
    if (!this.settled) {
      this.settled = true;
      this.rejectWith(err);
    }
  }

  private settleIfDone(): void {
    if (this.sealed && this.outstanding === 0 && !this.settled) {
      this.settled = true;
      this.resolve(this.results);
    }
  }
}

interface PartitionQueue {
  topic: string;
  partition: number;
  pending: Pending[];
  bytes: number;
  timer: NodeJS.Timeout | undefined;
  inFlight: boolean;
  /** Generation of the producer identity `nextSequence` belongs to. */
  generation: number;
  nextSequence: number;
}

interface Identity {
  producerId: number;
  producerEpoch: number;
  generation: number;
}

interface BatchResponse {
  base_offset: number;
  last_offset: number;
  log_append_time: number;
  duplicate?: boolean;
}

/** Ceiling on the records of one batch, whatever batchSize allows. */
export const recordsPerBatchMax = 50_000;
const int32Max = 0x7fffffff;

export class Producer {
  private readonly lingerMs: number;
  private readonly batchSize: number;
  private readonly compression: CompressionCodec;
  private readonly bufferMemory: number;
  private readonly idempotentWanted: boolean;
  private readonly queues = new Map<string, PartitionQueue>();
  private readonly sticky = new Map<string, number>();
  private readonly outstanding = new Set<Promise<unknown>>();
  private readonly preparing = new Set<Promise<void>>();
  private readonly spaceWaiters: (() => void)[] = [];
  private queuedBytes = 0;
  private identity: Promise<Identity | null> | undefined;
  private identityGeneration = 0;
  private identityStale = false;
  private closed = false;

  constructor(
    private readonly client: StrandClient,
    private readonly config: ProducerConfig = {},
  ) {
    this.lingerMs = config.lingerMs ?? 5;
    this.batchSize = config.batchSize ?? 16_384;
    this.compression = config.compression ?? 'none';
    this.bufferMemory = config.bufferMemory ?? 32 * 1024 * 1024;
    this.idempotentWanted = config.idempotent ?? true;
    if (!(this.lingerMs >= 0)) throw new StrandUsageError(`lingerMs must be >= 0, not ${this.lingerMs}`);
    if (!(Number.isInteger(this.batchSize) && this.batchSize > 0)) throw new StrandUsageError(`batchSize must be a positive integer, not ${this.batchSize}`);
    checkCodec(this.compression);
  }

  /** Kept for kafkajs familiarity; the producer id is requested on the first send. */
  async connect(): Promise<void> {}

  /** Whether batches carry a producer id (known after the first send). */
  async isIdempotent(): Promise<boolean> {
    return (await this.currentIdentity()) !== null;
  }

  /** Queues the messages and resolves, in message order, with where each one landed. */
  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.closed) throw new StrandUsageError('send() after close(): create a new producer');
    const compression = record.compression ?? this.compression;
    checkCodec(compression);
    if (record.messages.length === 0) return [];
    // Until its messages are queued, flush() must wait for this send too.
    let queued!: () => void;
    const preparing = new Promise<void>((resolve) => (queued = resolve));
    this.preparing.add(preparing);
    const done = () => {
      queued();
      this.preparing.delete(preparing);
    };
    const ack = new SendAck();
    this.track(ack.promise);
    try {
      await this.queueMessages(record, compression, ack);
      done();
      return await ack.promise;
    } finally {
      done();
    }
  }

  /** Picks partitions and queues every message; resolves once they are queued. */
  private async queueMessages(record: ProducerRecord, compression: CompressionCodec, ack: SendAck): Promise<void> {
    let queued = 0;
    try {
      const needsCount = record.messages.some((m) => m.partition === undefined);
      const partitions = needsCount ? await this.client.metadata.partitions(record.topic) : 0;
      await this.currentIdentity();
      const now = Date.now();
      for (const m of record.messages) {
        const r = toLogRecord(m, now);
        const partition = m.partition ?? (r.key !== null ? partitionForKey(r.key, partitions) : this.stickyPartition(record.topic, partitions));
        if (!(Number.isInteger(partition) && partition >= 0)) throw new StrandUsageError(`partition must be a non-negative integer, not ${partition}`);
        while (this.queuedBytes >= this.bufferMemory) await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
        this.enqueue(record.topic, partition, r, compression, ack, queued++);
      }
    } finally {
      // Messages queued before an error are still sent; the send's promise waits for them.
      ack.seal(queued);
    }
  }

  /** kafkajs's sendBatch: several topics at once. */
  async sendBatch(batch: { topicMessages: ProducerRecord[] }): Promise<RecordMetadata[]> {
    return (await Promise.all(batch.topicMessages.map((tm) => this.send(tm)))).flat();
  }

  /** Sends everything queued now, without waiting for lingerMs, and waits for the answers. */
  async flush(): Promise<void> {
    for (;;) {
      const pending = [...this.preparing];
      // A send still choosing partitions has nothing queued yet: wait for it to queue, then drain.
      if (pending.length > 0) await Promise.allSettled(pending);
      for (const q of this.queues.values()) this.drain(q);
      const waiting = [...this.outstanding];
      if (waiting.length === 0 && this.preparing.size === 0) return;
      await Promise.allSettled(waiting);
    }
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** kafkajs's name for close(). */
  disconnect(): Promise<void> {
    return this.close();
  }

  private stickyPartition(topic: string, partitions: number): number {
    let p = this.sticky.get(topic);
    if (p === undefined || p >= partitions) {
      p = Math.floor(Math.random() * partitions);
      this.sticky.set(topic, p);
    }
    return p;
  }

  private enqueue(topic: string, partition: number, record: LogRecord, compression: CompressionCodec, ack: SendAck, index: number): void {
    const key = `${topic}\u0000${partition}`;
    let q = this.queues.get(key);
    if (!q) {
      q = { topic, partition, pending: [], bytes: 0, timer: undefined, inFlight: false, generation: -1, nextSequence: 0 };
      this.queues.set(key, q);
    }
    const queue = q;
    const bytes = estimatedRecordBytes(record);
    ack.expect();
    queue.pending.push({ record, bytes, compression, ack, index });
    queue.bytes += bytes;
    this.queuedBytes += bytes;
    if (queue.bytes >= this.batchSize) this.drain(queue);
    else queue.timer ??= setTimeout(() => this.drain(queue), this.lingerMs);
  }

  private track(p: Promise<unknown>): void {
    this.outstanding.add(p);
    const done = () => this.outstanding.delete(p);
    p.then(done, done);
  }

  /** Takes the next batch off the queue and sends it, unless one is already in flight. */
  private drain(q: PartitionQueue): void {
    if (q.timer) {
      clearTimeout(q.timer);
      q.timer = undefined;
    }
    if (q.inFlight || q.pending.length === 0) return;
    // Batches hold one codec: take records up to batchSize bytes, at least one.
    const codec = q.pending[0]!.compression;
    let n = 0;
    let bytes = 0;
    while (n < q.pending.length && n < recordsPerBatchMax && q.pending[n]!.compression === codec && (n === 0 || bytes + q.pending[n]!.bytes <= this.batchSize)) {
      bytes += q.pending[n]!.bytes;
      n++;
    }
    const batch = q.pending.splice(0, n);
    q.bytes -= bytes;
    this.queuedBytes -= bytes;
    while (this.spaceWaiters.length > 0 && this.queuedBytes < this.bufferMemory) this.spaceWaiters.shift()!();
    if (this.sticky.get(q.topic) === q.partition) this.sticky.delete(q.topic);
    q.inFlight = true;
    const sending = this.sendPartitionBatch(q, batch, codec).finally(() => {
      q.inFlight = false;
      if (q.pending.length > 0) this.drain(q);
    });
    this.track(sending);
  }

  private async sendPartitionBatch(q: PartitionQueue, batch: Pending[], compression: CompressionCodec): Promise<void> {
    try {
      const identity = await this.currentIdentity();
      let sequence: number | undefined;
      if (identity) {
        if (q.generation !== identity.generation) {
          q.generation = identity.generation;
          q.nextSequence = 0;
        }
        sequence = q.nextSequence;
        q.nextSequence = (q.nextSequence + batch.length) % (int32Max + 1);
      }
      const records = batch.map((p) => p.record);
      const body = encodeRecordBatch(records, {
        compression,
        ...(identity ? { producerId: identity.producerId, producerEpoch: identity.producerEpoch, baseSequence: sequence } : {}),
      });
      let res: BatchResponse;
      try {
        res = body.length >= (this.config.directUploadBytes ?? 1024 * 1024) ? await this.uploadDirect(q, body) : await this.client.transport.json<BatchResponse>('POST', `${this.client.clusterPath}/topics/${encodeURIComponent(q.topic)}/partitions/${q.partition}/batches`, {
          body,
          headers: { 'content-type': recordBatchMediaType },
          retry: this.config.retry,
        });
      } catch (err) {
        // The batch may or may not be in the log; its sequence can be neither reused nor skipped.
        if (identity) this.identityStale = true;
        if (err instanceof UnknownPartitionError || err instanceof UnknownTopicError) this.client.metadata.delete(q.topic);
        throw err;
      }
      if (res.last_offset - res.base_offset + 1 !== batch.length) {
        throw new StrandApiError(50001, 200, `The server acknowledged offsets ${res.base_offset}..${res.last_offset} for a batch of ${batch.length} records.`);
      }
      batch.forEach((p, i) =>
        p.ack.acknowledge(p.index, {
          topicName: q.topic,
          partition: q.partition,
          offset: res.base_offset + i,
          timestamp: res.log_append_time >= 0 ? res.log_append_time : p.record.timestamp,
          ...(res.duplicate ? { duplicate: true } : {}),
        }),
      );
    } catch (err) {
      for (const p of batch) p.ack.reject(err);
    }
  }

  /**
   * The direct-to-S3 path: ask for a presigned PUT (it signs the batch's length
   * and SHA-256), PUT the bytes to S3, then commit. Retrying any step is safe:
   * the URL accepts only these bytes, and an idempotent batch commits once.
   */
  private async uploadDirect(q: PartitionQueue, body: Buffer): Promise<BatchResponse> {
    const partitionPath = `${this.client.clusterPath}/topics/${encodeURIComponent(q.topic)}/partitions/${q.partition}`;
    const upload = await this.client.transport.json<{ upload_id: string; url: string; headers: Record<string, string> }>('POST', `${partitionPath}/uploads`, {
      json: { size: body.length, sha256: createHash('sha256').update(body).digest('base64') },
      retry: this.config.retry,
    });
    const transport = this.client.transport;
    const policy = transport.policyFor(this.config.retry);
    for (let attempt = 0; ; attempt++) {
      let status: number | undefined;
      let failure: unknown;
      try {
        const put = await objectRequest('PUT', upload.url, upload.headers, body, AbortSignal.timeout(transport.requestTimeout));
        if (put.status >= 200 && put.status < 300) break;
        status = put.status;
      } catch (err) {
        failure = err; // a network error or a timeout: retried
      }
      if (status !== undefined) {
        failure = new StrandClientError(`S3 refused the upload of ${body.length} bytes to ${q.topic}/${q.partition}: HTTP ${status}.`);
        if (status < 500 && status !== 429) throw failure;
      }
      if (attempt >= policy.retries) throw failure;
      await sleep(backoffMs(policy, attempt));
    }
    return this.client.transport.json<BatchResponse>('POST', `${partitionPath}/uploads/${upload.upload_id}/commit`, { retry: this.config.retry });
  }

  /** The producer id to stamp on batches, or null when the server has no producers endpoint. */
  private currentIdentity(): Promise<Identity | null> {
    if (!this.idempotentWanted) return Promise.resolve(null);
    if (this.identityStale && this.identity) {
      this.identityStale = false;
      this.identity = undefined;
    }
    return (this.identity ??= this.initProducerId().catch((err: unknown) => {
      this.identity = undefined; // let the next send try again
      throw err;
    }));
  }

  private async initProducerId(): Promise<Identity | null> {
    const res = await this.client.transport.request('POST', `${this.client.clusterPath}/producers`, { json: {}, accept: [404, 405] });
    const code = (res.json as { error_code?: number } | undefined)?.error_code;
    if (res.status === 405 || (res.status === 404 && !(typeof code === 'number' && code >= 40400 && code < 40500))) {
      this.client.logger.warn(`strand: ${this.client.url} has no idempotent producer endpoint (POST ${this.client.clusterPath}/producers); producing without idempotence, so a retried batch may be appended twice.`);
      return null;
    }
    if (res.status === 404) throw apiErrorFrom(404, res.json, { method: 'POST', path: `${this.client.clusterPath}/producers` });
    const json = res.json as { producer_id: number; producer_epoch: number };
    return { producerId: Number(json.producer_id), producerEpoch: Number(json.producer_epoch), generation: ++this.identityGeneration };
  }
}

function checkCodec(codec: CompressionCodec): void {
  if (!isCompressionCodec(codec)) throw new StrandUsageError(`unknown compression codec '${String(codec)}'`);
  if (!supportedCompressionCodecs.includes(codec)) {
    throw new StrandUsageError(`compression '${codec}' is not supported yet; use ${supportedCompressionCodecs.join(' or ')}`);
  }
}
