/**
 * The mirror: MirrorMaker 2's source connector, checkpoint connector and topic
 * sync in one loop, between two Strands over HTTP (the SDK's transport, so API
 * keys and SigV4 on either side).
 *
 * One pass:
 *   1. list source topics, select them (topicSelection.ts);
 *   2. create/grow/configure each target topic (topicSync.ts);
 *   3. copy every partition until caught up, the deadline, or its per-pass
 *      bound (partitionCopy.ts), `partitionsInFlight` at a time;
 *   4. with syncGroupOffsets, translate source groups' committed offsets and
 *      commit them on the target where that group has no live member;
 *   5. save progress, offset syncs and status (mirrorState.ts).
 * `run({ once: true })` makes passes until one ends caught up (the CLI then
 * exits 0), fails, or copies nothing; otherwise passes repeat, idle ones
 * `pollIntervalMs` apart, until the signal aborts or the deadline passes.
 *
 * A partition's failure is its own: it is recorded in the status and retried
 * in the next pass; other partitions go on.
 */
import type { StrandClient } from '../../client/StrandClient';
import { ProducerFencedError, UnknownGroupError } from '../../client/errors';
import { mapBounded } from '../mapBounded';
import { TopicSelection, type SelectedTopic, type TopicNamePolicy, wholeName } from './topicSelection';
import { syncTopic, type TopicSyncResult } from './topicSync';
import { copyPartition, resumePosition, MirrorKilled, readFirstTimestamp, type MirrorFaults } from './partitionCopy';
import { translateOffset, type GroupOffsetTranslation } from './offsetSync';
import { MemoryStateStore, TopicStateStore, emptyState, progressKey, type MirrorStateData, type MirrorStateStore, type PartitionProgress } from './mirrorState';
import { initProducer, type ProducerIdentity } from './remoteLog';
import { runStateOf, type MirrorStatus, type PartitionStatus } from './status';

export interface MirrorOptions {
  source: StrandClient;
  target: StrandClient;
  /** Source topics to copy (regex, whole name). @default '.*' */
  topics?: RegExp | string;
  /** Source topics never to copy (regex, whole name). */
  exclude?: RegExp | string;
  /** @default 'prefixed' (`<source cluster id>.<topic>`) */
  topicNaming?: TopicNamePolicy;
  /** Commit translated group offsets on the target (groups with no live members there). @default false */
  syncGroupOffsets?: boolean;
  /** Source groups whose offsets are synced (regex, whole name). @default '.*' */
  groups?: RegExp | string;
  /** Source groups never synced (regex, whole name). */
  groupsExclude?: RegExp | string;
  /** The mirror's name: its state topic is `strand-mirror.<name>.state` on the target. @default the source cluster id */
  name?: string;
  /** Where state lives. @default TopicStateStore on the target */
  state?: MirrorStateStore | 'memory';
  /** Bytes per source fetch. @default 1048576 */
  fetchBytes?: number;
  /** Appends to one partition per pass at most (then the other partitions get their turn). @default 1000 */
  appendsPerPartitionPass?: number;
  /** Partitions copied at once. @default 4 */
  partitionsInFlight?: number;
  /** Wait between passes that copied nothing, in ms. @default 1000 */
  pollIntervalMs?: number;
  /** How often a continuous run lists topics and syncs their partitions and configs, in ms (MM2's refresh.topics.interval). @default 60000 */
  topicRefreshMs?: number;
  /** How often a continuous run syncs group offsets, in ms (MM2's sync.group.offsets.interval). @default 60000 */
  groupSyncIntervalMs?: number;
  /** A continuous run saves state when something was copied, else at most this often, in ms. @default 30000 */
  stateSaveIntervalMs?: number;
  /** Test hooks (partitionCopy.ts). */
  faults?: MirrorFaults;
  /** Told of each pass (the CLI prints progress). */
  onPass?: (report: PassReport) => void;
}

