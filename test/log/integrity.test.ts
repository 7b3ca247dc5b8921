/**
 * The log's integrity on DynamoDB's and the AWS SDK's real semantics (issue 13).
 * Each `describe` is one defect the local world used to hide, shown against a
 * real local runtime whose storage clients enforce DynamoDB's limits:
 *
 *   1. a spill that took its lease after a rewrite cannot put back the old chunk;
 *   2. a write the SDK would retry after it applied is never applied twice;
 *   3. the head is bounded, and a long head is spilled within DynamoDB's limits;
 *   4. compaction tells index entries apart by offset, not by their bytes;
 *   5. a walk racing retention is retried, never a 500;
 *   6. an upload is committed once, on its own partition;
 *   7. the sweep acts on complete, current views only;
 *   8. nothing writes a deleted topic's partition again.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { ManualClock } from '../../src/clock';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { OffsetOutOfRangeError } from '../../src/errors';
import { appendBatches, spillPartition } from '../../src/log/appendBatches';
import { encodeIndexEntry, type IndexEntry } from '../../src/log/indexEntry';
import type { LogContext } from '../../src/log/LogContext';
import { newObjectId, objectKey, topicPrefix } from '../../src/log/ObjectStore';
import { HeadFullError, IndexMovedError, headEntriesMax, headSortKey, highWatermarkMax, onceSlotsMax } from '../../src/log/PartitionIndex';
import { uploadSlotKeepMs } from '../../src/producers/producerState';
import { asPartitionLeader, leaderLeaseTtlMs } from '../../src/log/partitionLeader';
import { readPartition, recordsFrom } from '../../src/log/readPartition';
import { TopicCatalog, partitionKey, type Topic } from '../../src/log/TopicCatalog';
import { maintainPartition } from '../../src/maintenance/maintainPartition';
import { distinctEntries } from '../../src/maintenance/rewriteChunks';
import { releasedGraceMs, sweepTopicObjects } from '../../src/maintenance/sweepObjects';
import { injectFaults, isCommit, type FaultInjector } from '../faults/faultyClients';
import { createTopic, partitionPath, startTestStrand, type TestStrand } from '../support/localStrand';

const mergeEverything = { mergeTargetBytes: 1 << 20, mergeObjectsMin: 2, rewriteBytesMax: 64 << 20 };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

describe('log integrity', () => {
  let strand: TestStrand;
  let clock: ManualClock;
  let faults: FaultInjector;
  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    strand = await startTestStrand({ clock, logger: new Logger({ serviceName: 'strand', logLevel: 'ERROR' }) });
    faults = injectFaults(strand.runtime.clients);
  });
  afterAll(() => strand.dispose());
  afterEach(() => faults.clear());

  const engine = () => strand.runtime.engine;
  const ctx = (): LogContext => engine().context;
  const batch = (value: string, key: string | null = null) =>
    encodeRecordBatch([{ key: key === null ? null : Buffer.from(key), value: Buffer.from(value), headers: [], timestamp: clock.now() }]);

  async function newTopic(name: string, configs: Record<string, string> = {}, partitions = 1): Promise<Topic> {
    await engine().createTopic(name, partitions, 1, configs);
    return engine().topics.get(name);
  }
  /** Appends one record per request, with the spills appends trigger. */
  async function appendValues(topic: Topic, values: string[], partition = 0): Promise<number[]> {
    const offsets: number[] = [];
    for (const v of values) {
      const [r] = await appendBatches(ctx(), topic, [{ partition, batches: [batch(v)] }]);
      if (!r!.ok) throw r!.error;
      offsets.push(r!.baseOffset);
    }
    return offsets;
  }
  /** Every record from the log start to the high watermark, as [offset, value]. */
  async function readAll(topic: Topic, partition = 0): Promise<[number, string][]> {
    const out: [number, string][] = [];
    let offset = (await engine().bounds(topic, partition)).logStartOffset;
    for (let guard = 0; guard < 1000; guard++) {
      const result = await readPartition(ctx(), topic, partition, offset, 1 << 20);
      for (const r of recordsFrom(result.batches, offset)) out.push([r.offset, r.value!.toString()]);
      if (result.nextOffset >= result.highWatermark) return out;
      offset = result.nextOffset;
    }
    throw new Error('readAll did not reach the high watermark');
  }
  const expectValues = (read: [number, string][], values: string[]) => expect(read).toEqual(values.map((v, i) => [i, v]));
  const range = (n: number, prefix = 'v') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  /** Puts one object holding `value` and commits it with the index alone (no spill), as an append that stops right after its commit. */
  async function commitOnly(topic: Topic, value: string, partition = 0) {
    const objectId = newObjectId(clock.now());
    const bytes = batch(value);
    await ctx().objects.put(objectKey(topic.topicId, objectId), bytes);
    const entry: IndexEntry = { objectId, position: 0, size: bytes.length, span: 1, maxTimestamp: clock.now() };
    return ctx().index.commit(partitionKey(topic, partition), entry);
  }

  describe('1. a spill works from the head as read under its own lease', () => {
    test('an appender stalled between its commit and its spill cannot put back a chunk a merge replaced', async () => {
      const topic = await newTopic('late-spill');
      const pk = partitionKey(topic, 0);
      // A and B append: A sees 16 head entries, B 24 (neither spills yet).
      const committed = [];
      for (let i = 0; i < 24; i++) committed.push(await commitOnly(topic, `v${i}`));
      expect(committed[15]!.head!.entries).toHaveLength(16);
      expect(committed[23]!.head!.entries).toHaveLength(24);
      // A spills: chunk@0 with 20 entries (4 stay), head base 20.
      await spillPartition(ctx(), pk);
      // Maintenance merges chunk@0 into one object; the sweep deletes the released objects.
      const report = await maintainPartition(ctx(), topic, 0, mergeEverything);
      expect(report!.chunksMerged).toBe(1);
      clock.advance(releasedGraceMs + 1);
      expect(await sweepTopicObjects(ctx(), topic, 10 * 60_000, new Set(report!.released))).toBe(20);
      // B resumes: it takes the lease (a newer epoch than the merge's) and spills.
      await spillPartition(ctx(), pk);
      expectValues(await readAll(topic), range(24));
      const [chunk0] = await ctx().index.chunks(pk);
      expect(new Set(chunk0!.entries.map((e) => e.objectId)).size).toBe(1); // still the merged object
    });
  });

  describe('2. a write whose reply is lost is never applied twice', () => {
    test.each(['500', 'reset', 'timeout'] as const)('a plain commit that applied and lost its reply (%s) is answered with its offsets, appended once', async (fault) => {
      const topic = await newTopic(`lost-reply-${fault}`);
      await appendValues(topic, ['a', 'b']);
      faults.add({ service: 'dynamodb', match: isCommit, fault, when: 'after', times: 1 });
      expect(await appendValues(topic, ['c'])).toEqual([2]);
      faults.clear();
      expect(await appendValues(topic, ['d'])).toEqual([3]);
      expectValues(await readAll(topic), ['a', 'b', 'c', 'd']);
    });

    test('over HTTP: a produce whose commit reply is lost gets 200 with the offset the record has, and the log holds it once', async () => {
      await createTopic(strand.http, 'lost-reply-http');
      faults.add({ service: 'dynamodb', match: isCommit, fault: '500', when: 'after', times: 1 });
      const res = await strand.http.post(`/v3/clusters/local/topics/lost-reply-http/records`, { partition_id: 0, value: { type: 'STRING', data: 'x' } });
      expect(res.status).toBe(200);
      expect(res.json.offset).toBe(0);
      const hw = await strand.http.get(partitionPath('lost-reply-http', 0));
      expect(hw.json.high_watermark).toBe(1);
    });

    test('a lease acquire that applied and lost its reply still gives the lease to its caller', async () => {
      const topic = await newTopic('lost-lease-reply');
      const pk = partitionKey(topic, 0);
      faults.add({ service: 'dynamodb', command: 'UpdateItemCommand', match: (i) => String(i.UpdateExpression).includes('ADD epoch'), fault: '500', when: 'after', times: 1 });
      expect(await asPartitionLeader(ctx(), pk, async (epoch) => epoch)).toBe(1);
      faults.clear();
      // It was released, not left to expire: the next turn runs at once.
      expect(await asPartitionLeader(ctx(), pk, async (epoch) => epoch)).toBe(2);
    });
  });

  describe('3. the head is bounded and spills stay within DynamoDB limits', () => {
    test(`an append past ${headEntriesMax} unspilled entries is refused with 503, and one spill turn empties the head in bounded writes`, async () => {
      const topic = await newTopic('long-head');
      const pk = partitionKey(topic, 0);
      // Another holder keeps the lease (a maintenance turn, or a crashed holder): spills fail.
      await ctx().leases.acquire(pk, 'someone-else', leaderLeaseTtlMs);
      const entries: IndexEntry[] = [];
      for (let i = 0; i < headEntriesMax; i++) {
        const entry = { objectId: `longhead${i.toString(36)}`, position: 0, size: 70, span: 1, maxTimestamp: 1 };
        await ctx().index.commit(pk, entry);
        entries.push(entry);
      }
      await expect(ctx().index.commit(pk, { objectId: 'onetoomany', position: 0, size: 70, span: 1, maxTimestamp: 1 })).rejects.toBeInstanceOf(HeadFullError);
      const res = await strand.http.post(`/v3/clusters/local/topics/long-head/records`, { value: { type: 'STRING', data: 'x' } });
      expect(res.status).toBe(503);
      expect(res.json.error_code).toBe(50301);
      expect((await ctx().index.readHead(pk)).highWatermark).toBe(headEntriesMax);

      clock.advance(leaderLeaseTtlMs + 1);
      await spillPartition(ctx(), pk);
      const head = await ctx().index.readHead(pk);
      expect(head.entries).toHaveLength(4);
      expect(head.base).toBe(headEntriesMax - 4);
      const located = await ctx().index.locate(pk, head, 0, Infinity);
      expect(located.map((e) => e.objectId)).toEqual(entries.map((e) => e.objectId));
    });
  });

  describe('4. compaction tells entries apart by offset', () => {
    test('two index entries pointing at the same bytes are two records: the key keeps its latest value', async () => {
      const topic = await newTopic('same-bytes', { 'cleanup.policy': 'compact' });
      const pk = partitionKey(topic, 0);
      const [a] = await appendBatches(ctx(), topic, [{ partition: 0, batches: [batch('a1', 'A')] }]);
      await appendBatches(ctx(), topic, [{ partition: 0, batches: [batch('b1', 'B')] }]);
      expect(a).toMatchObject({ ok: true, baseOffset: 0 });
      // The same entry again (as a replayed commit or an upload committed twice left it before these fixes).
      const head = await ctx().index.readHead(pk);
      await strand.runtime.clients.ddb.send(
        new UpdateCommand({
          TableName: strand.runtime.config.tables.log,
          Key: { pk, sk: headSortKey },
          UpdateExpression: 'SET e = list_append(e, :entry) ADD hw :one',
          ExpressionAttributeValues: { ':entry': [encodeIndexEntry(head.entries[0]!)], ':one': 1 },
        }),
      );
      expect(distinctEntries([{ base: 0, end: 3, maxTimestamp: 1, entries: (await ctx().index.readHead(pk)).entries }]).map((e) => e.baseOffset)).toEqual([0, 1, 2]);
      await maintainPartition(ctx(), topic, 0, mergeEverything);
      expect(await readAll(topic)).toEqual([
        [1, 'b1'],
        [2, 'a1'],
      ]);
    });
  });

  describe('5. a walk racing retention is retried from the head', () => {
    test('a fetch that finds a chunk, then finds the next one gone, answers out of range (416), not 500', async () => {
      const topic = await newTopic('walk-race');
      const pk = partitionKey(topic, 0);
      await appendValues(topic, range(40));
      const chunks = await ctx().index.chunks(pk);
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      const headBase = (await ctx().index.readHead(pk)).base;
      // Between the reader's first chunk and its next, retention moves the log start to the head and deletes every chunk.
      let raced = false;
      const race = async () => {
        if (raced) return;
        raced = true;
        await ctx().index.advanceLogStart(pk, headBase);
        for (const c of chunks) await ctx().index.deleteChunk(pk, c, headBase);
      };
      const stack = strand.runtime.clients.dynamodb.middlewareStack;
      stack.add(
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        (next: any, context: any) => async (args: any) => {
          const input = args.input as { KeyConditionExpression?: string };
          if (context.commandName === 'QueryCommand' && input.KeyConditionExpression === 'pk = :pk AND sk > :after') await race();
          return next(args);
        },
        { step: 'initialize', name: 'walkRace' },
      );
      try {
        const staleHead = await ctx().index.readHead(pk);
        await expect(ctx().index.locate(pk, staleHead, 5, Infinity)).rejects.toBeInstanceOf(IndexMovedError);
        raced = false;
        await expect(readPartition(ctx(), topic, 0, 5, 1 << 20)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
      } finally {
        stack.remove('walkRace');
      }
      expect((await readAll(topic)).map(([o]) => o)).toEqual(range(40 - headBase).map((_, i) => headBase + i));
    });
  });

  describe('6. an upload is committed once, on the partition it was issued for', () => {
    async function upload(topic: string, partition: number, body: Buffer): Promise<string> {
      const res = await strand.http.post(`${partitionPath(topic, partition)}/uploads`, { size: body.length, sha256: sha256(body) });
      expect(res.status).toBe(201);
      expect((await fetch(res.json.url, { method: 'PUT', headers: res.json.headers, body })).status).toBe(200);
      return res.json.upload_id;
    }
    const commit = (topic: string, partition: number, id: string) => strand.http.post(`${partitionPath(topic, partition)}/uploads/${id}/commit`);

    test('a commit sent again answers with the original offsets and appends nothing', async () => {
      await createTopic(strand.http, 'upload-once', 2);
      const id = await upload('upload-once', 0, encodeRecordBatch(['a', 'b'].map((v) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: 1 }))));
      const first = await commit('upload-once', 0, id);
      const again = await commit('upload-once', 0, id);
      expect(first.json).toMatchObject({ base_offset: 0, last_offset: 1 });
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ base_offset: 0, last_offset: 1 });
      expect((await strand.http.get(partitionPath('upload-once', 0))).json.high_watermark).toBe(2);
    });

    test('a commit whose reply was lost, retried, gets the original offsets', async () => {
      await createTopic(strand.http, 'upload-lost-reply');
      const id = await upload('upload-lost-reply', 0, batch('x'));
      faults.add({ service: 'dynamodb', match: isCommit, fault: 'timeout', when: 'after', times: 3 });
      const first = await commit('upload-lost-reply', 0, id);
      faults.clear();
      const again = await commit('upload-lost-reply', 0, id);
      expect(again.json).toMatchObject({ base_offset: 0, last_offset: 0 });
      if (first.status === 200) expect(first.json).toMatchObject({ base_offset: 0 });
      expect((await strand.http.get(partitionPath('upload-lost-reply', 0))).json.high_watermark).toBe(1);
    });

    test('an upload committed to another partition of its topic is 40002 and changes nothing', async () => {
      await createTopic(strand.http, 'upload-partition', 2);
      const id = await upload('upload-partition', 0, batch('x'));
      const res = await commit('upload-partition', 1, id);
      expect(res.status).toBe(400);
      expect(res.json.error_code).toBe(40002);
      expect((await strand.http.get(partitionPath('upload-partition', 1))).json.high_watermark).toBe(0);
    });

    test(`a head holds at most ${onceSlotsMax} upload slots: past it a commit is 503 and changes nothing, and the leader's trim gives room back`, async () => {
      await createTopic(strand.http, 'upload-slots');
      const topic = await engine().topics.get('upload-slots');
      const pk = partitionKey(topic, 0);
      const first = await upload('upload-slots', 0, batch('a'));
      expect((await commit('upload-slots', 0, first)).json.base_offset).toBe(0);
      expect(await slotCount(pk)).toBe(1);
      // As if onceSlotsMax uploads had been committed in the last minutes.
      await setSlotCount(pk, onceSlotsMax);
      const refused = await commit('upload-slots', 0, await upload('upload-slots', 0, batch('b')));
      expect(refused.status).toBe(503);
      expect(refused.json.error_code).toBe(50301);
      expect((await ctx().index.readHead(pk)).highWatermark).toBe(1);
      // Once the upload can no longer be committed, the trim removes its slot and counts it out.
      await setSlotCount(pk, 1);
      clock.advance(uploadSlotKeepMs + 1);
      // (as the partition's leader: the refused commit tried a spill, which fenced an epoch)
      const epoch = (await ctx().index.readHead(pk)).leaderEpoch;
      expect(await ctx().producers.trim(pk, epoch, clock.now())).toBe(1);
      expect(await slotCount(pk)).toBe(0);
      // A trim whose reply is lost and which the SDK sends again does not count its slots out twice.
      const second = await upload('upload-slots', 0, batch('c'));
      expect((await commit('upload-slots', 0, second)).status).toBe(200);
      expect(await slotCount(pk)).toBe(1);
      clock.advance(uploadSlotKeepMs + 1);
      faults.add({ service: 'dynamodb', match: (i) => String(i.UpdateExpression).startsWith('REMOVE #r'), fault: '500', when: 'after', times: 1 });
      await ctx().producers.trim(pk, epoch, clock.now());
      expect(faults.stats.fired['500']).toBeGreaterThan(0);
      expect(await slotCount(pk)).toBe(0);
      expect(Object.keys(await headItem(pk)).filter((k) => k.startsWith('u.'))).toEqual([]);
    });
  });

  const headItem = async (pk: string) =>
    (await strand.runtime.clients.ddb.send(new GetCommand({ TableName: strand.runtime.config.tables.log, Key: { pk, sk: headSortKey }, ConsistentRead: true }))).Item!;
  const slotCount = async (pk: string) => Number((await headItem(pk)).us ?? 0);
  const setSlotCount = (pk: string, n: number) =>
    strand.runtime.clients.ddb.send(
      new UpdateCommand({ TableName: strand.runtime.config.tables.log, Key: { pk, sk: headSortKey }, UpdateExpression: 'SET us = :n', ExpressionAttributeValues: { ':n': n } }),
    );

  describe('7. the sweep acts on complete, current views', () => {
    test('a topic list that would be cut short throws instead', async () => {
      await newTopic('listed-a');
      const catalog = new TopicCatalog(strand.runtime.clients.ddb, strand.runtime.config.tables.topics, () => clock.now(), 1);
      await expect(catalog.list()).rejects.toThrow(/more than 1 topics/);
    });

    test('objects of a partition added while the sweep ran are kept', async () => {
      const stale = await newTopic('grown-during-sweep');
      const grown = await engine().topics.growPartitions('grown-during-sweep', 2);
      await appendValues(grown, ['p1'], 1);
      clock.advance(11 * 60_000); // older than the grace period
      expect(await sweepTopicObjects(ctx(), stale, 10 * 60_000, new Set(), () => engine().topics.find(stale.name))).toBe(0);
      expect(await readAll(grown, 1)).toEqual([[0, 'p1']]);
      expect((await ctx().objects.list(topicPrefix(grown.topicId))).length).toBe(1);
    });
  });

  describe('the high watermark never passes 2^53-1', () => {
    test('an append that would pass it is refused by its own conditional write (42201), plain or idempotent, and the head is unchanged', async () => {
      const topic = await newTopic('offsets-exhausted');
      const pk = partitionKey(topic, 0);
      const near = highWatermarkMax - 1;
      await strand.runtime.clients.ddb.send(new PutCommand({ TableName: strand.runtime.config.tables.log, Item: { pk, sk: headSortKey, hw: near, base: near, e: [] } }));
      const two = encodeRecordBatch(['a', 'b'].map((v) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: 1 })));
      const [plain] = await appendBatches(ctx(), topic, [{ partition: 0, batches: [two] }]);
      expect(plain).toMatchObject({ ok: false, error: expect.objectContaining({ code: 42201 }) });
      const [idempotent] = await appendBatches(ctx(), topic, [{ partition: 0, batches: [two], producer: { producerId: 7, producerEpoch: 0, baseSequence: 0, count: 2 } }]);
      expect(idempotent).toMatchObject({ ok: false, error: expect.objectContaining({ code: 42201 }) });
      expect(await ctx().index.readHead(pk)).toMatchObject({ highWatermark: near, entries: [] });
      // One more offset still fits.
      expect(await appendValues(topic, ['last'])).toEqual([near]);
    });
  });

  describe('8. nothing writes a deleted topic again', () => {
    test('an append with a cached topic id after the delete is refused and does not recreate the partition', async () => {
      const topic = await newTopic('deleted-late');
      await appendValues(topic, ['a']);
      await engine().deleteTopic('deleted-late');
      const [r] = await appendBatches(ctx(), topic, [{ partition: 0, batches: [batch('late')] }]);
      expect(r).toMatchObject({ ok: false, error: expect.objectContaining({ code: 40403 }) });
      const head = await ctx().index.readHead(partitionKey(topic, 0));
      expect(head).toMatchObject({ deleted: true, highWatermark: 0, entries: [] });
    });

    test('a maintenance turn with a stale topic list leaves no lease or head behind', async () => {
      const topic = await newTopic('deleted-maintained');
      await engine().deleteTopic('deleted-maintained');
      expect(await maintainPartition(ctx(), topic, 0)).toBeUndefined();
      const lease = await strand.runtime.clients.ddb.send(
        new GetCommand({ TableName: strand.runtime.config.tables.leases, Key: { pk: partitionKey(topic, 0) }, ConsistentRead: true }),
      );
      expect(lease.Item).toBeUndefined();
      expect(await ctx().index.fence(partitionKey(topic, 0), 99)).toBe('deleted');
    });
  });
});
