/**
 * The partition index (head item + spilled chunks in DynamoDB): every committed
 * entry is found at its offsets whatever spills happened, including spills that
 * raced each other and lost.
 */
import fc from 'fast-check';
import type { IndexEntry } from '../../src/log/indexEntry';
import type { PartitionIndex } from '../../src/log/PartitionIndex';
import { spillDue } from '../../src/log/appendBatches';
import { startTestStrand, type TestStrand } from '../support/localStrand';

let pkCounter = 0;
const freshPk = () => `index-test-${pkCounter++}#0`;
const entryOf = (i: number, span: number): IndexEntry => ({ objectId: `o${i}`, position: i, size: 10 + (i % 7), span, maxTimestamp: 1000 + i });

/** The model: entries with their base offsets, in order. */
function model(spans: number[]) {
  let next = 0;
  return spans.map((span, i) => {
    const e = { ...entryOf(i, span), baseOffset: next };
    next += span;
    return e;
  });
}

async function expectLocatesEverything(index: PartitionIndex, pk: string, spans: number[]) {
  const expected = model(spans);
  const head = await index.readHead(pk);
  expect(head.highWatermark).toBe(spans.reduce((a, b) => a + b, 0));
  for (const target of expected) {
    for (const offset of [target.baseOffset, target.baseOffset + target.span - 1]) {
      const found = await index.locate(pk, head, offset, Infinity);
      const want = expected.filter((e) => e.baseOffset + e.span > offset);
      expect(found.map((f) => [f.objectId, f.baseOffset])).toEqual(want.map((w) => [w.objectId, w.baseOffset]));
    }
  }
}

describe('partition index', () => {
  let strand: TestStrand;
  let index: PartitionIndex;
  beforeAll(async () => {
    strand = await startTestStrand();
    index = strand.runtime.engine.context.index;
  });
  afterAll(() => strand.dispose());

  test('an append is told its offsets by the one write that records it', async () => {
    const pk = freshPk();
    const a = await index.commit(pk, entryOf(0, 3));
    const b = await index.commit(pk, entryOf(1, 2));
    expect(a.baseOffset).toBe(0);
    expect(b.baseOffset).toBe(3);
    expect(b.head).toMatchObject({ highWatermark: 5, base: 0 });
    expect(b.head!.entries).toHaveLength(2);
  });

  test('spills are due once per head length step, so concurrent appenders do not all spill', () => {
    const due = Array.from({ length: 50 }, (_, n) => n).filter(spillDue);
    expect(due).toEqual([16, 24, 32, 40, 48]);
  });

  test('a spilled chunk is never shortened by a slower spill of the same entries', async () => {
    const pk = freshPk();
    const spans: number[] = [];
    let head;
    for (let i = 0; i < 10; i++) {
      spans.push(1 + (i % 3));
      head = (await index.commit(pk, entryOf(i, spans[i]!))).head;
    }
    const seen = head!;
    // Leader 1 spills all but 2 entries; a delayed leader 0 then tries all but 6 from the same view.
    expect(await index.spill(pk, 1, seen, 2)).toBe(true);
    expect(await index.spill(pk, 1, seen, 6)).toBe(false);
    await expectLocatesEverything(index, pk, spans);
  });

  test('a spill that lost its race leaves an overlapping chunk, and reads still see each offset once', async () => {
    const pk = freshPk();
    const spans: number[] = [];
    let head;
    for (let i = 0; i < 12; i++) {
      spans.push(2);
      head = (await index.commit(pk, entryOf(i, 2))).head;
    }
    // A spill that wrote its chunk (all but 1) but whose head update was beaten by
    // one that moved only all but 5: chunk [0..11) overlaps the head's entries.
    await index.spill(pk, 1, head!, 5);
    const longer = { base: 0, entries: head!.entries };
    await expect(index.spill(pk, 1, longer, 1)).resolves.toBe(false); // base moved: head untouched, chunk grown
    for (let i = 12; i < 20; i++) {
      spans.push(1);
      head = (await index.commit(pk, entryOf(i, 1))).head;
    }
    await index.spill(pk, 2, await index.readHead(pk), 3);
    await expectLocatesEverything(index, pk, spans);
  });

  test('whatever the interleaving of appends and spills, every offset is located in one gap-free run', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ append: fc.integer({ min: 1, max: 4 }) }), fc.record({ spillKeep: fc.integer({ min: 0, max: 5 }) })), {
          minLength: 1,
          maxLength: 40,
        }),
        async (ops) => {
          const pk = freshPk();
          const spans: number[] = [];
          let epoch = 1;
          for (const op of ops) {
            if ('append' in op) {
              await index.commit(pk, entryOf(spans.length, op.append));
              spans.push(op.append);
            } else {
              await index.spill(pk, epoch++, await index.readHead(pk), op.spillKeep);
            }
          }
          if (spans.length > 0) await expectLocatesEverything(index, pk, spans);
        },
      ),
      { numRuns: 25 },
    );
  });

  test('a bounded read stops once it has the bytes it wants, but always returns the entry holding the offset', async () => {
    const pk = freshPk();
    const spans = Array.from({ length: 30 }, () => 1);
    for (let i = 0; i < 30; i++) await index.commit(pk, entryOf(i, 1));
    await index.spill(pk, 1, await index.readHead(pk), 4);
    const head = await index.readHead(pk);
    expect((await index.locate(pk, head, 5, 1)).map((e) => e.baseOffset)).toEqual([5]);
    const some = await index.locate(pk, head, 5, 40);
    expect(some.length).toBeGreaterThan(1);
    expect(some.length).toBeLessThan(25);
    expect(some.map((e) => e.baseOffset)).toEqual(some.map((_, i) => 5 + i));
    expect(spans).toHaveLength(30);
  });
});
