/**
 * Scripted schedules for known interleavings, each checked like a random seed
 * (the invariants after every step, every partition read back at the end). The
 * test name states the rule.
 */
import { OffsetOutOfRangeError } from '../../src/errors';
import { objectKey, newObjectId } from '../../src/log/ObjectStore';
import { partitionKey } from '../../src/log/TopicCatalog';
import type { IndexEntry } from '../../src/log/indexEntry';
import { readPartition, recordsFrom } from '../../src/log/readPartition';
import { Simulation, startTime } from './simulation';
import type { Parked } from './scheduler';
import type { FaultKind } from './world';
import { stopWorld } from './world';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const partitionOf = (c: Parked): number | undefined => Number(String((c.input.Key as any)?.pk?.S ?? '').split('#')[1] ?? NaN);
const is = (kind: string) => (c: Parked) => c.label === `DDB ${kind}` || c.label.startsWith(`DDB ${kind}@`);

function report(sim: Simulation): string {
  if (!sim.failure) return 'ok';
  return [`step ${sim.failure.step}: ${sim.failure.invariant}`, ...sim.failure.all.slice(1).map((v) => `also: ${v}`), 'schedule:', ...sim.schedule].join('\n');
}

afterAll(() => stopWorld());

describe('named interleavings', () => {
  test('a spill that took its lease after a maintenance turn rewrote the chunk cannot overwrite it', async () => {
    const sim = await Simulation.create({ partitions: 1, policy: 'delete' });
    try {
      await sim.prefill(0, 15);
      // A's commit makes the head 16 entries long: A is due to spill. It goes on to its spill.
      const a = sim.spawnAppender('A', [{ partitions: [0], records: 1 }]);
      await sim.runUntil(a, is('lease-acquire'));
      await sim.prefill(0, 7);
      // B's commit makes it 24: B is due too, and stalls between its commit and its lease.
      const b = sim.spawnAppender('B', [{ partitions: [0], records: 1 }]);
      await sim.runUntil(b, is('lease-acquire'));
      await sim.runToEnd(a);
      // Maintenance merges chunk@0 into a new object; the sweep deletes the objects it released.
      const m = sim.spawnMaintenance('M');
      await sim.runToEnd(m);
      expect(m.outcome).toMatchObject({ ok: true });
      expect((m.outcome as { value: string[] }).value.length).toBeGreaterThan(0);
      // Then B takes the lease (a newer epoch) and spills from what it knows.
      await sim.runToEnd(b);
      await sim.finish();
      expect(report(sim)).toBe('ok');
    } finally {
      sim.dispose();
    }
  });

  test.each<FaultKind>(['500', 'reset', 'timeout'])('the SDK retrying a plain commit whose reply was lost does not append it twice (%s after apply)', async (fault) => {
    const sim = await Simulation.create({ partitions: 1, policy: 'delete' });
    try {
      await sim.prefill(0, 3);
      const a = sim.spawnAppender('A', [{ partitions: [0], records: 2 }]);
      const commit = await sim.runUntil(a, is('commit'));
      await sim.step(commit, { kind: 'fault', fault });
      await sim.runToEnd(a);
      await sim.finish();
      expect(report(sim)).toBe('ok');
      // The append was acknowledged (a lost reply is not a failure the client must see).
      expect(sim.model.acks.filter((x) => x.by === 'A')).toHaveLength(1);
    } finally {
      sim.dispose();
    }
  });

  test('compaction keeps a key\'s latest value when two index entries point at the same bytes', async () => {
    const sim = await Simulation.create({ partitions: 1, policy: 'compact', sharedBytes: true });
    try {
      const pk = partitionKey(sim.topic, 0);
      const x = sim.newBatch(0, 1, ['A']);
      const y = sim.newBatch(0, 1, ['B']);
      const xBytes = sim.encode(x, startTime);
      const yBytes = sim.encode(y, startTime);
      const objectId = newObjectId(sim.clock.now());
      // One object holding both batches; entry X committed twice: keys A, B, A at offsets 0, 1, 2.
      // (The second X differs in its timestamp only: PartitionIndex.commit now takes
      // the very same entry string again for a replay of the first commit.)
      const entryX: IndexEntry = { objectId, position: 0, size: xBytes.length, span: 1, maxTimestamp: startTime };
      const entryX2: IndexEntry = { ...entryX, maxTimestamp: startTime + 1 };
      const entryY: IndexEntry = { objectId, position: xBytes.length, size: yBytes.length, span: 1, maxTimestamp: startTime };
      await sim.scheduler.outside(async () => {
        await sim.ctx.objects.put(objectKey(sim.topic.topicId, objectId), Buffer.concat([xBytes, yBytes]));
        sim.model.attempt(x);
        sim.model.attempt(y);
        const at0 = await sim.ctx.index.commit(pk, entryX);
        const at1 = await sim.ctx.index.commit(pk, entryY);
        const at2 = await sim.ctx.index.commit(pk, entryX2);
        expect([at0.baseOffset, at1.baseOffset, at2.baseOffset]).toEqual([0, 1, 2]);
        sim.model.acknowledge(x, 0, 0, 'setup');
        sim.model.acknowledge(y, 1, 1, 'setup');
        sim.model.acknowledge({ ...x, id: `${x.id}@2` }, 2, 2, 'setup');
      });
      const m = sim.spawnMaintenance('M');
      await sim.runToEnd(m);
      await sim.finish();
      expect(report(sim)).toBe('ok');
      // The latest record of A (offset 2) and of B (offset 1) read back, and only
      // they: the older A at offset 0 is compacted away although its bytes are A@2's too.
      const head = await sim.ctx.index.readHead(pk);
      const read = await readPartition(sim.ctx, sim.topic, 0, head.logStartOffset, 1 << 20);
      const records = recordsFrom(read.batches, head.logStartOffset).map((r) => [r.offset, r.key?.toString(), r.value?.toString()]);
      expect(records).toEqual([
        [1, 'B', y.values[0]],
        [2, 'A', x.values[0]],
      ]);
    } finally {
      sim.dispose();
    }
  });

  test('a fetch racing retention answers with data or out of range, never an unexpected error', async () => {
    // The fetch is paused before each of its storage requests in turn, while
    // DeleteRecords moves the log start past its offset, maintenance drops the
    // index below it and the sweep deletes the objects.
    let paused = 0;
    for (let pauseAt = 0; pauseAt < 12; pauseAt++) {
      const sim = await Simulation.create({ partitions: 1, policy: 'delete' });
      try {
        // Chunks [0,12) [12,24) [24,36), the head from 36: the fetch's walk reads the first chunk, then the ones after it.
        await sim.prefill(0, 40);
        const f = sim.spawnFetch('F', 0, { offset: 2 }, 1 << 20, true);
        if (!(await sim.advance(f, pauseAt))) break;
        paused++;
        const r = sim.spawnRetention('R', 0, { offset: 30 });
        await sim.runToEnd(r);
        const m = sim.spawnMaintenance('M');
        await sim.runToEnd(m);
        await sim.runToEnd(f);
        await sim.finish({ aftermath: false });
        expect(`pause before request ${pauseAt}: ${report(sim)}`).toBe(`pause before request ${pauseAt}: ok`);
        const outcome = f.outcome!;
        if (!outcome.ok) expect(outcome.error).toBeInstanceOf(OffsetOutOfRangeError);
      } finally {
        sim.dispose();
      }
    }
    expect(paused).toBeGreaterThan(1);
  });

  test('an upload commit retried returns its original offsets', async () => {
    // Two schedules: the retry after the first commit answered (its reply lost on
    // the way to the client), and the retry racing the first.
    for (const racing of [false, true]) {
      const sim = await Simulation.create({ partitions: 2, policy: 'delete', inCatalog: true });
      try {
        await sim.prefill(0, 2);
        const upload = await sim.prepareUpload(0, 2);
        const first = sim.spawnUploadCommit('U1', upload);
        if (racing) await sim.runUntil(first, is('commit'));
        else await sim.runToEnd(first);
        const retry = sim.spawnUploadCommit('U2', upload);
        await sim.runToEnd(retry);
        await sim.runToEnd(first);
        await sim.finish();
        const label = racing ? 'racing' : 'after';
        expect(`${label}: ${report(sim)}`).toBe(`${label}: ok`);
        expect(first.outcome).toMatchObject({ ok: true });
        expect(retry.outcome).toMatchObject({ ok: true });
        const answers = [first, retry].map((a) => (a.outcome as { value: unknown[] }).value);
        expect(answers[0]).toHaveLength(1);
        expect(answers[1]).toEqual(answers[0]);
      } finally {
        sim.dispose();
      }
    }
  });

  test('an object one partition released is not deleted while another partition\'s commit of it is pending', async () => {
    // One produce request, one object, batches for p0 and p1. Its p0 commit lands;
    // its p1 commit is slow. Meanwhile DeleteRecords moves p0's log start past the
    // p0 batch, maintenance drops that entry and releases the object, and the sweep
    // deletes what maintenance released at once (no grace). Then p1's commit lands.
    const sim = await Simulation.create({ partitions: 2, policy: 'delete' });
    try {
      await sim.prefill(0, 3);
      await sim.prefill(1, 3);
      const a = sim.spawnAppender('A', [{ partitions: [0, 1], records: 2 }]);
      const commitP1 = await sim.runUntil(a, (c) => c.label === 'DDB commit' && partitionOf(c) === 1);
      // Everything else A has to do goes (p0's commit); p1's commit stays parked.
      const released: Parked[] = [];
      for (;;) {
        await sim.scheduler.waitQuiet();
        const other = sim.scheduler.parkedCalls().find((c) => c.actor === a && c !== commitP1);
        if (!other) break;
        await sim.step(other);
        released.push(other);
      }
      expect(released.find((c) => c.label === 'DDB commit' && partitionOf(c) === 0)?.outcome).toBe('applied');
      const r = sim.spawnRetention('R', 0, { fraction: 1 });
      await sim.runToEnd(r);
      const m = sim.spawnMaintenance('M');
      await sim.runToEnd(m);
      await sim.step(commitP1);
      await sim.runToEnd(a);
      await sim.finish();
      expect(report(sim)).toBe('ok');
    } finally {
      sim.dispose();
    }
  });
});
