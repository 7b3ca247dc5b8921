/**
 * Consumer: a fetch loop per assigned partition whose fetches go out together
 * as one request at a time (`multiPartitionFetch`, the default: one
 * FetchSession, client/fetchSession.ts; `false`: a request per partition),
 * waiting on the notice socket at the end of the log (client/noticeWaiter.ts),
 * delivery through `eachMessage` or `eachBatch`, `seek`,
 * `pause`/`resume`, and the out-of-range reset policy.
 *
 * Partitions come from `assign([{ topic, partition }])` (explicit, like Kafka's
 * assign()), or from `subscribe({ topics })`: without a `groupId` that means
 * every partition of the topics; with one, the group coordinator decides
 * (KIP-848 heartbeats, below).
 *
 * Each partition's loop: fetch from its position (long poll up to
 * maxWaitTimeInMs), hand the records to the handler, move the position past
 * what the handler resolved. A seek or pause while a fetch is in flight bumps
 * the partition's generation, so the fetch's records are dropped rather than
 * delivered from the old position. Handlers run at most
 * `partitionsConsumedConcurrently` at a time, in offset order per partition.
 */
import { EventEmitter } from 'node:events';
import { decodeRecordBatch, patchBaseOffsets, splitBatches } from '../src/codec/recordBatch';
import { FencedMemberError, OffsetOutOfRangeError, StrandApiError, StrandClientError, StrandUsageError } from './errors';
import { FetchSession, type PartitionAnswer } from './fetchSession';
import { NoticeWaiter } from './noticeWaiter';
import { decodeHeaders, type KafkaMessage } from './messages';
import { objectRequest } from './objectHttp';
import { mapBounded } from '../src/mapBounded';
import { backoffMs, retryPolicy, sleep, type RetryOptions } from './retry';
import type { StrandClient } from './StrandClient';
import { recordBatchMediaType } from './producer';

/** Media type of a fetch answered with presigned ranged-GET URLs (src/api/fetch.ts). */
export const batchUrlsMediaType = 'application/vnd.strand.batch-urls+json';

/** A fetch answered with presigned ranged-GET URLs. */
interface LocatedBatches {
  high_watermark: number;
  next_offset: number;
  ranges: { url: string; range: string; size: number; base_offset: number }[];
}

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

export interface ConsumerConfig {
  /** The consumer group; with it, subscribe() joins the group and offsets can be committed. */
  groupId?: string;
  /** Where to start when there is no committed offset, or the position fell out of the log. @default 'latest' */
  autoOffsetReset?: AutoOffsetReset;
  /** Long-poll wait of one fetch at the end of the log, in ms (at most 20000). @default 5000 */
  maxWaitTimeInMs?: number;
  /** Bytes one fetch asks for per partition (at most 4 MiB). @default 1048576 */
  maxBytesPerPartition?: number;
  /** Group session timeout, in ms. @default 45000 */
  sessionTimeout?: number;
  /** Server-side assignor for the group: 'uniform' or 'range'. */
  assignor?: string;
  /** Retries of a failing handler or fetch before the consumer crashes. */
  retry?: RetryOptions;
  /** Called with partitions this consumer starts consuming. */
  onPartitionsAssigned?: (partitions: TopicPartition[]) => void | Promise<void>;
  /** Called with partitions this consumer stops consuming, before they move on (commit here when committing manually). */
  onPartitionsRevoked?: (partitions: TopicPartition[]) => void | Promise<void>;
  /** Called with partitions taken away without a chance to commit (this member was fenced). @default onPartitionsRevoked */
  onPartitionsLost?: (partitions: TopicPartition[]) => void | Promise<void>;
  /** Heartbeat at most this often, in ms; the server's heartbeat_interval_ms when smaller. */
  heartbeatInterval?: number;
  /**
   * Read batches straight from S3 through presigned ranged-GET URLs the API hands
   * out, instead of through the API (the direct-to-S3 data plane). @default false
   */
  directFetch?: boolean;
  /**
   * Fetch all of this consumer's partitions together, in one request at a time
   * (POST …/records:fetch, Kafka's Fetch; client/fetchSession.ts), instead of
   * one request per partition. `false` for a deployment older than records:fetch.
   * @default true
   */
  multiPartitionFetch?: boolean;
  /**
   * Wait at the end of the log on the deployment's notice socket (a WebSocket;
   * client/noticeWaiter.ts) instead of long-polling: a caught-up partition costs
   * nothing until a commit reaches it. Used when the deployment offers one
   * (GET …/notifications); otherwise, or with `false`, fetches long-poll with
   * maxWaitTimeInMs. @default true
   */
  notifications?: boolean;
  /** With notifications: fetch anyway after this long without a notice, in ms (a lost notice costs at most this). @default 3600000 */
  noticeRecheckMs?: number;
  /** With notifications, while the socket is down: poll this often, in ms. @default 1000 */
  noticeFallbackPollMs?: number;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
  pause(): () => void;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: number;
  messages: KafkaMessage[];
  isEmpty(): boolean;
  firstOffset(): number | null;
  lastOffset(): number;
  offsetLag(): number;
}

