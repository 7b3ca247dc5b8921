/**
 * Consumer group coordination and committed offsets over HTTP, against a real
 * local Strand with a ManualClock (session timeouts move only when the test says).
 */
import { ManualClock } from '../../src/clock';
import { groupsOf } from '../../src/groups/GroupService';
import { createTopic, startTestStrand, type TestStrand } from '../support/localStrand';
import { assertDisjoint, GroupClient, groupPath } from './support';

const clock = new ManualClock();
let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand({ clock });
  await createTopic(strand.http, 'orders', 6);
  await createTopic(strand.http, 'fenced', 2);
  await createTopic(strand.http, 'busy', 4);
});
afterAll(() => strand.dispose());

describe('heartbeats', () => {
  test('three members split six partitions with no overlap at any moment, and rebalance when one leaves or dies', async () => {
    const clients = [0, 1, 2].map(() => new GroupClient(strand.http, 'g-three', ['orders']));
    for (const c of clients) {
      await c.join();
      assertDisjoint(clients);
    }
    for (let round = 0; round < 4; round++) {
      for (const c of clients) {
        await c.beat();
        assertDisjoint(clients);
      }
    }
    expect(clients.map((c) => c.member!.assignment.length)).toEqual([2, 2, 2]);

    await clients[0]!.leave();
    const rest = clients.slice(1);
    for (let round = 0; round < 3; round++) for (const c of rest) (await c.beat(), assertDisjoint(rest));
    expect(rest.map((c) => c.member!.assignment.length)).toEqual([3, 3]);

    // One dies (its process stops: it holds nothing any more); the survivor
    // heartbeats past the dead one's session and takes everything.
    const survivor = rest[0]!;
    rest[1]!.member = undefined;
    for (let i = 0; i < 10; i++) {
      clock.advance(5_000);
      await survivor.beat();
      assertDisjoint(rest);
    }
    expect(survivor.member!.assignment).toHaveLength(6);
  });

  test('bad requests are refused with the contract codes', async () => {
    const post = (body: unknown) => strand.http.post(`${groupPath('g-bad')}/heartbeat`, body);
    expect((await post({})).json.error_code).toBe(40001);
    expect((await post({ member_epoch: 'x' })).json.error_code).toBe(40002);
    expect((await post({ member_epoch: 0 })).json.error_code).toBe(40001);
    expect((await post({ member_epoch: 0, subscribed_topic_names: ['orders'], session_timeout_ms: 5 })).json.error_code).toBe(40002);
    expect((await post({ member_epoch: 0, subscribed_topic_names: ['orders'], assignor: 'sticky' })).json.error_code).toBe(40002);
    const unknown = await post({ member_id: 'nobody', member_epoch: 4 });
    expect([unknown.status, unknown.json.error_code]).toEqual([409, 40924]);
    expect((await strand.http.post('/v3/clusters/other/consumer-groups/g/heartbeat', { member_epoch: 0 })).json.error_code).toBe(40401);
  });

  test('20 concurrent joins and then 20 concurrent heartbeats of one group lose no update', async () => {
    const clients = Array.from({ length: 20 }, () => new GroupClient(strand.http, 'g-busy', ['busy']));
    await Promise.all(clients.map((c) => c.join()));
    const stored = await groupsOf(strand.runtime).store.load('g-busy');
    expect(Object.keys(stored!.state.members).sort()).toEqual(clients.map((c) => c.member!.id).sort());
    clock.advance(1_000);
    await Promise.all(clients.map((c) => c.beat()));
    const after = await groupsOf(strand.runtime).store.load('g-busy');
    // Every heartbeat's update (its epoch, its extended session) is in the item: none was overwritten by another.
    for (const c of clients) {
      expect(after!.state.members[c.member!.id]!.memberEpoch).toBe(c.member!.epoch);
      expect(after!.state.members[c.member!.id]!.expiresAt).toBe(clock.now() + 45_000);
    }
    for (let round = 0; round < 3; round++) await Promise.all(clients.map((c) => c.beat()));
    assertDisjoint(clients);
    expect(clients.flatMap((c) => c.member!.assignment).sort()).toEqual(['busy:0', 'busy:1', 'busy:2', 'busy:3']);
  });
});

