/**
 * Invariants 1–3 of design.md under concurrency, over HTTP against the local
 * runtime: many producers append to one partition at once, and to many.
 */
import { cluster, createTopic, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';

interface Ack {
  partition: number;
  offset: number;
  value: string;
}

async function readAll(strand: TestStrand, topic: string, partition: number): Promise<Map<number, string>> {
  const seen = new Map<number, string>();
  let offset = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const res = await strand.http.get(`${partitionPath(topic, partition)}/records?offset=${offset}&embedded_format=string&max_bytes=65536`);
    expect(res.status).toBe(200);
    for (const r of res.json.records) seen.set(r.offset, r.value.data);
    if (res.json.next_offset >= res.json.high_watermark) break;
    offset = res.json.next_offset;
  }
  return seen;
}

function expectDense(offsets: number[]): void {
  const sorted = [...offsets].sort((a, b) => a - b);
  expect(new Set(sorted).size).toBe(sorted.length);
  sorted.forEach((o, i) => expect(o).toBe(i));
}

describe('concurrent producers', () => {
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand();
  });
  afterAll(() => strand.dispose());

  test('16 producers on one partition get dense, unique offsets and every acknowledged record reads back at its offset', async () => {
    await createTopic(strand.http, 'one-partition', 1);
    const producers = 16;
    const perProducer = 20;
    const acks: Ack[] = [];
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        for (let i = 0; i < perProducer; i++) {
          const value = `p${p}-r${i}`;
          const res = await strand.http.post(`${topicPath('one-partition')}/records`, { value: { type: 'STRING', data: value } });
          expect(res.status).toBe(200);
          acks.push({ partition: res.json.partition_id, offset: res.json.offset, value });
        }
      }),
    );
    expectDense(acks.map((a) => a.offset));
    const log = await readAll(strand, 'one-partition', 0);
    expect(log.size).toBe(producers * perProducer);
    for (const ack of acks) expect(log.get(ack.offset)).toBe(ack.value);
    // Each producer's own records keep their order.
    for (let p = 0; p < producers; p++) {
      const mine = acks.filter((a) => a.value.startsWith(`p${p}-`));
      const offsets = mine.sort((a, b) => Number(a.value.split('-r')[1]) - Number(b.value.split('-r')[1])).map((a) => a.offset);
      expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    }
  });

  test('producers spread over partitions with batches: each partition stays dense and entries of a batch are contiguous', async () => {
    await createTopic(strand.http, 'spread', 4);
    const acks: Ack[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async (_, p) => {
        for (let i = 0; i < 8; i++) {
          const entries = Array.from({ length: 5 }, (_, j) => ({
            id: `${p}-${i}-${j}`,
            key: { type: 'STRING', data: `key-${(p * 7 + i * 3 + j) % 11}` },
            value: { type: 'STRING', data: `p${p}-b${i}-e${j}` },
          }));
          const res = await strand.http.post(`${topicPath('spread')}/records:batch`, { entries });
          expect(res.status).toBe(207);
          expect(res.json.failures).toEqual([]);
          expect(res.json.successes).toHaveLength(5);
          const byPartition = new Map<number, number[]>();
          for (const s of res.json.successes) {
            acks.push({ partition: s.partition_id, offset: s.offset, value: `p${p}-b${i}-e${String(s.id).split('-')[2]}` });
            byPartition.set(s.partition_id, [...(byPartition.get(s.partition_id) ?? []), s.offset]);
          }
          for (const offsets of byPartition.values()) offsets.forEach((o, k) => expect(o).toBe(offsets[0]! + k));
        }
      }),
    );
    for (let partition = 0; partition < 4; partition++) {
      const mine = acks.filter((a) => a.partition === partition);
      expectDense(mine.map((a) => a.offset));
      const log = await readAll(strand, 'spread', partition);
      expect(log.size).toBe(mine.length);
      for (const ack of mine) expect(log.get(ack.offset)).toBe(ack.value);
    }
    expect(acks).toHaveLength(16 * 8 * 5);
  });

  test('rejected requests racing good ones change nothing: the high watermark counts only acknowledged records', async () => {
    await createTopic(strand.http, 'mixed', 1, { 'max.message.bytes': '2000' });
    let acknowledged = 0;
    await Promise.all(
      Array.from({ length: 12 }, async (_, p) => {
        for (let i = 0; i < 10; i++) {
          const bad = (p + i) % 3 === 0;
          const res = bad
            ? await strand.http.post(`${topicPath('mixed')}/records`, { value: { type: 'STRING', data: 'x'.repeat(5000) } })
            : await strand.http.post(`${topicPath('mixed')}/records`, { value: { type: 'STRING', data: `ok-${p}-${i}` } });
          if (bad) {
            expect(res.status).toBe(413);
            expect(res.json.error_code).toBe(41302);
          } else {
            expect(res.status).toBe(200);
            acknowledged++;
          }
        }
      }),
    );
    const partition = await strand.http.get(`${cluster}/topics/mixed/partitions/0`);
    expect(partition.json.high_watermark).toBe(acknowledged);
    const log = await readAll(strand, 'mixed', 0);
    expect([...log.values()].every((v) => v.startsWith('ok-'))).toBe(true);
  });
});
