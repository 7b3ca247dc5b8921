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
 *
 * Two modes:
 * - long-lived (`start()`/`stop()`): a local Strand, one runner per cluster;
 * - one-shot (`runOnce(work, untilMs)`): the dispatcher Lambda on AWS
 *   (src/triggers/lambda.ts). It wakes the partitions a stream batch moved, or
 *   every partition with lag (a wake-up it scheduled, or the opt-in rescan), runs their steps and the
 *   timers that fall before `untilMs`, starts no batch too close to it, and
 *   aborts what is still in flight at it (not committed: redelivered later);
 *   its report's `wakeAtMs` says when a later run must take up what it left.
 *   Several invocations may run at once, so with `leases` each turn holds a
 *   lease per (trigger, partition) (src/triggers/triggerLeases.ts), which also
 *   carries the partition's retries, bisection and backoff to the next holder.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Runtime } from '../runtime';
import type { Topic } from '../log/TopicCatalog';
import { coalesceHeadChanges, type HeadChange } from '../notify/headChanges';
import { groupsOf } from '../groups/GroupService';
import { tpKey } from '../groups/topicPartition';
import { recordsFrom } from '../log/readPartition';
import { leaseTtlMsMax } from '../log/LeaseStore';
import { mapBounded } from '../mapBounded';
import { TriggerStore } from './TriggerStore';
import { committedOffset, deliveryStep, newCursor, type GivenUp, type PartitionCursor, type StepSettings } from './partitionDelivery';
import { restoreCursor, triggerLeaseKey, type TriggerLease, type TriggerLeaseStore } from './triggerLeases';
import { triggerCoversTopic, triggerGroupId, type Target, type Trigger } from './triggerSpec';

/** Partitions delivering at once, over every trigger. */
export const partitionsInFlightMax = 16;
/** Steps one partition takes before it yields its slot (and is queued again). */
export const stepsPerTurnMax = 100;
/** How long the runner trusts its list of triggers before reading it again on a head change. */
export const triggerCacheMs = 1_000;
/** One-shot mode: no batch starts with less than this left before the run's end (a read, a delivery worth waiting for, a commit). */
export const runOnceStepBudgetMs = 5_000;
/** One-shot mode: a partition whose lease another invocation holds is tried again this much later, within the run. */
export const leaseRetryMs = 1_000;
/** A lease outlives the run that took it by this much (the release, the Lambda's own margin). */
export const leaseMarginMs = 30_000;

/** What one `runOnce` did. */
export interface RunOnceReport {
  /** Partition turns started. */
  turns: number;
  /** Turns skipped because another invocation held the partition's lease. */
  leaseRefused: number;
  /** Work the run's end left: turns cut short or aborted, backoffs and windows past the end (a later run picks them up). */
  unfinished: number;
  /** Records given up on: produced to the dead-letter topic, or skipped. */
  givenUp: GivenUp[];
  /** With `measureLag`: per trigger with records left undelivered at the end, the age of the oldest (ms). */
  oldestUndelivered: { trigger: string; ageMs: number; partitions: number }[];
  /**
   * When a later run must step a partition this one left with work (a backoff
   * or window past the run, a lease another invocation held, a turn cut short:
   * then the run's end). Undefined: nothing is left but what a commit wakes.
   * The dispatcher schedules a wake-up for it (src/triggers/wakeSchedule.ts).
   */
  wakeAtMs?: number;
}

export interface RunOnceWork {
  /** The log table's stream records of this invocation: their partitions are woken. */
  records?: readonly DynamoDBRecord[];
  /** Wake every partition of every active trigger that has records past its commit (a wake-up, or the opt-in rescan). */
  rescan?: boolean;
  /** With `rescan`: at the end, read the oldest undelivered record of each partition that was behind (the lag metric). */
  measureLag?: boolean;
}

