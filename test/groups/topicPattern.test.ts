/**
 * Topic patterns of REST Proxy v2 subscriptions: Java's whole-name matching,
 * and the refusal of patterns a backtracking engine could take too long on.
 * How: the worst accepted patterns are timed against the longest topic name
 * Kafka allows, made of the characters they backtrack over.
 */
import { StrandError } from '../../src/errors';
import { compileTopicPattern, matchingTopics, patternRepetitionsMax, topicPatternCharsMax } from '../../src/groups/topicPattern';

const names = ['orders-eu', 'orders-us', 'orders', 'preorders-eu', 'payments-eu', 'orders-eu-dlq'];
const refusedWith40002 = (pattern: string) => {
  try {
    compileTopicPattern(pattern);
  } catch (err) {
    return err instanceof StrandError && err.code === 40002 ? err.message : `other error: ${String(err)}`;
  }
  return 'accepted';
};

describe('a topic pattern matches whole topic names, as Java’s Pattern.matches', () => {
  test('the pattern must match the whole name, not a part of it', () => {
    expect(matchingTopics(compileTopicPattern('orders-.*'), names)).toEqual(['orders-eu', 'orders-eu-dlq', 'orders-us']);
    expect(matchingTopics(compileTopicPattern('orders-(eu|us)'), names)).toEqual(['orders-eu', 'orders-us']);
    expect(matchingTopics(compileTopicPattern('.*-eu'), names)).toEqual(['orders-eu', 'payments-eu', 'preorders-eu']);
    expect(matchingTopics(compileTopicPattern('orders|payments-eu'), names)).toEqual(['orders', 'payments-eu']);
  });

  test('a dot is any character, as in Java (escape it for a literal dot)', () => {
    expect(matchingTopics(compileTopicPattern('a.b'), ['a.b', 'axb'])).toEqual(['a.b', 'axb']);
    expect(matchingTopics(compileTopicPattern('a\\.b'), ['a.b', 'axb'])).toEqual(['a.b']);
  });
});

describe('patterns that are refused (40002)', () => {
  test.each([
    ['', /empty/],
    ['x'.repeat(topicPatternCharsMax + 1), /at most 255/],
    ['orders-(', /not a valid regular expression/],
    ['(a+)+b', /exponential/],
    ['(a|ab)*c', /exponential/],
    ['((ab)*c)+', /exponential/],
    ['(a|b){2,40}', /exponential/],
    ['a*a*a*a*b', /repetitions/],
    ['(a)\\1', /backreference/],
    ['orders(?=-eu)', /lookaround/],
    ['a*+', /not a valid regular expression/],
  ])('%s is refused', (pattern, reason) => {
    expect(refusedWith40002(pattern)).toMatch(reason);
  });

  test.each(['orders-.*', '(orders|payments)-[a-z]+', '[a-z]+-[0-9]+-.*', 'orders-[0-9]{4}', '(ab)*c', '[(+*]+x', 'a{3}b{2}c{4}d*'])('%s is accepted', (pattern) => {
    expect(refusedWith40002(pattern)).toBe('accepted');
  });

  test(`the worst accepted patterns (${patternRepetitionsMax} repetitions) match the longest topic name quickly`, () => {
    const longest = 'a'.repeat(249);
    for (const pattern of ['.*a.*a.*b', '[a-z]*[a-z]*[a-z]*b', 'a+a+a+b', '(a)*(a)*(a)*b']) {
      const started = performance.now();
      expect(compileTopicPattern(pattern).test(longest)).toBe(false);
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });
});