export interface EachBatchPayload {
  batch: Batch;
  /** Marks `offset` as processed: the position moves past it. */
  resolveOffset(offset: number): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
  pause(): () => void;
}

export interface ConsumerRunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  /** Resolve the last offset of a batch when eachBatch returns. @default true */
  eachBatchAutoResolve?: boolean;
  /** Commit processed offsets every autoCommitInterval (group consumers only). @default true */
  autoCommit?: boolean;
  /** @default 5000 */
  autoCommitInterval?: number;
  /** How many partitions' handlers may run at once. @default 1 */
  partitionsConsumedConcurrently?: number;
}

interface PartitionState extends TopicPartition {
  /** Next offset to fetch; undefined until resolved from the committed offset or the reset policy. */
  position: number | undefined;
  paused: boolean;
  /** Bumped by seek, pause and revocation: a fetch started under an older generation is dropped. */
  generation: number;
  abort: AbortController;
  worker: Promise<void> | undefined;
  /** Highest offset + 1 the handler finished and that is not committed yet. */
  uncommitted: number | undefined;
  wake: (() => void) | undefined;
  revoked: boolean;
  /** The group's committed offsets were read when the partition was assigned, and it had none: go straight to the reset policy. */
  noneCommitted: boolean;
}

/** Most partitions one consumer fetches from. */
export const partitionsPerConsumerMax = 1024;
export const longPollMsMax = 20_000;
/**
 * With notifications, a caught-up partition fetches at least this often anyway:
 * a notice lost in a failed notifier run costs at most this. API Gateway also
 * closes every connection after 2 hours, and a reconnect fetches too.
 */
export const noticeRecheckMsDefault = 60 * 60 * 1000;
/** How long a joining member waits for its notice socket to open, so its join heartbeat can name it. */
export const noticeJoinWaitMs = 2_000;
/**
 * While the notice socket is down, a consumer of P partitions in T topics
 * polls each partition at most every (P + T) × this: a third of a storage read
 * per second for its polls, leaving room for its heartbeats (every 5 s then, a
 * group and a topic read each: 0.4 a second) within one read per second in all.
 */
export const fallbackPollMsPerPartition = 3_000;
/** With notifications, how often a caught-up partition polls while the socket is down (at least; see fallbackPollMsPerPartition). */
export const noticeFallbackPollMsDefault = 1_000;

const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

export class Consumer extends EventEmitter {
  readonly groupId: string | undefined;
  protected readonly autoOffsetReset: AutoOffsetReset;
  protected readonly maxWaitMs: number;
  protected readonly maxBytes: number;
  protected readonly states = new Map<string, PartitionState>();
  protected runConfig: ConsumerRunConfig | undefined;
  protected running = false;
  private subscription: { topics: string[] } | undefined;
  private fromBeginning = false;
  private slots = 1;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly policy;
  private crashError: Error | undefined;
  /** Group membership (subscribe with a groupId): KIP-848 member id and epoch. */
  private member: { id: string | undefined; epoch: number; intervalMs: number } = { id: undefined, epoch: 0, intervalMs: 5000 };
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatChain: Promise<void> = Promise.resolve();
  private lastCommitAt = Date.now();
  /** The one fetch loop for every partition, with multiPartitionFetch. */
  private readonly session: FetchSession | undefined;
  /** The notice socket, with notifications (the default). */
  private readonly notices: NoticeWaiter | undefined;

  constructor(
    protected readonly client: StrandClient,
    protected readonly config: ConsumerConfig = {},
  ) {
    super();
    this.groupId = config.groupId;
    this.autoOffsetReset = config.autoOffsetReset ?? 'latest';
    this.maxWaitMs = Math.min(config.maxWaitTimeInMs ?? 5000, longPollMsMax);
    this.maxBytes = config.maxBytesPerPartition ?? 1024 * 1024;
    this.policy = retryPolicy(config.retry);
    if (config.multiPartitionFetch ?? true) {
      this.session = new FetchSession(client, { maxBytesPerPartition: this.maxBytes, direct: config.directFetch ?? false });
    }
    if (config.notifications ?? true) this.notices = new NoticeWaiter(client, config.noticeRecheckMs ?? noticeRecheckMsDefault);
  }

  async connect(): Promise<void> {}

