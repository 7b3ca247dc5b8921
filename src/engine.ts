/**
 * The engine: the log itself, written against the AWS SDK v3 clients only. The
 * same code runs in Lambda and in the local runtime. Handlers call these methods;
 * nothing here knows about HTTP.
 */
import type { Doorbell } from './notify/doorbell';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Clock } from './clock';
import type { StrandConfig } from './config/env';
import type { StorageClients } from './storage/clients';
import { unknownPartition } from './errors';
import { mapBounded } from './mapBounded';
import { LeaseStore } from './log/LeaseStore';
import { ObjectStore, topicPrefix } from './log/ObjectStore';
import { PartitionIndex } from './log/PartitionIndex';
import { TopicCatalog, partitionKey, type Topic } from './log/TopicCatalog';
import { appendBatches, appendUploaded, type PartitionAppend, type PartitionAppendResult } from './log/appendBatches';
import {
  locateRanges,
  offsetForTimestamp,
  partitionBounds,
  type LocatedRanges,
  readPartition,
  waitForData,
  type PartitionBounds,
  type ReadOptions,
  type ReadResult,
} from './log/readPartition';
import type { LogContext } from './log/LogContext';
import type { ConfigOverrides } from './log/topicConfig';
import { ProducerSequences } from './producers/ProducerSequences';
import { ProducerIds } from './producers/ProducerIds';
import { longPollWithinDeadline } from './config/deadline';
import { waitForAnyData, type WatchedPartition } from './log/waitForAnyData';

export interface EngineDeps {
  config: StrandConfig;
  clients: StorageClients;
  clock: Clock;
  logger: Logger;
}

/** Partitions whose data a topic deletion removes at once. */
const partitionDeletesInFlightMax = 16;

export class Engine {
  private readonly stopping = new AbortController();
  readonly topics: TopicCatalog;
  readonly context: LogContext;
  /** Producer ids and epochs for idempotent producers (POST /producers). */
  readonly producerIds: ProducerIds;

  constructor(private readonly deps: EngineDeps) {
    const { config, clients, clock, logger } = deps;
    this.topics = new TopicCatalog(clients.ddb, config.tables.topics, () => clock.now());
    this.context = {
      index: new PartitionIndex(clients.ddb, config.tables.log),
      leases: new LeaseStore(clients.ddb, config.tables.leases, clock),
      objects: new ObjectStore(clients.s3, config.bucket),
      producers: new ProducerSequences(clients.ddb, config.tables.log),
      clock,
      logger,
      holderId: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    };
    this.producerIds = new ProducerIds(clients.ddb, config.tables.log);
  }

  get clusterId(): string {
    return this.deps.config.clusterId;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  async createTopic(name: string, partitionsCount: number, replicationFactor: number, overrides: ConfigOverrides): Promise<Topic> {
    return this.topics.create(name, partitionsCount, replicationFactor, overrides, this.deps.clock.now());
  }

  /** Deletes a topic and its data: catalog entry first (so it is gone for clients at once), then index, leases and objects. */
  async deleteTopic(name: string): Promise<void> {
    const topic = await this.topics.remove(name);
    const partitions = Array.from({ length: topic.partitionsCount }, (_, p) => p);
    await mapBounded(partitions, partitionDeletesInFlightMax, async (p) => {
      await this.context.index.deletePartition(partitionKey(topic, p), this.deps.clock.now());
      await this.context.leases.delete(partitionKey(topic, p));
    });
    await this.context.objects.deletePrefix(topicPrefix(topic.topicId));
  }

  /** Throws 40402 when the partition does not exist. */
  assertPartition(topic: Topic, partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitionsCount) {
      throw unknownPartition(topic.name, partition);
    }
  }

  append(topic: Topic, appends: PartitionAppend[]): Promise<PartitionAppendResult[]> {
    for (const a of appends) this.assertPartition(topic, a.partition);
    return appendBatches(this.context, topic, appends);
  }

  read(topic: Topic, partition: number, offset: number, bytesWanted: number, options: ReadOptions = {}): Promise<ReadResult> {
    this.assertPartition(topic, partition);
    return readPartition(this.context, topic, partition, offset, bytesWanted, options);
  }

  /** Where the batches from `offset` on live in S3, without reading them. */
  locate(topic: Topic, partition: number, offset: number, bytesWanted: number): Promise<LocatedRanges> {
    this.assertPartition(topic, partition);
    return locateRanges(this.context, topic, partition, offset, bytesWanted);
  }

  /** Commits an object a producer uploaded directly (validated by the caller). */
  appendUploaded(topic: Topic, objectId: string, append: PartitionAppend, onceSlot: string): Promise<PartitionAppendResult> {
    this.assertPartition(topic, append.partition);
    return appendUploaded(this.context, topic, objectId, append, onceSlot);
  }

  bounds(topic: Topic, partition: number): Promise<PartitionBounds> {
    this.assertPartition(topic, partition);
    return partitionBounds(this.context, topic, partition);
  }

  offsetForTimestamp(topic: Topic, partition: number, timestamp: number): Promise<{ offset: number; timestamp: number }> {
    this.assertPartition(topic, partition);
    return offsetForTimestamp(this.context, topic, partition, timestamp);
  }

  /** Long poll. The wait ends before the request's deadline, leaving time for the read after it (src/config/deadline.ts). */
  waitForData(topic: Topic, partition: number, offset: number, maxWaitMs: number, doorbell?: Doorbell): Promise<void> {
    this.assertPartition(topic, partition);
    return waitForData(this.context, topic, partition, offset, longPollWithinDeadline(maxWaitMs), this.stopping.signal, doorbell);
  }

  /** The multi-partition long poll (heads only), shortened by the deadline as waitForData is; true when the data came. */
  waitForAnyData(watched: readonly WatchedPartition[], bytesWanted: number, maxWaitMs: number, doorbell?: Doorbell): Promise<boolean> {
    return waitForAnyData(this.context, watched, bytesWanted, longPollWithinDeadline(maxWaitMs), this.stopping.signal, doorbell);
  }

  /** Ends long polls at once (a process shutting down answers them now rather than after max_wait_ms). */
  shutdown(): void {
    this.stopping.abort();
  }
}
