/**
 * The group coordinator as a service: GroupStore (DynamoDB) plus the topic
 * catalog and partition bounds of the engine. Built once per Runtime from its
 * clients, config and clock, so nothing in the engine or runtime needs to know
 * about groups.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Runtime } from '../runtime';
import type { Topic } from '../log/TopicCatalog';
import { unknownPartition } from '../errors';
import { mapBounded } from '../mapBounded';
import {
  cloneGroup,
  heartbeat,
  isLive,
  membersToNudge,
  noticeConnectionClosed,
  subscribedTopicsOf,
  viewAt,
  type CommitAuth,
  type GroupState,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from './coordinator';
import { GroupStore, unknownGroup, type CommittedOffset, type SessionExtension, type StoredGroup } from './GroupStore';
import { parseTpKey, sortTps, tpKey, type TopicPartitionKey } from './topicPartition';
import { noticePosterOf } from '../notify/noticePoster';
import { subscriptionStore } from '../notify/SubscriptionStore';

/** Partitions whose bounds one lag or reset request reads at once. */
const boundsReadsInFlightMax = 16;
/** Nudges one heartbeat posts at once (a group has at most groupMembersMax members). */
const nudgesInFlightMax = 16;
/** Topics a reset may name. */
export const resetTopicsMax = 100;

export interface OffsetEntry {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string;
}

export type ResetTarget = 'earliest' | 'latest' | { timestamp: number } | { offset: number };

export interface PartitionLag {
  topic: string;
  partition: number;
  currentOffset: number;
  logEndOffset: number;
  lag: number;
  memberId?: string;
  clientId?: string;
}

export class GroupService {
  readonly store: GroupStore;

  constructor(private readonly runtime: Runtime) {
    this.store = new GroupStore(runtime.clients.ddb, runtime.config.tables.groups, runtime.clock);
  }

  private get now(): number {
    return this.runtime.clock.now();
  }