  /** Consume these topics: every partition without a groupId, the group's assignment with one. */
  async subscribe(options: { topics?: (string | RegExp)[]; topic?: string | RegExp; fromBeginning?: boolean }): Promise<void> {
    const topics = [...(options.topics ?? []), ...(options.topic !== undefined ? [options.topic] : [])];
    if (topics.some((t) => typeof t !== 'string')) throw new StrandUsageError('subscribe() takes topic names; regular expressions are not supported');
    if (topics.length === 0) throw new StrandUsageError('subscribe() needs at least one topic');
    if (this.running) throw new StrandUsageError('subscribe() before run()');
    this.subscription = { topics: topics as string[] };
    this.fromBeginning = options.fromBeginning ?? false;
  }

  /** Consume exactly these partitions, from `offset` when given, else per fromBeginning / autoOffsetReset. */
  assign(partitions: (TopicPartition & { offset?: number })[], options: { fromBeginning?: boolean } = {}): void {
    if (this.subscription) throw new StrandUsageError('assign() and subscribe() cannot be mixed');
    if (options.fromBeginning !== undefined) this.fromBeginning = options.fromBeginning;
    const wanted = new Set(partitions.map(key));
    for (const [k, s] of this.states) if (!wanted.has(k)) this.revoke(s);
    for (const tp of partitions) {
      const existing = this.states.get(key(tp));
      if (existing) {
        if (tp.offset !== undefined) this.seek({ ...tp, offset: tp.offset });
        continue;
      }
      this.addPartition(tp, tp.offset);
    }
  }

  /** The partitions this consumer currently consumes. */
  assignment(): TopicPartition[] {
    return [...this.states.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** The next offset this consumer will fetch, when known. */
  position(tp: TopicPartition): number | undefined {
    return this.states.get(key(tp))?.position;
  }

  async run(config: ConsumerRunConfig): Promise<void> {
    if (this.running) throw new StrandUsageError('run() was already called');
    if (!config.eachMessage && !config.eachBatch) throw new StrandUsageError('run() needs eachMessage or eachBatch');
    this.runConfig = config;
    this.slots = Math.max(1, config.partitionsConsumedConcurrently ?? 1);
    this.running = true;
    this.crashError = undefined;
    if (this.subscription && !this.groupId) {
      const admin = this.client.admin();
      for (const topic of this.subscription.topics) {
        const { partitions } = await admin.describeTopic(topic);
        for (let p = 0; p < partitions; p++) if (!this.states.has(key({ topic, partition: p }))) this.addPartition({ topic, partition: p });
      }
    } else if (this.subscription && this.groupId) {
      // Join: the first heartbeat (epoch 0) returns the member id and, usually, an assignment.
      this.member = { id: undefined, epoch: 0, intervalMs: this.member.intervalMs };
      if (this.notices) {
        // A nudge (another member's change concerns us) heartbeats at once.
        this.notices.onGroupNudge = (groupId) => {
          if (groupId === this.groupId && this.running) this.scheduleHeartbeat(0);
        };
        // Opened before the join (bounded), so the join already names the connection.
        await Promise.race([this.notices.prepare(), sleep(noticeJoinWaitMs)]);
      }
      try {
        await this.heartbeatNow();
      } catch (err) {
        this.running = false;
        throw err;
      }
      return;
    }
    for (const s of this.states.values()) this.startWorker(s);
    if (this.states.size > 0) await this.config.onPartitionsAssigned?.(this.assignment());
  }

  /**
   * Commits offsets for the group: `offset` is the next offset to consume, as in
   * Kafka. Without arguments, commits what the handlers have processed.
   */
  async commitOffsets(offsets?: TopicPartitionOffset[]): Promise<void> {
    if (!this.groupId) throw new StrandUsageError('commitOffsets() needs a groupId');
    const list =
      offsets ??
      [...this.states.values()].filter((s) => s.uncommitted !== undefined).map((s) => ({ topic: s.topic, partition: s.partition, offset: s.uncommitted! }));
    if (list.length === 0) return;
    const inGroup = this.member.id !== undefined && this.member.epoch > 0;
    await this.client.transport.request('POST', `${this.groupPath()}/offsets:commit`, {
      json: {
        ...(inGroup ? { member_id: this.member.id, member_epoch: this.member.epoch } : {}),
        offsets: list.map((o) => ({ topic_name: o.topic, partition_id: o.partition, offset: o.offset })),
      },
    });
    for (const o of list) {
      const s = this.states.get(key(o));
      if (s && s.uncommitted === o.offset) s.uncommitted = undefined;
    }
    this.lastCommitAt = Date.now();
  }

  /** The group's committed offsets (next offset to consume) for the given topics, or all. */
  async committed(topics?: string[]): Promise<TopicPartitionOffset[]> {
    if (!this.groupId) throw new StrandUsageError('committed() needs a groupId');
    const res = await this.client.transport.json<{ offsets: { topic_name: string; partition_id: number; offset: number }[] }>('GET', `${this.groupPath()}/offsets`, {
      accept: [404],
    });
    return (res?.offsets ?? [])
      .filter((o) => !topics || topics.includes(o.topic_name))
      .map((o) => ({ topic: o.topic_name, partition: o.partition_id, offset: o.offset }));
  }

  private groupPath(): string {
    return `${this.client.clusterPath}/consumer-groups/${encodeURIComponent(this.groupId!)}`;
  }

  /** Heartbeats are serialized: one at a time, each reconciling the assignment it returns. */
  private heartbeatNow(): Promise<void> {
    const next = this.heartbeatChain.then(() => this.heartbeatOnce());
    this.heartbeatChain = next.catch(() => undefined);
    return next;
  }

  private scheduleHeartbeat(delayMs: number): void {
    clearTimeout(this.heartbeatTimer);
    if (!this.running) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatNow().catch((err: unknown) => {
        if (!this.running) return;
        if (err instanceof StrandClientError && err.retriable) {
          this.scheduleHeartbeat(this.member.intervalMs); // a later heartbeat may get through before the session ends
          return;
        }
        this.crash(err as Error);
      });
    }, delayMs);
  }

