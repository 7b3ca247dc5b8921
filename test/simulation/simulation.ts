/**
 * One simulated world: a fresh topic on the shared emulators, the engine's own
 * stores over gated SDK clients, a virtual clock, the scheduler, the model; the
 * actors (the log's operations), and the ways to drive them: a seeded random
 * schedule (runRandom) or a script (runUntil, runToEnd, step).
 */
import { isTransientStorageError } from '../../src/storage/storageErrors';
import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { uploadOperations } from '../../src/api/uploads';
import type { ApiRequest, ApiResponse } from '../../src/api/http';
import type { StrandConfig } from '../../src/config/env';
import { createRuntime, type Runtime } from '../../src/runtime';
import { ManualClock } from '../../src/clock';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { LeaseStore } from '../../src/log/LeaseStore';
import type { LogContext } from '../../src/log/LogContext';
import { ObjectStore, newObjectId, objectKey } from '../../src/log/ObjectStore';
import { PartitionIndex, headEntriesSpillAt, headSortKey } from '../../src/log/PartitionIndex';
import { TopicCatalog, partitionKey, type Topic } from '../../src/log/TopicCatalog';
import { appendBatches, spillDue, type PartitionAppend } from '../../src/log/appendBatches';
import { encodeIndexEntry, type IndexEntry } from '../../src/log/indexEntry';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { asPartitionLeader, leaderLeaseTtlMs } from '../../src/log/partitionLeader';
import { partitionBounds, readPartition } from '../../src/log/readPartition';
import { effectiveConfig, type CleanupPolicy, type ConfigOverrides } from '../../src/log/topicConfig';
import { maintainPartition, type MaintenanceLimits } from '../../src/maintenance/maintainPartition';
import { sweepTopicObjects } from '../../src/maintenance/sweepObjects';
import { ProducerSequences } from '../../src/producers/ProducerSequences';
import type { ProducerAppend } from '../../src/producers/producerState';
import type { StorageClients } from '../../src/storage/clients';
import { Model, type Batch } from './model';
import { HarnessError, Scheduler, type Actor, type Parked } from './scheduler';
import { gatedClients, world, type Decision, type FaultKind, type ObjectLedger } from './world';

const uploadRoute = 'POST /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}';

export const startTime = 1_700_000_000_000;
/** Past the lease TTL: a paused leader's lease has expired when it resumes. */
export const leaseExpiryStepMs = leaderLeaseTtlMs + 1_000;
/** The sweep's grace: longer than all clock advances of a seed together, so no PUT→commit outlives it. */
export const simulationGraceMs = 5 * 60_000;
export const maintenanceLimits: MaintenanceLimits = { mergeTargetBytes: 1_500, mergeObjectsMin: 2, rewriteBytesMax: 1 << 20 };

export interface WorldOptions {
  partitions: number;
  policy: CleanupPolicy;
  retentionMs?: number;
  /** For the end checks: two offsets may hold the same bytes. */
  sharedBytes?: boolean;
  /** Create the topic in the catalog (TopicCatalog.create), for operations that look it up (the API's). */
  inCatalog?: boolean;
}

export interface Failure {
  step: number;
  invariant: string;
  /** Every violation found at that step. */
  all: string[];
}

export interface Knobs {
  /**
   * How the next parked request is chosen: uniformly among all, or by actor
   * priority (PCT: each actor a random priority, the highest parked one runs;
   * at `changePoints` random steps the running actor drops below all others),
   * which makes long stalls of one actor likely.
   */
  policy: 'uniform' | 'priority';
  changePoints: number;
  /**
   * Chance per step that a random actor stalls where it is parked for 10–80
   * steps (it runs only when nothing else can): a process paused mid-operation,
   * e.g. between its commit and its spill's lease, while others move on.
   */
  stallRate: number;
  /**
   * Chance that an actor parked on a lease acquire stalls there for 20–80 steps:
   * an appender between the commit it saw and its spill's leader turn (invariant
   * 8's window), a maintenance pass starting late.
   */
  spillStallRate: number;
  /** Chance that a released request's reply is lost after it applied. */
  faultRate: number;
  /** Chance that a released request's actor dies there. */
  crashRate: number;
  /** Chance that a step moves the clock past the lease TTL instead of releasing a request. */
  clockRate: number;
  clockAdvancesMax: number;
}