export interface PassReport {
  copied: number;
  caughtUp: boolean;
  errors: string[];
  topics: TopicSyncResult[];
  groupsSynced: GroupOffsetTranslation[];
  status: MirrorStatus;
}

/** Topics synced at once. */
const topicSyncsInFlightMax = 4;
/** Groups whose offsets one pass syncs at most. */
export const groupsPerPassMax = 1_000;
/** Attempts to copy one partition within a pass (each after re-reading the target's tail). */
const partitionAttemptsMax = 3;
const messageOf = (err: unknown) => (err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err));

export class Mirror {
  readonly selection: TopicSelection;
  readonly name: string;
  readonly store: MirrorStateStore;
  private state: MirrorStateData | undefined;
  private identity: ProducerIdentity | undefined;
  /** Positions as the last append left them; a partition not here resumes from the target's tail. */
  private readonly positions = new Map<string, PartitionProgress>();
  private killed = false;
  private passes = 0;
  private recordsCopied = 0;
  private lastError: { message: string; at: string } | undefined;
  private readonly groupInclude: RegExp;
  private readonly groupExclude: RegExp | undefined;
  private readonly skippedBySource = new Map<string, number>();
  private topics: { selected: SelectedTopic[]; rejected: { topic: string; reason: string }[]; synced: TopicSyncResult[]; errors: string[]; at: number } | undefined;
  private groupsSyncedAt = 0;
  private savedAt = 0;

  constructor(readonly options: MirrorOptions) {
    this.selection = new TopicSelection({
      include: options.topics,
      exclude: options.exclude,
      naming: options.topicNaming,
      sourceClusterId: options.source.clusterId,
      targetClusterId: options.target.clusterId,
    });
    if (options.source.url === options.target.url && options.source.clusterId === options.target.clusterId) {
      throw new Error('the source and the target are the same cluster');
    }
    this.name = options.name ?? options.source.clusterId;
    this.store = options.state === 'memory' ? new MemoryStateStore() : (options.state ?? new TopicStateStore(options.target, this.name));
    this.groupInclude = wholeName(options.groups ?? '.*');
    this.groupExclude = options.groupsExclude ? wholeName(options.groupsExclude) : undefined;
  }

  /** Passes until caught up (`once`), the signal, or the deadline (epoch ms); returns the last pass's report. */
  async run(options: { once?: boolean; signal?: AbortSignal; deadline?: number } = {}): Promise<PassReport> {
    for (;;) {
      const report = await this.pass(options.deadline, options.once === true);
      this.options.onPass?.(report);
      if (options.signal?.aborted) return report;
      // Once: passes until caught up (a pass copies a bounded amount per partition), an error, or no progress.
      if (options.once && (report.caughtUp || report.errors.length > 0 || report.copied === 0)) return report;
      if (options.deadline !== undefined && Date.now() >= options.deadline) return report;
      const wait = Math.min(this.options.pollIntervalMs ?? 1000, options.deadline === undefined ? Infinity : options.deadline - Date.now());
      if (report.copied === 0 && wait > 0) await sleep(wait, options.signal);
      if (options.signal?.aborted) return report;
    }
  }

