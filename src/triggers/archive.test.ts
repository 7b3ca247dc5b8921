/**
 * The archive's naming and grouping (src/triggers/archive.ts), pure: a batch
 * splits into hour groups whose union is the batch, each in offset order and
 * named by its first offset; and the names survive any re-batching from the
 * same first offset, which is why a retry overwrites rather than adds.
 */
import fc from 'fast-check';
import { archiveKey, archiveLine, groupByHour, hourOf } from './archive';
import { TimestampType } from '../codec/recordBatch';
import type { FetchedRecord } from '../log/readPartition';

const hourMs = 3_600_000;
const base = Date.UTC(2024, 2, 1, 21, 30); // 2024-03-01T21:30Z

/** Offsets strictly increasing (gaps: compacted records, control batches), timestamps anywhere in a few hours, in any order. */
const batchArb = fc
  .array(fc.record({ gap: fc.integer({ min: 1, max: 3 }), at: fc.integer({ min: -2 * hourMs, max: 4 * hourMs }) }), { minLength: 1, maxLength: 60 })
  .chain((rs) => fc.integer({ min: 0, max: 1_000_000 }).map((start) => {
    let offset = start;
    return rs.map((r, i) => ({ offset: (offset += i === 0 ? 0 : r.gap), timestamp: base + r.at }));
  }));

const names = (records: { offset: number; timestamp: number }[]) => groupByHour(records).map((g) => `${g.dt}/${g.hour}/${g.firstOffset}`);

describe('groupByHour', () => {
  test('groups partition the batch: union is the input, each group in offset order, one hour, named by its first offset', () => {
    fc.assert(
      fc.property(batchArb, (records) => {
        const groups = groupByHour(records);
        const union = groups.flatMap((g) => g.records).sort((a, b) => a.offset - b.offset);
        expect(union).toEqual(records);
        expect(new Set(groups.map((g) => `${g.dt}/${g.hour}`)).size).toBe(groups.length);
        for (const g of groups) {
          expect(g.firstOffset).toBe(g.records[0]!.offset);
          expect(g.records.map((r) => r.offset)).toEqual([...g.records.map((r) => r.offset)].sort((a, b) => a - b));
          for (const r of g.records) expect(hourOf(r.timestamp)).toEqual({ dt: g.dt, hour: g.hour });
        }
        // Groups come in order of their first offsets; the batch's first offset names the first group.
        expect(groups.map((g) => g.firstOffset)).toEqual([...groups.map((g) => g.firstOffset)].sort((a, b) => a - b));
        expect(groups[0]!.firstOffset).toBe(records[0]!.offset);
      }),
    );
  });

  test('every name of a batch is also a name when the same records are delivered from the same first offset in smaller batches, or as a prefix', () => {
    fc.assert(
      fc.property(batchArb, fc.array(fc.integer({ min: 1, max: 59 }), { maxLength: 5 }), (records, cuts) => {
        const all = names(records);
        // Re-batched: consecutive batches starting at the same first offset (a smaller batch_size after a failed attempt).
        const bounds = [...new Set([0, ...cuts.filter((c) => c < records.length), records.length])].sort((a, b) => a - b);
        const rebatched = new Set(bounds.slice(1).flatMap((end, i) => names(records.slice(bounds[i]!, end))));
        for (const n of all) expect(rebatched.has(n)).toBe(true);
        // A prefix (an attempt that saw fewer records): its names are among the whole batch's.
        const prefix = names(records.slice(0, bounds[1]!));
        for (const n of prefix) expect(all).toContain(n);
      }),
    );
  });

  test('an hour boundary splits a batch; the same hour again later joins its group', () => {
    const at = (iso: string) => Date.parse(iso);
    const records = [
      { offset: 10, timestamp: at('2024-03-01T22:59:59.999Z') },
      { offset: 11, timestamp: at('2024-03-01T23:00:00.000Z') },
      { offset: 12, timestamp: at('2024-03-01T22:30:00.000Z') },
      { offset: 13, timestamp: at('2024-03-02T00:00:00.000Z') },
    ];
    expect(groupByHour(records).map((g) => [g.dt, g.hour, g.firstOffset, g.records.map((r) => r.offset)])).toEqual([
      ['2024-03-01', '22', 10, [10, 12]],
      ['2024-03-01', '23', 11, [11]],
      ['2024-03-02', '00', 13, [13]],
    ]);
    expect(archiveKey('archive/', 'orders', 2, { dt: '2024-03-01', hour: '23', firstOffset: 11 })).toBe(
      'archive/topic=orders/dt=2024-03-01/hour=23/orders+2+00000000000000000011.json.gz',
    );
  });
});

describe('archiveLine', () => {
  const record = (key: Buffer | null, value: Buffer | null): FetchedRecord =>
    ({ offset: 7, timestamp: Date.UTC(2024, 2, 1, 23, 0, 1, 5), timestampType: TimestampType.CreateTime, key, value, headers: [{ key: 'h', value: Buffer.from([0xff, 0]) }] }) as unknown as FetchedRecord;
  const binary = () => ({ type: 'BINARY' as const, data: '' });

  test('text as it is, other bytes as base64, null as null; the encoding field says which', () => {
    const line = JSON.parse(archiveLine('orders', 1, record(Buffer.from('k1'), Buffer.from('{"id":1}')), binary));
    expect(line).toEqual({
      topic: 'orders',
      partition: 1,
      offset: 7,
      timestamp: '2024-03-01T23:00:01.005Z',
      timestamp_ms: Date.UTC(2024, 2, 1, 23, 0, 1, 5),
      timestamp_type: 'CREATE_TIME',
      key: 'k1',
      key_encoding: 'utf8',
      key_schema_id: null,
      value: '{"id":1}',
      value_encoding: 'utf8',
      value_schema_id: null,
      headers: [{ key: 'h', value: '/wA=', value_encoding: 'base64' }],
    });
    const other = JSON.parse(archiveLine('orders', 1, record(null, Buffer.from([0xc3, 0x28])), binary));
    expect(other).toMatchObject({ key: null, key_encoding: null, value: 'wyg=', value_encoding: 'base64' });
  });

  test('a value with a registered schema id is its decoded datum as JSON text', () => {
    const avro = () => ({ type: 'AVRO' as const, data: { id: 3, name: 'c' }, schema_id: 5 });
    const line = JSON.parse(archiveLine('orders', 0, record(null, Buffer.from([0, 0, 0, 0, 5, 6, 2, 99])), avro));
    expect(line).toMatchObject({ value: '{"id":3,"name":"c"}', value_encoding: 'avro', value_schema_id: 5 });
  });
});
