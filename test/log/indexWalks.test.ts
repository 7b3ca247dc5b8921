/**
 * Walks over a partition's index chunks past their bounds, and a fetch racing
 * retention. The bounds are lowered (PartitionIndex takes them as a constructor
 * argument) so a few dozen appends are "many chunks".
 *
 * - chunks() lists every chunk or refuses: the sweep keeps every object the
 *   index references, however many pages the listing takes.
 * - entriesFrom() has no cap: retention and offsets-by-timestamp see every entry.
 * - locate() cut by its bound returns a contiguous prefix (a short read), never
 *   a run with a gap.
 * - a locate with a head read before retention moved the log start returns
 *   nothing, so the fetch reads the head again instead of skipping live records.
 */
import { ManualClock } from '../../src/clock';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { OffsetOutOfRangeError } from '../../src/errors';
import { appendBatches } from '../../src/log/appendBatches';
import type { LogContext } from '../../src/log/LogContext';
import { newObjectId, objectKey, topicPrefix } from '../../src/log/ObjectStore';
import { PartitionIndex, type IndexWalkLimits } from '../../src/log/PartitionIndex';
import { locateRanges, offsetForTimestamp, readPartition, recordsFrom } from '../../src/log/readPartition';
import { partitionKey, type Topic } from '../../src/log/TopicCatalog';
import { maintainPartition } from '../../src/maintenance/maintainPartition';
import { sweepTopicObjects } from '../../src/maintenance/sweepObjects';
import { startTestStrand, type TestStrand } from '../support/localStrand';

/** 1 chunk a page (4 for chunks()), 2 chunks a locate: 100 one-record appends make 8 chunks, 130 make 10. */
const smallWalks: IndexWalkLimits = { chunksPerQuery: 1, chunksPerLocateMax: 2, chunksListedMax: 1000 };

describe('index walks past their bounds', () => {
  let strand: TestStrand;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    strand = await startTestStrand({ clock });
  });
  afterAll(() => strand.dispose());

  const engine = () => strand.runtime.engine;
  const indexWith = (limits: IndexWalkLimits) => new PartitionIndex(strand.runtime.clients.ddb, strand.runtime.config.tables.log, limits);
  /** The engine's context with another index in it. */
  const contextWith = (index: PartitionIndex): LogContext => ({ ...engine().context, index });

  async function topicWithAppends(name: string, count: number, configs: Record<string, string> = {}): Promise<Topic> {
    await engine().createTopic(name, 1, 1, configs);
    const topic = await engine().topics.get(name);
    await appendOneByOne(topic, 0, count);
    return topic;
  }
  async function appendOneByOne(topic: Topic, from: number, count: number): Promise<void> {
    for (let i = from; i < from + count; i++) {
      const batch = encodeRecordBatch([{ key: null, value: Buffer.from(`v${i}`), headers: [], timestamp: clock.now() }]);
      const [result] = await engine().append(topic, [{ partition: 0, batches: [batch] }]);
      expect(result).toMatchObject({ ok: true, baseOffset: i });
    }
  }
  /** Reads from `from` to the high watermark; every fetch must start exactly where the last one ended. */
  async function readAll(ctx: LogContext, topic: Topic, from: number) {
    const values: string[] = [];
    const nextOffsets: number[] = [];
    let offset = from;
    for (let guard = 0; guard < 1000; guard++) {
      const result = await readPartition(ctx, topic, 0, offset, 1 << 20);
      const records = recordsFrom(result.batches, offset);
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => offset + i));
      values.push(...records.map((r) => r.value!.toString()));
      nextOffsets.push(result.nextOffset);
      offset = result.nextOffset;
      if (offset >= result.highWatermark) break;
    }
    return { values, nextOffsets };
  }
  const objectCount = async (topic: Topic) => (await engine().context.objects.list(topicPrefix(topic.topicId))).length;
  const values = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `v${from + i}`);

  test('chunks() lists every chunk past its page bound, or refuses; the sweep never deletes a referenced object', async () => {
    const topic = await topicWithAppends('walk-sweep', 130);
    const pk = partitionKey(topic, 0);
    const everyChunk = await engine().context.index.chunks(pk);
    expect(everyChunk.length).toBeGreaterThanOrEqual(10);
    expect(await indexWith(smallWalks).chunks(pk)).toEqual(everyChunk);

    // An old uncommitted object: garbage the sweep should remove, so it is seen acting.
    await engine().context.objects.put(objectKey(topic.topicId, newObjectId(clock.now() - 3_600_000)), Buffer.from('orphan'));
    expect(await objectCount(topic)).toBe(131);

    // Fewer chunks allowed than there are: refused, nothing deleted.
    const tiny = indexWith({ ...smallWalks, chunksListedMax: 3 });
    await expect(tiny.chunks(pk)).rejects.toThrow(/more than 3 index chunks/);
    await expect(sweepTopicObjects(contextWith(tiny), topic, 0)).rejects.toThrow(/more than 3 index chunks/);
    expect(await objectCount(topic)).toBe(131);

    // Many pages: only the orphan goes, every referenced object stays.
    expect(await sweepTopicObjects(contextWith(indexWith(smallWalks)), topic, 0)).toBe(1);
    expect(await objectCount(topic)).toBe(130);
    expect((await readAll(engine().context, topic, 0)).values).toEqual(values(0, 130));
  });

  test('offsets by timestamp and retention see every entry, however many chunk pages', async () => {
    const topic = await topicWithAppends('walk-retention', 60, { 'retention.ms': '5000' });
    clock.advance(10_000);
    const fresh = clock.now();
    await appendOneByOne(topic, 60, 40);
    const ctx = contextWith(indexWith(smallWalks));

    expect(await offsetForTimestamp(ctx, topic, 0, fresh)).toEqual({ offset: 60, timestamp: fresh });
    expect(await offsetForTimestamp(ctx, topic, 0, fresh + 1)).toEqual({ offset: 100, timestamp: -1 });

    const report = await maintainPartition(ctx, topic, 0);
    expect(report?.logStartOffset).toBe(60);
    expect(await engine().bounds(topic, 0)).toEqual({ logStartOffset: 60, highWatermark: 100 });
    expect((await readAll(ctx, topic, 60)).values).toEqual(values(60, 100));
  });

  test('a fetch from the start over many small entries gets a contiguous prefix, and reading on gets the rest', async () => {
    const topic = await topicWithAppends('walk-fetch', 100);
    const ctx = contextWith(indexWith(smallWalks));

    // The walk stops after 2 chunks: a short read ending at a chunk's end, not a gap error.
    const first = await readPartition(ctx, topic, 0, 0, 1 << 20);
    expect(first.nextOffset).toBeGreaterThan(0);
    expect(first.nextOffset).toBeLessThan(first.highWatermark);
    expect(recordsFrom(first.batches, 0).map((r) => r.offset)).toEqual(Array.from({ length: first.nextOffset }, (_, i) => i));
    const ranges = await locateRanges(ctx, topic, 0, 0, 1 << 20);
    expect(ranges.nextOffset).toBe(first.nextOffset);
    expect(ranges.runs.flatMap((r) => r.entries.map((e) => e.baseOffset))).toEqual(Array.from({ length: first.nextOffset }, (_, i) => i));

    const all = await readAll(ctx, topic, 0);
    expect(all.values).toEqual(values(0, 100));
    expect(all.nextOffsets.length).toBeGreaterThan(1);
  });
});

