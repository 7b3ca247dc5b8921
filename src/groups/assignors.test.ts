import fc from 'fast-check';
import { rangeAssign, uniformAssign, type AssignorInput, type TargetAssignment } from './assignors';
import { partitionsOf, parseTpKey } from './topicPartition';

function checkComplete(input: AssignorInput, target: TargetAssignment): void {
  const subs = new Map(input.members.map((m) => [m.memberId, new Set(m.subscribedTopics)]));
  const expected = partitionsOf(input.members.flatMap((m) => m.subscribedTopics), input.partitionCounts).sort();
  const given = Object.entries(target).flatMap(([id, tps]) => {
    for (const tp of tps) expect(subs.get(id)!.has(parseTpKey(tp).topic)).toBe(true);
    return tps;
  });
  expect([...given].sort()).toEqual(expected);
}

const inputs = fc
  .record({
    memberCount: fc.integer({ min: 1, max: 8 }),
    counts: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 0, max: 12 }), { minKeys: 1 }),
  })
  .chain(({ memberCount, counts }) =>
    fc
      .array(fc.subarray(Object.keys(counts), { minLength: 0 }), { minLength: memberCount, maxLength: memberCount })
      .map((subs): AssignorInput => ({
        members: subs.map((s, i) => ({ memberId: `m${i}`, subscribedTopics: s })),
        partitionCounts: counts,
      })),
  );

describe('the range assignor', () => {
  test('splits each topic into contiguous ranges, the first members taking one more', () => {
    const target = rangeAssign({
      members: [{ memberId: 'b', subscribedTopics: ['t'] }, { memberId: 'a', subscribedTopics: ['t'] }],
      partitionCounts: { t: 5 },
    });
    expect(target).toEqual({ b: ['t:3', 't:4'], a: ['t:0', 't:1', 't:2'] });
  });

  test('gives every partition of a subscribed topic to exactly one subscriber', () => {
    fc.assert(fc.property(inputs, (input) => checkComplete(input, rangeAssign(input))));
  });
});

describe('the uniform assignor', () => {
  test('gives every partition of a subscribed topic to exactly one subscriber', () => {
    fc.assert(fc.property(inputs, (input) => checkComplete(input, uniformAssign(input))));
  });

  test('with identical subscriptions, member counts differ by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 30 }), (m, a, b) => {
        const members = Array.from({ length: m }, (_, i) => ({ memberId: `m${i}`, subscribedTopics: ['a', 'b'] }));
        const target = uniformAssign({ members, partitionCounts: { a, b } });
        const sizes = Object.values(target).map((t) => t.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });

  test('is sticky: a member joining moves only the partitions it takes', () => {
    const two = [{ memberId: 'x', subscribedTopics: ['t'] }, { memberId: 'y', subscribedTopics: ['t'] }];
    const before = uniformAssign({ members: two, partitionCounts: { t: 6 } });
    const after = uniformAssign({
      members: [...two, { memberId: 'z', subscribedTopics: ['t'] }],
      partitionCounts: { t: 6 },
      previous: before,
    });
    expect(after.z).toHaveLength(2);
    for (const id of ['x', 'y']) {
      expect(after[id]).toHaveLength(2);
      for (const tp of after[id]!) expect(before[id]).toContain(tp);
    }
  });

  test('balances six partitions over three members two each', () => {
    const members = ['c1', 'c2', 'c3'].map((memberId) => ({ memberId, subscribedTopics: ['orders'] }));
    const target = uniformAssign({ members, partitionCounts: { orders: 6 } });
    expect(Object.values(target).map((t) => t.length)).toEqual([2, 2, 2]);
  });
});