  private async heartbeatOnce(): Promise<void> {
    if (!this.running) return;
    type Assignment = { topic_name: string; partition_ids: number[] }[];
    let res: { member_id: string; member_epoch: number; heartbeat_interval_ms: number; assignment: Assignment };
    try {
      res = await this.client.transport.json('POST', `${this.groupPath()}/heartbeat`, {
        json: {
          ...(this.member.id !== undefined ? { member_id: this.member.id } : {}),
          member_epoch: this.member.epoch,
          ...(this.member.epoch === 0 ? { subscribed_topic_names: this.subscription!.topics } : {}),
          ...(this.config.sessionTimeout !== undefined ? { session_timeout_ms: this.config.sessionTimeout } : {}),
          ...(this.config.assignor !== undefined ? { assignor: this.config.assignor } : {}),
          owned_partitions: groupTopicPartitions(this.assignment()),
          // Where the coordinator nudges this member ('' once the socket is gone): it then lets it heartbeat less often.
          ...(this.notices && !this.notices.absent ? { notice_connection_id: this.notices.connectionId ?? '' } : {}),
        },
      });
    } catch (err) {
      if (err instanceof FencedMemberError) {
        // Fenced (40922) or forgotten (40924): what we held may already be someone else's. Drop it all, uncommitted, and rejoin.
        const lost = this.assignment();
        await Promise.allSettled([...this.states.values()].map((st) => this.revoke(st)));
        if (lost.length > 0) await (this.config.onPartitionsLost ?? this.config.onPartitionsRevoked)?.(lost);
        this.member = { id: err.code === 40924 ? undefined : this.member.id, epoch: 0, intervalMs: this.member.intervalMs };
        this.emit('rejoin', { reason: err.message });
        this.scheduleHeartbeat(0);
        return;
      }
      throw err;
    }
    if (!this.running) return;
    this.member = {
      id: res.member_id,
      epoch: res.member_epoch,
      intervalMs: Math.max(50, Math.min(res.heartbeat_interval_ms, this.config.heartbeatInterval ?? Number.POSITIVE_INFINITY)),
    };
    const target = new Set<string>();
    for (const t of res.assignment) for (const p of t.partition_ids) target.add(key({ topic: t.topic_name, partition: p }));
    const revoked = [...this.states.values()].filter((st) => !target.has(key(st)));
    const added = [...target].filter((k) => !this.states.has(k)).map((k) => {
      const [topic, partition] = k.split('\u0000');
      return { topic: topic!, partition: Number(partition) };
    });
    if (revoked.length > 0) {
      // Stop consuming first (handlers in flight finish), then commit what was processed, then tell the application.
      await Promise.allSettled(revoked.map((st) => this.revoke(st)));
      const processed = revoked.filter((st) => st.uncommitted !== undefined).map((st) => ({ topic: st.topic, partition: st.partition, offset: st.uncommitted! }));
      if (this.runConfig?.autoCommit ?? true) await this.commitOffsets(processed).catch((err: unknown) => this.emit('commitFailed', err));
      await this.config.onPartitionsRevoked?.(revoked.map(({ topic, partition }) => ({ topic, partition })));
    }
    if (added.length > 0) {
      const committed = await this.committed();
      const at = new Map(committed.map((o) => [key(o), o.offset]));
      // One read of the group's offsets for every added partition; those without one need not ask again.
      for (const tp of added) this.addPartition(tp, at.get(key(tp)), true);
      await this.config.onPartitionsAssigned?.(added);
    }
    this.emit('heartbeat', { memberId: res.member_id, memberEpoch: res.member_epoch, assignment: this.assignment() });
    // After a revocation, heartbeat again at once: that acknowledges it, so the partitions can move on.
    this.scheduleHeartbeat(revoked.length > 0 ? 0 : this.member.intervalMs);
  }

