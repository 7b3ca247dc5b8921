/**
 * Consumer groups in DynamoDB: one item per group holding the coordinator state
 * (members, epochs, target assignment) *and* the committed offsets.
 *
 * Why one item. Invariant 5 says a commit from a fenced member, or for a
 * partition it does not own, never changes a committed offset. Ownership lives in
 * the group state; with DynamoDB's single-item conditions only (no transactions,
 * design.md), a check in one item cannot guard a write to another. Walk through
 * offsets kept in separate items: member A reads the group (owns p at epoch 7) →
 * A acknowledges the revocation of p → B gets p and commits 120 → A's commit of
 * 100, checked a moment ago, lands and moves p's offset back. With the offsets in
 * the group item, A's write carries the condition "A is still at epoch 7 and its
 * session has not expired", evaluated atomically with the write, and fails.
 *
 * Why the condition is that short. The coordinator gives a member a new epoch
 * whenever its owned partitions change (src/groups/coordinator.ts), so (member,
 * epoch) names one fixed owned set; the ownership check is done on the state read
 * before the write, and the epoch condition proves that state still holds.
 *
 * Writes:
 * - coordinator changes (heartbeats, expiry): read the item, apply the pure
 *   coordinator, write every state attribute back with `version = :v`; on a
 *   failed condition read again and re-apply (bounded, jittered). Offsets are
 *   never part of these writes, so commits and heartbeats do not conflict.
 * - member commits: `SET offsets.<tp> = …` conditioned on the member's epoch and
 *   expiry; standalone commits conditioned on `memberCount = 0`. Each commit
 *   also bumps `offsetsSeq`, which guards the read-modify-write of a reset.
 * - reset and delete: conditioned on `memberCount = 0` (after removing expired
 *   members), and for a reset on `offsetsSeq` too.
 *
 * Cost: a DynamoDB write is billed on the whole item, so a group with offsets for
 * thousands of partitions makes its heartbeats dearer; the item is also capped at
 * 400 KB, hence the bounds on members, metadata and committed partitions.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock';
import { ErrorCode, StrandError, StorageUnavailableError, invalidValue } from '../errors';
import { conditionally } from '../storage/storageErrors';
import { commitProblem, emptyGroup, expireMembers, type CommitAuth, type GroupState } from './coordinator';
import type { TopicPartitionKey } from './topicPartition';

export interface CommittedOffset {
  offset: number;
  metadata: string;
  committedAt: number;
}

export interface StoredGroup {
  state: GroupState;
  version: number;
  memberCount: number;
  offsets: Record<TopicPartitionKey, CommittedOffset>;
  offsetsSeq: number;
}

/** What an update writes: a new state (or nothing), and optionally the hint that only one session expiry changed. */
export interface GroupChange<T> {
  state?: GroupState;
  result: T;
  sessionOnly?: SessionExtension;
}

export interface SessionExtension {
  memberId: string;
  memberEpoch: number;
  expiresAt: number;
}

export interface OffsetCommit {
  tp: TopicPartitionKey;
  offset: number;
  metadata: string;
}

/** Attempts of a version-conditioned update before giving up with a retriable 503. */
export const updateAttemptsMax = 40;
const backoffMsBase = 5;
const backoffMsMax = 200;
/** Partitions one commit request may carry (DynamoDB caps an expression at 4 KB). */
export const commitPartitionsMax = 100;
/** Committed partitions per group (the group is one item of at most 400 KB). */
export const committedPartitionsMax = 2_000;
/** Kafka's offset.metadata.max.bytes is 4096; ours is smaller to keep the group item small. */
export const commitMetadataCharsMax = 1_024;
/** Groups one list call returns. */
const groupsListedMax = 10_000;

const stateAttributes = [
  'groupEpoch',
  'assignmentEpoch',
  'epochSeq',
  'assignor',
  'members',
  'target',
  'partitionCounts',
  'departed',
  'createdAt',
] as const;