describe('committed offsets', () => {
  const offsetsOf = async (group: string) => (await strand.http.get(`${groupPath(group)}/offsets`)).json.offsets;

  test('a member commits and fetches its offsets with metadata', async () => {
    const c = new GroupClient(strand.http, 'g-commit', ['orders']);
    await c.join();
    const res = await c.commit([{ topic_name: 'orders', partition_id: 3, offset: 17, metadata: 'm' }]);
    expect(res.status).toBe(200);
    expect(await offsetsOf('g-commit')).toEqual([{ topic_name: 'orders', partition_id: 3, offset: 17, metadata: 'm' }]);
    expect((await strand.http.get(`${groupPath('never-seen')}/offsets`)).json.offsets).toEqual([]);
  });

  test('a zombie commit is rejected and the committed offset is unchanged', async () => {
    const a = new GroupClient(strand.http, 'g-zombie', ['fenced']);
    await a.join();
    expect((await a.commit([{ topic_name: 'fenced', partition_id: 0, offset: 5 }])).status).toBe(200);
    const zombie = { member_id: a.member!.id, member_epoch: a.member!.epoch };

    // a stalls past its session; b joins, and gets everything once a is removed.
    clock.advance(60_000);
    const b = new GroupClient(strand.http, 'g-zombie', ['fenced']);
    await b.join();
    expect(b.member!.assignment).toEqual(['fenced:0', 'fenced:1']);
    expect((await b.commit([{ topic_name: 'fenced', partition_id: 0, offset: 9 }])).status).toBe(200);

    const res = await a.commit([{ topic_name: 'fenced', partition_id: 0, offset: 6 }], zombie);
    expect([res.status, res.json.error_code]).toEqual([409, 40922]);
    // A partition the member does not own: 40923. An unknown member: 40924.
    const notOwned = await b.commit([{ topic_name: 'orders', partition_id: 0, offset: 1 }]);
    expect(notOwned.json.error_code).toBe(40923);
    const unknown = await b.commit([{ topic_name: 'fenced', partition_id: 0, offset: 1 }], { member_id: 'ghost', member_epoch: 1 });
    expect(unknown.json.error_code).toBe(40924);
    const stale = await b.commit([{ topic_name: 'fenced', partition_id: 0, offset: 1 }], { member_id: b.member!.id, member_epoch: b.member!.epoch - 1 });
    expect(stale.json.error_code).toBe(40922);
    expect(await offsetsOf('g-zombie')).toEqual([{ topic_name: 'fenced', partition_id: 0, offset: 9, metadata: '' }]);
  });

  test('commits racing a revocation never land after the partition moved', async () => {
    const a = new GroupClient(strand.http, 'g-race', ['fenced']);
    await a.join();
    const b = new GroupClient(strand.http, 'g-race', ['fenced']);
    await b.join();
    await a.beat(); // a is told to revoke one partition; it still owns both until it acknowledges
    const revoked = ['fenced:0', 'fenced:1'].find((tp) => !a.member!.assignment.includes(tp))!;
    const partition = Number(revoked.split(':')[1]);
    const auth = { member_id: a.member!.id, member_epoch: a.member!.epoch };
    let stop = false;
    let accepted = 0;
    const zombieLoop = (async () => {
      for (let offset = 1; !stop && offset < 500; offset++) {
        const res = await a.commit([{ topic_name: 'fenced', partition_id: partition, offset }], auth);
        if (res.status === 200) accepted++;
        else expect(res.json.error_code).toBe(40922);
      }
    })();
    await a.beat(); // acknowledges: from here on a's old epoch is fenced
    await b.beat(); // b takes the partition
    expect(b.member!.assignment).toContain(revoked);
    const res = await b.commit([{ topic_name: 'fenced', partition_id: partition, offset: 1000 }]);
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await zombieLoop;
    expect(accepted).toBeGreaterThan(0);
    const offsets = await offsetsOf('g-race');
    expect(offsets.find((o: { partition_id: number }) => o.partition_id === partition).offset).toBe(1000);
  });

  test('standalone commits are accepted only while the group has no members', async () => {
    const standalone = (offset: number) =>
      strand.http.post(`${groupPath('g-standalone')}/offsets:commit`, { offsets: [{ topic_name: 'orders', partition_id: 1, offset }] });
    expect((await standalone(3)).status).toBe(200);
    const c = new GroupClient(strand.http, 'g-standalone', ['orders']);
    await c.join();
    const refused = await standalone(4);
    expect([refused.status, refused.json.error_code]).toEqual([409, 40925]);
    await c.leave();
    expect((await standalone(5)).status).toBe(200);
    expect(await offsetsOf('g-standalone')).toEqual([{ topic_name: 'orders', partition_id: 1, offset: 5, metadata: '' }]);
    const badTopic = await strand.http.post(`${groupPath('g-standalone')}/offsets:commit`, { offsets: [{ topic_name: 'nope', partition_id: 0, offset: 1 }] });
    expect(badTopic.json.error_code).toBe(40403);
    const badPartition = await strand.http.post(`${groupPath('g-standalone')}/offsets:commit`, { offsets: [{ topic_name: 'orders', partition_id: 6, offset: 1 }] });
    expect(badPartition.json.error_code).toBe(40402);
  });
});

describe('expiry pass', () => {
  test('expireAll touches only groups whose scanned state has a member past its session', async () => {
    const groups = groupsOf(strand.runtime);
    await groups.expireAll(); // clears whatever earlier tests left expired
    const c = new GroupClient(strand.http, 'g-expire-scan', ['orders']);
    await c.join();
    const expire = jest.spyOn(groups.store, 'expire');
    try {
      // Every member is live: no group costs a consistent read or a write.
      expect(await groups.expireAll()).toBe(0);
      expect(expire).not.toHaveBeenCalled();
      // Past every session (earlier tests' members too): each group with members is expired once.
      clock.advance(60_000);
      expect(await groups.expireAll()).toBeGreaterThanOrEqual(1);
      expect(expire.mock.calls.map(([g]) => g)).toContain('g-expire-scan');
      expect(Object.keys((await groups.describe('g-expire-scan')).state.members)).toEqual([]);
      const calls = expire.mock.calls.length;
      expect(await groups.expireAll()).toBe(0);
      expect(expire).toHaveBeenCalledTimes(calls);
    } finally {
      expire.mockRestore();
    }
  });
});