  /** Next fetch of `partition` starts at `offset`. */
  seek(tpo: TopicPartitionOffset): void {
    if (!(Number.isSafeInteger(tpo.offset) && tpo.offset >= 0)) throw new StrandUsageError(`seek offset must be a non-negative integer, not ${tpo.offset}`);
    const s = this.states.get(key(tpo));
    if (!s) throw new StrandUsageError(`seek: ${tpo.topic}/${tpo.partition} is not assigned to this consumer`);
    s.position = tpo.offset;
    s.uncommitted = undefined;
    this.interrupt(s);
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    for (const s of this.matching(topics)) {
      if (s.paused) continue;
      s.paused = true;
      this.interrupt(s);
    }
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    for (const s of this.matching(topics)) {
      s.paused = false;
      s.wake?.();
    }
  }

  paused(): TopicPartition[] {
    return [...this.states.values()].filter((s) => s.paused).map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Stops fetching and waits for handlers in progress to finish. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.heartbeatTimer);
    for (const s of this.states.values()) this.interrupt(s, false);
    await Promise.allSettled([...this.states.values()].map((s) => s.worker));
    this.notices?.close();
    await this.heartbeatChain;
    if (!this.groupId) return;
    if ((this.runConfig?.autoCommit ?? true) && !this.crashError) await this.commitOffsets().catch((err: unknown) => this.emit('commitFailed', err));
    if (this.subscription && this.member.id !== undefined && this.member.epoch > 0) {
      // Leave (epoch -1) so the group reassigns our partitions now instead of after the session timeout.
      await this.client.transport
        .request('POST', `${this.groupPath()}/heartbeat`, { json: { member_id: this.member.id, member_epoch: -1 }, retry: { retries: 1 } })
        .catch(() => undefined);
      this.member = { id: undefined, epoch: 0, intervalMs: this.member.intervalMs };
    }
  }

  /** Stops and forgets the assignment. */
  async close(): Promise<void> {
    await this.stop();
    this.states.clear();
  }

  disconnect(): Promise<void> {
    return this.close();
  }

  /** The error that stopped the consumer, if one did. */
  get crashed(): Error | undefined {
    return this.crashError;
  }

  // ---------------------------------------------------------------------------

  private matching(topics: { topic: string; partitions?: number[] }[]): PartitionState[] {
    return [...this.states.values()].filter((s) => topics.some((t) => t.topic === s.topic && (t.partitions === undefined || t.partitions.includes(s.partition))));
  }

  protected addPartition(tp: TopicPartition, offset?: number, noneCommitted = false): PartitionState {
    if (this.states.size >= partitionsPerConsumerMax) throw new StrandUsageError(`a consumer fetches at most ${partitionsPerConsumerMax} partitions`);
    const s: PartitionState = {
      topic: tp.topic,
      partition: tp.partition,
      position: offset,
      paused: false,
      generation: 0,
      abort: new AbortController(),
      worker: undefined,
      uncommitted: undefined,
      wake: undefined,
      revoked: false,
      noneCommitted: noneCommitted && offset === undefined,
    };
    this.states.set(key(tp), s);
    if (this.running) this.startWorker(s);
    return s;
  }

  protected revoke(s: PartitionState): Promise<void> | undefined {
    s.revoked = true;
    this.interrupt(s, false);
    this.states.delete(key(s));
    return s.worker;
  }

  /**
   * Ends the partition's fetch in flight. `discard` (seek, pause) also bumps the
   * generation, so records already fetched or being handled do not move the
   * position; stop and revocation let the handler in progress finish and count.
   */
  private interrupt(s: PartitionState, discard = true): void {
    if (discard) s.generation++;
    s.abort.abort();
    s.abort = new AbortController();
    s.wake?.();
  }

  private startWorker(s: PartitionState): void {
    if (s.worker) return;
    s.worker = this.work(s).finally(() => {
      s.worker = undefined;
    });
  }

  private crash(err: Error): void {
    if (this.crashError) return;
    this.crashError = err;
    this.running = false;
    for (const st of this.states.values()) this.interrupt(st);
    this.emit('crash', err);
  }

  private async work(s: PartitionState): Promise<void> {
    let failures = 0;
    /** The next fetch, started while the handlers run on the last one (as Kafka's consumers fetch ahead). */
    let ahead: { offset: number; generation: number; signal: AbortSignal; promise: ReturnType<Consumer['fetch']> } | undefined;
    while (this.running && !s.revoked) {
      if (s.paused) {
        await new Promise<void>((resolve) => (s.wake = resolve));
        s.wake = undefined;
        continue;
      }
      const generation = s.generation;
      try {
        if (s.position === undefined) s.position = await this.initialPosition(s);
        // Used only if nothing moved the position and nothing interrupted the fetch since it started.
        const usable = ahead && ahead.offset === s.position && ahead.generation === generation && ahead.signal === s.abort.signal && !ahead.signal.aborted;
        const pending = usable ? ahead!.promise : this.fetch(s, s.position, s.abort.signal);
        ahead = undefined;
        const fetched = await pending;
        if (generation !== s.generation || !this.running || s.revoked) continue;
        if (fetched.messages.length > 0) {
          const next = fetched.messages[fetched.messages.length - 1]!.offset + 1;
          const signal = s.abort.signal;
          ahead = { offset: next, generation, signal, promise: this.fetch(s, next, signal) };
          ahead.promise.catch(() => {}); // a fetch ahead that is never used may fail unobserved
          await this.deliver(s, fetched, generation);
        } else if (generation === s.generation) s.position = Math.max(s.position ?? 0, fetched.nextOffset);
        failures = 0;
      } catch (err) {
        if (generation !== s.generation || !this.running || s.revoked) continue; // interrupted on purpose
        if (err instanceof OffsetOutOfRangeError && this.autoOffsetReset !== 'none') {
          s.position = this.autoOffsetReset === 'earliest' ? err.logStartOffset : err.highWatermark;
          this.emit('offsetReset', { topic: s.topic, partition: s.partition, offset: s.position });
          continue;
        }
        const retriable = !(err instanceof StrandClientError) || err.retriable || (err instanceof HandlerError);
        if (!retriable || failures >= this.policy.retries) {
          this.crash(err instanceof HandlerError ? (err.cause as Error) : (err as Error));
          return;
        }
        const delay = backoffMs(this.policy, failures++);
        await sleep(delay, s.abort.signal);
      }
    }
  }

  protected async initialPosition(s: PartitionState): Promise<number> {
    const committed = s.noneCommitted ? undefined : await this.committedOffset(s);
    if (committed !== undefined) return committed;
    const bounds = await this.client.admin().describePartition(s.topic, s.partition);
    const reset = this.fromBeginning ? 'earliest' : this.autoOffsetReset;
    if (reset === 'none') throw new StrandUsageError(`no committed offset for ${s.topic}/${s.partition} and autoOffsetReset is 'none'`);
    return reset === 'earliest' ? bounds.logStartOffset : bounds.highWatermark;
  }

  /** The group's committed offset for the partition; none without group support. */
  protected async committedOffset(tp: TopicPartition): Promise<number | undefined> {
    if (!this.groupId) return undefined;
    return (await this.committed([tp.topic])).find((o) => o.partition === tp.partition)?.offset;
  }

  /**
   * The next records at `offset`. With a notice socket, a fetch that finds
   * nothing does not long-poll: it arms a watch and waits for the notice (or
   * the recheck, or polls while the socket is down), then answers empty so the
   * worker fetches again. Without one, the fetch long-polls maxWaitTimeInMs.
   */
  private async fetch(s: PartitionState, offset: number, signal: AbortSignal): Promise<{ messages: KafkaMessage[]; nextOffset: number; highWatermark: number }> {
    const notices = this.notices && !this.notices.absent ? this.notices : undefined;
    const got = await this.fetchOnce(s, offset, signal, notices ? 0 : this.maxWaitMs);
    if (!notices || got.messages.length > 0 || got.nextOffset > offset || signal.aborted) return got;
    const outcome = await notices.wait(s.topic, s.partition, offset, signal);
    if (outcome === 'absent') return this.fetchOnce(s, offset, signal, this.maxWaitMs);
    // While the socket is down each partition polls, but the consumer as a whole
    // reads at most one partition head per second (a fetch reads its partitions' heads).
    if (outcome === 'down') await sleep(this.fallbackPollMs(), signal).catch(() => {});
    return { messages: [], nextOffset: offset, highWatermark: got.highWatermark };
  }

  /**
   * While the socket is down: how long each caught-up partition waits between
   * polls, so the consumer's polls read at most a third of an item per second. A fetch
   * reads each partition's head, and each topic's catalog item (cached for
   * topicCacheMs, 1 s, so every poll reads it again).
   */
  private fallbackPollMs(): number {
    const topics = new Set([...this.states.values()].map((s) => s.topic)).size;
    return Math.max(this.config.noticeFallbackPollMs ?? noticeFallbackPollMsDefault, (this.states.size + topics) * fallbackPollMsPerPartition);
  }

  private async fetchOnce(s: PartitionState, offset: number, signal: AbortSignal, maxWaitMs: number): Promise<{ messages: KafkaMessage[]; nextOffset: number; highWatermark: number }> {
    if (!this.session) return this.fetchPartition(s, offset, signal, maxWaitMs);
    let answer: PartitionAnswer;
    try {
      answer = await this.session.fetch(s.topic, s.partition, offset, maxWaitMs, signal);
    } catch (err) {
      // An index entry larger than any response: the partition's own fetch answers it with a presigned URL.
      if (err instanceof StrandApiError && err.code === 41302) return this.fetchPartition(s, offset, signal, maxWaitMs);
      throw err;
    }
    if (answer.kind === 'ranges') return this.readRanges(s, offset, answer.located, signal);
    const messages = messagesOf(answer.batches, offset);
    const last = messages.length > 0 ? messages[messages.length - 1]!.offset + 1 : offset;
    return { messages, nextOffset: Math.max(answer.nextOffset, last), highWatermark: answer.highWatermark };
  }

  /** One partition's fetch, on its own request (the default, and the fallback for an oversized entry). */
  private async fetchPartition(s: PartitionState, offset: number, signal: AbortSignal, maxWaitMs: number): Promise<{ messages: KafkaMessage[]; nextOffset: number; highWatermark: number }> {
    if (this.config.directFetch) return this.fetchDirect(s, offset, signal, maxWaitMs);
    // Batch URLs too: an index entry larger than one response can carry (an upload of up to 64 MiB) is answered with a presigned URL for it.
    const res = await this.client.transport.request('GET', `${this.client.clusterPath}/topics/${encodeURIComponent(s.topic)}/partitions/${s.partition}/records`, {
      query: { offset, max_bytes: this.maxBytes, max_wait_ms: maxWaitMs },
      headers: { accept: `${recordBatchMediaType}, ${batchUrlsMediaType}` },
      signal,
      timeout: maxWaitMs + 30_000,
    });
    if ((res.headers.get('content-type') ?? '').includes(batchUrlsMediaType)) return this.readRanges(s, offset, res.json as LocatedBatches, signal);
    const highWatermark = Number(res.headers.get('kafka-high-watermark') ?? NaN);
    const messages = messagesOf(res.body, offset);
    const nextHeader = Number(res.headers.get('kafka-next-offset') ?? NaN);
    const last = messages.length > 0 ? messages[messages.length - 1]!.offset + 1 : offset;
    return { messages, nextOffset: Number.isFinite(nextHeader) ? Math.max(nextHeader, last) : last, highWatermark };
  }

  /**
   * The direct-to-S3 read: the API answers where the batches are (presigned
   * ranged GETs), the bytes come straight from S3, and the base offsets the
   * broker would patch are patched here.
   */
  private async fetchDirect(s: PartitionState, offset: number, signal: AbortSignal, maxWaitMs: number): Promise<{ messages: KafkaMessage[]; nextOffset: number; highWatermark: number }> {
    const located = (
      await this.client.transport.request('GET', `${this.client.clusterPath}/topics/${encodeURIComponent(s.topic)}/partitions/${s.partition}/records`, {
        query: { offset, max_bytes: this.maxBytes, max_wait_ms: maxWaitMs },
        headers: { accept: batchUrlsMediaType },
        signal,
        timeout: maxWaitMs + 30_000,
      })
    ).json as LocatedBatches;
    return this.readRanges(s, offset, located, signal);
  }

  /** Reads the ranges of a batch-URL answer straight from S3 and patches the base offsets the broker would. */
  private async readRanges(s: PartitionState, offset: number, located: LocatedBatches, signal: AbortSignal): Promise<{ messages: KafkaMessage[]; nextOffset: number; highWatermark: number }> {
    const parts = await mapBounded(located.ranges, rangeReadsInFlightMax, async (r) => {
      const res = await objectRequest('GET', r.url, { range: r.range }, undefined, AbortSignal.any([signal, AbortSignal.timeout(this.client.transport.requestTimeout)]));
      if (res.status !== 206 && res.status !== 200) throw new StrandClientError(`S3 answered ${res.status} for a batch range of ${s.topic}/${s.partition}; the URL may have expired.`);
      const bytes = res.body;
      if (bytes.length !== r.size) throw new StrandClientError(`S3 returned ${bytes.length} bytes for a range of ${r.size}.`);
      // Only the base offsets here: messagesOf checks each batch's CRC once, as it decodes it.
      patchBaseOffsets(bytes, r.base_offset, { verifyCrc: false });
      return bytes;
    });
    const messages = parts.flatMap((part) => messagesOf(part, offset));
    const last = messages.length > 0 ? messages[messages.length - 1]!.offset + 1 : offset;
    return { messages, nextOffset: Math.max(located.next_offset, last), highWatermark: located.high_watermark };
  }


  private async acquire(): Promise<void> {
    if (this.slots > 0) {
      this.slots--;
      return;
    }
    await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  private release(): void {
    const next = this.slotWaiters.shift();
    if (next) next();
    else this.slots++;
  }

  private async deliver(s: PartitionState, fetched: { messages: KafkaMessage[]; highWatermark: number }, generation: number): Promise<void> {
    const run = this.runConfig!;
    // A seek or pause makes what was fetched stale; stop and revocation only end delivery of further records.
    const stale = () => generation !== s.generation;
    const ending = () => stale() || s.revoked || !this.running;
    const resolveOffset = (offset: number) => {
      if (stale()) return;
      s.position = offset + 1;
      s.uncommitted = offset + 1;
    };
    const pause = () => {
      this.pause([{ topic: s.topic, partitions: [s.partition] }]);
      return () => this.resume([{ topic: s.topic, partitions: [s.partition] }]);
    };
    const heartbeat = () => this.heartbeat();
    await this.acquire();
    try {
      if (run.eachBatch) {
        const messages = fetched.messages;
        const batch: Batch = {
          topic: s.topic,
          partition: s.partition,
          highWatermark: fetched.highWatermark,
          messages,
          isEmpty: () => messages.length === 0,
          firstOffset: () => messages[0]?.offset ?? null,
          lastOffset: () => messages[messages.length - 1]!.offset,
          offsetLag: () => Math.max(0, fetched.highWatermark - 1 - messages[messages.length - 1]!.offset),
        };
        try {
          await run.eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary: () => this.commitIfDue(), isRunning: () => this.running && !s.revoked, isStale: ending, pause });
        } catch (err) {
          throw new HandlerError(err);
        }
        if (run.eachBatchAutoResolve ?? true) resolveOffset(batch.lastOffset());
      } else {
        for (const message of fetched.messages) {
          if (ending() || s.paused) return;
          try {
            await run.eachMessage!({ topic: s.topic, partition: s.partition, message, heartbeat, pause });
          } catch (err) {
            throw new HandlerError(err);
          }
          resolveOffset(message.offset);
        }
      }
    } finally {
      this.release();
    }
    await this.commitIfDue();
  }

  /** kafkajs's heartbeat() inside handlers: the background heartbeat already keeps the member alive. */
  protected async heartbeat(): Promise<void> {}

  /** Commits processed offsets when autoCommit is on and autoCommitInterval has passed. */
  protected async commitIfDue(): Promise<void> {
    if (!this.groupId || !(this.runConfig?.autoCommit ?? true)) return;
    if (Date.now() - this.lastCommitAt < (this.runConfig?.autoCommitInterval ?? 5000)) return;
    await this.commitOffsets().catch((err: unknown) => this.emit('commitFailed', err));
  }
}

