/**
 * What drives delivery: for every active trigger and every partition of its
 * topic, runs delivery steps (src/triggers/partitionDelivery.ts) whenever the
 * partition may have something to deliver.
 *
 * Wake-ups, cheapest first:
 * - head changes: the log table's stream says which partitions moved
 *   (`onStreamRecords`; locally the log-stream stand-in, on AWS the dispatcher
 *   Lambda's event), so an idle trigger does no work at all;
 * - a timer per partition for a backoff or a batching window, set only while
 *   one is pending;
 * - `poke()` after a trigger is created, changed or resumed (the API calls it
 *   when a runner runs in the same process);
 * - a slow rescan of every trigger's partitions (`rescanIntervalMs`), the net
 *   under a lost wake-up.
 *
 * One step at a time per partition (ordered, one batch in flight); at most
 * `partitionsInFlightMax` partitions at once; a partition yields after
 * `stepsPerTurnMax` steps so a busy one does not starve the others.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Runtime } from '../runtime';
import type { Topic } from '../log/TopicCatalog';
import { coalesceHeadChanges, type HeadChange } from '../notify/headChanges';
import { TriggerStore } from './TriggerStore';
import { committedOffset, deliveryStep, newCursor, type PartitionCursor, type StepSettings } from './partitionDelivery';
import type { Target, Trigger } from './triggerSpec';

/** Partitions delivering at once, over every trigger. */
export const partitionsInFlightMax = 16;
/** Steps one partition takes before it yields its slot (and is queued again). */
export const stepsPerTurnMax = 100;
/** How long the runner trusts its list of triggers before reading it again on a head change. */
export const triggerCacheMs = 1_000;

export interface TriggerRunnerOptions {
  /** Every trigger's partitions are looked at this often, whatever else happened. @default 30000 */
  rescanIntervalMs?: number;
  /** First retry delay; doubles per failed attempt. @default 1000 */
  retryBackoffBaseMs?: number;
  /** @default 60000 */
  retryBackoffMaxMs?: number;
  /** One delivery (a webhook request, a handler call) fails after this. @default 60000 */
  deliveryTimeoutMs?: number;
  /** Where module targets' paths are resolved from. @default process.cwd() */
  moduleRoot?: string;
  /** The event's `bootstrapServers` (the API's URL). */
  bootstrapServers?: string;
  /** The target types this runner delivers to; create refuses others (src/api/triggers.ts). @default ['http', 'module', 's3'] */
  targetTypes?: readonly Target['type'][];
}

export class TriggerRunner {
  readonly targetTypes: readonly Target['type'][];
  /** Where module targets' paths are resolved from. */
  readonly moduleRoot: string;
  private readonly store: TriggerStore;
  private readonly stopping = new AbortController();
  private readonly settings: StepSettings;
  private readonly rescanIntervalMs: number;
  private triggers = new Map<string, Trigger>();
  /** topicId → the triggers on it (with their topic), rebuilt with the trigger list. */
  private byTopicId = new Map<string, { trigger: Trigger; topic: Topic }[]>();
  private triggersReadAt = -Infinity;
  private refreshing: Promise<void> | undefined;
  private readonly cursors = new Map<string, PartitionCursor>();
  private readonly turns = new Map<string, Promise<void>>();
  /** Partitions woken while their turn ran: they get another turn right after it. */
  private readonly wokenAgain = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly slotWaiters: (() => void)[] = [];
  private slotsInUse = 0;
  private rescanTimer: NodeJS.Timeout | undefined;
  private rescans: Promise<void> = Promise.resolve();
  /**
   * Runs a function in the async context the runner was built in. The API pokes
   * the runner from inside a request, whose deadline (src/config/deadline.ts)
   * lives in AsyncLocalStorage and would follow every turn, timer and storage
   * call started there, failing them once the request's time is up.
   */
  private readonly outside = AsyncLocalStorage.snapshot();

