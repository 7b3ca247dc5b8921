import { batchAnswerOf, batchItemIdentifier } from './batchItemFailures';

const records = [{ offset: 10 }, { offset: 11 }, { offset: 12 }];
const failures = (...ids: unknown[]) => ({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) });

describe('partial batch failure answers', () => {
  test('an identifier is <topic>-<partition>@<offset>, the event records key and the offset', () => {
    expect(batchItemIdentifier('orders.v1-eu', 3, 42)).toBe('orders.v1-eu-3@42');
  });

  test('no answer, another answer, null or an empty list: every record succeeded', () => {
    for (const answer of [undefined, null, 'OK', 42, {}, { statusCode: 200 }, { batchItemFailures: null }, { batchItemFailures: [] }]) {
      expect(batchAnswerOf(answer, 'orders', 0, records)).toEqual({ kind: 'success' });
    }
  });

  test('records of the batch: their offsets, ascending and once each', () => {
    expect(batchAnswerOf(failures('orders-0@12', 'orders-0@11', 'orders-0@12'), 'orders', 0, records)).toEqual({ kind: 'partial', failedOffsets: [11, 12] });
    // A topic name with '-' and digits is still split at the last '@'.
    expect(batchAnswerOf(failures('a-1-2@10'), 'a-1', 2, records)).toEqual({ kind: 'partial', failedOffsets: [10] });
  });

  test('a malformed answer fails the whole batch (Lambda\'s rule)', () => {
    for (const answer of [
      { batchItemFailures: 'orders-0@10' },
      { batchItemFailures: [null] },
      failures(''),
      failures(10),
      failures('orders-0@13'), // not in the batch
      failures('orders-1@10'), // another partition
      failures('other-0@10'),
      failures('orders-0@1e1'),
    ]) {
      expect(batchAnswerOf(answer, 'orders', 0, records).kind).toBe('invalid');
    }
  });
});
