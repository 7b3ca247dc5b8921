/**
 * Retention, index cleanup, merging, compaction and the object sweep, with an
 * injected clock, over a real local runtime.
 */
import { ManualClock } from '../../src/clock';
import { runMaintenance } from '../../src/maintenance/runMaintenance';
import { defaultMaintenanceLimits } from '../../src/maintenance/maintainPartition';
import { objectKey, newObjectId, topicPrefix } from '../../src/log/ObjectStore';
import { partitionKey } from '../../src/log/TopicCatalog';
import { countRequests } from '../../bench/requestCounter';
import { createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';

const minute = 60_000;
const mergeEagerly = { ...defaultMaintenanceLimits, mergeObjectsMin: 2, mergeTargetBytes: 1 << 20 };

describe('maintenance', () => {
  let strand: TestStrand;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock(Date.parse('2026-11-26T00:00:00Z'));
    strand = await startTestStrand({ clock });
  });
  afterAll(() => strand.dispose());

  const engine = () => strand.runtime.engine;
  async function produce(topic: string, value: string, extra: Record<string, unknown> = {}) {
    const res = await strand.http.post(`${topicPath(topic)}/records`, { partition_id: 0, value: { type: 'STRING', data: value }, ...extra });
    expect(res.status).toBe(200);
    return res.json.offset as number;
  }
  async function readAll(topic: string, from: number) {
    const out = new Map<number, string | null>();
    let offset = from;
    for (let i = 0; i < 1000; i++) {
      const res = await strand.http.get(`${partitionPath(topic, 0)}/records?offset=${offset}&embedded_format=string`);
      expect(res.status).toBe(200);
      for (const r of res.json.records) out.set(r.offset, r.value === null ? null : r.value.data);
      if (res.json.next_offset >= res.json.high_watermark) break;
      offset = res.json.next_offset;
    }
    return out;
  }
  async function bounds(topic: string) {
    const t = await engine().topics.get(topic);
    return engine().bounds(t, 0);
  }
  async function objectCount(topic: string) {
    const t = await engine().topics.get(topic);
    return (await engine().context.objects.list(topicPrefix(t.topicId))).length;
  }

  describe('time retention', () => {
    test('records older than retention.ms are dropped from the front; newer ones stay readable at their offsets', async () => {
      await createTopic(strand.http, 'ret-time', 1, { 'retention.ms': '5000' });
      for (let i = 0; i < 20; i++) await produce('ret-time', `old-${i}`);
      clock.advance(10_000);
      for (let i = 0; i < 5; i++) await produce('ret-time', `new-${i}`);
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });

      expect(await bounds('ret-time')).toEqual({ logStartOffset: 20, highWatermark: 25 });
      const res = await strand.http.get(`${partitionPath('ret-time', 0)}/records?offset=3`);
      expect(res.status).toBe(416);
      expect(res.json).toMatchObject({ error_code: 41601, log_start_offset: 20, high_watermark: 25 });
      expect([...(await readAll('ret-time', 20)).entries()]).toEqual([20, 21, 22, 23, 24].map((o) => [o, `new-${o - 20}`]));
      // The expired records' objects are gone: only the 5 live ones remain.
      expect(await objectCount('ret-time')).toBe(5);
    });

    test('retention.ms=-1 keeps everything', async () => {
      await createTopic(strand.http, 'ret-forever', 1, { 'retention.ms': '-1' });
      for (let i = 0; i < 3; i++) await produce('ret-forever', `v${i}`);
      clock.advance(365 * 24 * 60 * minute);
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
      expect(await bounds('ret-forever')).toEqual({ logStartOffset: 0, highWatermark: 3 });
    });
  });

  describe('size retention', () => {
    test('the oldest records are dropped while what stays is still at least retention.bytes', async () => {
      await createTopic(strand.http, 'ret-bytes', 1, { 'retention.bytes': '1000', 'retention.ms': '-1' });
      for (let i = 0; i < 30; i++) await produce('ret-bytes', `${i}`.padStart(100, '.'));
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
      const b = await bounds('ret-bytes');
      expect(b.highWatermark).toBe(30);
      // Each record is one ~175-byte batch: keeping ≥ 1000 bytes keeps 6.
      expect(b.logStartOffset).toBe(24);
      const left = await readAll('ret-bytes', b.logStartOffset);
      expect(left.size).toBe(6);
      expect(left.get(29)).toBe('29'.padStart(100, '.'));
    });

    test('time and size retention together: the one that drops more wins', async () => {
      await createTopic(strand.http, 'ret-both', 1, { 'retention.bytes': '100000', 'retention.ms': '5000' });
      for (let i = 0; i < 10; i++) await produce('ret-both', `a${i}`);
      clock.advance(6000);
      for (let i = 0; i < 10; i++) await produce('ret-both', `b${i}`);
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
      expect((await bounds('ret-both')).logStartOffset).toBe(10);
      await engine().context.objects.list('');
      await strand.http.post(`${cluster()}/topics/ret-both/configs:alter`, { data: [{ name: 'retention.bytes', value: '400' }] });
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
      const b = await bounds('ret-both');
      expect(b.logStartOffset).toBeGreaterThan(10);
      expect(b.logStartOffset).toBeLessThan(20);
    });
  });

  describe('deleting records', () => {
    test('records:delete moves the log start up, never down, and offsets below it are out of range', async () => {
      await createTopic(strand.http, 'del-rec', 1);
      for (let i = 0; i < 10; i++) await produce('del-rec', `r${i}`);
      const path = `${partitionPath('del-rec', 0)}/records:delete`;
      const moved = await strand.http.post(path, { before_offset: 4 });
      expect(moved.status).toBe(200);
      expect(moved.json).toEqual({ partition_id: 0, log_start_offset: 4 });
      expect((await strand.http.post(path, { before_offset: 2 })).json.log_start_offset).toBe(4);
      expect((await strand.http.get(`${partitionPath('del-rec', 0)}/records?offset=3`)).json.error_code).toBe(41601);
      expect((await readAll('del-rec', 4)).get(4)).toBe('r4');
      const beyond = await strand.http.post(path, { before_offset: 11 });
      expect(beyond.status).toBe(416);
      expect(beyond.json).toMatchObject({ error_code: 41601, log_start_offset: 4, high_watermark: 10 });
      expect((await strand.http.post(path, { before_offset: 'x' })).json.error_code).toBe(40002);
      expect((await strand.http.post(path, {})).json.error_code).toBe(40001);
      expect((await bounds('del-rec')).logStartOffset).toBe(4);
      expect((await strand.http.post(path, { before_offset: -1 })).json.log_start_offset).toBe(10);
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
      expect(await objectCount('del-rec')).toBe(0);
    });
  });

  describe('merging small objects', () => {
    test('merging keeps every offset and byte of content, and fewer objects and GETs serve a full read', async () => {
      await createTopic(strand.http, 'merge', 1, { 'retention.ms': '-1' });
      for (let i = 0; i < 60; i++) await produce('merge', `value-${i}-${'x'.repeat(i)}`, { key: { type: 'STRING', data: `k${i}` } });
      const before = await readAll('merge', 0);
      const binaryBefore = await strand.http.get(`${partitionPath('merge', 0)}/records?offset=0&max_bytes=4194304`, { accept: 'application/vnd.kafka.record-batch.v2' });
      const objectsBefore = await objectCount('merge');

      const counts = countRequests(strand.runtime.clients);
      counts.reset();
      await readAll('merge', 0);
      const getsBefore = counts.s3Gets;

      await runMaintenance(strand.runtime, { limits: mergeEagerly, orphanGraceMs: 0 });
      expect(await objectCount('merge')).toBeLessThan(objectsBefore / 4);
      counts.reset();
      const after = await readAll('merge', 0);
      expect(counts.s3Gets).toBeLessThan(getsBefore / 4);
      expect([...after.entries()]).toEqual([...before.entries()]);
      const binaryAfter = await strand.http.get(`${partitionPath('merge', 0)}/records?offset=0&max_bytes=4194304`, { accept: 'application/vnd.kafka.record-batch.v2' });
      expect(binaryAfter.body.equals(binaryBefore.body)).toBe(true);
    });

    test('produce racing maintenance loses no acknowledged record', async () => {
      await createTopic(strand.http, 'race', 1, { 'retention.ms': '-1' });
      const acked = new Map<number, string>();
      let producing = true;
      const producer = (async () => {
        for (let i = 0; i < 120; i++) acked.set(await produce('race', `r${i}`), `r${i}`);
        producing = false;
      })();
      // The grace period is what protects an object between its PUT and its commit.
      while (producing) await runMaintenance(strand.runtime, { limits: mergeEagerly, orphanGraceMs: 10 * minute });
      await producer;
      clock.advance(11 * minute);
      await runMaintenance(strand.runtime, { limits: mergeEagerly, orphanGraceMs: 10 * minute });
      const log = await readAll('race', 0);
      expect(log.size).toBe(120);
      for (const [offset, value] of acked) expect(log.get(offset)).toBe(value);
    });
  });

  describe('object sweep', () => {
    test('an object nothing references is deleted once older than the grace period; referenced objects never are', async () => {
      await createTopic(strand.http, 'sweep', 1, { 'retention.ms': '-1' });
      for (let i = 0; i < 5; i++) await produce('sweep', `s${i}`);
      const topic = await engine().topics.get('sweep');
      const objects = engine().context.objects;
      const orphanOld = objectKey(topic.topicId, newObjectId(clock.now()));
      await objects.put(orphanOld, Buffer.from('crashed before commit'));
      clock.advance(11 * minute);
      const orphanYoung = objectKey(topic.topicId, newObjectId(clock.now()));
      await objects.put(orphanYoung, Buffer.from('commit still in flight'));

      await runMaintenance(strand.runtime, { orphanGraceMs: 10 * minute });
      const keys = await objects.list(topicPrefix(topic.topicId));
      expect(keys).not.toContain(orphanOld);
      expect(keys).toContain(orphanYoung);
      expect(keys).toHaveLength(6);
      expect((await readAll('sweep', 0)).size).toBe(5);
    });
  });

  describe('compaction', () => {
    test('a compacted topic keeps the latest value per key at its original offset', async () => {
      await createTopic(strand.http, 'table', 1, { 'cleanup.policy': 'compact' });
      const latest = new Map<string, { offset: number; value: string }>();
      for (let i = 0; i < 40; i++) {
        const key = `user-${i % 5}`;
        const value = `v${i}`;
        latest.set(key, { offset: await produce('table', value, { key: { type: 'STRING', data: key } }), value });
      }
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
      const log = await readAll('table', 0);
      expect([...log.entries()].sort((a, b) => a[0] - b[0])).toEqual(
        [...latest.values()].sort((a, b) => a.offset - b.offset).map((l) => [l.offset, l.value]),
      );
      expect((await bounds('table')).highWatermark).toBe(40);
      // Appends go on after compaction, at the next offset.
      expect(await produce('table', 'after', { key: { type: 'STRING', data: 'user-0' } })).toBe(40);
    });

    test('a tombstone removes its key, and is itself dropped after delete.retention.ms', async () => {
      await createTopic(strand.http, 'tombs', 1, { 'cleanup.policy': 'compact', 'delete.retention.ms': '60000' });
      await produce('tombs', 'a1', { key: { type: 'STRING', data: 'a' } });
      await produce('tombs', 'b1', { key: { type: 'STRING', data: 'b' } });
      const tomb = await produce('tombs', 'ignored', { key: { type: 'STRING', data: 'a' }, value: null });
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
      let log = await readAll('tombs', 0);
      expect([...log.entries()]).toEqual([
        [1, 'b1'],
        [tomb, null],
      ]);
      clock.advance(61_000);
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
      log = await readAll('tombs', 0);
      expect([...log.entries()]).toEqual([[1, 'b1']]);
    });

    test('compact,delete both compacts and applies retention', async () => {
      await createTopic(strand.http, 'both-policies', 1, { 'cleanup.policy': 'compact,delete', 'retention.ms': '5000' });
      await produce('both-policies', 'old', { key: { type: 'STRING', data: 'x' } });
      clock.advance(6000);
      await produce('both-policies', 'n1', { key: { type: 'STRING', data: 'y' } });
      await produce('both-policies', 'n2', { key: { type: 'STRING', data: 'y' } });
      await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
      expect((await bounds('both-policies')).logStartOffset).toBe(1);
      expect([...(await readAll('both-policies', 1)).entries()]).toEqual([[2, 'n2']]);
    });
  });

  describe('crashes', () => {
    test('a crash in the middle of maintenance leaves the log readable and the next pass finishes the job', async () => {
      await createTopic(strand.http, 'crashy', 1, { 'retention.ms': '-1' });
      for (let i = 0; i < 40; i++) await produce('crashy', `c${i}`);
      const before = await readAll('crashy', 0);
      const index = engine().context.index;
      const original = index.replaceChunk.bind(index);
      let calls = 0;
      index.replaceChunk = async (...args) => {
        if (++calls > 1) throw new Error('injected crash after the first chunk');
        return original(...args);
      };
      try {
        const report = await runMaintenance(strand.runtime, { limits: { ...mergeEagerly, mergeTargetBytes: 1 << 30 }, orphanGraceMs: 0 });
        expect(report.errors.join()).toContain('injected crash');
      } finally {
        index.replaceChunk = original;
      }
      expect([...(await readAll('crashy', 0)).entries()]).toEqual([...before.entries()]);
      await runMaintenance(strand.runtime, { limits: mergeEagerly, orphanGraceMs: 0 });
      expect([...(await readAll('crashy', 0)).entries()]).toEqual([...before.entries()]);
      const t = await engine().topics.get('crashy');
      const head = await index.readHead(partitionKey(t, 0));
      const chunks = await index.chunks(partitionKey(t, 0));
      const referenced = new Set([...head.entries, ...chunks.flatMap((c) => c.entries)].map((e) => e.objectId));
      expect(await objectCount('crashy')).toBe(referenced.size);
    });
  });
});

function cluster() {
  return '/v3/clusters/local';
}