  /** Partition counts of the named topics that exist; a missing topic counts as none (assigned once created). */
  private async partitionCounts(topics: Iterable<string>, cache: Map<string, number>): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const missing = [...new Set(topics)].filter((t) => !cache.has(t));
    await mapBounded(missing, boundsReadsInFlightMax, async (t) => {
      const topic = await this.runtime.engine.topics.find(t);
      cache.set(t, topic?.partitionsCount ?? 0);
    });
    for (const t of new Set(topics)) counts[t] = cache.get(t) ?? 0;
    return counts;
  }

  async heartbeat(groupId: string, req: HeartbeatRequest): Promise<HeartbeatResponse> {
    const cache = new Map<string, number>();
    // The nudges of the attempt that was written (an update may run its function again after a lost race).
    let nudges: { memberId: string; connectionId: string }[] = [];
    let bind = false;
    const response = await this.store.update(
      groupId,
      async (state, now) => {
        const topics = [...subscribedTopicsOf(state!), ...(req.subscribedTopicNames ?? [])];
        const partitionCounts = await this.partitionCounts(topics, cache);
        const { group, response } = heartbeat(state!, req, { now, partitionCounts });
        const change = diff(state!, group, response.member_id);
        nudges = change === 'all' ? membersToNudge(state, group, response.member_id) : [];
        // The member named a connection it did not listen on before: record it there too.
        bind = req.noticeConnectionId !== undefined && req.noticeConnectionId !== '' && state?.members[response.member_id]?.noticeConnectionId !== req.noticeConnectionId;
        if (change === 'none') return { result: response };
        return { state: group, result: response, sessionOnly: change === 'all' ? undefined : change };
      },
      { create: true },
    );
    await this.nudge(groupId, nudges);
    if (req.noticeConnectionId && bind) await this.bindConnection(groupId, response.member_id, req.noticeConnectionId);
    return response;
  }

  /**
   * Tells the notice socket which member listens on a connection, so that
   * connection's closing ends the member's session (noticeConnectionClosed).
   * Best effort: without it a crashed member is noticed some intervals late.
   */
  private async bindConnection(groupId: string, memberId: string, connectionId: string): Promise<void> {
    try {
      await subscriptionStore(this.runtime).bindMember(connectionId, groupId, memberId);
    } catch (err) {
      this.runtime.logger.warn('binding a member to its notice connection failed', { groupId, memberId, error: String(err) });
    }
  }

  /** A listening member's notice socket closed ($disconnect): its session ends one timeout from now unless it heartbeats. */
  async noticeConnectionClosed(groupId: string, memberId: string, connectionId: string): Promise<void> {
    await this.store.update(groupId, async (state, now) => {
      if (!state) return { result: undefined };
      const next = cloneGroup(state);
      return noticeConnectionClosed(next, memberId, connectionId, now) ? { state: next, result: undefined } : { result: undefined };
    }, { create: false });
  }

  /**
   * Tells members listening on a notice socket to heartbeat now. Best effort:
   * a nudge that does not arrive costs its member one heartbeat interval, so
   * a failure is logged, never the heartbeat's error.
   */
  private async nudge(groupId: string, nudges: readonly { memberId: string; connectionId: string }[]): Promise<void> {
    const poster = nudges.length > 0 ? noticePosterOf(this.runtime) : undefined;
    if (!poster) return;
    await mapBounded([...nudges], nudgesInFlightMax, async (n) => {
      try {
        await poster.post(n.connectionId, { type: 'group', group_id: groupId });
      } catch (err) {
        this.runtime.logger.warn('group nudge failed', { groupId, memberId: n.memberId, error: String(err) });
      }
    });
  }

  /** Commits offsets (see GroupStore.commit). Standalone commits name existing partitions only. */
  async commit(groupId: string, auth: CommitAuth, entries: readonly OffsetEntry[]): Promise<void> {
    if (auth.memberId === undefined) {
      const topics = new Map<string, Topic>();
      for (const e of entries) {
        let topic = topics.get(e.topic);
        if (!topic) topics.set(e.topic, (topic = await this.runtime.engine.topics.get(e.topic)));
        if (e.partition >= topic.partitionsCount) throw unknownPartition(e.topic, e.partition);
      }
    }
    await this.store.commit(
      groupId,
      auth,
      entries.map((e) => ({ tp: tpKey(e.topic, e.partition), offset: e.offset, metadata: e.metadata ?? '' })),
    );
  }

  /** The group as a read sees it now (expired members left out), or 40404. */
  async describe(groupId: string): Promise<{ state: GroupState; offsets: Record<TopicPartitionKey, CommittedOffset> }> {
    const stored = await this.store.load(groupId);
    if (!stored) throw unknownGroup(groupId);
    return { state: viewAt(stored.state, this.now), offsets: stored.offsets };
  }

  async list(): Promise<GroupState[]> {
    const now = this.now;
    return (await this.store.list()).map((s: StoredGroup) => viewAt(s.state, now));
  }

  /** Committed offsets; none for a group that does not exist (Kafka's OffsetFetch). */
  async offsets(groupId: string): Promise<OffsetEntry[]> {
    const stored = await this.store.load(groupId);
    if (!stored) return [];
    return sortTps(Object.keys(stored.offsets)).map((tp) => {
      const { topic, partition } = parseTpKey(tp);
      const c = stored.offsets[tp]!;
      return { topic, partition, offset: c.offset, metadata: c.metadata };
    });
  }

  /** Lag of every partition with a committed offset; log end offset is the high watermark. */
  async lags(groupId: string): Promise<PartitionLag[]> {
    const { state, offsets } = await this.describe(groupId);
    const owner = new Map<TopicPartitionKey, { memberId: string; clientId?: string }>();
    for (const m of Object.values(state.members)) for (const tp of m.owned) owner.set(tp, { memberId: m.memberId, clientId: m.clientId });
    const topics = new Map<string, Topic | undefined>();
    const tps = sortTps(Object.keys(offsets));
    for (const tp of tps) {
      const name = parseTpKey(tp).topic;
      if (!topics.has(name)) topics.set(name, await this.runtime.engine.topics.find(name));
    }
    const rows = await mapBounded(tps, boundsReadsInFlightMax, async (tp): Promise<PartitionLag | undefined> => {
      const { topic, partition } = parseTpKey(tp);
      const t = topics.get(topic);
      if (!t || partition >= t.partitionsCount) return undefined; // a deleted topic has no lag
      const bounds = await this.runtime.engine.bounds(t, partition);
      const current = offsets[tp]!.offset;
      const o = owner.get(tp);
      return {
        topic,
        partition,
        currentOffset: current,
        logEndOffset: bounds.highWatermark,
        lag: Math.max(0, bounds.highWatermark - current),
        ...(o ? { memberId: o.memberId, clientId: o.clientId } : {}),
      };
    });
    return rows.filter((r): r is PartitionLag => r !== undefined);
  }

  delete(groupId: string): Promise<void> {
    return this.store.delete(groupId);
  }

  /**
   * Sets committed offsets while the group is empty: every partition of
   * `topicNames`, or of the topics the group has offsets for. Offsets are
   * clamped into [log start, high watermark], as Kafka's reset tool does.
   */
  async resetOffsets(groupId: string, to: ResetTarget, topicNames?: string[]): Promise<OffsetEntry[]> {
    const next = await this.store.replaceOffsets(groupId, async (current, now) => {
      const names = topicNames ?? [...new Set(Object.keys(current).map((tp) => parseTpKey(tp).topic))];
      const topics: Topic[] = [];
      for (const name of names) {
        if (topicNames) topics.push(await this.runtime.engine.topics.get(name));
        else {
          const t = await this.runtime.engine.topics.find(name);
          if (t) topics.push(t);
        }
      }
      const targets = topics.flatMap((t) => Array.from({ length: t.partitionsCount }, (_, p) => ({ t, p })));
      const values = await mapBounded(targets, boundsReadsInFlightMax, async ({ t, p }) => {
        const bounds = await this.runtime.engine.bounds(t, p);
        let offset: number;
        if (to === 'earliest') offset = bounds.logStartOffset;
        else if (to === 'latest') offset = bounds.highWatermark;
        else if ('timestamp' in to) offset = (await this.runtime.engine.offsetForTimestamp(t, p, to.timestamp)).offset;
        else offset = to.offset;
        offset = Math.min(Math.max(offset, bounds.logStartOffset), bounds.highWatermark);
        return { tp: tpKey(t.name, p), offset };
      });
      const out = { ...current };
      for (const v of values) out[v.tp] = { offset: v.offset, metadata: current[v.tp]?.metadata ?? '', committedAt: now };
      return out;
    });
    return sortTps(Object.keys(next)).map((tp) => ({ ...parseTpKey(tp), offset: next[tp]!.offset, metadata: next[tp]!.metadata }));
  }

  /**
   * The maintenance pass: removes expired members of every group. The scan
   * already shows each group's members, so only a group with a member past its
   * session (the store's own liveness test) costs a consistent read and a write.
   */
  async expireAll(): Promise<number> {
    let removed = 0;
    const groups = await this.store.list();
    const now = this.now;
    for (const g of groups) {
      const expired = g.memberCount > 0 && Object.values(g.state.members ?? {}).some((m) => !isLive(m, now));
      if (expired) removed += (await this.store.expire(g.state.groupId)).length;
    }
    return removed;
  }
}

/**
 * What a heartbeat changed: nothing (a repeat at the same instant), only the
 * member's session expiry, or more.
 */
function diff(before: GroupState, after: GroupState, memberId: string): 'none' | 'all' | SessionExtension {
  // Compared as plain JSON: items read from DynamoDB and clones differ in prototypes only.
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
  if (isDeepStrictEqual(plain(before), plain(after))) return 'none';
  const m = after.members[memberId];
  const old = before.members[memberId];
  if (!m || !old || m.expiresAt <= old.expiresAt) return 'all';
  const same = cloneGroup(before);
  same.members[memberId]!.expiresAt = m.expiresAt;
  if (!isDeepStrictEqual(plain(same), plain(after))) return 'all';
  return { memberId, memberEpoch: m.memberEpoch, expiresAt: m.expiresAt };
}

const services = new WeakMap<Runtime, GroupService>();

/** The GroupService of a runtime, created on first use. */
export function groupsOf(runtime: Runtime): GroupService {
  let s = services.get(runtime);
  if (!s) services.set(runtime, (s = new GroupService(runtime)));
  return s;
}