describe('a fetch racing retention', () => {
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand();
  });
  afterAll(() => strand.dispose());

  const engine = () => strand.runtime.engine;

  async function topicWithAppends(name: string, count: number): Promise<Topic> {
    await engine().createTopic(name, 1, 1, {});
    const topic = await engine().topics.get(name);
    for (let i = 0; i < count; i++) {
      const batch = encodeRecordBatch([{ key: null, value: Buffer.from(`v${i}`), headers: [], timestamp: Date.now() }]);
      await engine().append(topic, [{ partition: 0, batches: [batch] }]);
    }
    return topic;
  }

  test('a locate with a head read before retention moved the log start returns nothing, and the fetch answers out of range', async () => {
    // 28 one-record appends: chunks at 0 and 12 (spills at head lengths 16), the head from 24.
    const topic = await topicWithAppends('race-retention', 28);
    const pk = partitionKey(topic, 0);
    const index = engine().context.index;
    const stale = await index.readHead(pk);
    expect(stale).toMatchObject({ logStartOffset: 0, base: 24, highWatermark: 28 });
    const chunks = await index.chunks(pk);
    expect(chunks.map((c) => [c.base, c.end])).toEqual([[0, 12], [12, 24]]);

    // Retention runs between the fetch's head read and its locate: the log start
    // moves to 15 and the chunk below it goes. Records 15..23 are live, in chunk 12.
    await index.advanceLogStart(pk, 15);
    await index.deleteChunk(pk, chunks[0]!, 15);

    // The stale head says offset 5 is in range; the chunk that held it is gone.
    // Answering from the head (offset 24) would skip 15..23.
    expect(await index.locate(pk, stale, 5, 1 << 20)).toEqual([]);

    // The fetch reads the head again and answers out of range, with the new log start.
    const staleOnce = Object.create(index) as PartitionIndex;
    let headReads = 0;
    staleOnce.readHead = async (key: string) => (headReads++ === 0 ? stale : index.readHead(key));
    const ctx: LogContext = { ...engine().context, index: staleOnce };
    const outOfRange = readPartition(ctx, topic, 0, 5, 1 << 20);
    await expect(outOfRange).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    await expect(outOfRange).rejects.toMatchObject({ details: { log_start_offset: 15, high_watermark: 28 } });
    expect(headReads).toBe(2);

    headReads = 0;
    await expect(locateRanges(ctx, topic, 0, 5, 1 << 20)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    expect(headReads).toBe(2);

    // From the new log start, everything live reads back.
    const fromStart = await readPartition(engine().context, topic, 0, 15, 1 << 20);
    expect(recordsFrom(fromStart.batches, 15).map((r) => r.offset)).toEqual(Array.from({ length: 13 }, (_, i) => 15 + i));
  });

  test('an appender trims producer state only when its spill happened', async () => {
    const topic = await topicWithAppends('spill-trim', 15);
    const refusing = Object.create(engine().context.index) as PartitionIndex;
    refusing.spill = async () => false;
    const producers = Object.create(engine().context.producers) as LogContext['producers'];
    const trim = jest.fn(engine().context.producers.trim.bind(engine().context.producers));
    producers.trim = trim;
    const batch = (v: string) => encodeRecordBatch([{ key: null, value: Buffer.from(v), headers: [], timestamp: Date.now() }]);

    // The 16th entry makes a spill due; this spill is refused (another turn got there).
    await appendBatches({ ...engine().context, index: refusing, producers }, topic, [{ partition: 0, batches: [batch('a')] }]);
    expect(trim).not.toHaveBeenCalled();

    // 8 more: due again, and this one spills, so it trims on the same turn.
    for (let i = 0; i < 8; i++) {
      await appendBatches({ ...engine().context, producers }, topic, [{ partition: 0, batches: [batch(`b${i}`)] }]);
    }
    expect(trim).toHaveBeenCalledTimes(1);
  });
});
