/**
 * The group coordinator's state machine, after Kafka's KIP-848 consumer group
 * protocol, as pure functions of (group state, request, now, topic metadata).
 * GroupStore persists the state as one DynamoDB item and applies these functions
 * in a version-conditioned read-modify-write; tests drive them directly.
 *
 * Vocabulary:
 * - group epoch: bumped by every change that can change the target assignment
 *   (a member joins, leaves or expires, a subscription or the assignor changes,
 *   a subscribed topic appears or grows).
 * - target assignment: where the assignor wants each partition, computed once per
 *   group epoch (`assignmentEpoch`).
 * - member epoch: names one version of one member's ownership. It changes every
 *   time the member's owned or revoking partitions change (and on every join or
 *   rejoin), and is drawn from the group's `epochSeq`, so epochs within a group
 *   are unique and only grow. A request carrying any other epoch is fenced
 *   (40922). Because (member id, epoch) pins the exact set of owned partitions,
 *   a commit needs only one short store condition — the member's epoch is still
 *   the one the commit was checked against — to prove ownership too
 *   (GroupStore.commit).
 * - owned: the partitions a member may consume and commit. `revoking` is the
 *   part of `owned` the member was told to give up and has not yet acknowledged.
 *
 * Invariant 4 — a partition is owned by at most one live member — holds because
 * a partition is added to a member's `owned` only when no other member owns it
 * (revoking included), and leaves the previous owner's `owned` only when that
 * owner acknowledges the revocation or is removed (left, or session expired).
 *
 * Acknowledging a revocation. Walk through a lost response: member A at epoch 7
 * owns {p0, p1}; B joins; A's next heartbeat is answered "epoch 9, assignment
 * {p0}" (p1 revoking) but the response is lost, so A keeps consuming p1. If A's
 * retry (epoch 7) counted as the acknowledgment, p1 would move to B while A still
 * reads it. Because a revocation changes A's assignment, it also changes A's
 * epoch: the retry carries 7, not 9, and is fenced; A drops everything and
 * rejoins with epoch 0 and its member id, which acknowledges all revocations
 * (a rejoining member owns nothing) and gives it back {p0}. So a heartbeat that
 * carries the epoch of the response that announced a revocation proves the
 * member received it, and — by the protocol's rule that a member stops consuming
 * revoked partitions before its next heartbeat — acknowledges it. A client that
 * sends `owned_partitions` acknowledges exactly what it no longer lists.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, StrandError, invalidValue } from '../errors';
import { assign, assignorNames, defaultAssignor, type AssignorName, type TargetAssignment } from './assignors';
import { flattenTopicPartitions, groupByTopic, sortTps, type TopicPartitionKey, type TopicPartitions } from './topicPartition';

/** Kafka's group.consumer.session.timeout.ms default. */
export const sessionTimeoutMsDefault = 45_000;
export const sessionTimeoutMsMin = 1_000;
/** Long enough for a v2 instance's idle timeout (5 min) with margin. */
export const sessionTimeoutMsMax = 30 * 60_000;
/** Kafka's group.consumer.heartbeat.interval.ms default. */
export const heartbeatIntervalMsDefault = 5_000;
/**
 * The heartbeat interval of a member that listens for nudges on a notice
 * socket (`notice_connection_id`): a change that concerns it is pushed to it
 * at once (membersToNudge), so its heartbeats only keep its session alive, and
 * may be rarer. 40% of the session timeout leaves room for one lost heartbeat
 * (18 s at Kafka's default 45 s session); at most 20 s. An idle consumer's
 * heartbeats are most of its cost (docs/notifications.md).
 */
export const nudgedHeartbeatIntervalMsMax = 20_000;
/** Longest notice connection id a heartbeat may name (API Gateway's are 16 characters). */
export const noticeConnectionIdCharsMax = 128;
/** Members per group: the group is one DynamoDB item (400 KB), so it must stay bounded. */
export const groupMembersMax = 500;
/** Departed member ids remembered so their requests are 40922 (fenced), not 40924 (unknown). */
export const departedRememberedMax = 200;
/** Topics one member may subscribe to. */
export const subscribedTopicsMax = 100;

