/**
 * The canonical text of a .proto schema: its tokens, with comments dropped,
 * laid out one statement per line with two-space indents. Two schemas that
 * differ only in whitespace and comments have one canonical text (one id),
 * and the text is still .proto that any parser reads.
 *
 * Tokens: string literals ('…' or "…", escapes kept as written), words
 * (identifiers, full names, numbers with sign and exponent), and single
 * punctuation characters. Bounded: the text is bounded before this runs
 * (schemaTextBytesMax), and braces nest at most protoNestingDepthMax deep.
 */
import { invalidSchema } from './errors';
import { protoNestingDepthMax } from './schemaBounds';

const word = /[A-Za-z0-9_.+-]/;

export function protoTokens(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw invalidSchema('Invalid Protobuf schema: a /* comment is never closed.');
      i = end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw invalidSchema('Invalid Protobuf schema: a string literal is never closed.');
      tokens.push(text.slice(i, j + 1));
      i = j + 1;
    } else if (word.test(c)) {
      let j = i + 1;
      while (j < text.length && word.test(text[j]!)) j++;
      tokens.push(text.slice(i, j));
      i = j;
    } else {
      tokens.push(c);
      i++;
    }
  }
  return tokens;
}

const noSpaceBefore = new Set([';', ',', ')', ']', '>', '<']);
const noSpaceAfter = new Set(['(', '[', '<']);

export function canonicalProtoText(text: string): string {
  const lines: string[] = [];
  let line = '';
  let depth = 0;
  const flush = () => {
    if (line !== '') lines.push(`${'  '.repeat(depth)}${line}`);
    line = '';
  };
  let previous = '';
  for (const t of protoTokens(text)) {
    if (t === '{') {
      line += line === '' ? '{' : ' {';
      flush();
      depth++;
      if (depth > protoNestingDepthMax) throw invalidSchema(`Invalid Protobuf schema: braces nest more than ${protoNestingDepthMax} levels deep.`);
    } else if (t === '}') {
      flush();
      depth = Math.max(0, depth - 1);
      line = '}';
      flush();
    } else if (t === ';') {
      line += ';';
      flush();
    } else {
      line += line === '' || noSpaceBefore.has(t) || noSpaceAfter.has(previous) ? t : ` ${t}`;
    }
    previous = t;
  }
  flush();
  return `${lines.join('\n')}\n`;
}
