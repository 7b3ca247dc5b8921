/**
 * How deeply a JSON text nests, measured without parsing it. V8's JSON.parse
 * is iterative and accepts any depth, but almost everything that touches the
 * parsed value afterwards recurses: JSON.stringify (the produce path re-encodes
 * JSON record values), avsc's Type.forSchema, schema canonicalisation. A value
 * nested 500,000 levels deep overflowed the stack there (a 500). So the text is
 * measured first, by a loop with one counter, which cannot overflow anything.
 *
 * Brackets inside strings do not count: the scan follows string literals and
 * their backslash escapes. It does not validate the text; JSON.parse still
 * does that afterwards, and a malformed text is refused there.
 */

const quote = 0x22; // "
const backslash = 0x5c; // \
const openBrace = 0x7b; // {
const openBracket = 0x5b; // [
const closeBrace = 0x7d; // }
const closeBracket = 0x5d; // ]

/**
 * True when some value of `text` sits inside more than `depthMax` arrays and
 * objects. `[]` and `{}` are depth 1; a scalar is depth 0. Stops at the first
 * bracket over the bound, so a hostile text costs at most one pass.
 */
export function jsonNestsDeeperThan(text: string, depthMax: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === backslash) i++; // the escaped character, whatever it is, cannot end the string
      else if (c === quote) inString = false;
    } else if (c === quote) {
      inString = true;
    } else if (c === openBrace || c === openBracket) {
      if (++depth > depthMax) return true;
    } else if (c === closeBrace || c === closeBracket) {
      // Unbalanced closers are JSON.parse's to refuse; never let them buy depth.
      if (depth > 0) depth--;
    }
  }
  return false;
}