export type GroupStateName = 'EMPTY' | 'ASSIGNING' | 'RECONCILING' | 'STABLE';

export interface MemberState {
  memberId: string;
  memberEpoch: number;
  subscribedTopics: string[];
  /** The assignor this member asked for, if any. */
  assignor?: AssignorName;
  sessionTimeoutMs: number;
  /** Epoch ms after which the member is no longer live. */
  expiresAt: number;
  /** Partitions the member may consume and commit; includes `revoking`. */
  owned: TopicPartitionKey[];
  /** Owned partitions the member was told to give up, not yet acknowledged. */
  revoking: TopicPartitionKey[];
  joinedAt: number;
  /** Who this member is, for describe (`client_id`); e.g. a v2 consumer instance. */
  clientId?: string;
  /** The notice socket connection it listens on for nudges (client/noticeWaiter.ts), if any. */
  noticeConnectionId?: string;
}

export interface GroupState {
  groupId: string;
  groupEpoch: number;
  /** The group epoch `target` was computed at. */
  assignmentEpoch: number;
  /** Last epoch handed out, group or member: epochs in a group are unique and increasing. */
  epochSeq: number;
  assignor: AssignorName;
  members: Record<string, MemberState>;
  target: TargetAssignment;
  /** Partition counts of the subscribed topics when the target was computed. */
  partitionCounts: Record<string, number>;
  /** Recently removed member ids → when they were removed. */
  departed: Record<string, number>;
  createdAt: number;
}

export interface HeartbeatRequest {
  memberId?: string;
  memberEpoch: number;
  subscribedTopicNames?: string[];
  sessionTimeoutMs?: number;
  assignor?: AssignorName;
  /** The partitions the member still holds (KIP-848 TopicPartitions); optional. */
  ownedPartitions?: TopicPartitions[];
  clientId?: string;
  /** The member's notice socket connection, for nudges; '' says it has none any more. */
  noticeConnectionId?: string;
}

export interface HeartbeatResponse {
  member_id: string;
  member_epoch: number;
  heartbeat_interval_ms: number;
  assignment: TopicPartitions[];
}

export interface CoordinatorEnv {
  now: number;
  /** Partition counts of existing topics; must cover every topic subscribed after this request. */
  partitionCounts: Readonly<Record<string, number>>;
  newMemberId?: () => string;
}

export function emptyGroup(groupId: string, now: number): GroupState {
  return {
    groupId,
    groupEpoch: 0,
    assignmentEpoch: 0,
    epochSeq: 0,
    assignor: defaultAssignor,
    members: {},
    target: {},
    partitionCounts: {},
    departed: {},
    createdAt: now,
  };
}

export function cloneGroup(g: GroupState): GroupState {
  return structuredClone(g);
}

export const fencedMember = (memberId: string, why: string) =>
  new StrandError(ErrorCode.FencedMember, `Member '${memberId}' is fenced: ${why}. Rejoin with member_epoch 0.`);
export const unknownMember = (memberId: string, groupId: string) =>
  new StrandError(ErrorCode.UnknownMember, `Member '${memberId}' is not known in group '${groupId}'.`);

function nextEpoch(g: GroupState): number {
  g.epochSeq += 1;
  return g.epochSeq;
}

function bumpGroupEpoch(g: GroupState): void {
  g.groupEpoch = nextEpoch(g);
}

function removeMember(g: GroupState, memberId: string, now: number): void {
  delete g.members[memberId];
  delete g.target[memberId];
  g.departed[memberId] = now;
  const ids = Object.keys(g.departed);
  if (ids.length > departedRememberedMax) {
    ids.sort((a, b) => g.departed[a]! - g.departed[b]!);
    for (const id of ids.slice(0, ids.length - departedRememberedMax)) delete g.departed[id];
  }
}

export function isLive(m: MemberState, now: number): boolean {
  return m.expiresAt > now;
}