function toStored(item: Record<string, unknown>): StoredGroup {
  const state = { groupId: String(item.pk) } as Record<string, unknown>;
  for (const a of stateAttributes) state[a] = item[a];
  return {
    state: state as unknown as GroupState,
    version: Number(item.version),
    memberCount: Number(item.memberCount ?? 0),
    offsets: (item.offsets as Record<string, CommittedOffset> | undefined) ?? {},
    offsetsSeq: Number(item.offsetsSeq ?? 0),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(backoffMsMax, backoffMsBase * 2 ** Math.min(attempt, 6));
  return sleep(Math.random() * cap);
}

function contention(what: string): StorageUnavailableError {
  return new StorageUnavailableError(`${what} kept conflicting with concurrent updates of the group; the request is safe to retry.`);
}

export class GroupStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  async load(groupId: string): Promise<StoredGroup | undefined> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: groupId }, ConsistentRead: true }));
    return out.Item ? toStored(out.Item) : undefined;
  }

  async list(): Promise<StoredGroup[]> {
    const groups: StoredGroup[] = [];
    let lastKey: Record<string, unknown> | undefined;
    do {
      const out = await this.ddb.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: lastKey, ConsistentRead: true }));
      for (const item of out.Items ?? []) groups.push(toStored(item));
      lastKey = out.LastEvaluatedKey;
    } while (lastKey && groups.length < groupsListedMax);
    return groups.sort((a, b) => (a.state.groupId < b.state.groupId ? -1 : 1));
  }

  /**
   * Applies `change` to the group's current state and writes it back if the item
   * did not change in between (`version`), else tries again on a fresh read.
   * `change` returns `undefined` state to write nothing. A missing group starts
   * empty when `create` is set, else `change` sees `undefined`.
   */
  async update<T>(
    groupId: string,
    change: (state: GroupState | undefined, now: number) => Promise<GroupChange<T>> | GroupChange<T>,
    options: { create: boolean },
  ): Promise<T> {
    for (let attempt = 0; attempt < updateAttemptsMax; attempt++) {
      const stored = await this.load(groupId);
      const now = this.clock.now();
      const current = stored?.state ?? (options.create ? emptyGroup(groupId, now) : undefined);
      const { state, result, sessionOnly } = await change(current, now);
      if (!state) return result;
      const written = sessionOnly && stored ? await this.extendSession(groupId, sessionOnly) : await this.write(state, stored?.version, now);
      if (written) return result;
      await backoff(attempt);
    }
    throw contention(`Updating group '${groupId}'`);
  }

  /**
   * The common heartbeat of a stable group changes only the member's session
   * expiry. Writing just that, conditioned on the member's epoch (which pins its
   * owned partitions), lets such heartbeats of many members proceed without
   * conflicting on the group version. If anything else changed the group since
   * the read, the response computed from the read is still one the coordinator
   * could have given an instant earlier; if the member itself changed (fenced,
   * removed, new epoch), the condition fails and the heartbeat runs again.
   * Extensions still bump the version (without checking it), so they never
   * conflict with each other but a concurrent full write re-reads them.
   */
  private async extendSession(groupId: string, s: SessionExtension): Promise<boolean> {
    return conditionally(
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: groupId },
          // ADD version: a full write that read the group before this extension
          // must fail its version condition rather than put the old expiry back.
          UpdateExpression: 'SET #m.#mid.#exp = :exp ADD #version :one',
          ConditionExpression: '#m.#mid.#ep = :ep AND #m.#mid.#exp < :exp',
          ExpressionAttributeNames: { '#m': 'members', '#mid': s.memberId, '#ep': 'memberEpoch', '#exp': 'expiresAt', '#version': 'version' },
          ExpressionAttributeValues: { ':ep': s.memberEpoch, ':exp': s.expiresAt, ':one': 1 },
        }),
      ),
    );
  }

  private async write(state: GroupState, version: number | undefined, now: number): Promise<boolean> {
    const names: Record<string, string> = { '#offsets': 'offsets' };
    const values: Record<string, unknown> = {
      ':next': (version ?? 0) + 1,
      ':count': Object.keys(state.members).length,
      ':now': now,
      ':empty': {},
    };
    const sets = ['version = :next', 'memberCount = :count', 'updatedAt = :now', '#offsets = if_not_exists(#offsets, :empty)'];
    for (const a of stateAttributes) {
      names[`#${a}`] = a;
      values[`:${a}`] = state[a];
      sets.push(`#${a} = :${a}`);
    }
    if (version !== undefined) values[':v'] = version;
    return conditionally(
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: state.groupId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: version === undefined ? 'attribute_not_exists(pk)' : 'version = :v',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /** Removes expired members (the maintenance pass, and before operations that need an empty group). */
  async expire(groupId: string): Promise<string[]> {
    return this.update(
      groupId,
      (state, now) => {
        if (!state) return { result: [] as string[] };
        const expired = expireMembers(state, now);
        return expired.length > 0 ? { state, result: expired } : { result: expired };
      },
      { create: false },
    );
  }

  /**
   * Commits offsets. With a member id: only while that member is live, at that
   * epoch, and owns every partition (40922/40923/40924). Without: only while the
   * group has no live members (40925). A refused commit writes nothing.
   */
  async commit(groupId: string, auth: CommitAuth, commits: readonly OffsetCommit[]): Promise<void> {
    if (commits.length === 0) return;
    if (commits.length > commitPartitionsMax) throw invalidValue(`A commit may carry at most ${commitPartitionsMax} partitions, not ${commits.length}.`);
    for (const c of commits) {
      if (c.metadata.length > commitMetadataCharsMax) throw invalidValue(`Offset metadata may be at most ${commitMetadataCharsMax} characters.`);
    }
    const tps = commits.map((c) => c.tp);
    for (let attempt = 0; attempt < updateAttemptsMax; attempt++) {
      const stored = await this.load(groupId);
      const now = this.clock.now();
      const state = stored?.state ?? emptyGroup(groupId, now);
      const problem = commitProblem(state, auth, tps, now);
      if (problem) throw problem;
      if (stored) {
        const known = new Set(Object.keys(stored.offsets));
        const added = new Set(tps.filter((tp) => !known.has(tp))).size;
        if (known.size + added > committedPartitionsMax) {
          throw invalidValue(`Group '${groupId}' would have offsets for more than ${committedPartitionsMax} partitions.`);
        }
      }
      if (!stored) {
        await this.createEmpty(groupId, now);
        continue;
      }
      if (auth.memberId === undefined && stored.memberCount > 0) {
        // Only expired members remain (commitProblem passed): remove them first.
        await this.expire(groupId);
        continue;
      }
      if (await this.writeOffsets(groupId, auth, commits, now)) return;
      await backoff(attempt);
    }
    throw contention(`Committing offsets of group '${groupId}'`);
  }

  private async createEmpty(groupId: string, now: number): Promise<void> {
    const state = emptyGroup(groupId, now);
    // A failed condition means another request created it first: just as good.
    await conditionally(
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: groupId, version: 1, memberCount: 0, updatedAt: now, offsets: {}, offsetsSeq: 0, ...withoutId(state) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  private async writeOffsets(groupId: string, auth: CommitAuth, commits: readonly OffsetCommit[], now: number): Promise<boolean> {
    const names: Record<string, string> = { '#o': 'offsets', '#seq': 'offsetsSeq' };
    const values: Record<string, unknown> = { ':one': 1 };
    const sets = commits.map((c, i) => {
      names[`#k${i}`] = c.tp;
      values[`:v${i}`] = { offset: c.offset, metadata: c.metadata, committedAt: now } satisfies CommittedOffset;
      return `#o.#k${i} = :v${i}`;
    });
    let condition: string;
    if (auth.memberId === undefined) {
      condition = 'memberCount = :zero';
      values[':zero'] = 0;
    } else {
      // The epoch pins the owned set checked above; the expiry keeps a member
      // whose session ran out (but was not yet removed) from committing.
      condition = '#m.#mid.#ep = :ep AND #m.#mid.#exp > :now';
      Object.assign(names, { '#m': 'members', '#mid': auth.memberId, '#ep': 'memberEpoch', '#exp': 'expiresAt' });
      Object.assign(values, { ':ep': auth.memberEpoch, ':now': now });
    }
    return conditionally(
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: groupId },
          UpdateExpression: `SET ${sets.join(', ')} ADD #seq :one`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /**
   * Replaces committed offsets while the group has no members: `change` maps the
   * current offsets to the new ones. Guarded by `offsetsSeq` so a concurrent
   * standalone commit is never lost, and by `memberCount` so no member joined.
   */
  async replaceOffsets(
    groupId: string,
    change: (offsets: Record<TopicPartitionKey, CommittedOffset>, now: number) => Promise<Record<TopicPartitionKey, CommittedOffset>>,
  ): Promise<Record<TopicPartitionKey, CommittedOffset>> {
    for (let attempt = 0; attempt < updateAttemptsMax; attempt++) {
      const stored = await this.requireEmpty(groupId);
      const now = this.clock.now();
      const next = await change(stored.offsets, now);
      const written = await conditionally(
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: groupId },
            UpdateExpression: 'SET #o = :o ADD #seq :one',
            ConditionExpression: 'memberCount = :zero AND (#seq = :seq OR attribute_not_exists(#seq))',
            ExpressionAttributeNames: { '#o': 'offsets', '#seq': 'offsetsSeq' },
            ExpressionAttributeValues: { ':o': next, ':one': 1, ':zero': 0, ':seq': stored.offsetsSeq },
          }),
        ),
      );
      if (written) return next;
      await backoff(attempt);
    }
    throw contention(`Resetting offsets of group '${groupId}'`);
  }

  /** Deletes the group and its offsets while it has no members (40925 otherwise, 40404 if unknown). */
  async delete(groupId: string): Promise<void> {
    for (let attempt = 0; attempt < updateAttemptsMax; attempt++) {
      await this.requireEmpty(groupId);
      const deleted = await conditionally(
        this.ddb.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { pk: groupId },
            ConditionExpression: 'memberCount = :zero',
            ExpressionAttributeValues: { ':zero': 0 },
          }),
        ),
      );
      if (deleted) return;
      await backoff(attempt);
    }
    throw contention(`Deleting group '${groupId}'`);
  }

  /** The group, after removing expired members; 40404 if unknown, 40925 if live members remain. */
  private async requireEmpty(groupId: string): Promise<StoredGroup> {
    let stored = await this.load(groupId);
    if (!stored) throw unknownGroup(groupId);
    if (stored.memberCount > 0) {
      await this.expire(groupId);
      stored = await this.load(groupId);
      if (!stored) throw unknownGroup(groupId);
      if (stored.memberCount > 0) {
        throw new StrandError(ErrorCode.GroupNotEmpty, `Group '${groupId}' has ${stored.memberCount} live member(s); it must be empty for this. Each member leaves with a heartbeat of member_epoch -1 (POST …/consumer-groups/${groupId}/heartbeat {"member_id": "…", "member_epoch": -1}; a stopped SDK or CLI consumer sends it itself), or is removed once its session times out; GET …/consumer-groups/${groupId}/consumers lists them.`);
      }
    }
    return stored;
  }
}

export const unknownGroup = (groupId: string) => new StrandError(ErrorCode.UnknownGroup, `Consumer group '${groupId}' not found.`);

function withoutId(state: GroupState): Omit<GroupState, 'groupId'> {
  const { groupId: _id, ...rest } = state;
  return rest;
}
