/**
 * Maintenance that scales: the planner gives a turn only to partitions that
 * changed or fell due, an idle partition costs no storage request (counted on
 * the SDK clients), passes never overlap on a partition, failed turns are
 * counted and handed out again, and the Lambda planner's fan-out is bounded.
 * Over a real local runtime with an injected clock.
 */
import { ManualClock } from '../../src/clock';
import { runMaintenance, type MaintenanceReport } from '../../src/maintenance/runMaintenance';
import { runPlanner, runWorker, splitWork, type WorkEvent } from '../../src/maintenance/lambdaMaintenance';
import { maintenanceEmfLine, maintenanceMetricNames } from '../../src/maintenance/maintenanceMetrics';
import { LedgerStore } from '../../src/maintenance/ledger';
import { partitionKey } from '../../src/log/TopicCatalog';
import { countRequests, type RequestCounts } from '../../bench/requestCounter';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { instanceIdleMsDefault } from '../../src/groups/ConsumerInstances';
import { createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';

const minute = 60_000;

/** Partitions given a turn, as "topic/partition". */
function turned(report: MaintenanceReport): string[] {
  return report.topics.flatMap((t) => t.partitions.flatMap((p) => (p === 'skipped' ? [] : [`${t.topic}/${p.partition}`])));
}

describe('maintenance planning', () => {
  let strand: TestStrand;
  let clock: ManualClock;
  let counts: RequestCounts;
  beforeAll(async () => {
    clock = new ManualClock(Date.parse('2026-11-30T00:00:00Z'));
    strand = await startTestStrand({ clock });
    counts = countRequests(strand.runtime.clients);
  });
  afterAll(() => strand.dispose());

  async function produce(topic: string, partition: number, value: string) {
    const res = await strand.http.post(`${topicPath(topic)}/records`, { partition_id: partition, value: { type: 'STRING', data: value } });
    expect(res.status).toBe(200);
    return res.json.offset as number;
  }
  /** Storage requests of one pass. */
  async function passCost(): Promise<{ requests: number; report: MaintenanceReport }> {
    counts.reset();
    const report = await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
    expect(report.errors).toEqual([]);
    return { requests: counts.dynamodb + counts.s3Gets + counts.s3Puts + counts.s3Other, report };
  }
  /** Passes until nothing changes (the listing's slack window sees recent objects once more). */
  async function settle() {
    clock.advance(minute);
    for (let i = 0; i < 3; i++) await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
  }

  test('an idle partition costs no storage request: an idle pass costs the same with 300 more partitions', async () => {
    await createTopic(strand.http, 'idle-small', 3, { 'retention.ms': '-1' });
    await produce('idle-small', 1, 'x');
    await settle();
    const before = await passCost();
    expect(turned(before.report)).toEqual([]);

    await createTopic(strand.http, 'idle-wide', 300, { 'retention.ms': '-1' });
    await produce('idle-wide', 7, 'x');
    await settle();
    const after = await passCost();
    expect(turned(after.report)).toEqual([]);

    await createTopic(strand.http, 'idle-narrow', 2, { 'retention.ms': '-1' });
    await settle();
    const narrow = await passCost();
    // Each idle topic costs the same (its ledger and one LIST), whatever its partitions.
    expect(after.requests - before.requests).toBe(narrow.requests - after.requests);
    expect(after.requests - before.requests).toBeLessThanOrEqual(2);
  });

  test('only the partitions appended to get a turn', async () => {
    await createTopic(strand.http, 'sparse', 50, { 'retention.ms': '-1' });
    await settle();
    await produce('sparse', 3, 'a');
    await produce('sparse', 41, 'b');
    const { report } = await passCost();
    expect(turned(report).filter((t) => t.startsWith('sparse/'))).toEqual(['sparse/3', 'sparse/41']);
    expect(report.plan.partitionsChanged).toBeGreaterThanOrEqual(2);
    await settle();
    expect(turned((await passCost()).report)).toEqual([]);
  });

  test('retention by time visits an idle partition once its oldest record passes retention.ms, not before', async () => {
    await createTopic(strand.http, 'aging', 4, { 'retention.ms': String(10 * minute) });
    await produce('aging', 2, 'old');
    await settle();
    expect(turned((await passCost()).report)).toEqual([]);
    clock.advance(10 * minute);
    const { report } = await passCost();
    expect(turned(report)).toEqual(['aging/2']);
    expect(report.plan.partitionsDue).toBe(1);
    const t = await strand.runtime.engine.topics.get('aging');
    expect((await strand.runtime.engine.bounds(t, 2)).logStartOffset).toBe(1);
    // Nothing left to expire: not due again.
    clock.advance(60 * minute);
    expect(turned((await passCost()).report)).toEqual([]);
  });

  test('a config change gives every partition with data a turn', async () => {
    await createTopic(strand.http, 'reconfigured', 3, { 'retention.ms': '-1' });
    await produce('reconfigured', 0, 'a');
    await produce('reconfigured', 2, 'b');
    await settle();
    await strand.http.post(`/v3/clusters/local/topics/reconfigured/configs:alter`, { data: [{ name: 'retention.bytes', value: '1' }] });
    expect(turned((await passCost()).report).sort()).toEqual(['reconfigured/0', 'reconfigured/2']);
  });

  test('DeleteRecords on an idle partition is maintained by the next pass', async () => {
    await createTopic(strand.http, 'deleted-records', 2, { 'retention.ms': '-1' });
    for (let i = 0; i < 3; i++) await produce('deleted-records', 1, `r${i}`);
    await settle();
    expect((await strand.http.post(`${partitionPath('deleted-records', 1)}/records:delete`, { before_offset: 3 })).status).toBe(200);
    expect(turned((await passCost()).report)).toEqual(['deleted-records/1']);
  });

  test('passes never overlap on a partition: one held by another leader is skipped, stays dirty, and gets its turn later', async () => {
    await createTopic(strand.http, 'contended', 2, { 'retention.ms': '-1' });
    await settle();
    await produce('contended', 0, 'a');
    await produce('contended', 1, 'b');
    const t = await strand.runtime.engine.topics.get('contended');
    const leases = strand.runtime.engine.context.leases;
    const held = await leases.acquire(partitionKey(t, 0), 'another-pass', 30_000);
    expect(held).toBeDefined();
    const first = await passCost();
    expect(turned(first.report).filter((x) => x.startsWith('contended/'))).toEqual(['contended/1']);
    const ledger = await new LedgerStore(strand.runtime.clients.ddb, strand.runtime.config.tables.log).read(t.topicId);
    expect([...ledger.dirty]).toEqual([0]);
    await leases.release(held!);
    clock.advance(5 * minute);
    const second = await passCost();
    expect(turned(second.report).filter((x) => x.startsWith('contended/'))).toEqual(['contended/0']);
  });

  test('two passes at once: every changed partition gets exactly one turn, and nothing fails', async () => {
    await createTopic(strand.http, 'twice', 8, { 'retention.ms': '-1' });
    await settle();
    for (let p = 0; p < 8; p++) await produce('twice', p, `v${p}`);
    const [a, b] = await Promise.all([runMaintenance(strand.runtime, { orphanGraceMs: 0 }), runMaintenance(strand.runtime, { orphanGraceMs: 0 })]);
    expect([...a.errors, ...b.errors]).toEqual([]);
    const all = [...turned(a), ...turned(b)].filter((x) => x.startsWith('twice/'));
    // A partition both passes planned is turned by one of them (the lease); the other skips it.
    expect(new Set(all).size).toBe(all.length);
    await settle();
    const t = await strand.runtime.engine.topics.get('twice');
    const ledger = await new LedgerStore(strand.runtime.clients.ddb, strand.runtime.config.tables.log).read(t.topicId);
    expect(ledger.dirty.size).toBe(0);
    expect([...ledger.partitions.values()].map((m) => m.highWatermark)).toEqual(Array(8).fill(1));
  });

  test('a failed turn is counted, reported, and handed out again by the next pass', async () => {
    await createTopic(strand.http, 'failing', 2, { 'retention.ms': '-1' });
    await settle();
    await produce('failing', 1, 'x');
    const index = strand.runtime.engine.context.index;
    const original = index.chunks.bind(index);
    index.chunks = async () => {
      throw new Error('injected chunk read failure');
    };
    let report: MaintenanceReport;
    try {
      report = await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
    } finally {
      index.chunks = original;
    }
    expect(report.failures).toBe(1);
    expect(report.errors.join()).toContain('failing/1');
    clock.advance(5 * minute);
    expect(turned((await passCost()).report)).toContain('failing/1');
  });

  test('a turn handed out and lost, after another worker cleared its dirty entry with an older mark, is found again', async () => {
    await createTopic(strand.http, 'lost-turn', 3, { 'retention.ms': '-1' });
    await settle();
    await produce('lost-turn', 2, 'x');
    // A pass whose worker never runs (an invocation lost): partition 2 is dirty.
    await runPlanner(strand.runtime, { workers: 1, deadline: clock.now() + minute, orphanGraceMs: 0, dispatch: async () => {}, metrics: () => {} });
    const t = await strand.runtime.engine.topics.get('lost-turn');
    const ledgers = new LedgerStore(strand.runtime.clients.ddb, strand.runtime.config.tables.log);
    expect([...(await ledgers.read(t.topicId)).dirty]).toEqual([2]);
    // An older worker, whose turn began before the append, records its mark and clears the entry.
    const stale = (await ledgers.read(t.topicId)).partitions.get(2)!;
    await ledgers.recordTurns(t.topicId, [{ partition: 2, mark: stale }]);
    expect((await ledgers.read(t.topicId)).dirty.size).toBe(0);
    // Long after the listing's slack window: the watermark did not move past the append, so the heads show it.
    clock.advance(10 * minute);
    expect(turned((await passCost()).report)).toEqual(['lost-turn/2']);
  });

  test('the Lambda planner hands work to at most `workers` invocations, and reports a completed pass', async () => {
    await createTopic(strand.http, 'fanned', 30, { 'retention.ms': '-1' });
    await settle();
    for (let p = 0; p < 30; p++) await produce('fanned', p, `v${p}`);
    const events: WorkEvent[] = [];
    const planned: Record<string, number>[] = [];
    const deadline = clock.now() + 5 * minute;
    const plan = await runPlanner(strand.runtime, { workers: 3, deadline, orphanGraceMs: 0, dispatch: async (e) => void events.push(e), metrics: (v) => void planned.push(v) });
    expect(plan.errors).toEqual([]);
    expect(events.length).toBeLessThanOrEqual(3);
    const handed = events.flatMap((e) => e.work.filter((w) => w.topic === 'fanned').flatMap((w) => w.partitions));
    expect(handed.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, p) => p));
    expect(planned).toEqual([expect.objectContaining({ [maintenanceMetricNames.passesCompleted]: 1 })]);

    const worked: Record<string, number>[] = [];
    const results = await Promise.all(events.map((e) => runWorker(strand.runtime, JSON.parse(JSON.stringify(e)) as WorkEvent, { deadline, orphanGraceMs: 0, metrics: (v) => void worked.push(v) })));
    expect(results.reduce((n, r) => n + r.failures, 0)).toBe(0);
    expect(worked.reduce((n, v) => n + (v[maintenanceMetricNames.partitionsMaintained] ?? 0), 0)).toBeGreaterThanOrEqual(30);
    // A worker past its deadline starts nothing and counts what it left.
    const late = await runWorker(strand.runtime, { strandMaintenance: 'work', work: [{ topic: 'fanned', topicId: 'x', partitions: [1, 2] }], sweeps: [] }, { deadline: clock.now() - 1, metrics: () => {} });
    expect(late.left).toBe(2);
  });

  test('splitWork: contiguous runs per worker, events within their byte bound, the rest deferred', () => {
    const work = [{ topic: 'a', topicId: 'ia', partitions: Array.from({ length: 10 }, (_, p) => p) }, { topic: 'b', topicId: 'ib', partitions: [0, 1] }];
    const { events, deferred } = splitWork(work, [{ topic: 'a', topicId: 'ia', seen: 5 }], 4);
    expect(events.length).toBeLessThanOrEqual(4);
    expect(deferred).toBe(0);
    expect(events.flatMap((e) => e.work.flatMap((w) => w.partitions.map((p) => `${w.topic}/${p}`))).length).toBe(12);
    expect(events.flatMap((e) => e.sweeps)).toHaveLength(1);
    const tight = splitWork(work, [], 1, 120);
    expect(JSON.stringify(tight.events[0]).length).toBeLessThanOrEqual(120);
    expect(tight.deferred).toBeGreaterThan(0);
  });

  test('an abandoned REST Proxy v2 instance carries a ttl past its idle timeout, for DynamoDB TTL to delete it', async () => {
    const V2 = 'application/vnd.kafka.v2+json';
    const res = await strand.http.request('POST', '/consumers/ttl-group', { headers: { 'content-type': V2 }, body: JSON.stringify({ name: 'abandoned', format: 'json' }) });
    expect(res.status).toBe(200);
    const out = await strand.runtime.clients.ddb.send(new GetCommand({ TableName: strand.runtime.config.tables.consumers, Key: { pk: 'ttl-group', sk: 'abandoned' }, ConsistentRead: true }));
    const item = out.Item!;
    expect(item.ttl).toBe(Math.ceil((clock.now() + instanceIdleMsDefault) / 1000) + 3600);
    expect(item.ttl * 1000).toBeGreaterThan(Number(item.lastUsedAt) + Number(item.idleMs));
  });

  test('the metrics are EMF lines in the Strand namespace, per cluster', () => {
    const line = JSON.parse(maintenanceEmfLine('c1', { [maintenanceMetricNames.partitionFailures]: 2 }, 1000));
    expect(line).toMatchObject({ ClusterId: 'c1', MaintenancePartitionFailures: 2, _aws: { CloudWatchMetrics: [{ Namespace: 'Strand', Dimensions: [['ClusterId']] }] } });
  });
});
