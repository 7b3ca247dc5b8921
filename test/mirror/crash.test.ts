/**
 * No duplicates on the target across crashes (partitionCopy.ts). How: the
 * mirror's fault hook kills it at chosen appends, in each way a process can
 * die around a write — before sending it, after it applied but before anything
 * was saved, with the request still in flight (it lands later, while the next
 * mirror works), and just before the state save — then a new Mirror instance
 * (a restarted process: same saved state, nothing in memory) carries on. At
 * the end every in-flight request has settled and the target must hold every
 * source record exactly once, in order: its copies' source offsets are exactly
 * 0…n-1.
 */
import fc from 'fast-check';
import { Mirror } from '../../src/mirror/mirror';
import { MemoryStateStore } from '../../src/mirror/mirrorState';
import { MirrorKilled, type AppendAttempt, type MirrorFaults } from '../../src/mirror/partitionCopy';
import type { AppendReply } from '../../src/mirror/remoteLog';
import { copiedOffsets, produce, range, useClusters } from './support';

const clusters = useClusters('east', 'west');
const east = () => clusters[0]!;
const west = () => clusters[1]!;

type CrashKind = 'before-send' | 'after-apply' | 'in-flight' | 'before-save';

/** Kills the mirror at its `at`-th append (or at the state save), the way `kind` says; late sends are collected. */
function crashAt(kind: CrashKind, at: number, late: Promise<unknown>[], lateDelayMs: number): MirrorFaults {
  let appends = 0;
  return {
    async append(_attempt: AppendAttempt, send: () => Promise<AppendReply>) {
      if (kind === 'before-save' || appends++ < at) return send();
      if (kind === 'before-send') throw new MirrorKilled('killed before the append was sent');
      if (kind === 'after-apply') {
        await send();
        throw new MirrorKilled('killed after the append applied, before any progress was saved');
      }
      // In flight: the request reaches the target later, racing the next mirror.
      late.push(new Promise((r) => setTimeout(r, lateDelayMs)).then(send).catch(() => undefined));
      throw new MirrorKilled('killed with the append in flight');
    },
    beforeSave() {
      if (kind === 'before-save' && appends++ >= at) throw new MirrorKilled('killed before the state save');
    },
  };
}

let topicSeq = 0;

