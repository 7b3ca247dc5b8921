/** The nesting scan (src/jsonNesting.ts): depth as JSON.parse would build it, without recursion. */
import { jsonNestsDeeperThan } from './jsonNesting';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('measuring how deeply a JSON text nests', () => {
  test('a text at the bound passes and one level more does not', () => {
    expect(jsonNestsDeeperThan(nested(100), 100)).toBe(false);
    expect(jsonNestsDeeperThan(nested(101), 100)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":[1,{"c":2}]}}', 4)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":{"b":[1,{"c":2}]}}', 3)).toBe(true);
  });

  test('scalars and siblings add no depth', () => {
    expect(jsonNestsDeeperThan('"x"', 0)).toBe(false);
    expect(jsonNestsDeeperThan('[' + '[],'.repeat(10_000) + '[]]', 2)).toBe(false);
  });

  test('brackets inside strings, escaped quotes included, do not count', () => {
    expect(jsonNestsDeeperThan(JSON.stringify({ s: '[[[[{{{{' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ s: 'a"[[[[\\"[[[' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify(['\\', [[]]]), 2)).toBe(true);
  });

  test('stray closers cannot buy depth back', () => {
    expect(jsonNestsDeeperThan(']]]]' + nested(3), 2)).toBe(true);
  });

  test('500,000 levels are measured without touching the stack, and stop at the bound', () => {
    expect(jsonNestsDeeperThan(nested(500_000), 100)).toBe(true);
    expect(jsonNestsDeeperThan(nested(500_000), 1_000_000)).toBe(false);
  });
});