  /**
   * One pass (see the file comment). Throws only MirrorKilled and failures to
   * read the state or list topics. `refresh`: sync topics and group offsets and
   * save the state now, whatever their intervals say.
   */
  async pass(deadline?: number, refresh = true): Promise<PassReport> {
    if (this.killed) throw new MirrorKilled('the mirror was killed');
    this.passes++;
    const errors: string[] = [];
    const state = (this.state ??= await this.store.load());
    const identity = await this.currentIdentity(state);

    const now = Date.now();
    const topicsDue = refresh || !this.topics || now - this.topics.at >= (this.options.topicRefreshMs ?? 60_000);
    if (topicsDue) this.topics = await this.syncTopics(now);
    const { selected, rejected, synced } = this.topics!;
    errors.push(...this.topics!.errors);
    const topicOk = new Set(synced.map((t) => t.source));

    const jobs: { topic: SelectedTopic; partition: number }[] = [];
    for (const s of synced.sort((a, b) => (a.source < b.source ? -1 : 1))) {
      for (let p = 0; p < s.partitions; p++) jobs.push({ topic: { source: s.source, target: s.target }, partition: p });
    }
    const partitionStatus: PartitionStatus[] = [];
    const touched = new Set<string>();
    let copied = 0;
    await mapBounded(jobs, this.options.partitionsInFlight ?? 4, async ({ topic, partition }) => {
      const key = progressKey(topic.target, partition);
      const status: PartitionStatus = {
        sourceTopic: topic.source,
        targetTopic: topic.target,
        partition,
        sourceHighWatermark: 0,
        nextSourceOffset: 0,
        lagRecords: 0,
        lagSeconds: 0,
        skippedRecords: this.skippedBySource.get(key) ?? 0,
      };
      try {
        const outcome = await this.copyWithRecovery(state, identity, topic, partition, deadline);
        copied += outcome.copied;
        this.skippedBySource.set(key, status.skippedRecords + outcome.skipped);
        status.skippedRecords += outcome.skipped;
        const progress = this.positions.get(key)!;
        status.nextSourceOffset = progress.nextSourceOffset;
        status.sourceHighWatermark = Number.isFinite(outcome.sourceHighWatermark) ? outcome.sourceHighWatermark : progress.nextSourceOffset;
        status.lagRecords = Math.max(0, status.sourceHighWatermark - progress.nextSourceOffset);
        if (status.lagRecords > 0) {
          const ts = outcome.firstUncopiedTimestamp ?? (await readFirstTimestamp(this.options.source, topic.source, partition, progress.nextSourceOffset));
          status.lagSeconds = ts === undefined ? 0 : Math.max(0, (Date.now() - ts) / 1000);
        }
        const next = { ...progress, runs: progress.runs };
        if (JSON.stringify(next) !== JSON.stringify(state.partitions[key])) touched.add(key);
        state.partitions[key] = next;
      } catch (err) {
        if (err instanceof MirrorKilled) throw err;
        status.lastError = messageOf(err);
        errors.push(`${topic.source}/${partition}: ${status.lastError}`);
        // How far behind it is, as far as the source says (best effort: the source may be what failed).
        status.nextSourceOffset = state.partitions[key]?.nextSourceOffset ?? 0;
        try {
          status.sourceHighWatermark = (await this.options.source.admin().describePartition(topic.source, partition)).highWatermark;
          status.lagRecords = Math.max(0, status.sourceHighWatermark - status.nextSourceOffset);
          const ts = status.lagRecords > 0 ? await readFirstTimestamp(this.options.source, topic.source, partition, status.nextSourceOffset) : undefined;
          status.lagSeconds = ts === undefined ? 0 : Math.max(0, (Date.now() - ts) / 1000);
        } catch {
          // the lag stays unknown (0); lastError says why
        }
      }
      partitionStatus.push(status);
    });
    if (this.killed) throw new MirrorKilled('the mirror was killed');
    this.recordsCopied += copied;

    let groupsSynced: GroupOffsetTranslation[] = [];
    if (this.options.syncGroupOffsets && (refresh || now - this.groupsSyncedAt >= (this.options.groupSyncIntervalMs ?? 60_000))) {
      this.groupsSyncedAt = now;
      try {
        groupsSynced = await this.syncGroupOffsets(state, selected.filter((t) => topicOk.has(t.source)));
      } catch (err) {
        errors.push(`group offsets: ${messageOf(err)}`);
      }
    }

    if (errors.length > 0) this.lastError = { message: errors[0]!, at: new Date().toISOString() };
    partitionStatus.sort((a, b) => (a.targetTopic === b.targetTopic ? a.partition - b.partition : a.targetTopic < b.targetTopic ? -1 : 1));
    const status: MirrorStatus = {
      name: this.name,
      sourceCluster: this.options.source.clusterId,
      targetCluster: this.options.target.clusterId,
      state: runStateOf(partitionStatus, errors.length > 0 ? errors[0] : undefined),
      updatedAt: new Date().toISOString(),
      passes: this.passes,
      recordsCopied: this.recordsCopied,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      skippedTopics: rejected,
      partitions: partitionStatus,
    };
    state.status = status;
    if (refresh || touched.size > 0 || Date.now() - this.savedAt >= (this.options.stateSaveIntervalMs ?? 30_000)) {
      await this.options.faults?.beforeSave?.();
      await this.store.save(state, { partitions: [...touched], status: true });
      this.savedAt = Date.now();
    }
    const caughtUp = errors.length === 0 && partitionStatus.every((p) => p.lagRecords === 0);
    return { copied, caughtUp, errors, topics: topicsDue ? synced : [], groupsSynced, status };
  }

