/**
 * Topic patterns of REST Proxy v2 subscriptions (`{"topic_pattern": "orders-.*"}`),
 * pure. Kafka's consumer compiles the pattern with java.util.regex and
 * subscribes to every topic it matches whole (`pattern.matcher(topic).matches()`),
 * re-evaluated as its metadata refreshes. Here the pattern is a JavaScript
 * RegExp anchored at both ends; Java's and JavaScript's syntax agree on what
 * topic patterns use (classes, groups, alternation, quantifiers); Java-only
 * syntax (possessive quantifiers, `\Q…\E`, inline flags) is a syntax error.
 *
 * Matching runs on the server, against every topic name, on a backtracking
 * engine, so a pattern is refused (40002) when it could take exponential time
 * or more than cubic time in the name's length:
 *   - a repeated group holding a repetition or an alternation (`(a+)+`,
 *     `(a|ab)*`): exponential;
 *   - more than `patternRepetitionsMax` repetitions in all (`a*a*a*a*b` takes
 *     1.5 s on a 249-character name; three take at most tens of milliseconds);
 *   - backreferences and lookarounds (no topic pattern needs them).
 */
import { invalidValue } from '../errors';

/** Characters a pattern may have (Kafka's topic names have at most 249). */
export const topicPatternCharsMax = 255;
/** Repetitions (`*`, `+`, `{n,}`, `{n,m}`) one pattern may hold: the degree of its worst-case matching time. */
export const patternRepetitionsMax = 3;

/** The pattern as a RegExp matching whole topic names, or 40002 naming why it is refused. */
export function compileTopicPattern(pattern: string): RegExp {
  if (pattern.length === 0) throw invalidValue("Field 'topic_pattern' must not be empty.");
  if (pattern.length > topicPatternCharsMax) throw invalidValue(`Field 'topic_pattern' has ${pattern.length} characters; at most ${topicPatternCharsMax} are accepted.`);
  const problem = backtrackingProblem(pattern);
  if (problem) throw invalidValue(`Field 'topic_pattern' ${problem}.`);
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw invalidValue(`Field 'topic_pattern' is not a valid regular expression: ${(err as Error).message}.`);
  }
}

/** The names `pattern` matches, in name order. */
export function matchingTopics(pattern: RegExp, names: readonly string[]): string[] {
  return names.filter((name) => pattern.test(name)).sort();
}

interface GroupFrame {
  repeats: boolean;
  alternates: boolean;
}

/**
 * Why matching `pattern` could backtrack too long, or undefined. A scan of the
 * pattern's structure: escapes and character classes are skipped as single
 * atoms; each group remembers whether it holds a repetition or an alternation,
 * so a repetition of it can be judged when it closes.
 */
export function backtrackingProblem(pattern: string): string | undefined {
  const stack: GroupFrame[] = [{ repeats: false, alternates: false }];
  let repetitions = 0;
  let closed: GroupFrame | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const quantifier = quantifierAt(pattern, i);
    if (quantifier) {
      i += quantifier.length - 1;
      if (quantifier.repeats) {
        if (closed && (closed.repeats || closed.alternates)) {
          return 'repeats a group that itself repeats or alternates (as in (a+)+ or (a|ab)*), which can take exponential time to match';
        }
        stack[stack.length - 1]!.repeats = true;
      }
      if (quantifier.varies) repetitions++;
      closed = undefined;
      continue;
    }
    closed = undefined;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'uses a backreference, which topic patterns do not need';
      i++;
    } else if (c === '[') {
      i = classEnd(pattern, i);
    } else if (c === '(') {
      if (/^\(\?<?[=!]/.test(pattern.slice(i, i + 4))) return 'uses a lookaround, which topic patterns do not need';
      stack.push({ repeats: false, alternates: false });
    } else if (c === ')') {
      if (stack.length === 1) return undefined; // unbalanced: RegExp reports it
      closed = stack.pop()!;
      const parent = stack[stack.length - 1]!;
      parent.repeats ||= closed.repeats;
      parent.alternates ||= closed.alternates;
    } else if (c === '|') {
      stack[stack.length - 1]!.alternates = true;
    }
  }
  if (repetitions > patternRepetitionsMax) {
    return `holds ${repetitions} repetitions (*, +, {n,}, {n,m}); at most ${patternRepetitionsMax} are accepted, so matching stays fast on any topic name`;
  }
  return undefined;
}

/**
 * The quantifier starting at `i` (with a trailing lazy `?`): whether it repeats
 * (may match more than once) and whether its count varies (a choice the
 * engine backtracks over: `*`, `+`, `{n,}`, `{n,m}`; not `{n}` or `?`).
 */
function quantifierAt(pattern: string, i: number): { length: number; repeats: boolean; varies: boolean } | undefined {
  const c = pattern[i];
  let length = 1;
  let min: number;
  let max: number;
  if (c === '*' || c === '+') [min, max] = [c === '*' ? 0 : 1, Infinity];
  else if (c === '?') [min, max] = [0, 1];
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
    if (!m) return undefined;
    length = m[0].length;
    min = Number(m[1]);
    max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
  } else return undefined;
  if (pattern[i + length] === '?') length++;
  return { length, repeats: max > 1, varies: max > 1 && max !== min };
}

/** The index of the `]` closing the class opened at `start` (or the last index when unclosed: RegExp reports it). */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return pattern.length - 1;
}