interface Run {
  untilMs: number;
  signal: AbortSignal;
  report: RunOnceReport;
}

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
  /**
   * Leases per (trigger, partition), for runners that may run side by side
   * (one-shot mode only: a turn ends by its run's end, within the lease).
   * @default none: this runner is the only one
   */
  leases?: TriggerLeaseStore;
  /** The lease holder's name (the Lambda's log stream, say). @default a random name */
  holder?: string;
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
  /** With an active pattern trigger: the topics the last refresh listed (a head change of another topic refreshes at once). */
  private listedTopicIds: Set<string> | undefined;
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
  private readonly leases: TriggerLeaseStore | undefined;
  private readonly holder: string;
  /** Timers' due times, for a one-shot run waiting on the ones inside it. */
  private readonly timerDue = new Map<string, number>();
  /** The one-shot run in progress, if any. */
  private run: Run | undefined;

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
      onGiveUp: (given) => this.run?.report.givenUp.push(given),
    };
    this.leases = options.leases;
    this.holder = options.holder ?? `runner-${Math.random().toString(36).slice(2, 10)}`;
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Starts the rescan timer and runs a first rescan (catching up on whatever was produced while nothing ran). */
  start(): void {
    if (this.leases) throw new Error('TriggerRunner: leases are for one-shot runs (runOnce), whose turns end within the lease.');
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
    else if (this.listedTopicIds && changes.some((c) => !c.deleted && !this.listedTopicIds!.has(c.headKey.slice(0, c.headKey.lastIndexOf('#'))))) {
      // A topic the last refresh did not list (created since): a pattern trigger may cover it.
      await this.refresh();
    }
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

  /**
   * One-shot mode: wakes the work's partitions, runs their steps (and the
   * timers due before `untilMs`) until nothing is left or `untilMs`, when
   * deliveries in flight are aborted, uncommitted. Resolves when every turn
   * has ended; no timer outlives it. One run at a time per runner.
   */
  async runOnce(work: RunOnceWork, untilMs: number): Promise<RunOnceReport> {
    if (this.rescanTimer) throw new Error('TriggerRunner: runOnce is for a runner that was not started.');
    if (this.run) throw new Error('TriggerRunner: one runOnce at a time.');
    const report: RunOnceReport = { turns: 0, leaseRefused: 0, unfinished: 0, givenUp: [], oldestUndelivered: [] };
    const wakeAt = (atMs: number) => (report.wakeAtMs = Math.min(report.wakeAtMs ?? Infinity, atMs));
    const controller = new AbortController();
    const abort = () => controller.abort();
    this.stopping.signal.addEventListener('abort', abort, { once: true });
    const end = setTimeout(abort, Math.max(0, untilMs - this.runtime.clock.now()));
    this.run = { untilMs, signal: controller.signal, report };
    const ended = new Promise<void>((r) => controller.signal.addEventListener('abort', () => r(), { once: true }));
    const behind: { trigger: Trigger; topic: Topic; partition: number }[] = [];
    try {
      await this.outside(async () => {
        if (work.rescan) behind.push(...(await this.wakeLagging()));
        if (work.records) await this.onHeadChanges(coalesceHeadChanges(work.records));
      });
      // Turns, then the timers inside the run, until there are none or the run ends.
      while (!controller.signal.aborted) {
        if (this.turns.size > 0) {
          await Promise.race([Promise.all([...this.turns.values()]), ended]);
          continue;
        }
        if (this.timers.size === 0) break;
        const due = Math.min(...this.timerDue.values());
        await Promise.race([new Promise((r) => setTimeout(r, Math.max(1, due - this.runtime.clock.now()))), ended]);
      }
      // The run's end came with turns still running: their deliveries are aborted, uncommitted.
      if (controller.signal.aborted && this.turns.size > 0) {
        report.unfinished += this.turns.size;
        wakeAt(untilMs);
      }
    } finally {
      clearTimeout(end);
      controller.abort();
      this.stopping.signal.removeEventListener('abort', abort);
      while (this.turns.size > 0) await Promise.all([...this.turns.values()]);
      // Timers past the run: their partitions' cursors wait in the leases (or this environment's memory) for a later run.
      report.unfinished += this.timers.size;
      for (const due of this.timerDue.values()) wakeAt(due);
      if (this.wokenAgain.size > 0) wakeAt(untilMs);
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
      this.timerDue.clear();
      this.wokenAgain.clear();
      this.run = undefined;
    }
    if (work.measureLag && behind.length > 0) report.oldestUndelivered = await this.oldestUndelivered(behind);
    return report;
  }

  /** Refreshes the triggers and wakes every active partition with records past its commit (or with no commit); returns them. */
  private async wakeLagging(): Promise<{ trigger: Trigger; topic: Topic; partition: number }[]> {
    await this.refresh();
    const woken: { trigger: Trigger; topic: Topic; partition: number }[] = [];
    for (const on of this.byTopicId.values()) {
      for (const { trigger, topic } of on) {
        // One read of the group (every partition's commit), one head read per partition.
        const offsets = (await groupsOf(this.runtime).store.load(triggerGroupId(trigger.name)))?.offsets ?? {};
        const partitions = Array.from({ length: topic.partitionsCount }, (_, p) => p);
        const lagging = await mapBounded(partitions, partitionsInFlightMax, async (p) => {
          const committed = offsets[tpKey(topic.name, p)]?.offset;
          if (committed === undefined) return true;
          const bounds = await this.runtime.engine.bounds(topic, p);
          return committed < bounds.highWatermark || committed < bounds.logStartOffset;
        });
        for (const p of partitions) {
          if (!lagging[p]) continue;
          woken.push({ trigger, topic, partition: p });
          this.wake(trigger, topic, p);
        }
      }
    }
    return woken;
  }

  /** Per trigger, the age of the oldest record not yet committed past, over the given partitions (a small read for each still behind). */
  private async oldestUndelivered(partitions: { trigger: Trigger; topic: Topic; partition: number }[]): Promise<RunOnceReport['oldestUndelivered']> {
    const now = this.runtime.clock.now();
    const byTrigger = new Map<string, { ageMs: number; partitions: number }>();
    await mapBounded(partitions, partitionsInFlightMax, async ({ trigger, topic, partition }) => {
      try {
        const offset = await committedOffset(this.runtime, trigger, topic.name, partition);
        const bounds = await this.runtime.engine.bounds(topic, partition);
        const from = Math.max(offset ?? bounds.logStartOffset, bounds.logStartOffset);
        if (from >= bounds.highWatermark) return;
        const read = await this.runtime.engine.read(topic, partition, from, 1);
        const first = recordsFrom(read.batches, from)[0];
        if (!first) return;
        const seen = byTrigger.get(trigger.name) ?? { ageMs: 0, partitions: 0 };
        byTrigger.set(trigger.name, { ageMs: Math.max(seen.ageMs, now - first.timestamp), partitions: seen.partitions + 1 });
      } catch (err) {
        this.runtime.logger.warn('trigger lag measurement failed', { trigger: trigger.name, topic: topic.name, partition, error: String(err) });
      }
    });
    return [...byTrigger].map(([trigger, v]) => ({ trigger, ...v })).sort((a, b) => a.trigger.localeCompare(b.trigger));
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
        const add = (trigger: Trigger, topic: Topic) => byTopicId.set(topic.topicId, [...(byTopicId.get(topic.topicId) ?? []), { trigger, topic }]);
        const active = list.filter((t) => t.state === 'ACTIVE');
        // Topic patterns: one list of the catalog per refresh, only when a pattern trigger is active.
        // A topic created later matches on the next refresh (the next head change after
        // triggerCacheMs, a rescan, or a poke) and is delivered from its start.
        const allTopics = active.some((t) => t.topicPattern !== undefined) ? await this.runtime.engine.topics.list() : [];
        for (const trigger of active) {
          if (trigger.topicName !== undefined) {
            const topic = await this.runtime.engine.topics.find(trigger.topicName);
            if (topic) add(trigger, topic); // a deleted topic: nothing to deliver until one is created under the name
            continue;
          }
          for (const topic of allTopics) {
            if (topic.name !== trigger.deadLetterTopic && triggerCoversTopic(trigger, topic.name)) add(trigger, topic);
          }
        }
        this.triggers = triggers;
        this.byTopicId = byTopicId;
        this.listedTopicIds = allTopics.length > 0 || active.some((t) => t.topicPattern !== undefined) ? new Set(allTopics.map((t) => t.topicId)) : undefined;
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
    if (this.stopped || this.run?.signal.aborted || trigger.state !== 'ACTIVE' || partition < 0 || partition >= topic.partitionsCount) return;
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
    this.timerDue.delete(key);
    if (this.run) this.run.report.turns++;
    const turn = this.turn(key, trigger, topic, partition).finally(() => {
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
    if (this.run && (this.run.signal.aborted || atMs > this.run.untilMs - runOnceStepBudgetMs)) {
      // Past this run: the cursor (in the lease, or this environment's memory) keeps the time; a later run steps it.
      this.timers.delete(key);
      this.timerDue.delete(key);
      this.run.report.unfinished++;
      this.run.report.wakeAtMs = Math.min(this.run.report.wakeAtMs ?? Infinity, atMs);
      return;
    }
    this.timerDue.set(key, atMs);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.timerDue.delete(key);
      const current = this.triggers.get(trigger.name);
      if (current && current.createdAt === trigger.createdAt) this.wake(current, topic, partition, true);
    }, Math.max(0, atMs - this.runtime.clock.now()));
    timer.unref();
    this.timers.set(key, timer);
  }

  /** The step settings now: within a run, its abort signal and a delivery timeout that ends by the run's end. */
  private stepSettings(): StepSettings {
    if (!this.run) return this.settings;
    const left = this.run.untilMs - this.runtime.clock.now();
    return { ...this.settings, signal: this.run.signal, deliveryTimeoutMs: Math.max(1, Math.min(this.settings.deliveryTimeoutMs, left)) };
  }

  /** Within a run: too little time is left to start a batch. */
  private get outOfTime(): boolean {
    return this.run !== undefined && (this.run.signal.aborted || this.runtime.clock.now() > this.run.untilMs - runOnceStepBudgetMs);
  }

  private async turn(key: string, woken: Trigger, topic: Topic, partition: number): Promise<void> {
    const name = woken.name;
    await this.acquireSlot();
    let lease: TriggerLease | undefined;
    let offset: number | undefined;
    try {
      if (this.outOfTime) {
        this.leftForLater();
        return;
      }
      if (this.leases) {
        const ttl = Math.min(leaseTtlMsMax, Math.max(1, (this.run ? this.run.untilMs - this.runtime.clock.now() : leaseTtlMsMax) + leaseMarginMs));
        const got = await this.leases.acquire(triggerLeaseKey(woken, topic.topicId, partition), this.holder, ttl);
        if (!got) {
          // Another invocation steps this partition. It may have read the head just before
          // the records that woke this one: look again shortly, while this run lasts.
          if (this.run) this.run.report.leaseRefused++;
          this.schedule(key, woken, topic, partition, this.runtime.clock.now() + leaseRetryMs);
          return;
        }
        lease = got.lease;
        offset = (await committedOffset(this.runtime, woken, topic.name, partition)) ?? (await this.runtime.engine.bounds(topic, partition)).logStartOffset;
        // The lease's cursor is the truth: another environment may have stepped the partition since this one did.
        this.cursors.set(key, restoreCursor(got.saved, offset));
      }
      for (let step = 0; step < stepsPerTurnMax && !this.stopped; step++) {
        if (this.outOfTime) {
          this.leftForLater();
          return;
        }
        // The trigger as last read: a pause, change or delete takes effect before the next batch.
        const trigger = this.triggers.get(name);
        if (!trigger || trigger.state !== 'ACTIVE' || !triggerCoversTopic(trigger, topic.name)) return;
        const cursor = this.cursors.get(key) ?? newCursor();
        this.cursors.set(key, cursor);
        // No committed offset: a partition added after the trigger was created, delivered from its start.
        offset ??= (await committedOffset(this.runtime, trigger, topic.name, partition)) ?? (await this.runtime.engine.bounds(topic, partition)).logStartOffset;
        const outcome = await deliveryStep(this.runtime, trigger, topic, partition, offset, cursor, this.stepSettings());
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
      if (this.stopped || this.run?.signal.aborted) return;
      const cursor = this.cursors.get(key);
      const trigger = this.triggers.get(name);
      this.runtime.logger.warn('trigger step failed', { trigger: name, topic: topic.name, partition, error: err instanceof Error ? err.message : String(err) });
      if (cursor && trigger) this.schedule(key, trigger, topic, partition, this.runtime.clock.now() + this.settings.retryBackoffBaseMs);
    } finally {
      if (lease && this.leases) {
        const cursor = this.cursors.get(key);
        await this.leases
          .release(lease, cursor && offset !== undefined ? { atOffset: offset, cursor } : undefined)
          .catch((err: unknown) => this.runtime.logger.warn('trigger lease release failed', { trigger: name, topic: topic.name, partition, error: String(err) }));
      }
      this.releaseSlot();
    }
  }

  /** Within a run: a turn that could not start or go on for lack of time; a later run must take it up now. */
  private leftForLater(): void {
    if (!this.run) return;
    this.run.report.unfinished++;
    this.run.report.wakeAtMs = Math.min(this.run.report.wakeAtMs ?? Infinity, this.runtime.clock.now());
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