/** A handler's own error, kept apart from fetch errors so it is retried, then reported as is. */
class HandlerError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

function groupTopicPartitions(tps: TopicPartition[]): { topic_name: string; partition_ids: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  return [...byTopic].map(([topic_name, ids]) => ({ topic_name, partition_ids: ids.sort((a, b) => a - b) }));
}

/**
 * Ranged GETs one direct fetch keeps in flight: enough to keep S3 busy, few
 * enough not to open a socket per small object (a 4 MiB fetch of 64 KiB
 * objects is 64 ranges).
 */
const rangeReadsInFlightMax = 8;

/** The messages of stored batches (base offsets already real) from `offset` on. */
function messagesOf(batches: Buffer, offset: number): KafkaMessage[] {
  const messages: KafkaMessage[] = [];
  if (batches.length === 0) return messages;
  // The CRC-32C of each batch is checked once, by decodeRecordBatch (Kafka's check.crcs).
  for (const slice of splitBatches(batches, { verifyCrc: false })) {
    for (const r of decodeRecordBatch(batches, slice.start).records) {
      if (r.offset < offset) continue; // a stored batch is returned whole
      messages.push({
        key: r.key,
        value: r.value,
        headers: decodeHeaders(r.headers),
        offset: r.offset,
        timestamp: r.timestamp,
        size: (r.key?.length ?? 0) + (r.value?.length ?? 0),
      });
    }
  }
  return messages;
}
