/**
 * At least once: three consumers of one group read a six-partition topic over
 * HTTP (heartbeat, fetch, commit) while records keep arriving; consumers crash
 * between processing and committing, and restart (some with their member id,
 * some as new members). Every produced record is processed at least once, and
 * no two live consumers ever hold one partition.
 */
import { ManualClock } from '../../src/clock';
import { cluster, createTopic, fetchJson, produceString, startTestStrand, type TestStrand } from '../support/localStrand';
import { assertDisjoint, GroupClient, groupPath } from './support';

const clock = new ManualClock();
let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand({ clock });
  await createTopic(strand.http, 'stream', 6);
});
afterAll(() => strand.dispose());

/** A deterministic pseudo-random sequence (mulberry32), so a failure replays. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Worker {
  client: GroupClient;
  /** In-memory positions: lost on a crash. */
  positions = new Map<string, number>();
  constructor(readonly name: string) {
    this.client = new GroupClient(strand.http, 'g-alo', ['stream']);
  }
}

test('consumers that crash mid-stream and restart process every record at least once', async () => {
  const random = rng(42);
  const processed = new Set<string>();
  const produced: string[] = [];
  let deliveries = 0;
  let crashes = 0;
  const workers = [new Worker('w0'), new Worker('w1'), new Worker('w2')];
  for (const w of workers) await w.client.join();

  const committed = async () => {
    const res = await strand.http.get(`${groupPath('g-alo')}/offsets`);
    return new Map<string, number>(res.json.offsets.map((o: { partition_id: number; offset: number }) => [`stream:${o.partition_id}`, o.offset]));
  };

  const step = async (w: Worker): Promise<void> => {
    await w.client.beat();
    assertDisjoint(workers.map((x) => x.client));
    const offsets = await committed();
    for (const tp of w.client.member!.assignment) {
      const partition = Number(tp.split(':')[1]);
      const from = w.positions.get(tp) ?? offsets.get(tp) ?? 0;
      const res = await fetchJson(strand.http, 'stream', partition, from);
      expect(res.status).toBe(200);
      for (const r of res.json.records) {
        processed.add(`${partition}:${r.offset}`);
        deliveries++;
      }
      if (random() < 0.15) {
        // Crash after processing, before committing: everything in memory is lost.
        crashes++;
        const replacement = new Worker(w.name);
        const oldId = w.client.member!.id;
        workers[workers.indexOf(w)] = replacement;
        w.client.member = undefined;
        // Half restart inside the session with the old member id (keeping its
        // partitions); half come back as new members (the old one times out).
        await replacement.client.join(random() < 0.5 ? oldId : undefined);
        return;
      }
      const commit = await w.client.commit([{ topic_name: 'stream', partition_id: partition, offset: res.json.next_offset }]);
      if (commit.status === 200) w.positions.set(tp, res.json.next_offset);
      else expect([40922, 40923]).toContain(commit.json.error_code);
    }
  };

  for (let i = 0; i < 60; i++) {
    if (i < 40) {
      for (let k = 0; k < 3; k++) {
        const r = await produceString(strand.http, 'stream', `v${i}-${k}`, { partition_id: Math.floor(random() * 6) });
        produced.push(`${r.partition_id}:${r.offset}`);
      }
    }
    await step(workers[i % 3]!);
    clock.advance(3_000);
  }
  // Drain: no more crashes matter now; let dead members time out and everyone catch up.
  for (let k = 0; k < 6; k++) {
    clock.advance(9_000);
    for (const w of workers) await w.client.beat();
  }
  for (let round = 0; round < 6; round++) {
    for (const w of workers) {
      await w.client.beat();
      assertDisjoint(workers.map((x) => x.client));
      for (const tp of w.client.member!.assignment) {
        const partition = Number(tp.split(':')[1]);
        const from = w.positions.get(tp) ?? (await committed()).get(tp) ?? 0;
        const res = await fetchJson(strand.http, 'stream', partition, from);
        for (const r of res.json.records) processed.add(`${partition}:${r.offset}`);
        const commit = await w.client.commit([{ topic_name: 'stream', partition_id: partition, offset: res.json.next_offset }]);
        if (commit.status === 200) w.positions.set(tp, res.json.next_offset);
      }
    }
  }

  expect(crashes).toBeGreaterThan(0);
  expect(produced).toHaveLength(120);
  for (const r of produced) expect(processed).toContain(r);
  expect(deliveries).toBeGreaterThanOrEqual(produced.length - 20);
  // Lag is zero once everyone caught up.
  const summary = await strand.http.get(`${cluster}/consumer-groups/g-alo/lag-summary`);
  expect(summary.json.total_lag).toBe(0);
}, 30_000);
