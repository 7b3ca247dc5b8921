/**
 * What `strand` says about itself without a server: --help names every
 * environment variable the CLI reads, and `strand completion` prints scripts
 * that complete commands, options and values. How: the bash script is sourced
 * in a real bash with COMP_WORDS set as bash sets them on Tab.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentVariables } from '../../cli/context';
import { runCli } from './run';

// Nothing listens here: none of these commands may need a server.
const url = 'http://127.0.0.1:9';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strand-help-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('strand --help', () => {
  test('lists STRAND_URL, STRAND_CLUSTER and every other variable the CLI reads, and the global flags', async () => {
    const help = await runCli(url, ['--help']);
    expect(help.code).toBe(0);
    for (const [name] of environmentVariables) expect(help.stdout).toContain(name);
    expect(help.stdout).toMatch(/STRAND_URL\s+the HTTP API URL/);
    expect(help.stdout).toMatch(/STRAND_CLUSTER\s+the cluster id/);
    for (const flag of ['--url', '--cluster', '--api-key', '--profile', '--json']) expect(help.stdout).toContain(flag);
    for (const command of ['status', 'profile', 'completion', 'consume', 'produce']) expect(help.stdout).toMatch(new RegExp(`\\n  ${command}\\b`));
  });
});

describe('strand completion', () => {
  test('bash: commands, subcommands, options of the command typed, fixed values, skipping option values', async () => {
    const script = await runCli(url, ['completion', 'bash']);
    expect(script.code).toBe(0);
    const file = join(dir, 'strand.bash');
    writeFileSync(file, script.stdout);
    const complete = (line: string) =>
      execFileSync(
        'bash',
        ['-c', `source "${file}"; read -ra COMP_WORDS <<< "$1"; [[ "$1" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _strand; echo "\${COMPREPLY[*]}"`, 'complete', line],
        { encoding: 'utf8' },
      ).trim();
    expect(complete('strand gro')).toBe('groups');
    expect(complete('strand groups re')).toBe('reset-offsets');
    expect(complete('strand --url http://x top')).toBe('topics');
    expect(complete('strand consume orders -o b')).toBe('beginning');
    expect(complete('strand produce orders -z ')).toBe('none gzip snappy lz4 zstd');
    expect(complete('strand completion ')).toBe('bash zsh');
    expect(complete('strand groups reset-offsets g --to-')).toBe('--to-earliest --to-latest --to-offset --to-timestamp');
    const consumeOptions = complete('strand consume orders --').split(' ');
    expect(consumeOptions).toEqual(expect.arrayContaining(['--offset', '--exit', '--count', '--group', '--no-decode', '--url', '--json', '--help']));
  });

  test('zsh: a #compdef script over the same table; an unknown shell is a usage error', async () => {
    const zsh = await runCli(url, ['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout.startsWith('#compdef strand\n')).toBe(true);
    expect(zsh.stdout).toContain('compdef _strand strand');
    expect(zsh.stdout).toContain("'groups') echo 'list describe lag reset-offsets delete");
    const fish = await runCli(url, ['completion', 'fish']);
    expect(fish.code).toBe(2);
    expect(fish.stderr).toContain("completion takes one of: bash, zsh; not 'fish'");
  });
});
