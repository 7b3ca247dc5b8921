import fc from 'fast-check';
import { ManualClock } from '../clock';
import { StrandError } from '../errors';
import {
  cloneGroup,
  commitProblem,
  expireMembers,
  emptyGroup,
  groupStateName,
  heartbeat,
  heartbeatIntervalFor,
  isLive,
  membersToNudge,
  noticeConnectionClosed,
  nudgedSessionIntervalsMax,
  sessionTimeoutMsDefault,
  subscribedTopicsOf,
  type GroupState,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from './coordinator';
import { flattenTopicPartitions, groupByTopic, partitionsOf, type TopicPartitionKey } from './topicPartition';

/**
 * A group and its clients, driven the way real clients drive the coordinator:
 * each client remembers its member id, epoch and last assignment; on 40922 it
 * drops its partitions and rejoins with epoch 0 and the same member id.
 */
class Sim {
  group: GroupState;
  readonly clock = new ManualClock();
  readonly counts: Record<string, number>;
  readonly clients = new Map<string, { epoch: number; assignment: TopicPartitionKey[]; topics: string[] }>();
  private seq = 0;
  private readonly ownedAtEpoch = new Map<string, string>();

  constructor(counts: Record<string, number>) {
    this.counts = { ...counts };
    this.group = emptyGroup('g', this.clock.now());
  }

  call(req: HeartbeatRequest): HeartbeatResponse {
    const { group, response } = heartbeat(this.group, req, {
      now: this.clock.now(),
      partitionCounts: this.counts,
      newMemberId: () => `m${++this.seq}`,
    });
    this.group = group;
    this.checkInvariant4();
    return response;
  }

  join(topics: string[], memberId?: string): string {
    const r = this.call({ memberId, memberEpoch: 0, subscribedTopicNames: topics });
    this.clients.set(r.member_id, { epoch: r.member_epoch, assignment: flattenTopicPartitions(r.assignment), topics });
    return r.member_id;
  }

  /** One heartbeat of a client; `lose` drops the response on the way back. */
  beat(id: string, options: { topics?: string[]; lose?: boolean } = {}): void {
    const c = this.clients.get(id)!;
    if (options.topics) c.topics = options.topics;
    try {
      const r = this.call({ memberId: id, memberEpoch: c.epoch, subscribedTopicNames: options.topics });
      if (options.lose) return;
      c.epoch = r.member_epoch;
      c.assignment = flattenTopicPartitions(r.assignment);
    } catch (err) {
      if (!(err instanceof StrandError) || err.code !== 40922) throw err;
      // Fenced: give everything up and rejoin under the same id.
      c.assignment = [];
      const r = this.call({ memberId: id, memberEpoch: 0, subscribedTopicNames: c.topics });
      c.epoch = r.member_epoch;
      c.assignment = flattenTopicPartitions(r.assignment);
    }
  }

  leave(id: string): void {
    this.call({ memberId: id, memberEpoch: -1 });
    this.clients.delete(id);
  }

  /** The client process dies: it sends nothing more; its session runs out. */
  crash(id: string): void {
    this.clients.delete(id);
  }

  owned(id: string): TopicPartitionKey[] {
    return this.group.members[id]?.owned ?? [];
  }

  /**
   * Invariant 4, server side: no partition is in two members' `owned`. Client
   * side: what a live, unfenced client believes it has is a subset of what the
   * server says it owns, so no two such clients consume one partition.
   */
  checkInvariant4(): void {
    const seen = new Map<TopicPartitionKey, string>();
    for (const m of Object.values(this.group.members)) {
      for (const tp of m.owned) {
        const other = seen.get(tp);
        if (other) throw new Error(`${tp} is owned by both ${other} and ${m.memberId}`);
        seen.set(tp, m.memberId);
      }
    }
    // A (member, epoch) pair names one owned set forever: commits rely on it.
    for (const m of Object.values(this.group.members)) {
      const key = `${m.memberId}@${m.memberEpoch}`;
      const owned = [...m.owned].sort().join(',');
      const earlier = this.ownedAtEpoch.get(key);
      if (earlier !== undefined && earlier !== owned) throw new Error(`${key} owned ${earlier}, now ${owned}`);
      this.ownedAtEpoch.set(key, owned);
    }
    const now = this.clock.now();
    for (const [id, c] of this.clients) {
      const m = this.group.members[id];
      if (!m || !isLive(m, now) || m.memberEpoch !== c.epoch) continue;
      for (const tp of c.assignment) if (!m.owned.includes(tp)) throw new Error(`client ${id} consumes ${tp} it does not own`);
    }
  }

  /** What the maintenance schedule does: removes expired members without a request. */
  maintain(): void {
    const g = cloneGroup(this.group);
    expireMembers(g, this.clock.now());
    this.group = g;
    this.checkInvariant4();
  }

  /** Every client heartbeats `rounds` times. */
  settle(rounds = 6): void {
    for (let i = 0; i < rounds; i++) for (const id of [...this.clients.keys()]) this.beat(id);
  }
}

describe('joining and leaving', () => {
  test('three members split six partitions two each, with no overlap at any step', () => {
    const sim = new Sim({ orders: 6 });
    const a = sim.join(['orders']);
    expect(sim.owned(a)).toHaveLength(6);
    const b = sim.join(['orders']);
    const c = sim.join(['orders']);
    sim.settle();
    expect([a, b, c].map((id) => sim.owned(id).length)).toEqual([2, 2, 2]);
    expect(groupStateName(sim.group, sim.clock.now())).toBe('STABLE');
  });

  test('a partition moves only after its previous owner acknowledges the revocation', () => {
    const sim = new Sim({ t: 2 });
    const a = sim.join(['t']);
    expect(sim.owned(a)).toEqual(['t:0', 't:1']);
    const b = sim.join(['t']);
    // b's target holds one partition, but a still owns both: b gets nothing yet.
    expect(sim.owned(b)).toEqual([]);
    sim.beat(b);
    expect(sim.owned(b)).toEqual([]);
    // a hears of the revocation (a new epoch, one partition) ...
    sim.beat(a);
    expect(sim.clients.get(a)!.assignment).toHaveLength(1);
    expect(sim.owned(a)).toHaveLength(2);
    expect(groupStateName(sim.group, sim.clock.now())).toBe('RECONCILING');
    sim.beat(b);
    expect(sim.owned(b)).toEqual([]);
    // ... and acknowledges it with its next heartbeat; then b can take it.
    sim.beat(a);
    expect(sim.owned(a)).toHaveLength(1);
    sim.beat(b);
    expect(sim.owned(b)).toHaveLength(1);
    expect(new Set([...sim.owned(a), ...sim.owned(b)])).toEqual(new Set(['t:0', 't:1']));
  });

  test('owned_partitions that still list a revoked partition do not acknowledge it', () => {
    const sim = new Sim({ t: 2 });
    const a = sim.join(['t']);
    sim.join(['t']);
    const r = sim.call({ memberId: a, memberEpoch: sim.clients.get(a)!.epoch });
    const revoked = sim.group.members[a]!.revoking;
    expect(revoked).toHaveLength(1);
    sim.call({ memberId: a, memberEpoch: r.member_epoch, ownedPartitions: [{ topic_name: 't', partition_ids: [0, 1] }] });
    expect(sim.group.members[a]!.revoking).toEqual(revoked);
    sim.call({ memberId: a, memberEpoch: r.member_epoch, ownedPartitions: [] });
    expect(sim.group.members[a]!.revoking).toEqual([]);
  });

  test('a member that leaves (epoch -1) frees its partitions at once', () => {
    const sim = new Sim({ t: 4 });
    const a = sim.join(['t']);
    const b = sim.join(['t']);
    sim.settle();
    sim.leave(a);
    sim.beat(b);
    expect(sim.owned(b)).toHaveLength(4);
  });

  test('a member whose session expires is removed on the next call and its partitions move', () => {
    const sim = new Sim({ t: 4 });
    const a = sim.join(['t']);
    const b = sim.join(['t']);
    sim.settle();
    sim.crash(a);
    sim.clock.advance(sessionTimeoutMsDefault - 1);
    sim.beat(b);
    expect(sim.group.members[a]).toBeDefined();
    expect(sim.owned(b)).toHaveLength(2);
    sim.clock.advance(sessionTimeoutMsDefault);
    sim.beat(b);
    expect(sim.group.members[a]).toBeUndefined();
    sim.beat(b);
    expect(sim.owned(b)).toHaveLength(4);
  });

  test('a member that rejoins with its member id inside its session keeps its partitions', () => {
    const sim = new Sim({ t: 4 });
    const a = sim.join(['t']);
    const b = sim.join(['t']);
    sim.settle();
    const before = [...sim.owned(a)];
    const oldEpoch = sim.clients.get(a)!.epoch;
    sim.join(['t'], a);
    expect(sim.owned(a)).toEqual(before);
    expect(sim.clients.get(a)!.epoch).toBeGreaterThan(oldEpoch);
    // The previous incarnation is fenced.
    expect(() => sim.call({ memberId: a, memberEpoch: oldEpoch })).toThrow(expect.objectContaining({ code: 40922 }));
    expect(sim.owned(b)).toHaveLength(2);
  });
});

describe('fencing', () => {
  test('a stale epoch is 40922, an unknown member 40924, an expired member 40922', () => {
    const sim = new Sim({ t: 1 });
    const a = sim.join(['t']);
    const epoch = sim.clients.get(a)!.epoch;
    expect(() => sim.call({ memberId: a, memberEpoch: epoch + 100 })).toThrow(expect.objectContaining({ code: 40922 }));
    expect(() => sim.call({ memberId: 'nobody', memberEpoch: 3 })).toThrow(expect.objectContaining({ code: 40924 }));
    sim.clock.advance(sessionTimeoutMsDefault + 1);
    expect(() => sim.call({ memberId: a, memberEpoch: epoch })).toThrow(expect.objectContaining({ code: 40922 }));
  });

  test('a lost revocation response fences the retry instead of acknowledging it', () => {
    const sim = new Sim({ t: 2 });
    const a = sim.join(['t']);
    const b = sim.join(['t']);
    sim.beat(a, { lose: true });
    // The client still believes it has both partitions; its retry carries the old epoch.
    expect(sim.clients.get(a)!.assignment).toHaveLength(2);
    expect(() => sim.call({ memberId: a, memberEpoch: sim.clients.get(a)!.epoch })).toThrow(expect.objectContaining({ code: 40922 }));
    expect(sim.owned(a)).toHaveLength(2);
    sim.beat(a); // rejoins: gives up everything it had been asked to revoke
    sim.settle();
    expect(sim.owned(a)).toHaveLength(1);
    expect(sim.owned(b)).toHaveLength(1);
  });

  test('commits: fenced 40922, not owned 40923, unknown 40924, memberless 40925', () => {
    const sim = new Sim({ t: 2 });
    const a = sim.join(['t']);
    const epoch = sim.clients.get(a)!.epoch;
    const now = sim.clock.now();
    expect(commitProblem(sim.group, { memberId: a, memberEpoch: epoch }, ['t:0', 't:1'], now)).toBeUndefined();
    expect(commitProblem(sim.group, { memberId: a, memberEpoch: epoch - 1 }, ['t:0'], now)?.code).toBe(40922);
    expect(commitProblem(sim.group, { memberId: a, memberEpoch: epoch }, ['t:2'], now)?.code).toBe(40923);
    expect(commitProblem(sim.group, { memberId: 'x', memberEpoch: 1 }, ['t:0'], now)?.code).toBe(40924);
    expect(commitProblem(sim.group, {}, ['t:0'], now)?.code).toBe(40925);
    expect(commitProblem(sim.group, { memberId: a, memberEpoch: epoch }, ['t:0'], now + sessionTimeoutMsDefault)?.code).toBe(40922);
    expect(commitProblem(sim.group, {}, ['t:0'], now + sessionTimeoutMsDefault)).toBeUndefined();
  });
});

describe('subscriptions and metadata', () => {
  test('a subscription change and added partitions are picked up on the next heartbeat', () => {
    const sim = new Sim({ a: 2, b: 2 });
    const m = sim.join(['a']);
    expect(sim.owned(m)).toEqual(['a:0', 'a:1']);
    sim.beat(m, { topics: ['a', 'b'] });
    sim.settle();
    expect(sim.owned(m)).toEqual(['a:0', 'a:1', 'b:0', 'b:1']);
    sim.counts.b = 3;
    sim.beat(m);
    expect(sim.owned(m)).toContain('b:2');
    sim.beat(m, { topics: ['b'] });
    sim.settle();
    expect(sim.owned(m)).toEqual(['b:0', 'b:1', 'b:2']);
  });

  test('a topic that does not exist yet is assigned once it is created', () => {
    const sim = new Sim({});
    const m = sim.join(['later']);
    expect(sim.owned(m)).toEqual([]);
    sim.counts.later = 2;
    sim.beat(m);
    expect(sim.owned(m)).toEqual(['later:0', 'later:1']);
  });

  test('the range assignor is used when members ask for it', () => {
    const sim = new Sim({ t: 3 });
    const r = sim.call({ memberEpoch: 0, subscribedTopicNames: ['t'], assignor: 'range' });
    expect(sim.group.assignor).toBe('range');
    expect(r.assignment).toEqual([{ topic_name: 't', partition_ids: [0, 1, 2] }]);
  });
});

type Event =
  | { kind: 'join'; topics: string[] }
  | { kind: 'beat'; who: number; topics?: string[]; lose: boolean }
  | { kind: 'leave'; who: number }
  | { kind: 'crash'; who: number }
  | { kind: 'rejoin'; who: number }
  | { kind: 'time'; ms: number }
  | { kind: 'grow'; topic: string };

const topicNames = ['x', 'y', 'z'];
const topicsArb = fc.subarray(topicNames, { minLength: 1 });
const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('join' as const), topics: topicsArb }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('beat' as const),
      who: fc.nat(),
      topics: fc.option(topicsArb, { nil: undefined, freq: 5 }),
      lose: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), who: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), who: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rejoin' as const), who: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 1, max: sessionTimeoutMsDefault }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grow' as const), topic: fc.constantFrom(...topicNames) }) },
);

