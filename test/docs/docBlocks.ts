/**
 * The command blocks of the project's Markdown (README.md, docs/*.md), as the
 * runnable-docs test runs them.
 *
 * A command block is a fenced block tagged `sh`, `bash` or `shell` (all of it
 * runs), or `console` (only its `$ ` lines, and their `\` continuations).
 * Other blocks (`ts`, `json`, `text`, untagged diagrams and output) are not
 * commands and are not counted.
 *
 * Markers, an HTML comment on the last non-blank line before the fence:
 *   <!-- doc-test: skip (why) -->   the block is not run here (AWS, LocalStack,
 *                                   `npm start` itself, installs, synopses);
 *                                   the reason is required and the skip counted.
 *   <!-- doc-test: file PATH -->    the block (any tag) is a file the next
 *                                   blocks use: it is written to PATH in the
 *                                   document's working directory, not run.
 */

export type BlockKind = 'run' | 'skip' | 'file';

export interface DocBlock {
  /** 1-based line of the opening fence. */
  line: number;
  tag: string;
  kind: BlockKind;
  /** The commands to run (for `run`), the file's content (for `file`). */
  text: string;
  /** Why it is skipped (for `skip`). */
  reason?: string;
  /** Where it is written (for `file`). */
  path?: string;
}

export const commandTags: ReadonlySet<string> = new Set(['sh', 'bash', 'shell', 'console']);

const fencePattern = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)?.*$/;
const markerPattern = /^<!--\s*doc-test:\s*(skip|file)\b\s*(.*?)\s*-->$/;

/** Every command block of a Markdown text, and every block a `file` marker names. */
export function extractBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = fencePattern.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, rawTag = ''] = open;
    const tag = rawTag.toLowerCase();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = lines[j].trim();
      if (close.startsWith(fence[0].repeat(fence.length)) && /^(`+|~+)$/.test(close)) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    const marker = markerBefore(lines, i);
    const line = i + 1;
    i = j;
    if (marker?.kind === 'file') {
      if (!marker.argument) throw new Error(`line ${line}: a doc-test file marker needs a path`);
      blocks.push({ line, tag, kind: 'file', text: body.join('\n') + '\n', path: marker.argument });
      continue;
    }
    if (!commandTags.has(tag)) continue;
    if (marker?.kind === 'skip') {
      const reason = /^\((.+)\)$/.exec(marker.argument)?.[1];
      if (!reason) throw new Error(`line ${line}: a doc-test skip marker needs a reason in parentheses`);
      blocks.push({ line, tag, kind: 'skip', text: body.join('\n'), reason });
      continue;
    }
    blocks.push({ line, tag, kind: 'run', text: tag === 'console' ? consoleCommands(body) : body.join('\n') });
  }
  return blocks;
}

function markerBefore(lines: string[], fenceIndex: number): { kind: 'skip' | 'file'; argument: string } | undefined {
  let k = fenceIndex - 1;
  while (k >= 0 && lines[k].trim() === '') k--;
  if (k < 0) return undefined;
  const m = markerPattern.exec(lines[k].trim());
  return m ? { kind: m[1] as 'skip' | 'file', argument: m[2] } : undefined;
}

/** The `$ ` lines of a console transcript (prompt removed) and their continuations; output lines dropped. */
function consoleCommands(body: string[]): string {
  const commands: string[] = [];
  let continuing = false;
  for (const l of body) {
    if (continuing) commands.push(l);
    else if (l.startsWith('$ ')) commands.push(l.slice(2));
    else continue;
    continuing = l.endsWith('\\');
  }
  return commands.join('\n');
}

/**
 * One bash script that runs a document's blocks in order in one session, so
 * variables and files carry from block to block as they do for a reader
 * pasting them into one terminal. Before each block it prints a marker line
 * with the block's line number, so a failure's output can be attributed.
 * Commands see `strand` and `npx strand` as the repository's CLI, and curl
 * fails on an HTTP error (--fail-with-body: the error body is still printed).
 */
export function scriptFor(blocks: DocBlock[], rewrite: (text: string) => string = (t) => t): string {
  const out = [
    'set -euo pipefail',
    'exec 2>&1',
    'npx() { if [ "${1:-}" = strand ]; then shift; strand "$@"; else command npx "$@"; fi; }',
    "curl() { command curl --fail-with-body --show-error --write-out '\\n' \"$@\"; }",
  ];
  for (const b of blocks) {
    if (b.kind === 'skip') continue;
    if (b.kind === 'file') {
      const delimiter = 'DOC_TEST_FILE_END';
      out.push(`printf '\\n${blockMarker(b.line)}\\n'`, `mkdir -p "$(dirname '${b.path}')"`, `cat > '${b.path}' <<'${delimiter}'`, b.text.replace(/\n$/, ''), delimiter);
      continue;
    }
    out.push(`printf '\\n${blockMarker(b.line)}\\n'`, rewrite(b.text));
  }
  out.push(`printf '\\n${blockMarker(0)}\\n'`);
  return out.join('\n') + '\n';
}

export const blockMarker = (line: number) => `@@doc-test block ${line}@@`;

/** The block a failed run stopped in (the last marker printed), and the output since its marker. */
export function failedBlock(output: string): { line: number; output: string } | undefined {
  const re = /@@doc-test block (\d+)@@\n/g;
  let last: RegExpExecArray | undefined;
  for (let m = re.exec(output); m; m = re.exec(output)) last = m;
  if (!last || last[1] === '0') return undefined;
  return { line: Number(last[1]), output: output.slice(last.index + last[0].length) };
}