  constructor(
    private readonly runtime: Runtime,
    options: TriggerRunnerOptions = {},
  ) {
    this.store = new TriggerStore(runtime.clients.ddb, runtime.config.tables.triggers);
    this.rescanIntervalMs = options.rescanIntervalMs ?? 30_000;
    this.targetTypes = options.targetTypes ?? ['http', 'module', 's3'];
    this.moduleRoot = options.moduleRoot ?? process.cwd();
    this.settings = {
      retryBackoffBaseMs: options.retryBackoffBaseMs ?? 1_000,
      retryBackoffMaxMs: options.retryBackoffMaxMs ?? 60_000,
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? 60_000,
      bootstrapServers: options.bootstrapServers ?? '',
      signal: this.stopping.signal,
      moduleRoot: this.moduleRoot,
    };
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Starts the rescan timer and runs a first rescan (catching up on whatever was produced while nothing ran). */
  start(): void {
    this.poke();
    if (this.rescanIntervalMs > 0) {
      this.rescanTimer = setInterval(() => this.poke(), this.rescanIntervalMs);
      this.rescanTimer.unref();
    }
  }

  /** Reads the triggers again and wakes every partition of every active one. */
  poke(): void {
    if (this.stopped) return;
    this.outside(() => {
      this.rescans = this.rescans.then(() => this.rescan()).catch((err: unknown) => this.runtime.logger.warn('trigger rescan failed', { error: String(err) }));
    });
  }

  /** The log table's stream records (the stand-in's, or the dispatcher Lambda's event). */
  onStreamRecords(records: readonly DynamoDBRecord[]): Promise<void> {
    return this.outside(() => this.onHeadChanges(coalesceHeadChanges(records)));
  }

  async onHeadChanges(changes: readonly HeadChange[]): Promise<void> {
    if (this.stopped || changes.length === 0) return;
    if (this.runtime.clock.now() - this.triggersReadAt > triggerCacheMs) await this.refresh();
    for (const change of changes) {
      if (change.deleted) continue;
      const hash = change.headKey.lastIndexOf('#');
      const on = this.byTopicId.get(change.headKey.slice(0, hash)) ?? [];
      const partition = Number(change.headKey.slice(hash + 1));
      for (const { trigger, topic } of on) this.wake(trigger, topic, partition);
    }
  }

  /** Resolves when no partition is delivering (pending timers aside): tests, and the dispatcher before it returns. */
  async settled(): Promise<void> {
    await this.rescans;
    while (this.turns.size > 0) await Promise.all([...this.turns.values()]);
  }

  /** Stops waking partitions, aborts deliveries in flight (they are not committed, so they are redelivered later) and waits for every turn to end. */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.slotWaiters.splice(0)) w();
    await this.rescans;
    while (this.turns.size > 0) await Promise.all([...this.turns.values()]);
  }

  private async rescan(): Promise<void> {
    await this.refresh();
    for (const on of this.byTopicId.values()) {
      for (const { trigger, topic } of on) for (let p = 0; p < topic.partitionsCount; p++) this.wake(trigger, topic, p);
    }
  }

  /** Reads the trigger list and their topics; one read at a time, callers share it. */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const list = await this.store.list();
        const triggers = new Map(list.map((t) => [t.name, t]));
        const byTopicId = new Map<string, { trigger: Trigger; topic: Topic }[]>();
        for (const trigger of list) {
          if (trigger.state !== 'ACTIVE') continue;
          const topic = await this.runtime.engine.topics.find(trigger.topicName);
          if (!topic) continue; // a deleted topic: nothing to deliver until one is created under the name
          byTopicId.set(topic.topicId, [...(byTopicId.get(topic.topicId) ?? []), { trigger, topic }]);
        }
        this.triggers = triggers;
        this.byTopicId = byTopicId;
        this.triggersReadAt = this.runtime.clock.now();
        // Cursors of triggers that are gone (or were re-created under the same name) are dropped.
        const live = new Set(list.map(cursorPrefix));
        for (const key of this.cursors.keys()) if (!live.has(key.slice(0, key.indexOf('\n') + 1))) this.cursors.delete(key);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** `byTimer`: the partition's own timer, which may fire a millisecond before the clock reaches its time. */
  private wake(trigger: Trigger, topic: Topic, partition: number, byTimer = false): void {
    if (this.stopped || trigger.state !== 'ACTIVE' || partition < 0 || partition >= topic.partitionsCount) return;
    const key = `${cursorPrefix(trigger)}${topic.topicId}#${partition}`;
    if (this.turns.has(key)) {
      this.wokenAgain.add(key);
      return;
    }
    // A backoff is pending: its timer wakes the partition (a step now would only wait again).
    // A batching window is not: new records may have filled the batch.
    if (!byTimer && this.timers.has(key) && (this.cursors.get(key)?.retryAt ?? 0) > this.runtime.clock.now()) return;
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
    const turn = this.turn(key, trigger.name, topic, partition).finally(() => {
      this.turns.delete(key);
      if (this.wokenAgain.delete(key)) {
        const current = this.triggers.get(trigger.name);
        if (current && current.createdAt === trigger.createdAt) this.wake(current, topic, partition);
      }
    });
    this.turns.set(key, turn);
  }

  private schedule(key: string, trigger: Trigger, topic: Topic, partition: number, atMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      const current = this.triggers.get(trigger.name);
      if (current && current.createdAt === trigger.createdAt) this.wake(current, topic, partition, true);
    }, Math.max(0, atMs - this.runtime.clock.now()));
    timer.unref();
    this.timers.set(key, timer);
  }

  private async turn(key: string, name: string, topic: Topic, partition: number): Promise<void> {
    await this.acquireSlot();
    try {
      let offset: number | undefined;
      for (let step = 0; step < stepsPerTurnMax && !this.stopped; step++) {
        // The trigger as last read: a pause, change or delete takes effect before the next batch.
        const trigger = this.triggers.get(name);
        if (!trigger || trigger.state !== 'ACTIVE' || trigger.topicName !== topic.name) return;
        const cursor = this.cursors.get(key) ?? newCursor();
        this.cursors.set(key, cursor);
        // No committed offset: a partition added after the trigger was created, delivered from its start.
        offset ??= (await committedOffset(this.runtime, trigger, topic.name, partition)) ?? (await this.runtime.engine.bounds(topic, partition)).logStartOffset;
        const outcome = await deliveryStep(this.runtime, trigger, topic, partition, offset, cursor, this.settings);
        switch (outcome.kind) {
          case 'progress':
            offset = outcome.offset;
            continue;
          case 'wait':
            this.schedule(key, trigger, topic, partition, outcome.untilMs);
            return;
          case 'idle':
          case 'stopped':
            return;
        }
      }
      // Yielded with work left: queue another turn behind the partitions waiting for a slot.
      this.wokenAgain.add(key);
    } catch (err) {
      // Storage trouble, a dead-letter topic that is gone, a commit refused: try again after a backoff.
      if (this.stopped) return;
      const cursor = this.cursors.get(key);
      const trigger = this.triggers.get(name);
      this.runtime.logger.warn('trigger step failed', { trigger: name, topic: topic.name, partition, error: err instanceof Error ? err.message : String(err) });
      if (cursor && trigger) this.schedule(key, trigger, topic, partition, this.runtime.clock.now() + this.settings.retryBackoffBaseMs);
    } finally {
      this.releaseSlot();
    }
  }

  private async acquireSlot(): Promise<void> {
    if (this.slotsInUse < partitionsInFlightMax || this.stopped) {
      this.slotsInUse++;
      return;
    }
    await new Promise<void>((r) => this.slotWaiters.push(r));
    this.slotsInUse++;
  }

  private releaseSlot(): void {
    this.slotsInUse--;
    this.slotWaiters.shift()?.();
  }
}

/** Cursor keys start with the trigger's name and creation time, so a re-created trigger starts afresh. */
function cursorPrefix(t: Trigger): string {
  return `${t.name}@${t.createdAt}\n`;
}

const runners = new WeakMap<Runtime, TriggerRunner>();

/** Makes `runner` the one the runtime's API operations poke and ask about target types (local/startLocalStrand.ts). */
export function registerTriggerRunner(runtime: Runtime, runner: TriggerRunner): void {
  runners.set(runtime, runner);
}

/** The runner in this process, if any (none in the API Lambdas on AWS: a dispatcher Lambda delivers there). */
export function triggerRunnerOf(runtime: Runtime): TriggerRunner | undefined {
  return runners.get(runtime);
}