/** Removes members whose session expired (their partitions become free); bumps the group epoch if any. Mutates `g`. */
export function expireMembers(g: GroupState, now: number): string[] {
  const expired = Object.values(g.members).filter((m) => !isLive(m, now)).map((m) => m.memberId);
  for (const id of expired) removeMember(g, id, now);
  if (expired.length > 0) bumpGroupEpoch(g);
  return expired;
}

/** The group as reads should see it at `now`: expired members left out. Does not change `g`. */
export function viewAt(g: GroupState, now: number): GroupState {
  const view = cloneGroup(g);
  expireMembers(view, now);
  return view;
}

/** The partitions a member was last told it has: owned minus revoking. */
export function assignmentOf(m: MemberState): TopicPartitionKey[] {
  const revoking = new Set(m.revoking);
  return sortTps(m.owned.filter((tp) => !revoking.has(tp)));
}

export function subscribedTopicsOf(g: GroupState): string[] {
  return [...new Set(Object.values(g.members).flatMap((m) => m.subscribedTopics))].sort();
}

/** The assignor most members asked for; `uniform` when none asked or on a tie. */
function effectiveAssignor(g: GroupState): AssignorName {
  const votes = new Map<AssignorName, number>();
  for (const m of Object.values(g.members)) if (m.assignor) votes.set(m.assignor, (votes.get(m.assignor) ?? 0) + 1);
  let best: AssignorName = defaultAssignor;
  for (const name of assignorNames) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
  return best;
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function heartbeatIntervalFor(sessionTimeoutMs: number, nudged = false): number {
  if (nudged) return Math.min(nudgedHeartbeatIntervalMsMax, Math.floor(sessionTimeoutMs * 0.4));
  return Math.min(heartbeatIntervalMsDefault, Math.floor(sessionTimeoutMs / 3));
}

/**
 * Intervals a listening member's session may run past its timeout: its
 * session is written about once every this many + 1 heartbeats. A member's
 * crash closes its notice socket, and $disconnect brings its expiry back to
 * one timeout from then (GroupService.noticeConnectionClosed), so only a
 * member that vanishes without its socket closing (a network that drops
 * silently) is noticed up to this many intervals late: 45 s + 9 × 18 s.
 */
export const nudgedSessionIntervalsMax = 9;

/**
 * A member's session expiry after a heartbeat at `now`. Kafka's rule is that
 * a member expires when no heartbeat came for its session timeout T; members
 * without a notice socket keep it exactly, writing `now + T` every time. For a
 * listening member every such write rewrites the whole group item (offsets
 * included), the largest part of an idle consumer's cost. So a heartbeat that
 * finds at least T left changes nothing (no write), and one that finds less
 * extends to `now + T + k × I` (I: its heartbeat interval, k:
 * nudgedSessionIntervalsMax): the expiry is never less than T after the last
 * heartbeat (a member never expires early), and one write in k + 1 heartbeats
 * keeps it. Its socket closing (a crash) brings the expiry back to T.
 */
export function extendedExpiry(m: Pick<MemberState, 'expiresAt' | 'sessionTimeoutMs' | 'noticeConnectionId'>, now: number, joining: boolean): number {
  if (m.noticeConnectionId === undefined) return now + m.sessionTimeoutMs;
  if (!joining && m.expiresAt - now >= m.sessionTimeoutMs) return m.expiresAt;
  return now + m.sessionTimeoutMs + nudgedSessionIntervalsMax * heartbeatIntervalFor(m.sessionTimeoutMs, true);
}

/**
 * A listening member's notice socket closed: it is no longer nudged (it
 * heartbeats every 5 s until it names a new socket), and its session ends one
 * timeout from now unless a heartbeat comes, as if its last heartbeat were
 * now. Mutates `g`; false when the member is gone or listens elsewhere now.
 */
export function noticeConnectionClosed(g: GroupState, memberId: string, connectionId: string, now: number): boolean {
  const m = g.members[memberId];
  if (!m || m.noticeConnectionId !== connectionId) return false;
  delete m.noticeConnectionId;
  m.expiresAt = Math.min(m.expiresAt, now + m.sessionTimeoutMs);
  return true;
}

/** What a member's next heartbeat would act on: its target, what it owns and revokes, and which target partitions are free to take. */
function pendingWorkOf(g: GroupState, m: MemberState): string {
  const ownedByOthers = new Set<TopicPartitionKey>();
  for (const other of Object.values(g.members)) if (other.memberId !== m.memberId) for (const tp of other.owned) ownedByOthers.add(tp);
  const target = sortTps(g.target[m.memberId] ?? []);
  const free = target.filter((tp) => !m.owned.includes(tp) && !ownedByOthers.has(tp));
  return JSON.stringify([g.groupEpoch, m.memberEpoch, target, sortTps(m.owned), sortTps(m.revoking), free]);
}

/**
 * The members to nudge after a change from `before` to `after` made by
 * `byMemberId`'s heartbeat (or by none: expiry): those listening on a notice
 * socket for which the change means work at their next heartbeat (a new
 * target, partitions to revoke, partitions freed for them, a new group
 * epoch). A nudged member heartbeats at once; if that changes nothing for the
 * others, nobody is nudged again, so nudges cannot loop.
 */
export function membersToNudge(before: GroupState | undefined, after: GroupState, byMemberId?: string): { memberId: string; connectionId: string }[] {
  const nudges: { memberId: string; connectionId: string }[] = [];
  for (const m of Object.values(after.members)) {
    if (m.memberId === byMemberId || !m.noticeConnectionId) continue;
    const old = before?.members[m.memberId];
    if (old && before && pendingWorkOf(before, old) === pendingWorkOf(after, m)) continue;
    nudges.push({ memberId: m.memberId, connectionId: m.noticeConnectionId });
  }
  return nudges;
}

function validateRequest(req: HeartbeatRequest): void {
  if (!Number.isInteger(req.memberEpoch) || req.memberEpoch < -1) {
    throw invalidValue(`'member_epoch' must be -1 (leave), 0 (join) or a positive epoch, not ${req.memberEpoch}.`);
  }
  if (req.memberEpoch !== 0 && !req.memberId) {
    throw new StrandError(ErrorCode.BadRequest, `'member_id' is required when 'member_epoch' is ${req.memberEpoch}.`);
  }
  if (req.memberEpoch === 0 && req.subscribedTopicNames === undefined) {
    throw new StrandError(ErrorCode.BadRequest, `'subscribed_topic_names' is required to join (member_epoch 0).`);
  }
  const t = req.sessionTimeoutMs;
  if (t !== undefined && (!Number.isInteger(t) || t < sessionTimeoutMsMin || t > sessionTimeoutMsMax)) {
    throw invalidValue(`'session_timeout_ms' must be from ${sessionTimeoutMsMin} to ${sessionTimeoutMsMax}, not ${t}.`);
  }
  if (req.noticeConnectionId !== undefined && req.noticeConnectionId.length > noticeConnectionIdCharsMax) {
    throw invalidValue(`'notice_connection_id' has at most ${noticeConnectionIdCharsMax} characters.`);
  }
  if (req.subscribedTopicNames && new Set(req.subscribedTopicNames).size > subscribedTopicsMax) {
    throw invalidValue(`A member may subscribe to at most ${subscribedTopicsMax} topics.`);
  }
}

/**
 * One heartbeat (join with epoch 0, leave with -1, else a heartbeat at the
 * member's epoch). Returns the new state and the response; throws 40922/40924
 * (and 40001/40002 for bad requests) without changing anything.
 */
export function heartbeat(
  state: GroupState,
  req: HeartbeatRequest,
  env: CoordinatorEnv,
): { group: GroupState; response: HeartbeatResponse } {
  validateRequest(req);
  const g = cloneGroup(state);
  const { now } = env;
  expireMembers(g, now);

  if (req.memberEpoch === -1) {
    const id = req.memberId!;
    if (g.members[id]) {
      removeMember(g, id, now);
      bumpGroupEpoch(g);
    } else if (g.departed[id] === undefined) {
      throw unknownMember(id, g.groupId);
    }
    // Leaving twice (a retried leave) is fine.
    return { group: g, response: { member_id: id, member_epoch: -1, heartbeat_interval_ms: 0, assignment: [] } };
  }

  let member: MemberState;
  let forceNewEpoch = false;
  if (req.memberEpoch === 0) {
    const id = req.memberId || (env.newMemberId ?? randomUUID)();
    const existing = g.members[id];
    if (existing) {
      // A restart inside the session: the new incarnation owns nothing yet, so
      // every pending revocation is acknowledged; it keeps the rest. A new epoch
      // fences the previous incarnation.
      const revoking = new Set(existing.revoking);
      existing.owned = existing.owned.filter((tp) => !revoking.has(tp));
      existing.revoking = [];
      member = existing;
    } else {
      if (Object.keys(g.members).length >= groupMembersMax) {
        throw invalidValue(`Group '${g.groupId}' already has ${groupMembersMax} members, the most a group may have.`);
      }
      delete g.departed[id];
      member = {
        memberId: id,
        memberEpoch: 0,
        subscribedTopics: [],
        sessionTimeoutMs: sessionTimeoutMsDefault,
        expiresAt: 0,
        owned: [],
        revoking: [],
        joinedAt: now,
      };
      g.members[id] = member;
      bumpGroupEpoch(g);
    }
    forceNewEpoch = true;
  } else {
    const id = req.memberId!;
    const existing = g.members[id];
    if (!existing) {
      if (g.departed[id] !== undefined) throw fencedMember(id, 'it is no longer in the group (it left or its session expired)');
      throw unknownMember(id, g.groupId);
    }
    if (existing.memberEpoch !== req.memberEpoch) {
      throw fencedMember(id, `member_epoch ${req.memberEpoch} is stale; the current epoch is newer`);
    }
    member = existing;
  }

  if (req.sessionTimeoutMs !== undefined) member.sessionTimeoutMs = req.sessionTimeoutMs;
  if (req.clientId !== undefined) member.clientId = req.clientId;
  if (req.noticeConnectionId !== undefined && req.noticeConnectionId !== (member.noticeConnectionId ?? '')) {
    if (req.noticeConnectionId) member.noticeConnectionId = req.noticeConnectionId;
    else delete member.noticeConnectionId;
  }
  member.expiresAt = extendedExpiry(member, now, req.memberEpoch === 0);
  if (req.subscribedTopicNames !== undefined) {
    const topics = [...new Set(req.subscribedTopicNames)].sort();
    if (!sameList(topics, member.subscribedTopics)) {
      member.subscribedTopics = topics;
      bumpGroupEpoch(g);
    }
  }
  if (req.assignor !== undefined && req.assignor !== member.assignor) member.assignor = req.assignor;
  const assignor = effectiveAssignor(g);
  if (assignor !== g.assignor) {
    g.assignor = assignor;
    bumpGroupEpoch(g);
  }

  const counts: Record<string, number> = {};
  for (const topic of subscribedTopicsOf(g)) {
    const n = env.partitionCounts[topic];
    if (n !== undefined && n > 0) counts[topic] = n;
  }
  if (!sameCounts(counts, g.partitionCounts)) {
    g.partitionCounts = counts;
    bumpGroupEpoch(g);
  }

  if (g.assignmentEpoch !== g.groupEpoch) {
    g.target = assign(g.assignor, {
      members: Object.values(g.members).map((m) => ({ memberId: m.memberId, subscribedTopics: m.subscribedTopics })),
      partitionCounts: g.partitionCounts,
      previous: g.target,
    });
    g.assignmentEpoch = g.groupEpoch;
  }

  reconcile(g, member, req.memberEpoch === 0 ? undefined : req.ownedPartitions, forceNewEpoch);
  return {
    group: g,
    response: {
      member_id: member.memberId,
      member_epoch: member.memberEpoch,
      heartbeat_interval_ms: heartbeatIntervalFor(member.sessionTimeoutMs, member.noticeConnectionId !== undefined),
      assignment: groupByTopic(assignmentOf(member)),
    },
  };
}

/**
 * Moves one member toward its target: acknowledges revocations, asks for new
 * ones, and adds target partitions nobody else owns. The member's epoch changes
 * whenever its owned or revoking set does (see the file comment for why).
 */
function reconcile(g: GroupState, m: MemberState, reportedOwned: TopicPartitions[] | undefined, forceNewEpoch: boolean): void {
  const before = `${sortTps(m.owned).join(',')}|${sortTps(m.revoking).join(',')}`;

  if (m.revoking.length > 0) {
    const stillHeld = new Set(reportedOwned ? flattenTopicPartitions(reportedOwned) : []);
    const acked = new Set(m.revoking.filter((tp) => !stillHeld.has(tp)));
    m.owned = m.owned.filter((tp) => !acked.has(tp));
    m.revoking = m.revoking.filter((tp) => !acked.has(tp));
  }

  const target = new Set(g.target[m.memberId] ?? []);
  const revoking = new Set(m.revoking);
  for (const tp of m.owned) if (!target.has(tp) && !revoking.has(tp)) m.revoking.push(tp);

  const ownedByOthers = new Set<TopicPartitionKey>();
  for (const other of Object.values(g.members)) if (other.memberId !== m.memberId) for (const tp of other.owned) ownedByOthers.add(tp);
  const mine = new Set(m.owned);
  for (const tp of sortTps(target)) if (!mine.has(tp) && !ownedByOthers.has(tp)) m.owned.push(tp);

  m.owned = sortTps(m.owned);
  m.revoking = sortTps(m.revoking);
  if (forceNewEpoch || before !== `${m.owned.join(',')}|${m.revoking.join(',')}`) m.memberEpoch = nextEpoch(g);
}

/** The group's state at `now`, in KIP-848's terms. */
export function groupStateName(g: GroupState, now: number): GroupStateName {
  const live = Object.values(g.members).filter((m) => isLive(m, now));
  if (live.length === 0) return 'EMPTY';
  if (g.assignmentEpoch !== g.groupEpoch) return 'ASSIGNING';
  const settled = live.every((m) => m.revoking.length === 0 && sameList(sortTps(m.owned), sortTps(g.target[m.memberId] ?? [])));
  return settled ? 'STABLE' : 'RECONCILING';
}

export interface CommitAuth {
  memberId?: string;
  memberEpoch?: number;
}

/**
 * Why a commit must be refused, or undefined when it may proceed: with a member
 * id, the member must be live, at its current epoch, and own every partition
 * (revoking ones included: a member commits what it processed before it lets
 * go); without one, the group must have no live members.
 */
export function commitProblem(g: GroupState, auth: CommitAuth, partitions: readonly TopicPartitionKey[], now: number): StrandError | undefined {
  if (auth.memberId === undefined) {
    const live = Object.values(g.members).filter((m) => isLive(m, now));
    if (live.length > 0) {
      return new StrandError(
        ErrorCode.GroupNotEmpty,
        `Group '${g.groupId}' has ${live.length} member(s); a commit without 'member_id' is accepted only while it has none.`,
      );
    }
    return undefined;
  }
  const m = g.members[auth.memberId];
  if (!m || !isLive(m, now)) {
    if (m || g.departed[auth.memberId] !== undefined) return fencedMember(auth.memberId, 'it is no longer in the group (it left or its session expired)');
    return unknownMember(auth.memberId, g.groupId);
  }
  if (m.memberEpoch !== auth.memberEpoch) return fencedMember(auth.memberId, `member_epoch ${auth.memberEpoch} is stale; the current epoch is newer`);
  const owned = new Set(m.owned);
  const notOwned = partitions.filter((tp) => !owned.has(tp));
  if (notOwned.length > 0) {
    return new StrandError(
      ErrorCode.PartitionNotOwned,
      `Member '${auth.memberId}' does not own ${notOwned.slice(0, 5).join(', ')}${notOwned.length > 5 ? ', …' : ''}.`,
    );
  }
  return undefined;
}
