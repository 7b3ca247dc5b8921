import { encodeRecordBatch, readBatchHeader } from '../codec/recordBatch';
import { ErrorCode } from '../errors';
import { itemOfConditionFailure } from './ProducerSequences';
import {
  classifyRefusedCommit,
  dedupWindowBatches,
  incrementSequence,
  planTrim,
  producerOfBatches,
  producerStateTtlMs,
  producersPerPartitionMax,
  slotAttribute,
  stateAttribute,
} from './producerState';

const header = (producerId: number, producerEpoch: number, baseSequence: number, n = 1) =>
  readBatchHeader(
    encodeRecordBatch(Array.from({ length: n }, () => ({ key: null, value: Buffer.from('v'), headers: [], timestamp: 1 })), {
      producerId,
      producerEpoch,
      baseSequence,
    }),
  );

describe('sequences', () => {
  test('wrap from INT32 max to 0, as Kafka', () => {
    expect(incrementSequence(5, 3)).toBe(8);
    expect(incrementSequence(0x7fffffff, 1)).toBe(0);
    expect(incrementSequence(0x7ffffffe, 3)).toBe(1);
  });

  test('a request is one unit: same producer and epoch, contiguous sequences', () => {
    expect(producerOfBatches([header(-1, -1, -1)])).toBeUndefined();
    expect(producerOfBatches([header(7, 2, 10, 3), header(7, 2, 13, 2)])).toEqual({ producerId: 7, producerEpoch: 2, baseSequence: 10, count: 5 });
    for (const bad of [
      [header(7, 2, 10, 3), header(7, 2, 14)],
      [header(7, 2, 10), header(8, 2, 11)],
      [header(7, 2, 10), header(7, 3, 11)],
      [header(7, 2, 10), header(-1, -1, -1)],
      [header(7, -1, 0)],
      [header(7, 0, -1)],
      [header(-2, 0, 0)],
    ]) {
      expect(() => producerOfBatches(bad)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidValue }));
    }
  });
});

describe('a refused commit is classified from the head', () => {
  const p = { producerId: 7, producerEpoch: 1, baseSequence: 4, count: 2 };
  const head = (state: object | undefined, slots: Record<string, number> = {}) => ({
    pk: 'x',
    ...(state ? { [stateAttribute(7)]: state } : {}),
    ...slots,
  });

  test('its own slot in the window: a duplicate with the recorded offset', () => {
    expect(classifyRefusedCommit(head({ e: 1, n: 10, t: 0 }, { [slotAttribute(p)]: 42 }), p)).toEqual({ duplicate: true, baseOffset: 42 });
  });

  test.each([
    ['no state (unknown producer)', head(undefined), /sequence 0/],
    ['a newer epoch (fenced)', head({ e: 2, n: 0, t: 0 }), /fenced/],
    ['an older epoch (new epoch must start at 0)', head({ e: 0, n: 9, t: 0 }), /start at sequence 0/],
    ['a gap', head({ e: 1, n: 2, t: 0 }), /expects 2/],
    ['older than the window', head({ e: 1, n: 40, t: 0 }), /expects 40/],
    ['same base, other count', head({ e: 1, n: 40, t: 0 }, { [slotAttribute({ ...p, count: 3 })]: 5 }), /3 records/],
  ])('%s: 40926', (_, item, message) => {
    const r = classifyRefusedCommit(item, p);
    expect(r.duplicate).toBe(false);
    if (!r.duplicate) {
      expect(r.error.code).toBe(ErrorCode.ProducerFenced);
      expect(r.error.message).toMatch(message);
    }
  });
});

describe('the leader trims producer state', () => {
  const now = 10 * producerStateTtlMs;
  test(`keeps the last ${dedupWindowBatches} slots per producer (by offset), drops older epochs, expired and surplus producers`, () => {
    const item: Record<string, unknown> = { pk: 'x', hw: 100 };
    item[stateAttribute(1)] = { e: 3, n: 80, t: now };
    for (let i = 0; i < 8; i++) item[slotAttribute({ producerId: 1, producerEpoch: 3, baseSequence: i * 10, count: 10 })] = i * 10;
    item[slotAttribute({ producerId: 1, producerEpoch: 2, baseSequence: 0, count: 1 })] = 0;
    item[stateAttribute(2)] = { e: 0, n: 1, t: now - producerStateTtlMs - 1 };
    item[slotAttribute({ producerId: 2, producerEpoch: 0, baseSequence: 0, count: 1 })] = 99;
    const plan = planTrim(item, now);
    expect(plan.dropped.map((s) => s.producerId)).toEqual([2]);
    expect(new Set(plan.remove)).toEqual(
      new Set([
        stateAttribute(2),
        slotAttribute({ producerId: 2, producerEpoch: 0, baseSequence: 0, count: 1 }),
        slotAttribute({ producerId: 1, producerEpoch: 2, baseSequence: 0, count: 1 }),
        ...[0, 1, 2].map((i) => slotAttribute({ producerId: 1, producerEpoch: 3, baseSequence: i * 10, count: 10 })),
      ]),
    );
  });

  test(`keeps at most ${producersPerPartitionMax} producers, the most recently active`, () => {
    const item: Record<string, unknown> = { pk: 'x' };
    for (let i = 0; i < producersPerPartitionMax + 3; i++) item[stateAttribute(i)] = { e: 0, n: 1, t: now - i };
    expect(planTrim(item, now).dropped.map((s) => s.producerId).sort((a, b) => a - b)).toEqual([32, 33, 34]);
  });
});

test('a condition failure item is unmarshalled when it arrives as AttributeValues (AWS), kept when native', () => {
  const raw = { pk: { S: 'x' }, hw: { N: '5' }, e: { L: [{ S: 'a' }] }, 'p.7': { M: { e: { N: '1' }, n: { N: '4' } } } };
  expect(itemOfConditionFailure({ Item: raw })).toEqual({ pk: 'x', hw: 5, e: ['a'], 'p.7': { e: 1, n: 4 } });
  expect(itemOfConditionFailure({ Item: { pk: 'x', hw: 5 } })).toEqual({ pk: 'x', hw: 5 });
  expect(itemOfConditionFailure({})).toBeUndefined();
});
