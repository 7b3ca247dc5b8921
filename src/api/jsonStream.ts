/**
 * Splits a body of concatenated JSON values (`{…}{…}` or one per line), the
 * form of Confluent REST Proxy's streamed produce, into the text of each
 * value. A scan, not a parser: it tracks strings and nesting only to find
 * where each top-level value ends; each piece is then parsed on its own.
 * Bounded by `valuesMax`; past it, `tooMany` is set and the rest is left.
 */
export interface JsonValues {
  values: string[];
  /** More values followed than valuesMax. */
  tooMany: boolean;
  /** Text after the last complete value that does not end one (an unterminated value): reported as a bad record. */
  trailing?: string;
}

export function splitJsonValues(text: string, valuesMax: number): JsonValues {
  const values: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (start < 0) {
      if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
      if (values.length >= valuesMax) return { values, tooMany: true };
      start = i;
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') {
        inString = false;
        if (depth === 0) {
          values.push(text.slice(start, i + 1));
          start = -1;
        }
      }
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth <= 0) {
        values.push(text.slice(start, i + 1));
        start = -1;
        depth = 0;
      }
    } else if (depth === 0 && /[\s{["]/.test(text[i + 1] ?? ' ')) {
      // A bare scalar (a number, true, null) ends where whitespace or the next value starts.
      values.push(text.slice(start, i + 1));
      start = -1;
    }
  }
  return start < 0 ? { values, tooMany: false } : { values, tooMany: false, trailing: text.slice(start) };
}
