/**
 * Server-side assignors, after KIP-848's `uniform` and `range`. Pure functions of
 * the members' subscriptions, the topics' partition counts and (for `uniform`) the
 * previous target assignment. Each returns a target in which every partition of a
 * subscribed, existing topic goes to exactly one member subscribed to that topic.
 *
 * The target is only where partitions should end up; the coordinator moves a
 * partition to its target owner only once nobody else owns it (invariant 4).
 */
import { partitionsOf, sortTps, parseTpKey, type TopicPartitionKey } from './topicPartition';

export const assignorNames = ['uniform', 'range'] as const;
export type AssignorName = (typeof assignorNames)[number];
export const defaultAssignor: AssignorName = 'uniform';

export interface AssignorMember {
  memberId: string;
  subscribedTopics: readonly string[];
}

export type TargetAssignment = Record<string, TopicPartitionKey[]>;

export interface AssignorInput {
  members: readonly AssignorMember[];
  /** Partition counts of existing topics; a subscribed topic missing here has no partitions yet. */
  partitionCounts: Readonly<Record<string, number>>;
  /** The previous target, for stickiness. */
  previous?: Readonly<TargetAssignment>;
}

export function assign(name: AssignorName, input: AssignorInput): TargetAssignment {
  return name === 'range' ? rangeAssign(input) : uniformAssign(input);
}

/**
 * `range`: per topic, the subscribed members in member-id order take contiguous
 * ranges of partitions; the first `partitions % members` take one more. Members
 * subscribed to the same co-partitioned topics get the same partition numbers.
 */
export function rangeAssign({ members, partitionCounts }: AssignorInput): TargetAssignment {
  const target: TargetAssignment = {};
  for (const m of members) target[m.memberId] = [];
  const topics = [...new Set(members.flatMap((m) => m.subscribedTopics))].sort();
  for (const topic of topics) {
    const count = partitionCounts[topic] ?? 0;
    const subscribers = members.filter((m) => m.subscribedTopics.includes(topic)).map((m) => m.memberId).sort();
    if (count === 0 || subscribers.length === 0) continue;
    const base = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    let next = 0;
    subscribers.forEach((memberId, i) => {
      const n = base + (i < extra ? 1 : 0);
      for (let k = 0; k < n; k++) target[memberId]!.push(`${topic}:${next++}`);
    });
  }
  return target;
}

/** Bound on the balancing passes of `uniform`: each pass moves one partition. */
const balanceMovesMax = 100_000;

/**
 * `uniform`: spreads partitions as evenly as the subscriptions allow and keeps
 * each partition where it was when that does not unbalance the group, so a
 * membership change moves as few partitions as possible.
 *
 * 1. Sticky pass: a member keeps previous partitions it is still subscribed to,
 *    up to its fair share (ceil of its eligible partitions over the members that
 *    share them, never above the group-wide ceil).
 * 2. The rest go, most constrained first, to the eligible member with the fewest.
 * 3. Balancing: while a member has two more than another member eligible for one
 *    of its partitions, one partition moves.
 * With identical subscriptions this ends with counts differing by at most one.
 */
export function uniformAssign({ members, partitionCounts, previous = {} }: AssignorInput): TargetAssignment {
  const ids = members.map((m) => m.memberId).sort();
  const subs = new Map(members.map((m) => [m.memberId, new Set(m.subscribedTopics)]));
  const all = sortTps(partitionsOf(members.flatMap((m) => m.subscribedTopics), partitionCounts));
  const eligible = new Map<TopicPartitionKey, string[]>();
  for (const tp of all) {
    const topic = parseTpKey(tp).topic;
    eligible.set(tp, ids.filter((id) => subs.get(id)!.has(topic)));
  }
  const owned = new Map<string, Set<TopicPartitionKey>>(ids.map((id) => [id, new Set()]));
  const ownerOf = new Map<TopicPartitionKey, string>();
  const give = (tp: TopicPartitionKey, id: string) => {
    owned.get(id)!.add(tp);
    ownerOf.set(tp, id);
  };

  const globalCeil = ids.length === 0 ? 0 : Math.ceil(all.length / ids.length);
  for (const id of ids) {
    const mine = all.filter((tp) => eligible.get(tp)!.includes(id));
    const sharers = new Set(mine.flatMap((tp) => eligible.get(tp)!));
    const quota = Math.min(globalCeil, Math.ceil(mine.length / Math.max(1, sharers.size)));
    const keep = sortTps(previous[id] ?? []).filter((tp) => eligible.get(tp)?.includes(id) && !ownerOf.has(tp));
    for (const tp of keep.slice(0, quota)) give(tp, id);
  }

  const unassigned = all.filter((tp) => !ownerOf.has(tp));
  unassigned.sort((a, b) => eligible.get(a)!.length - eligible.get(b)!.length);
  for (const tp of unassigned) {
    const candidates = eligible.get(tp)!;
    if (candidates.length === 0) continue;
    let best = candidates[0]!;
    for (const id of candidates) if (owned.get(id)!.size < owned.get(best)!.size) best = id;
    give(tp, best);
  }

  for (let moves = 0; moves < balanceMovesMax; moves++) {
    let moved = false;
    const bySize = [...ids].sort((a, b) => owned.get(b)!.size - owned.get(a)!.size || (a < b ? -1 : 1));
    outer: for (const from of bySize) {
      for (const tp of sortTps(owned.get(from)!)) {
        for (const to of eligible.get(tp)!) {
          if (owned.get(to)!.size + 1 < owned.get(from)!.size) {
            owned.get(from)!.delete(tp);
            give(tp, to);
            moved = true;
            break outer;
          }
        }
      }
    }
    if (!moved) break;
  }

  const target: TargetAssignment = {};
  for (const id of ids) target[id] = sortTps(owned.get(id)!);
  return target;
}