  /** Lists the source's topics, selects them, and brings each target topic in line (topicSync.ts). */
  private async syncTopics(at: number): Promise<NonNullable<Mirror['topics']>> {
    const [sourceTopics, targetTopics] = await Promise.all([this.options.source.admin().listTopics(), this.options.target.admin().listTopics()]);
    const { selected, rejected } = this.selection.select(sourceTopics);
    const existing = new Set(targetTopics);
    const synced: TopicSyncResult[] = [];
    const errors: string[] = [];
    await mapBounded(selected, topicSyncsInFlightMax, async (t) => {
      try {
        synced.push(await syncTopic(this.options.source, this.options.target, t, existing));
      } catch (err) {
        errors.push(`topic ${t.source}: ${messageOf(err)}`);
      }
    });
    return { selected, rejected, synced, errors, at };
  }

  /** Kills the mirror as a crash would: no request starts after this, nothing more is saved (tests). */
  kill(): void {
    this.killed = true;
  }

  /** The committed offsets of a source group, translated to the target (the state's offset syncs). */
  async translateGroupOffsets(group: string): Promise<GroupOffsetTranslation[]> {
    const state = (this.state ??= await this.store.load());
    return translateGroup(this.options.source, this.selection, state, group);
  }

  private async currentIdentity(state: MirrorStateData): Promise<ProducerIdentity> {
    if (this.identity) return this.identity;
    if (!state.identity) {
      // Saved before its first use: a mirror that restarts keeps writing as the same producer.
      state.identity = await initProducer(this.options.target);
      await this.store.save(state, { identity: true });
    }
    return (this.identity = state.identity);
  }

  /**
   * Copies a partition; a refused append (40926: the target's producer state
   * differs from what the mirror expected, e.g. an append of a crashed mirror
   * landed late, or the target dropped idle producer state) re-reads the tail
   * and tries again; refused at the same place twice, the mirror takes a new
   * epoch and starts the partition's sequence afresh.
   */
  private async copyWithRecovery(state: MirrorStateData, identity: ProducerIdentity, topic: SelectedTopic, partition: number, deadline: number | undefined) {
    const key = progressKey(topic.target, partition);
    const names = { sourceTopic: topic.source, targetTopic: topic.target, partition };
    let fresh = false;
    let lastRefused: string | undefined;
    for (let attempt = 1; ; attempt++) {
      let progress = this.positions.get(key);
      if (!progress || progress.sourceTopic !== topic.source) {
        progress = await resumePosition({ target: this.options.target }, names, this.identity ?? identity, state.partitions[key], fresh);
        this.positions.set(key, progress);
      }
      try {
        return await copyPartition(
          { source: this.options.source, target: this.options.target, fetchBytes: this.options.fetchBytes ?? 1024 * 1024, faults: this.options.faults, killed: () => this.killed, deadline, appendsPerPass: this.options.appendsPerPartitionPass },
          progress,
          this.identity ?? identity,
        );
      } catch (err) {
        if (err instanceof MirrorKilled) {
          this.killed = true;
          throw err;
        }
        this.positions.delete(key);
        if (!(err instanceof ProducerFencedError) || attempt >= partitionAttemptsMax) throw err;
        const here = `${progress.producerEpoch}/${progress.nextSequence}/${progress.nextSourceOffset}`;
        if (here === lastRefused) {
          await this.bumpEpoch(state);
          fresh = true;
        }
        lastRefused = here;
      }
    }
  }