describe('killing the mirror mid-copy and restarting loses nothing and duplicates nothing', () => {
  test('random crash points, kinds and timings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom<CrashKind>('before-send', 'after-apply', 'in-flight', 'before-save'), at: fc.nat(6), lateMs: fc.nat(150), produced: fc.nat(15) }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(200, 700, 4096),
        async (lives, fetchBytes) => {
          const topic = `crash-${topicSeq++}`;
          await east().client.admin().createTopic(topic, { partitions: 2 });
          const counts = [17, 9];
          // Several stored batches per partition, so a pass makes several appends to die between.
          for (let i = 0; i < counts[0]!; i += 3) await produce(east().client, topic, 0, Math.min(3, counts[0]! - i), 'v', i);
          for (let i = 0; i < counts[1]!; i += 3) await produce(east().client, topic, 1, Math.min(3, counts[1]! - i), 'v', i);
          const state = new MemoryStateStore();
          const late: Promise<unknown>[] = [];
          const options = { source: east().client, target: west().client, topics: topic, state, fetchBytes, partitionsInFlight: 2 };
          for (const life of lives) {
            const mirror = new Mirror({ ...options, faults: crashAt(life.kind, life.at, late, life.lateMs) });
            await mirror.run({ once: true }).catch((err: unknown) => {
              if (!(err instanceof MirrorKilled)) throw err;
            });
            // The source goes on meanwhile.
            await produce(east().client, topic, 0, life.produced, 'v', counts[0]);
            counts[0]! += life.produced;
          }
          // A last mirror runs to the end while late appends may still land, then once more after they all settled.
          const last = await new Mirror(options).run({ once: true });
          await Promise.all(late);
          const final = await new Mirror(options).run({ once: true });
          expect(last.errors).toEqual([]);
          expect(final.errors).toEqual([]);
          expect(await copiedOffsets(west().client, `east.${topic}`, 0)).toEqual(range(0, counts[0]!));
          expect(await copiedOffsets(west().client, `east.${topic}`, 1)).toEqual(range(0, counts[1]!));
        },
      ),
      { numRuns: 10 },
    );
  }, 300_000); // ten runs of up to four mirrors each, on two local clusters: about 30 s alone, more on a busy machine

  test('an append in flight from a dead mirror that lands after its successor copied the same records is not applied again', async () => {
    await east().client.admin().createTopic('late-after', { partitions: 1 });
    await produce(east().client, 'late-after', 0, 30);
    const state = new MemoryStateStore();
    let held: (() => Promise<AppendReply>) | undefined;
    const first = new Mirror({
      source: east().client, target: west().client, topics: 'late-after', state, fetchBytes: 500,
      faults: {
        async append(_a, send) {
          held = send;
          throw new MirrorKilled('killed with the first append in flight');
        },
      },
    });
    await expect(first.run({ once: true })).rejects.toThrow(MirrorKilled);
    // The successor copies everything, in batches of other sizes.
    expect((await new Mirror({ source: east().client, target: west().client, topics: 'late-after', state, fetchBytes: 2000 }).run({ once: true })).errors).toEqual([]);
    // Now the dead mirror's request arrives: refused (its sequence is long past) or answered as a duplicate; nothing is appended.
    const outcome = await held!().then(
      (reply) => (reply.duplicate ? 'duplicate' : 'applied'),
      (err: Error) => err.name,
    );
    expect(['duplicate', 'ProducerFencedError']).toContain(outcome);
    expect(await copiedOffsets(west().client, 'east.late-after', 0)).toEqual(range(0, 30));
  });

  test('an append in flight that lands after its successor read the tail, before the successor appends: the successor is refused or told duplicate, reads the tail again and goes on', async () => {
    for (const successorFetchBytes of [500, 1500]) {
      const topic = `late-between-${successorFetchBytes}`;
      await east().client.admin().createTopic(topic, { partitions: 1 });
      // Five stored batches of 5 (about 400 bytes each): a fetch of 500 bytes gets one, of 1500 bytes several.
      for (let i = 0; i < 5; i++) await produce(east().client, topic, 0, 5, 'v', i * 5);
      const state = new MemoryStateStore();
      let held: (() => Promise<AppendReply>) | undefined;
      await expect(
        new Mirror({
          source: east().client, target: west().client, topics: topic, state, fetchBytes: 500,
          faults: {
            async append(_a, send) {
              held = send;
              throw new MirrorKilled('killed with the first append in flight');
            },
          },
        }).run({ once: true }),
      ).rejects.toThrow(MirrorKilled);
      let released = false;
      let successorFirst: string | undefined;
      const report = await new Mirror({
        source: east().client, target: west().client, topics: topic, state, fetchBytes: successorFetchBytes,
        faults: {
          async append(_a, send) {
            if (!released) {
              released = true;
              await held!(); // the dead mirror's append lands now, after this mirror read the (empty) tail
              return send().then(
                (reply) => ((successorFirst = reply.duplicate ? 'duplicate' : 'applied'), reply),
                (err: Error) => {
                  successorFirst = err.name;
                  throw err;
                },
              );
            }
            return send();
          },
        },
      }).run({ once: true });
      expect(report.errors).toEqual([]);
      // Same batch size: the same records under the same sequence, a duplicate; another size: refused, then the tail is read again.
      expect(successorFirst).toBe(successorFetchBytes === 500 ? 'duplicate' : 'ProducerFencedError');
      expect(await copiedOffsets(west().client, `east.${topic}`, 0)).toEqual(range(0, 25));
    }
  });
});
