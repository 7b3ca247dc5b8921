/**
 * How `strand consume` ends when its reader goes away or it is told to stop:
 * `| head -2` (EPIPE), SIGTERM and SIGINT. How: a real shell pipeline, and
 * child processes the test signals; afterwards the group's committed offsets
 * and membership show what the consumer did on its way out.
 */
import { execFile } from 'node:child_process';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { bin, cliEnv, runCli, startCli } from './run';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
  await strandCli(['topics', 'create', 'cli-pipe']);
  // Enough that the consumer is still writing when head has gone: more than a pipe's buffer holds.
  const lines = Array.from({ length: 5000 }, (_, i) => `record ${i} ${'x'.repeat(40)}`).join('\n') + '\n';
  expect((await strandCli(['produce', 'cli-pipe'], { input: lines })).code).toBe(0);
});
afterAll(() => strand.dispose());

const strandCli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => runCli(strand.url, args, options);

function shell(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { env: cliEnv(strand.url) }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

async function groupState(group: string): Promise<{ state: string; committed: number }> {
  const described = await strandCli(['--json', 'groups', 'describe', group]);
  const lag = JSON.parse((await strandCli(['--json', 'groups', 'lag', group])).stdout) as { currentOffset: number }[];
  return { state: JSON.parse(described.stdout).state, committed: lag.reduce((s, l) => s + l.currentOffset, 0) };
}

describe('consume | head', () => {
  test('`strand consume … | head -2` exits 0 without a stack trace; the group committed what was written and left at once', async () => {
    const run = await shell(`set -o pipefail; "${process.execPath}" "${bin}" consume cli-pipe -g cli-pipe-head -o beginning | head -2; echo "strand exited $?" >&2`);
    expect(run.stdout).toBe(`record 0 ${'x'.repeat(40)}\nrecord 1 ${'x'.repeat(40)}\n`);
    expect(run.stderr).toContain('strand exited 0');
    expect(run.stderr).not.toMatch(/EPIPE|Error|at .*\.ts:\d+/);
    const { state, committed } = await groupState('cli-pipe-head');
    // Left, not waiting for a session timeout.
    expect(state).toBe('EMPTY');
    // Written before the reader left: at least the two head printed, fewer than all (the write that failed is not counted).
    expect(committed).toBeGreaterThanOrEqual(2);
    expect(committed).toBeLessThan(5000);
  });

  test('a reader that closes its end mid-stream: exit 0, and the next consume of the group goes on where the written records end', async () => {
    const live = startCli(strand.url, ['consume', 'cli-pipe', '-g', 'cli-pipe-close', '-o', 'beginning', '--format', '%o']);
    await live.lines(3);
    live.child.stdout.destroy();
    const { code } = await live.exited;
    expect(code).toBe(0);
    expect(live.stderr()).not.toMatch(/EPIPE|Error/);
    const { committed } = await groupState('cli-pipe-close');
    const next = await strandCli(['consume', 'cli-pipe', '-g', 'cli-pipe-close', '-c', '1', '--format', '%o']);
    expect(next.stdout).toBe(`${committed}\n`);
  });
});

describe('signals', () => {
  test('SIGTERM: the consumer commits what it printed, leaves the group and exits 0', async () => {
    const live = startCli(strand.url, ['consume', 'cli-pipe', '-g', 'cli-pipe-term', '-o', 'beginning', '-c', '100000', '--format', '%o']);
    await live.lines(10);
    live.child.kill('SIGTERM');
    const { code } = await live.exited;
    expect(code).toBe(0);
    expect(live.stderr()).toMatch(/Consumed \d+ messages from 'cli-pipe' \(stopped by SIGTERM\)\./);
    const printed = live.stdout().trim().split('\n').length;
    expect(await groupState('cli-pipe-term')).toEqual({ state: 'EMPTY', committed: printed });
  });

  test('SIGINT (Ctrl-C) at the end of the log: exit 0, the group left and its offset at the end', async () => {
    await strandCli(['topics', 'create', 'cli-pipe-int']);
    await strandCli(['produce', 'cli-pipe-int'], { input: 'one\ntwo\n' });
    const live = startCli(strand.url, ['consume', 'cli-pipe-int', '-g', 'cli-pipe-int', '-o', 'beginning']);
    await live.lines(2);
    live.child.kill('SIGINT');
    expect((await live.exited).code).toBe(0);
    expect(live.stderr()).toContain("Consumed 2 messages from 'cli-pipe-int' (stopped by SIGINT).");
    expect(await groupState('cli-pipe-int')).toEqual({ state: 'EMPTY', committed: 2 });
  });
});
