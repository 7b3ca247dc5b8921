/**
 * What a mirror keeps across restarts, and where.
 *
 * Where: a compacted topic on the TARGET cluster, `strand-mirror.<name>.state`
 * (name: the mirror's name, by default the source cluster id), one record per
 * item, key = item name, value = JSON; the last record of a key wins. Why
 * there: the mirror already needs write access to the target and nothing
 * else; the same code keeps state for the CLI and for the Lambda of
 * `StrandMirror` (no table of its own); `strand mirror status` and
 * `translate-offsets` read it with the target's credentials; and the target is
 * the side that survives when the source is lost. The prefix `strand-mirror.`
 * is internal: no mirror copies such a topic (topicSelection.ts).
 *
 * Items:
 *   `identity`                      the mirror's producer id and epoch on the target
 *   `p/<target topic>/<partition>`  progress: next source offset, next target offset,
 *                                   next sequence, and the offset sync runs
 *   `status`                        the last pass's status (status.ts)
 *
 * What does NOT depend on this state: no-duplicates. Where to resume is read
 * from the target partition itself (partitionCopy.ts): its last record carries
 * the source offset it copies, its batch the producer id, epoch and sequence.
 * The state only adds offset syncs (lost syncs make translation coarser, never
 * wrong), the producer id (a fresh one is taken when it is lost), status, and
 * the resume point of a partition whose target records retention removed.
 */
import type { StrandClient } from '../../client/StrandClient';
import { TopicExistsError } from '../../client/errors';
import { encodeRecordBatch } from '../codec/recordBatch';
import type { LogRecord } from '../codec/record';
import { appendBatch, readRecords, type ProducerIdentity } from './remoteLog';
import type { SyncRun } from './offsetSync';
import { internalTopicPrefix } from './topicSelection';
import type { MirrorStatus } from './status';

export interface PartitionProgress {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  /** The next source offset to copy. */
  nextSourceOffset: number;
  /** The target offset the next copy lands at. */
  nextTargetOffset: number;
  /** The sequence of the next append, under `epoch`. */
  nextSequence: number;
  producerEpoch: number;
  runs: SyncRun[];
}

export interface MirrorStateData {
  identity?: ProducerIdentity;
  /** Keyed by `progressKey(target topic, partition)`. */
  partitions: Record<string, PartitionProgress>;
  status?: MirrorStatus;
}

export const progressKey = (targetTopic: string, partition: number) => `p/${targetTopic}/${partition}`;

export interface MirrorStateStore {
  /** Where the state lives, for messages. */
  readonly where: string;
  load(): Promise<MirrorStateData>;
  /** Saves the items named (and only those); a crash part-way leaves some saved, which is fine: each item stands alone. */
  save(data: MirrorStateData, items: { identity?: boolean; partitions?: string[]; status?: boolean }): Promise<void>;
}

export function emptyState(): MirrorStateData {
  return { partitions: {} };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** In memory (tests, and a mirror that should remember nothing). */
export class MemoryStateStore implements MirrorStateStore {
  readonly where = 'memory';
  private data: MirrorStateData = emptyState();
  saves = 0;

  async load(): Promise<MirrorStateData> {
    return clone(this.data);
  }

  async save(data: MirrorStateData, items: { identity?: boolean; partitions?: string[]; status?: boolean }): Promise<void> {
    this.saves++;
    if (items.identity) this.data.identity = clone(data.identity);
    for (const k of items.partitions ?? []) if (data.partitions[k]) this.data.partitions[k] = clone(data.partitions[k]!);
    if (items.status && data.status) this.data.status = clone(data.status);
  }
}

/** The state topic's name for a mirror named `name` (by default its source cluster id). */
export const stateTopicName = (name: string) => `${internalTopicPrefix}${name}.state`;

/** Bytes of state records per append (the API takes 4 MiB a request). */
const stateAppendBytesMax = 1024 * 1024;
/** Bytes read per fetch while loading. */
const stateFetchBytes = 1024 * 1024;
/** Fetches one load makes at most (a compacted state topic is small; this bounds a runaway one). */
const stateLoadFetchesMax = 10_000;

/** The state as records in a compacted topic on the target cluster (see the file comment). */
export class TopicStateStore implements MirrorStateStore {
  readonly topic: string;
  readonly where: string;
  private ensured = false;

  constructor(
    private readonly target: StrandClient,
    name: string,
  ) {
    this.topic = stateTopicName(name);
    this.where = `topic ${this.topic} on ${target.url}`;
  }

  private async ensureTopic(): Promise<void> {
    if (this.ensured) return;
    try {
      await this.target.admin().createTopic(this.topic, { partitions: 1, configs: { 'cleanup.policy': 'compact' } });
    } catch (err) {
      if (!(err instanceof TopicExistsError)) throw err;
    }
    this.ensured = true;
  }

  async load(): Promise<MirrorStateData> {
    const data = emptyState();
    const topics = await this.target.admin().listTopics();
    if (!topics.includes(this.topic)) return data;
    this.ensured = true;
    const { logStartOffset, highWatermark } = await this.target.admin().describePartition(this.topic, 0);
    let offset = logStartOffset;
    for (let i = 0; offset < highWatermark; i++) {
      if (i >= stateLoadFetchesMax) throw new Error(`the mirror state topic ${this.topic} needs more than ${stateLoadFetchesMax} fetches to read`);
      const got = await readRecords(this.target, this.topic, 0, offset, stateFetchBytes);
      for (const r of got.records) {
        const key = r.key?.toString('utf8');
        if (!key) continue;
        const value = r.value === null ? undefined : (JSON.parse(r.value.toString('utf8')) as unknown);
        if (key === 'identity') data.identity = value as ProducerIdentity | undefined;
        else if (key === 'status') data.status = value as MirrorStatus | undefined;
        else if (key.startsWith('p/')) {
          if (value === undefined) delete data.partitions[key];
          else data.partitions[key] = value as PartitionProgress;
        }
      }
      if (got.nextOffset <= offset) break;
      offset = got.nextOffset;
    }
    return data;
  }

  async save(data: MirrorStateData, items: { identity?: boolean; partitions?: string[]; status?: boolean }): Promise<void> {
    await this.ensureTopic();
    const now = Date.now();
    const records: LogRecord[] = [];
    const record = (key: string, value: unknown): LogRecord => ({ key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)), headers: [], timestamp: now });
    if (items.identity && data.identity) records.push(record('identity', data.identity));
    for (const k of items.partitions ?? []) if (data.partitions[k]) records.push(record(k, data.partitions[k]));
    if (items.status && data.status) records.push(record('status', data.status));
    // Plain (not idempotent) appends: a state record written twice is the same item twice, and the last wins.
    let batch: LogRecord[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await appendBatch(this.target, this.topic, 0, encodeRecordBatch(batch));
      batch = [];
      bytes = 0;
    };
    for (const r of records) {
      const size = r.key!.length + r.value!.length + 32;
      if (bytes + size > stateAppendBytesMax) await flush();
      batch.push(r);
      bytes += size;
    }
    await flush();
  }
}
