/** How the runnable-docs test reads Markdown (test/docs/docBlocks.ts). How: small Markdown texts, and scripts run in bash. */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { extractBlocks, failedBlock, scriptFor } from './docBlocks';

const fence = '```';

describe('command blocks of a Markdown text', () => {
  test('sh, bash, shell and console blocks are commands; other tags and untagged blocks are not', () => {
    const md = [`${fence}sh`, 'echo a', fence, `${fence}ts`, 'const x = 1;', fence, fence, 'output', fence, `${fence}bash`, 'echo b', fence].join('\n');
    expect(extractBlocks(md).map((b) => [b.line, b.kind, b.text])).toEqual([
      [1, 'run', 'echo a'],
      [10, 'run', 'echo b'],
    ]);
  });

  test('a skip marker just before a block (blank lines between allowed) skips it, and needs a reason', () => {
    const md = ['<!-- doc-test: skip (needs AWS) -->', '', `${fence}sh`, 'aws s3 ls', fence].join('\n');
    expect(extractBlocks(md)).toEqual([{ line: 3, tag: 'sh', kind: 'skip', text: 'aws s3 ls', reason: 'needs AWS' }]);
    expect(() => extractBlocks(['<!-- doc-test: skip -->', `${fence}sh`, 'x', fence].join('\n'))).toThrow(/needs a reason/);
  });

  test('a file marker turns a block of any tag into a file written for the next blocks', () => {
    const md = ['<!-- doc-test: file handlers/a.ts -->', `${fence}ts`, 'export const a = 1;', fence].join('\n');
    expect(extractBlocks(md)).toEqual([{ line: 2, tag: 'ts', kind: 'file', text: 'export const a = 1;\n', path: 'handlers/a.ts' }]);
  });

  test('a console block runs only its prompted lines and their continuations', () => {
    const md = [`${fence}console`, '$ echo one \\', '  two', 'one two', '$ echo three', 'three', fence].join('\n');
    expect(extractBlocks(md)[0].text).toBe('echo one \\\n  two\necho three');
  });

  test('an indented fence (in a list) is read without its indentation', () => {
    const md = ['- step:', '  ```sh', '  echo a', '  ```'].join('\n');
    expect(extractBlocks(md)[0].text).toBe('echo a');
  });
});

describe('the script of a document', () => {
  const run = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: tmpdir() });

  test('blocks share one session, and a failure names the block it stopped in with that block\'s output only', () => {
    const md = [`${fence}sh`, 'X=1', 'echo first', fence, '', `${fence}sh`, 'echo "x is $X"', 'false', fence].join('\n');
    const result = run(scriptFor(extractBlocks(md)));
    expect(result.status).toBe(1);
    expect(failedBlock(result.stdout)).toEqual({ line: 6, output: 'x is 1\n' });
  });

  test('an unset variable fails the block (set -u), and a run to the end has no failed block', () => {
    const unset = run(scriptFor(extractBlocks([`${fence}sh`, 'echo $NOT_SET_ANYWHERE', fence].join('\n'))));
    expect(unset.status).not.toBe(0);
    expect(failedBlock(unset.stdout)?.output).toMatch(/NOT_SET_ANYWHERE: unbound variable/);
    const fine = run(scriptFor(extractBlocks([`${fence}sh`, 'true', fence].join('\n'))));
    expect([fine.status, failedBlock(fine.stdout)]).toEqual([0, undefined]);
  });
});