describe('random event sequences (property)', () => {
  test('ownership never overlaps, and once clients keep heartbeating every subscribed partition has exactly its target owner', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 60 }), (events) => {
        const sim = new Sim({ x: 3, y: 1, z: 0 });
        const pick = (n: number) => {
          const ids = [...sim.clients.keys()];
          return ids.length === 0 ? undefined : ids[n % ids.length];
        };
        for (const e of events) {
          if (e.kind === 'join') sim.join(e.topics);
          else if (e.kind === 'time') sim.clock.advance(e.ms);
          else if (e.kind === 'grow') sim.counts[e.topic] = (sim.counts[e.topic] ?? 0) + 1;
          else {
            const id = pick(e.who);
            if (!id) continue;
            if (e.kind === 'beat') sim.beat(id, { topics: e.topics, lose: e.lose });
            else if (e.kind === 'leave') sim.leave(id);
            else if (e.kind === 'crash') sim.crash(id);
            else sim.join(sim.clients.get(id)!.topics, id);
          }
          sim.checkInvariant4();
        }
        // Converge: crashed members time out, live clients keep heartbeating.
        sim.clock.advance(sessionTimeoutMsDefault + 1);
        sim.settle(8);
        sim.maintain();
        const now = sim.clock.now();
        expect(Object.keys(sim.group.members).sort()).toEqual([...sim.clients.keys()].sort());
        const expected = partitionsOf(subscribedTopicsOf(sim.group), sim.counts).sort();
        const owned = Object.values(sim.group.members).flatMap((m) => m.owned).sort();
        expect(owned).toEqual(expected);
        for (const m of Object.values(sim.group.members)) {
          expect(m.revoking).toEqual([]);
          expect([...m.owned].sort()).toEqual([...(sim.group.target[m.memberId] ?? [])].sort());
          expect(sim.clients.get(m.memberId)!.assignment.sort()).toEqual([...m.owned].sort());
        }
        expect(groupStateName(sim.group, now)).toBe(sim.clients.size === 0 ? 'EMPTY' : 'STABLE');
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * Nudges (members listening on a notice socket, src/notify/): a member whose
 * heartbeat changes what another member must do gets that member told to
 * heartbeat now, so listening members may heartbeat rarely. Driven here with
 * no periodic heartbeats at all: only joins, leaves and the nudges they cause.
 */
describe('nudges', () => {
  class NudgedGroup {
    group: GroupState;
    readonly clock = new ManualClock();
    readonly epochs = new Map<string, number>();
    readonly assignments = new Map<string, TopicPartitionKey[]>();
    heartbeats = 0;
    private seq = 0;
    constructor(readonly counts: Record<string, number>) {
      this.group = emptyGroup('g', this.clock.now());
    }
    /** One heartbeat; returns whom it nudged. */
    call(req: HeartbeatRequest): string[] {
      const before = this.group;
      const { group, response } = heartbeat(before, { ...req, noticeConnectionId: req.memberEpoch === -1 ? undefined : `conn-${req.memberId ?? 'new'}` }, {
        now: this.clock.now(),
        partitionCounts: this.counts,
        newMemberId: () => `m${++this.seq}`,
      });
      this.heartbeats++;
      this.group = group;
      if (req.memberEpoch !== -1) {
        this.epochs.set(response.member_id, response.member_epoch);
        this.assignments.set(response.member_id, flattenTopicPartitions(response.assignment));
      }
      return membersToNudge(before, group, response.member_id).map((n) => n.memberId);
    }
    /** Heartbeats of nudged members until nobody is nudged (bounded: a loop fails the test). */
    drain(queue: string[]): void {
      for (let steps = 0; queue.length > 0; steps++) {
        if (steps > 1_000) throw new Error('nudges did not settle');
        const id = queue.shift()!;
        if (!this.group.members[id]) continue;
        const owned = this.assignments.get(id) ?? [];
        for (const next of this.call({ memberId: id, memberEpoch: this.epochs.get(id)!, ownedPartitions: groupByTopic(owned) })) if (!queue.includes(next)) queue.push(next);
        // As the SDK does: after giving partitions up, heartbeat again at once to acknowledge it.
        const now = this.assignments.get(id) ?? [];
        if (owned.some((tp) => !now.includes(tp)) && !queue.includes(id)) queue.push(id);
      }
    }
    join(): string {
      const queue: string[] = [];
      const nudged = this.call({ memberEpoch: 0, subscribedTopicNames: Object.keys(this.counts) });
      const id = `m${this.seq}`;
      // The joiner heartbeats again at once if it got nothing yet (its own work is pending).
      queue.push(...nudged, id);
      this.drain(queue);
      return id;
    }
    leave(id: string): void {
      const nudged = this.call({ memberId: id, memberEpoch: -1 });
      this.epochs.delete(id);
      this.assignments.delete(id);
      this.drain(nudged);
    }
    /** Every member has exactly its target and nothing pending; the targets cover every partition once. */
    expectSettled(): void {
      const all: TopicPartitionKey[] = [];
      for (const m of Object.values(this.group.members)) {
        expect(m.revoking).toEqual([]);
        expect([...m.owned].sort()).toEqual([...(this.group.target[m.memberId] ?? [])].sort());
        expect([...(this.assignments.get(m.memberId) ?? [])].sort()).toEqual([...m.owned].sort());
        all.push(...m.owned);
      }
      const partitions = Object.entries(this.counts).flatMap(([t, n]) => Array.from({ length: n }, (_, p) => `${t}:${p}`));
      if (Object.keys(this.group.members).length > 0) expect(all.sort()).toEqual([...partitions].sort());
    }
  }
  test('a member that listens for nudges is told to heartbeat less often: 40% of its session, at most 20 s', () => {
    expect(heartbeatIntervalFor(45_000, true)).toBe(18_000);
    expect(heartbeatIntervalFor(90_000, true)).toBe(20_000);
    expect(heartbeatIntervalFor(45_000, false)).toBe(5_000);
    const g = new NudgedGroup({ t: 4 });
    g.join();
    const { response } = heartbeat(g.group, { memberId: 'm1', memberEpoch: g.epochs.get('m1')!, noticeConnectionId: 'conn-m1' }, { now: g.clock.now(), partitionCounts: g.counts });
    expect(response.heartbeat_interval_ms).toBe(18_000);
  });

  test('a join nudges the members that must give partitions up, and the joiner gets them without any periodic heartbeat', () => {
    const g = new NudgedGroup({ t: 6 });
    const a = g.join();
    g.expectSettled();
    expect(g.assignments.get(a)).toHaveLength(6);
    const b = g.join();
    g.expectSettled();
    expect(g.assignments.get(a)).toHaveLength(3);
    expect(g.assignments.get(b)).toHaveLength(3);
  });

  test('a listening member never expires less than its session after its last heartbeat, nor more than k intervals later; one heartbeat in k + 1 writes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 18_000 }), { minLength: 1, maxLength: 40 }), (gaps) => {
        const clock = new ManualClock();
        let g = emptyGroup('g', clock.now());
        const join = heartbeat(g, { memberEpoch: 0, subscribedTopicNames: ['t'], noticeConnectionId: 'c' }, { now: clock.now(), partitionCounts: { t: 2 }, newMemberId: () => 'm' });
        g = join.group;
        let writes = 0;
        for (const gap of gaps) {
          clock.advance(gap);
          const before = g.members.m!.expiresAt;
          g = heartbeat(g, { memberId: 'm', memberEpoch: g.members.m!.memberEpoch }, { now: clock.now(), partitionCounts: { t: 2 } }).group;
          const left = g.members.m!.expiresAt - clock.now();
          expect(left).toBeGreaterThanOrEqual(45_000);
          expect(left).toBeLessThanOrEqual(45_000 + nudgedSessionIntervalsMax * 18_000);
          if (g.members.m!.expiresAt !== before) writes++;
        }
        // At the full interval, a write every k + 1 heartbeats.
        if (gaps.every((x) => x === 18_000)) expect(writes).toBeLessThanOrEqual(Math.ceil(gaps.length / (nudgedSessionIntervalsMax + 1)));
      }),
    );
  });

  test("a listening member's socket closing brings its session back to one timeout from then, and stops its nudges", () => {
    const g = new NudgedGroup({ t: 2 });
    const a = g.join();
    const before = g.group.members[a]!;
    expect(before.expiresAt - g.clock.now()).toBeGreaterThan(45_000);
    const state = cloneGroup(g.group);
    expect(noticeConnectionClosed(state, a, 'other-connection', g.clock.now())).toBe(false);
    expect(noticeConnectionClosed(state, a, `conn-${a}`, g.clock.now())).toBe(true);
    expect(state.members[a]!.expiresAt).toBe(g.clock.now() + 45_000);
    expect(state.members[a]!.noticeConnectionId).toBeUndefined();
    expect(expireMembers(state, g.clock.now() + 45_001)).toEqual([a]);
  });

  test('a heartbeat that only keeps a session alive nudges nobody', () => {
    const g = new NudgedGroup({ t: 4 });
    const a = g.join();
    g.join();
    g.clock.advance(1_000);
    expect(g.call({ memberId: a, memberEpoch: g.epochs.get(a)!, ownedPartitions: groupByTopic(g.assignments.get(a)!) })).toEqual([]);
  });

  test('a member that does not listen is never nudged', () => {
    const g = new NudgedGroup({ t: 4 });
    const a = g.join();
    const before = g.group;
    const { group } = heartbeat(before, { memberEpoch: 0, subscribedTopicNames: ['t'] }, { now: g.clock.now(), partitionCounts: g.counts, newMemberId: () => 'quiet' });
    expect(membersToNudge(before, group, 'quiet').map((n) => n.memberId)).toEqual([a]);
    const { group: later } = heartbeat(group, { memberId: a, memberEpoch: g.epochs.get(a)!, ownedPartitions: [], noticeConnectionId: '' }, { now: g.clock.now(), partitionCounts: g.counts });
    expect(later.members[a]!.noticeConnectionId).toBeUndefined();
    expect(membersToNudge(group, later, a).map((n) => n.memberId)).toEqual([]);
  });

  test('any sequence of joins and leaves settles through nudges alone, without a nudge loop (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.oneof(fc.constant('join' as const), fc.nat({ max: 20 })), { minLength: 1, maxLength: 12 }), (partitions, ops) => {
        const g = new NudgedGroup({ t: partitions, u: 2 });
        const live: string[] = [];
        for (const op of ops) {
          if (op === 'join') live.push(g.join());
          else if (live.length > 0) g.leave(live.splice(op % live.length, 1)[0]!);
          g.expectSettled();
        }
      }),
      { numRuns: 150 },
    );
  });
});