let worlds = 0;

const silentLogger = (notes: string[]): Logger =>
  ({
    debug() {},
    info() {},
    warn(message: string, extra?: unknown) {
      notes.push(`warn: ${message} ${extra === undefined ? '' : JSON.stringify(extra)}`);
    },
    error(message: string, extra?: unknown) {
      notes.push(`error: ${message} ${extra === undefined ? '' : JSON.stringify(extra)}`);
    },
  }) as unknown as Logger;

const dynamoDbWrites = new Set(['UpdateItemCommand', 'PutItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

/**
 * Whether a request may change what the invariants look at: a write to the log
 * table (head, chunks) or an S3 delete. An S3 PUT only adds an object nothing
 * references yet; lease writes change no index.
 */
function touchesIndexOrObjects(call: Parked, logTable: string): boolean {
  if (call.service === 's3') return call.command === 'DeleteObjectsCommand' || call.command === 'DeleteObjectCommand';
  if (!dynamoDbWrites.has(call.command)) return false;
  if (call.command === 'BatchWriteItemCommand' || call.command === 'TransactWriteItemsCommand') return true;
  return call.input.TableName === logTable;
}

export class Simulation {
  readonly schedule: string[] = [];
  readonly model: Model;
  failure: Failure | undefined;
  steps = 0;
  clockAdvances = 0;
  private batchCounter = 0;
  private producerCounter = 0;

  private constructor(
    readonly topic: Topic,
    readonly clients: StorageClients,
    readonly ctx: LogContext,
    options: WorldOptions,
    readonly scheduler: Scheduler,
    readonly ledger: ObjectLedger,
    readonly clock: ManualClock,
    readonly notes: string[],
    private readonly logTable: string,
    private readonly config: StrandConfig,
  ) {
    this.model = new Model(topic, this.ledger, { compacted: options.policy.includes('compact'), sharedBytes: options.sharedBytes });
  }

  static async create(options: WorldOptions): Promise<Simulation> {
    const w = await world();
    const overrides: ConfigOverrides = { 'cleanup.policy': options.policy, ...(options.retentionMs !== undefined ? { 'retention.ms': String(options.retentionMs) } : {}) };
    const n = worlds++;
    const topic: Topic = {
      name: `sim-${n}`,
      topicId: `sim${process.pid.toString(36)}x${n.toString(36)}`,
      partitionsCount: options.partitions,
      replicationFactor: 1,
      overrides,
      config: effectiveConfig(overrides),
      createdAt: startTime,
    };
    const scheduler = new Scheduler();
    const ledger: ObjectLedger = { written: new Set(), deleted: new Set() };
    const clients = gatedClients(w, scheduler, ledger);
    const clock = new ManualClock(startTime);
    const catalogued = options.inCatalog
      ? await new TopicCatalog(clients.ddb, w.config.tables.topics, () => clock.now()).create(topic.name, topic.partitionsCount, 1, overrides, clock.now())
      : topic;
    const notes: string[] = [];
    const ctx: LogContext = {
      index: new PartitionIndex(clients.ddb, w.config.tables.log),
      leases: new LeaseStore(clients.ddb, w.config.tables.leases, clock),
      objects: new ObjectStore(clients.s3, w.config.bucket),
      producers: new ProducerSequences(clients.ddb, w.config.tables.log),
      clock,
      logger: silentLogger(notes),
      holderId: 'setup',
    };
    return new Simulation(catalogued, clients, ctx, options, scheduler, ledger, clock, notes, w.config.tables.log, w.config);
  }

  private runtimeOf: Runtime | undefined;

  /** A runtime over the same clients and clock, for the API's operations (the topic must be in the catalog). */
  runtime(): Runtime {
    this.runtimeOf ??= createRuntime({ config: this.config, clients: this.clients, clock: this.clock, logger: this.ctx.logger });
    return this.runtimeOf;
  }

  /**
   * A direct upload as a client makes it, outside every actor: ask for an
   * upload (its id), PUT the batch under it. Returns the commit request.
   */
  async prepareUpload(partition: number, records: number, keys: (string | null)[] = []): Promise<{ batch: Batch; request: ApiRequest }> {
    const runtime = this.runtime();
    const batch = this.newBatch(partition, records, keys);
    const bytes = this.encode(batch, this.clock.now());
    const params = { cluster_id: this.config.clusterId, topic_name: this.topic.name, partition_id: String(partition) };
    const sha256 = createHash('sha256').update(bytes).digest('base64');
    const created = await this.scheduler.outside(() =>
      uploadOperations[`${uploadRoute}/uploads`]!(
        { routeKey: `${uploadRoute}/uploads`, pathParameters: params, query: {}, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ size: bytes.length, sha256 })) },
        runtime,
      ),
    );
    const uploadId = (created.json as { upload_id: string }).upload_id;
    await this.scheduler.outside(() => this.ctx.objects.put(objectKey(this.topic.topicId, uploadId), bytes));
    this.model.attempt(batch);
    return {
      batch,
      request: { routeKey: `${uploadRoute}/uploads/{upload_id}/commit`, pathParameters: { ...params, upload_id: uploadId }, query: {}, headers: {}, body: Buffer.alloc(0) },
    };
  }

  /** Commits an upload `times` times in a row (a client retrying after a lost reply), each answer checked. */
  spawnUploadCommit(name: string, upload: { batch: Batch; request: ApiRequest }, times = 1): Actor {
    return this.spawn(name, 'upload-commit', async () => {
      const answers = [];
      for (let i = 0; i < times; i++) {
        try {
          const res: ApiResponse = await uploadOperations[`${uploadRoute}/uploads/{upload_id}/commit`]!(upload.request, this.runtime());
          const json = res.json as { base_offset: number; last_offset: number };
          this.model.acknowledge(upload.batch, json.base_offset, json.last_offset, name);
          answers.push(json);
        } catch (err) {
          this.notes.push(`${name}: upload commit failed: ${String(err)}`);
        }
      }
      return answers;
    });
  }

  dispose(): void {
    this.clients.s3.destroy();
    this.clients.dynamodb.destroy();
  }

  /** The context an actor works with: the same stores, a lease holder name of its own. */
  actorContext(name: string): LogContext {
    return { ...this.ctx, holderId: name };
  }

  pk(partition: number): string {
    return partitionKey(this.topic, partition);
  }

  // ---------------------------------------------------------------- batches

  newBatch(partition: number, records: number, keys: (string | null)[] = [], idempotent = false): Batch {
    const id = `b${this.batchCounter++}`;
    return {
      id,
      partition,
      values: Array.from({ length: records }, (_, i) => `${id}.${i}`),
      keys: Array.from({ length: records }, (_, i) => keys[i] ?? null),
      idempotent,
    };
  }

  encode(batch: Batch, timestamp: number, producer?: ProducerAppend): Buffer {
    return encodeRecordBatch(
      batch.values.map((v, i) => ({ key: batch.keys[i] === null ? null : Buffer.from(batch.keys[i]!), value: Buffer.from(v), headers: [], timestamp })),
      producer ? { producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: producer.baseSequence } : {},
    );
  }

  newProducerId(): number {
    return 1 + this.producerCounter++;
  }

  /** Appends `batches` (one request), recording the attempt and the acknowledgments in the model. */
  async append(ctx: LogContext, by: string, parts: { batch: Batch; bytes: Buffer; producer?: ProducerAppend }[]): Promise<boolean[]> {
    for (const p of parts) this.model.attempt(p.batch);
    const appends: PartitionAppend[] = parts.map((p) => ({ partition: p.batch.partition, batches: [p.bytes], ...(p.producer ? { producer: p.producer } : {}) }));
    let results;
    try {
      results = await appendBatches(ctx, this.topic, appends);
    } catch (err) {
      this.notes.push(`${by}: append failed: ${String(err)}`);
      return parts.map(() => false);
    }
    return parts.map((p) => {
      const r = results.find((x) => x.partition === p.batch.partition);
      if (!r) return false;
      if (r.ok) {
        this.model.acknowledge(p.batch, r.baseOffset, r.lastOffset, by);
        return true;
      }
      this.notes.push(`${by}: ${p.batch.id} failed: ${String((r as { error: unknown }).error)}`);
      return false;
    });
  }

  /**
   * Set-up, outside every actor: `count` one-record appends to `partition`, their
   * batches in objects of `perObject` batches each (1: one object per append, as
   * produce requests make them). The index ends up as sequential appends leave it
   * (spilled by a leader turn at head length 16), but the entries are appended
   * with one head write per run up to the spill mark, to keep the set-up cheap.
   */
  async prefill(
    partition: number,
    count: number,
    keyOf: (i: number) => string | null = () => null,
    timestampOf: (i: number) => number = () => this.clock.now(),
    perObject = 1,
  ): Promise<void> {
    const pk = this.pk(partition);
    const parts = Array.from({ length: count }, (_, i) => {
      const batch = this.newBatch(partition, 1, [keyOf(i)]);
      const timestamp = timestampOf(i);
      return { batch, bytes: this.encode(batch, timestamp), entry: undefined as IndexEntry | undefined };
    });
    await this.scheduler.outside(async () => {
      for (let first = 0; first < count; first += perObject) {
        const group = parts.slice(first, first + perObject);
        const objectId = newObjectId(this.clock.now());
        await this.ctx.objects.put(objectKey(this.topic.topicId, objectId), Buffer.concat(group.map((p) => p.bytes)));
        let position = 0;
        for (const part of group) {
          part.entry = { objectId, position, size: part.bytes.length, span: 1, maxTimestamp: timestampOf(parts.indexOf(part)) };
          position += part.bytes.length;
        }
      }
      let headLength = (await this.ctx.index.readHead(pk)).entries.length;
      for (let next = 0; next < count; ) {
        const run = parts.slice(next, next + Math.max(1, headEntriesSpillAt - headLength));
        next += run.length;
        const out = await this.clients.ddb.send(
          new UpdateCommand({
            TableName: this.logTable,
            Key: { pk, sk: headSortKey },
            UpdateExpression: 'SET e = list_append(if_not_exists(e, :empty), :entries), #base = if_not_exists(#base, :zero), hw = if_not_exists(hw, :zero) + :n',
            ExpressionAttributeNames: { '#base': 'base' },
            ExpressionAttributeValues: { ':empty': [], ':entries': run.map((p) => encodeIndexEntry(p.entry!)), ':zero': 0, ':n': run.length },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        const firstOffset = Number(out.Attributes!.hw) - run.length;
        run.forEach((p, i) => {
          this.model.attempt(p.batch);
          this.model.acknowledge(p.batch, firstOffset + i, firstOffset + i, 'setup');
        });
        headLength = (out.Attributes!.e as string[]).length;
        if (spillDue(headLength)) {
          await asPartitionLeader(this.ctx, pk, async (epoch: number) => this.ctx.index.spill(pk, epoch, await this.ctx.index.readHead(pk)));
          headLength = (await this.ctx.index.readHead(pk)).entries.length;
        }
      }
    });
  }

  /** An object nobody will ever commit, written `ageMs` ago (the sweep's grace path). */
  async orphan(ageMs: number): Promise<void> {
    const id = newObjectId(this.clock.now() - ageMs);
    await this.scheduler.outside(() => this.ctx.objects.put(objectKey(this.topic.topicId, id), Buffer.from('orphan')));
  }

  // ---------------------------------------------------------------- actors

  spawn(name: string, kind: string, fn: (ctx: LogContext) => Promise<unknown>): Actor {
    const ctx = this.actorContext(name);
    return this.scheduler.spawn(name, kind, () => fn(ctx));
  }

  /** Plain appends, one after the other; each a request to `partitions` with 1..3 records per partition. */
  spawnAppender(name: string, requests: { partitions: number[]; records: number; keys?: (string | null)[] }[]): Actor {
    const prepared = requests.map((r) =>
      r.partitions.map((p) => {
        const batch = this.newBatch(p, r.records, r.keys ?? []);
        return { batch, bytes: this.encode(batch, this.clock.now()) };
      }),
    );
    return this.spawn(name, 'append', async (ctx) => {
      for (const parts of prepared) await this.append(ctx, name, parts);
    });
  }

  /**
   * An idempotent producer on one partition: its batches in sequence, each sent
   * again (same bytes, as a client retries) when it failed, up to `attempts`
   * times, and once more after an acknowledgment when `resend` says so (its reply
   * was lost on the way to the client).
   */
  prepareProducer(partition: number, sizes: number[], keys: (string | null)[] = []): { batch: Batch; bytes: Buffer; producer: ProducerAppend }[] {
    const producerId = this.newProducerId();
    let sequence = 0;
    return sizes.map((size) => {
      const batch = this.newBatch(partition, size, keys, true);
      const producer: ProducerAppend = { producerId, producerEpoch: 0, baseSequence: sequence, count: size };
      sequence += size;
      return { batch, bytes: this.encode(batch, this.clock.now(), producer), producer };
    });
  }

  spawnProducer(name: string, batches: ReturnType<Simulation['prepareProducer']>, options: { attempts?: number; resend?: number[] } = {}): Actor {
    return this.spawn(name, 'producer', async (ctx) => {
      for (const [i, part] of batches.entries()) {
        let ok = false;
        for (let attempt = 0; attempt < (options.attempts ?? 2) && !ok; attempt++) [ok] = await this.append(ctx, name, [part]);
        if (!ok) return; // a later sequence would only be refused
        if (options.resend?.includes(i)) await this.append(ctx, name, [part]);
      }
    });
  }

  /** The same batch sent again by another client process (a retry racing the original). */
  spawnDuplicate(name: string, part: ReturnType<Simulation['prepareProducer']>[number]): Actor {
    return this.spawn(name, 'duplicate', (ctx) => this.append(ctx, name, [part]));
  }

  /** A maintenance pass over the topic: every partition's leader turn, then the sweep with what they released. */
  spawnMaintenance(name: string, options: { sweep?: boolean; limits?: MaintenanceLimits; passes?: number } = {}): Actor {
    return this.spawn(name, 'maintain', async (ctx) => {
      const all: string[] = [];
      for (let pass = 0; pass < (options.passes ?? 1); pass++) {
        const released = new Set<string>();
        for (let p = 0; p < this.topic.partitionsCount; p++) {
          const report = await maintainPartition(ctx, this.topic, p, options.limits ?? maintenanceLimits);
          for (const id of report?.released ?? []) released.add(id);
        }
        if (options.sweep ?? true) await sweepTopicObjects(ctx, this.topic, simulationGraceMs, released);
        all.push(...released);
      }
      return all;
    });
  }

  spawnSweep(name: string): Actor {
    return this.spawn(name, 'sweep', (ctx) => sweepTopicObjects(ctx, this.topic, simulationGraceMs));
  }

  /** DeleteRecords: the log start moved to `offset`, or to a point between it and the high watermark. */
  spawnRetention(name: string, partition: number, to: { fraction: number } | { offset: number }): Actor {
    return this.spawn(name, 'retain', async (ctx) => {
      if ('offset' in to) return ctx.index.advanceLogStart(this.pk(partition), to.offset);
      const head = await ctx.index.readHead(this.pk(partition));
      const target = head.logStartOffset + Math.floor(to.fraction * (head.highWatermark - head.logStartOffset + 1));
      return ctx.index.advanceLogStart(this.pk(partition), Math.min(target, head.highWatermark));
    });
  }

  /**
   * A fetch: the partition's bounds, then a read from a point between them (or
   * exactly `offset`), checked against the model. Out of range is an answer (the
   * final check sees that the log start passed it); a 503 is counted; anything
   * else is a violation. `strict` allows only data or out of range.
   */
  spawnFetch(name: string, partition: number, at: { fraction: number } | { offset: number }, bytesWanted: number, strict = false): Actor {
    return this.spawn(name, 'fetch', async (ctx) => {
      let offset: number;
      if ('offset' in at) {
        offset = at.offset;
      } else {
        const bounds = await partitionBounds(ctx, this.topic, partition);
        offset = Math.min(bounds.highWatermark, bounds.logStartOffset + Math.floor(at.fraction * (bounds.highWatermark - bounds.logStartOffset + 1)));
      }
      try {
        const result = await readPartition(ctx, this.topic, partition, offset, bytesWanted);
        this.model.checkFetch(partition, offset, result, name);
        return result;
      } catch (err) {
        const kind = (err as Error).name;
        if (kind === 'OffsetOutOfRangeError') {
          this.model.outOfRange.push({ partition, offset, by: name });
        } else if ((kind === 'StorageUnavailableError' || isTransientStorageError(err)) && !strict) {
          // A storage fault the SDK's retries did not get past: the API answers it 503 / 50301.
          this.model.fetchesUnavailable++;
          this.notes.push(`${name}: fetch p${partition}@${offset}: ${(err as Error).message}`);
        } else {
          this.model.violate(`${name}: a fetch at p${partition}@${offset} failed with an unexpected error: ${kind}: ${(err as Error).message}`);
        }
        throw err;
      }
    });
  }

  // ---------------------------------------------------------------- driving

  private fail(invariant: string, all: string[] = [invariant]): void {
    this.failure ??= { step: this.steps, invariant, all };
  }

  /** Checks the invariants now (reads outside every actor); the first violation fails the simulation. */
  async check(): Promise<void> {
    if (this.failure) return;
    try {
      await this.scheduler.outside(() => this.model.check(this.clients.ddb, this.logTable));
    } catch (err) {
      this.model.violate(`the checker's reads failed: ${String(err)}`);
    }
    if (this.model.violations.length > 0) this.fail(this.model.violations[0]!, [...this.model.violations]);
  }

  /** Lets one parked request go, waits for quiet, checks what it may have changed. */
  async step(call: Parked, decision: Decision = { kind: 'go' }): Promise<void> {
    this.steps++;
    const mark = decision.kind === 'go' ? '' : decision.kind === 'fault' ? ` !${decision.fault}-after-apply` : ` !crash-${decision.when}`;
    this.schedule.push(`${this.steps} ${call.actor.name}#${call.seq} ${call.label}${mark}`);
    this.scheduler.release(call, decision);
    await this.scheduler.waitQuiet();
    // A write the emulator refused (a failed condition) changed nothing; one that is
    // still unsent (a crash before it) neither.
    if ((touchesIndexOrObjects(call, this.logTable) && call.outcome === 'applied') || this.model.violations.length > 0) await this.check();
  }

  advanceClock(ms: number): void {
    this.steps++;
    this.clockAdvances++;
    this.clock.advance(ms);
    this.schedule.push(`${this.steps} clock +${ms / 1000}s`);
  }

  /** Lets `actor`'s requests go, first parked first, until one parks that matches `until`; returns it. */
  async runUntil(actor: Actor, until: (call: Parked) => boolean, decision?: (call: Parked) => Decision): Promise<Parked> {
    for (let guard = 0; guard < 1_000; guard++) {
      await this.scheduler.waitQuiet();
      const mine = this.scheduler.parkedCalls().filter((c) => c.actor === actor);
      const hit = mine.find(until);
      if (hit) return hit;
      if (mine.length === 0) throw new HarnessError(`${actor.name} ended (${actor.state}) before the request the script waits for`);
      await this.step(mine[0]!, decision?.(mine[0]!));
    }
    throw new HarnessError(`${actor.name}: runUntil did not end`);
  }

  /** Lets `count` of `actor`'s requests go, first parked first; false when it ended before. */
  async advance(actor: Actor, count: number): Promise<boolean> {
    for (let i = 0; i < count; i++) {
      await this.scheduler.waitQuiet();
      const mine = this.scheduler.parkedCalls().filter((c) => c.actor === actor);
      if (mine.length === 0) return false;
      await this.step(mine[0]!);
    }
    await this.scheduler.waitQuiet();
    return actor.state === 'running';
  }

  /** Lets `actor`'s requests go until it ends. */
  async runToEnd(actor: Actor, decision?: (call: Parked) => Decision): Promise<void> {
    for (let guard = 0; guard < 5_000; guard++) {
      await this.scheduler.waitQuiet();
      if (actor.state !== 'running') return;
      const mine = this.scheduler.parkedCalls().filter((c) => c.actor === actor);
      if (mine.length === 0) throw new HarnessError(`${actor.name} is running with nothing parked`);
      await this.step(mine[0]!, decision?.(mine[0]!));
    }
    throw new HarnessError(`${actor.name}: runToEnd did not end`);
  }

  /** Runs every live actor to its end, first parked first. */
  async drain(): Promise<void> {
    for (let guard = 0; guard < 10_000; guard++) {
      await this.scheduler.waitQuiet();
      const parked = this.scheduler.parkedCalls();
      if (parked.length === 0) return;
      await this.step(parked[0]!);
    }
    throw new HarnessError('drain did not end');
  }

  /** A seeded random schedule until every actor ended or `stepsMax`, then drained without faults. */
  async runRandom(random: () => number, knobs: Knobs, stepsMax: number): Promise<void> {
    const priority = new Map<number, number>();
    for (const a of this.scheduler.actors) priority.set(a.id, random());
    // Change points among the first steps a seed usually takes.
    const changes = new Set(Array.from({ length: knobs.changePoints }, () => 1 + Math.floor(random() * 60)));
    let lowest = 0;
    const stalledUntil = new Map<number, number>();
    const considered = new Set<string>();
    while (this.steps < stepsMax && !this.failure) {
      await this.scheduler.waitQuiet();
      const all = this.scheduler.parkedCalls();
      if (all.length === 0) return;
      if (random() < knobs.stallRate) {
        const victim = all[Math.floor(random() * all.length)]!.actor;
        const steps = 10 + Math.floor(random() * 71);
        stalledUntil.set(victim.id, this.steps + steps);
        this.schedule.push(`  (${victim.name} stalls for ${steps} steps)`);
      }
      for (const c of all) {
        const key = `${c.actor.id}#${c.seq}`;
        if (considered.has(key) || c.label !== 'DDB lease-acquire') continue;
        considered.add(key);
        if (random() < knobs.spillStallRate) {
          const steps = 20 + Math.floor(random() * 61);
          stalledUntil.set(c.actor.id, this.steps + steps);
          this.schedule.push(`  (${c.actor.name} stalls before a lease for ${steps} steps)`);
        }
      }
      const awake = all.filter((c) => (stalledUntil.get(c.actor.id) ?? 0) <= this.steps);
      const parked = awake.length > 0 ? awake : all;
      if (this.clockAdvances < knobs.clockAdvancesMax && random() < knobs.clockRate) {
        this.advanceClock(leaseExpiryStepMs);
        continue;
      }
      let call: Parked;
      if (knobs.policy === 'uniform') {
        call = parked[Math.floor(random() * parked.length)]!;
      } else {
        const top = Math.max(...parked.map((c) => priority.get(c.actor.id) ?? 0));
        call = parked.find((c) => (priority.get(c.actor.id) ?? 0) === top)!;
        if (changes.has(this.steps + 1)) {
          priority.set(call.actor.id, --lowest);
          this.schedule.push(`  (${call.actor.name} now has the lowest priority)`);
        }
      }
      let decision: Decision = { kind: 'go' };
      const roll = random();
      if (roll < knobs.crashRate) decision = { kind: 'crash', when: random() < 0.5 ? 'before' : 'after' };
      else if (roll < knobs.crashRate + knobs.faultRate) decision = { kind: 'fault', fault: (['500', 'reset', 'timeout'] as FaultKind[])[Math.floor(random() * 3)]! };
      await this.step(call, decision);
    }
    if (!this.failure) await this.drain();
  }

  /**
   * The end of a run: the invariants, every partition read back; then, as a
   * later maintenance pass would (leases expired), one more turn and sweep, and
   * everything again.
   */
  async finish(options: { aftermath?: boolean } = {}): Promise<void> {
    // (aftermath defaults to on)
    if (this.failure) return;
    await this.check();
    if (this.failure) return;
    const finalRead = async (label: string) => {
      try {
        await this.scheduler.outside(() => this.model.finalRead(this.ctx, label));
      } catch (err) {
        this.model.violate(`${label}: ${String(err)}`);
      }
      if (this.model.violations.length > 0) this.fail(this.model.violations[0]!, [...this.model.violations]);
    };
    await finalRead('final read');
    if (this.failure || options.aftermath === false) return;
    this.advanceClock(leaseExpiryStepMs);
    const m = this.spawnMaintenance('aftermath');
    await this.runToEnd(m);
    if (this.failure) return;
    await finalRead('read after a later maintenance pass');
  }
}
