/** A line diff (longest common subsequence) between two schema versions, bounded. */

export type DiffLine = { op: ' ' | '+' | '-'; text: string };

/** Past this many lines on either side the diff is not computed (the table would be lines × lines). */
export const diffLinesMax = 2_000;

export function diffLines(a: string, b: string): DiffLine[] | undefined {
  const x = a.split('\n');
  const y = b.split('\n');
  if (x.length > diffLinesMax || y.length > diffLinesMax) return undefined;
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: length of the LCS of x[i..] and y[j..].
  const lcs: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: ' ', text: x[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ op: '-', text: x[i++]! });
    else out.push({ op: '+', text: y[j++]! });
  }
  while (i < n) out.push({ op: '-', text: x[i++]! });
  while (j < m) out.push({ op: '+', text: y[j++]! });
  return out;
}

/** A schema as the registry stores it, pretty-printed when it is JSON (Avro, JSON Schema), so a diff is per field. */
export function prettySchema(schema: string): string {
  try {
    return JSON.stringify(JSON.parse(schema), null, 2);
  } catch {
    return schema;
  }
}