  private bumping: Promise<void> | undefined;

  private async bumpEpoch(state: MirrorStateData): Promise<void> {
    this.bumping ??= (async () => {
      const bumped = await initProducer(this.options.target, (this.identity ?? state.identity)!.producerId);
      state.identity = bumped;
      this.identity = bumped;
      await this.store.save(state, { identity: true });
    })().finally(() => (this.bumping = undefined));
    await this.bumping;
  }

  /**
   * Commits translated offsets of source groups on the target, for groups with
   * no live members there, and only forward (a group that already committed
   * further on the target is left alone: it has consumed there).
   */
  private async syncGroupOffsets(state: MirrorStateData, topics: SelectedTopic[]): Promise<GroupOffsetTranslation[]> {
    const groups = (await this.options.source.admin().listGroups())
      .map((g) => g.groupId)
      .filter((g) => this.groupInclude.test(g) && !this.groupExclude?.test(g))
      .slice(0, groupsPerPassMax);
    const mirrored = new Set(topics.map((t) => t.source));
    const committed: GroupOffsetTranslation[] = [];
    for (const group of groups) {
      const rows = (await translateGroup(this.options.source, this.selection, state, group)).filter(
        (r) => mirrored.has(r.sourceTopic) && r.targetTopic === this.selection.targetName(r.sourceTopic) && r.targetOffset !== undefined,
      );
      if (rows.length === 0) continue;
      let live = 0;
      try {
        live = (await this.options.target.admin().describeGroup(group)).members.length;
      } catch (err) {
        if (!(err instanceof UnknownGroupError)) throw err;
      }
      if (live > 0) continue;
      const current = new Map((await this.options.target.admin().groupOffsets(group)).map((o) => [`${o.topic}\u0000${o.partition}`, o.offset]));
      const forward = rows.filter((r) => (current.get(`${r.targetTopic}\u0000${r.partition}`) ?? -1) < r.targetOffset!);
      if (forward.length === 0) continue;
      await this.options.target.transport.request('POST', `${this.options.target.clusterPath}/consumer-groups/${encodeURIComponent(group)}/offsets:commit`, {
        json: { offsets: forward.map((r) => ({ topic_name: r.targetTopic, partition_id: r.partition, offset: r.targetOffset, metadata: `mirrored from ${this.options.source.clusterId}` })) },
      });
      committed.push(...forward);
    }
    return committed;
  }
}

/**
 * A source group's committed offsets, each translated with the state's syncs
 * for its target partition. Partitions are found by their source topic in the
 * state (so no topic options are needed); a topic the state does not know yet
 * is named by `selection`, when it selects it.
 */
export async function translateGroup(source: StrandClient, selection: TopicSelection | undefined, state: MirrorStateData, group: string): Promise<GroupOffsetTranslation[]> {
  const bySource = new Map<string, PartitionProgress>();
  for (const p of Object.values(state.partitions)) bySource.set(`${p.sourceTopic}\u0000${p.partition}`, p);
  const out: GroupOffsetTranslation[] = [];
  for (const o of await source.admin().groupOffsets(group)) {
    const progress = bySource.get(`${o.topic}\u0000${o.partition}`);
    const targetTopic = progress?.targetTopic ?? (selection && selection.whyNot(o.topic) === undefined ? selection.targetName(o.topic) : undefined);
    if (targetTopic === undefined) continue;
    const t = translateOffset(progress?.runs ?? [], o.offset);
    out.push({
      group,
      sourceTopic: o.topic,
      targetTopic,
      partition: o.partition,
      sourceOffset: o.offset,
      targetOffset: t.offset,
      exact: t.offset !== undefined && t.exact,
      ...(t.offset === undefined ? { reason: t.reason } : {}),
    });
  }
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

export { emptyState };
