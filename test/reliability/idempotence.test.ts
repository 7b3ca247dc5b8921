/**
 * Idempotent producers (api.md, "Binary record batches"), over HTTP against a
 * real local Strand. How: batches carry producer id, epoch and base sequence in
 * their headers (built by Strand's encoder, byte-compatible with Kafka's); every
 * rejection is followed by a read showing the log did not change (invariant 3),
 * and every acknowledged record is read back exactly once at its offset.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { encodeRecordBatch } from '../../src/codec/recordBatch';
import { headSortKey } from '../../src/log/PartitionIndex';
import { dedupWindowBatches } from '../../src/producers/producerState';
import { cluster, createTopic, partitionPath, startTestStrand, type TestStrand } from '../support/localStrand';
import { expectError, expectStatus, fetchAll, highWatermark } from '../support/api';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const batchType = 'application/vnd.kafka.record-batch.v2';

interface Producer {
  id: number;
  epoch: number;
}

async function initProducer(body?: unknown): Promise<Producer> {
  const res = await strand.http.post(`${cluster}/producers`, body ?? {});
  expectStatus(res, 201);
  return { id: res.json.producer_id, epoch: res.json.producer_epoch };
}

function batch(p: Producer, baseSequence: number, values: string[]): Buffer {
  return encodeRecordBatch(
    values.map((v, i) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: 1_700_000_000_000 + i })),
    { producerId: p.id, producerEpoch: p.epoch, baseSequence },
  );
}

function post(topic: string, body: Buffer, partition = 0) {
  return strand.http.request('POST', `${partitionPath(topic, partition)}/batches`, { body, headers: { 'content-type': batchType } });
}

async function values(topic: string, partition = 0): Promise<string[]> {
  return (await fetchAll(strand.http, topic, partition)).map((r) => String(r.value?.data));
}

async function headItem(topic: string, partition = 0): Promise<Record<string, unknown>> {
  const t = await strand.runtime.engine.topics.get(topic);
  const out = await strand.runtime.clients.ddb.send(
    new GetCommand({ TableName: strand.runtime.config.tables.log, Key: { pk: `${t.topicId}#${partition}`, sk: headSortKey }, ConsistentRead: true }),
  );
  return out.Item ?? {};
}

describe('producer ids (InitProducerId)', () => {
  test('each call hands out a fresh id at epoch 0; ids never repeat, even concurrently', async () => {
    const ps = await Promise.all(Array.from({ length: 20 }, () => initProducer()));
    expect(new Set(ps.map((p) => p.id)).size).toBe(20);
    for (const p of ps) {
      expect(p.epoch).toBe(0);
      expect(Number.isSafeInteger(p.id) && p.id >= 0).toBe(true);
    }
    // An empty body is the same as {}.
    const res = await strand.http.request('POST', `${cluster}/producers`);
    expectStatus(res, 201);
    expect(ps.map((p) => p.id)).not.toContain(res.json.producer_id);
  });

  test('re-initializing an id bumps its epoch; with a stale expected epoch it is 40926; an unknown id is 40002', async () => {
    const p = await initProducer();
    expect(await initProducer({ producer_id: p.id })).toEqual({ id: p.id, epoch: 1 });
    expect(await initProducer({ producer_id: p.id, producer_epoch: 1 })).toEqual({ id: p.id, epoch: 2 });
    expectError(await strand.http.post(`${cluster}/producers`, { producer_id: p.id, producer_epoch: 1 }), 40926);
    expectError(await strand.http.post(`${cluster}/producers`, { producer_id: 9_000_000_000 }), 40002);
    expectError(await strand.http.post(`${cluster}/producers`, { producer_id: -1 }), 40002);
    expectError(await strand.http.post(`${cluster}/producers`, { producer_epoch: 1 }), 40002);
    expectError(await strand.http.post(`${cluster}/producers`, { producer_id: p.id, surprise: 1 }), 40002);
    expectError(await strand.http.post('/v3/clusters/other/producers', {}), 40401);
  });
});

describe('an idempotent batch is appended at most once per partition', () => {
  test('the same batch sent again returns the original offsets with duplicate: true and appends nothing', async () => {
    await createTopic(strand.http, 'idem-dup');
    const p = await initProducer();
    const first = await post('idem-dup', batch(p, 0, ['a', 'b', 'c']));
    expectStatus(first, 200);
    expect(first.json).toEqual(expect.objectContaining({ base_offset: 0, last_offset: 2, duplicate: false }));
    for (let i = 0; i < 3; i++) {
      const again = await post('idem-dup', batch(p, 0, ['a', 'b', 'c']));
      expectStatus(again, 200);
      expect(again.json).toEqual(expect.objectContaining({ base_offset: 0, last_offset: 2, duplicate: true }));
    }
    const next = await post('idem-dup', batch(p, 3, ['d']));
    expect(next.json).toEqual(expect.objectContaining({ base_offset: 3, last_offset: 3, duplicate: false }));
    expect(await values('idem-dup')).toEqual(['a', 'b', 'c', 'd']);
  });

  test(`retries of any of the last ${dedupWindowBatches} batches are duplicates with their own offsets`, async () => {
    await createTopic(strand.http, 'idem-window');
    const p = await initProducer();
    const other = await initProducer();
    const sent: { seq: number; values: string[]; base: number }[] = [];
    let seq = 0;
    let otherSeq = 0;
    for (let i = 0; i < dedupWindowBatches; i++) {
      const vs = Array.from({ length: i + 1 }, (_, j) => `w${i}.${j}`);
      const res = await post('idem-window', batch(p, seq, vs));
      expectStatus(res, 200);
      sent.push({ seq, values: vs, base: res.json.base_offset });
      seq += vs.length;
      // Another producer interleaves, so offsets and sequences differ.
      expectStatus(await post('idem-window', batch(other, otherSeq++, [`o${i}`])), 200);
    }
    for (const s of [...sent].reverse()) {
      const res = await post('idem-window', batch(p, s.seq, s.values));
      expectStatus(res, 200);
      expect(res.json).toEqual(expect.objectContaining({ base_offset: s.base, last_offset: s.base + s.values.length - 1, duplicate: true }));
    }
    expect((await values('idem-window')).length).toBe(sent.reduce((n, s) => n + s.values.length, 0) + dedupWindowBatches);
  });

  test('a batch sent many times at once is appended once; every reply has the same offsets', async () => {
    await createTopic(strand.http, 'idem-race');
    const p = await initProducer();
    const body = batch(p, 0, ['x', 'y']);
    const replies = await Promise.all(Array.from({ length: 8 }, () => post('idem-race', body)));
    for (const r of replies) expectStatus(r, 200);
    expect(replies.filter((r) => r.json.duplicate === false)).toHaveLength(1);
    expect(new Set(replies.map((r) => `${r.json.base_offset}-${r.json.last_offset}`))).toEqual(new Set(['0-1']));
    expect(await values('idem-race')).toEqual(['x', 'y']);
  });

  test('a request of several batches is one unit: its sequences must be contiguous, and it is deduplicated whole', async () => {
    await createTopic(strand.http, 'idem-multi');
    const p = await initProducer();
    const body = Buffer.concat([batch(p, 0, ['a', 'b']), batch(p, 2, ['c'])]);
    const first = await post('idem-multi', body);
    expect(first.json).toEqual(expect.objectContaining({ base_offset: 0, last_offset: 2, duplicate: false }));
    const again = await post('idem-multi', body);
    expect(again.json).toEqual(expect.objectContaining({ base_offset: 0, last_offset: 2, duplicate: true }));
    // Not contiguous inside the request, mixed producers, mixed with a plain batch: 40002, nothing written.
    const q = await initProducer();
    expectError(await post('idem-multi', Buffer.concat([batch(p, 3, ['d']), batch(p, 5, ['e'])])), 40002);
    expectError(await post('idem-multi', Buffer.concat([batch(p, 3, ['d']), batch(q, 0, ['e'])])), 40002);
    const plain = encodeRecordBatch([{ key: null, value: Buffer.from('z'), headers: [], timestamp: 1 }]);
    expectError(await post('idem-multi', Buffer.concat([batch(p, 3, ['d']), plain])), 40002);
    expect(await values('idem-multi')).toEqual(['a', 'b', 'c']);
  });

  test('batches without a producer id are never deduplicated (no duplicate field)', async () => {
    await createTopic(strand.http, 'idem-plain');
    const plain = encodeRecordBatch([{ key: null, value: Buffer.from('z'), headers: [], timestamp: 1 }]);
    const a = await post('idem-plain', plain);
    const b = await post('idem-plain', plain);
    expect([a.json.base_offset, b.json.base_offset]).toEqual([0, 1]);
    expect(a.json.duplicate).toBeUndefined();
  });
});

describe('gaps and stale epochs are 40926 and change nothing', () => {
  test('a sequence gap is refused; the expected sequence then succeeds', async () => {
    await createTopic(strand.http, 'idem-gap');
    const p = await initProducer();
    expectStatus(await post('idem-gap', batch(p, 0, ['a', 'b'])), 200);
    const gap = await post('idem-gap', batch(p, 5, ['c']));
    expectError(gap, 40926);
    expect(gap.json.message).toMatch(/expects 2/);
    expect(await highWatermark(strand.http, 'idem-gap')).toBe(2);
    expectStatus(await post('idem-gap', batch(p, 2, ['c'])), 200);
    expect(await values('idem-gap')).toEqual(['a', 'b', 'c']);
  });

  test('a first batch that does not start at sequence 0 is refused (unknown producer here)', async () => {
    await createTopic(strand.http, 'idem-first');
    const p = await initProducer();
    expectError(await post('idem-first', batch(p, 7, ['a'])), 40926);
    expect(await highWatermark(strand.http, 'idem-first')).toBe(0);
  });

  test('after an epoch bump the old epoch is fenced, and the new epoch starts at sequence 0', async () => {
    await createTopic(strand.http, 'idem-epoch');
    const old = await initProducer();
    expectStatus(await post('idem-epoch', batch(old, 0, ['a'])), 200);
    const bumped = await initProducer({ producer_id: old.id });
    expect(bumped.epoch).toBe(old.epoch + 1);
    expectError(await post('idem-epoch', batch(bumped, 1, ['b'])), 40926);
    expectStatus(await post('idem-epoch', batch(bumped, 0, ['b'])), 200);
    const stale = await post('idem-epoch', batch(old, 1, ['zombie']));
    expectError(stale, 40926);
    expect(stale.json.message).toMatch(/fenced/);
    // A retry of the old epoch's batch is fenced too, not a duplicate: the new epoch owns the producer now.
    expectError(await post('idem-epoch', batch(old, 0, ['a'])), 40926);
    expect(await values('idem-epoch')).toEqual(['a', 'b']);
  });

  test('the same base sequence with a different record count is refused', async () => {
    await createTopic(strand.http, 'idem-count');
    const p = await initProducer();
    expectStatus(await post('idem-count', batch(p, 0, ['a', 'b'])), 200);
    expectError(await post('idem-count', batch(p, 0, ['a'])), 40926);
    expect(await highWatermark(strand.http, 'idem-count')).toBe(2);
  });
});

describe('producer state lives in the partition head and survives spills', () => {
  test('many producers across many spills: every record once, retries still deduplicated, the window trimmed', async () => {
    await createTopic(strand.http, 'idem-spill');
    const producers = await Promise.all(Array.from({ length: 3 }, () => initProducer()));
    const seqs = producers.map(() => 0);
    const last: { p: Producer; seq: number; vs: string[]; base: number }[][] = producers.map(() => []);
    const rounds = 30;
    for (let r = 0; r < rounds; r++) {
      await Promise.all(
        producers.map(async (p, i) => {
          const vs = [`p${i}r${r}a`, `p${i}r${r}b`];
          const res = await post('idem-spill', batch(p, seqs[i]!, vs));
          expectStatus(res, 200);
          last[i]!.push({ p, seq: seqs[i]!, vs, base: res.json.base_offset });
          seqs[i]! += vs.length;
        }),
      );
    }
    const all = await values('idem-spill');
    expect(all).toHaveLength(rounds * producers.length * 2);
    expect(new Set(all).size).toBe(all.length);
    // Spills moved the head's base: the index really spilled while producer state stayed.
    const head = await headItem('idem-spill');
    expect(Number(head.base)).toBeGreaterThan(0);
    for (const sent of last) {
      for (const s of sent.slice(-dedupWindowBatches)) {
        const res = await post('idem-spill', batch(s.p, s.seq, s.vs));
        expect(res.json).toEqual(expect.objectContaining({ base_offset: s.base, duplicate: true }));
      }
    }
    // The leader trims slots beyond the window at each spill: what is left is bounded.
    const slots = Object.keys(head).filter((k) => k.startsWith('q.'));
    expect(slots.length).toBeLessThanOrEqual(producers.length * dedupWindowBatches + 16);
    expect(JSON.stringify(head).length).toBeLessThan(2048);
    expect(await values('idem-spill')).toEqual(all);
  });
});
