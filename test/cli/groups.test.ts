/**
 * `strand consume --group` and `strand groups …`, run as child processes against
 * a real local Strand. How: a group consumes and commits through the CLI, then
 * the groups commands read, reset and delete what it left behind.
 */
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { runCli, startCli } from './run';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const strandCli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => runCli(strand.url, args, options);

describe('strand groups', () => {
  test('a group consumes and commits; list, describe, lag, reset-offsets and delete see it', async () => {
    await strandCli(['topics', 'create', 'cli-g', '--partitions', '2']);
    await strandCli(['produce', 'cli-g', '--key-separator', ':'], { input: Array.from({ length: 10 }, (_, i) => `k${i}:v${i}`).join('\n') });

    const first = await strandCli(['consume', 'cli-g', '--group', 'cli-readers', '--from-beginning', '--max-messages', '10']);
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n').sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`).sort());
    // Committed on the way out: the same group has nothing left to read.
    const again = await strandCli(['consume', 'cli-g', '--group', 'cli-readers', '--timeout-ms', '700']);
    expect(again).toMatchObject({ code: 0, stdout: '' });

    const list = await strandCli(['groups', 'list']);
    expect(list.stdout).toMatch(/cli-readers\s+EMPTY/);
    expect((await strandCli(['groups', 'describe', 'cli-readers'])).stdout).toMatch(/Group: cli-readers\s+state: EMPTY/);
    const lag = JSON.parse((await strandCli(['--json', 'groups', 'lag', 'cli-readers'])).stdout) as { lag: number; currentOffset: number }[];
    expect(lag.reduce((s, l) => s + l.lag, 0)).toBe(0);
    expect(lag.reduce((s, l) => s + l.currentOffset, 0)).toBe(10);

    // Without --execute: a preview, and nothing moves.
    const preview = await strandCli(['groups', 'reset-offsets', 'cli-readers', '--to-earliest', '--topic', 'cli-g']);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/TOPIC\s+PARTITION\s+CURRENT\s+NEW\s+LAG CHANGE/);
    expect(preview.stdout).toMatch(/cli-g\s+0\s+\d+\s+0\s+0 -> \d+ \(\+\d+\)/);
    expect(preview.stdout).toContain('Preview only: nothing moved.');
    expect(preview.stdout).toContain('--execute');
    const unmoved = JSON.parse((await strandCli(['--json', 'groups', 'lag', 'cli-readers'])).stdout) as { lag: number }[];
    expect(unmoved.reduce((s, l) => s + l.lag, 0)).toBe(0);

    const reset = await strandCli(['--json', 'groups', 'reset-offsets', 'cli-readers', '--to-earliest', '--topic', 'cli-g', '--execute']);
    expect(reset.code).toBe(0);
    const moved = JSON.parse(reset.stdout) as { executed: boolean; partitions: { newOffset: number; currentOffset: number; lagBefore: number; lagAfter: number }[] };
    expect(moved.executed).toBe(true);
    expect(moved.partitions.map((o) => o.newOffset)).toEqual([0, 0]);
    expect(moved.partitions.reduce((s, p) => s + p.currentOffset, 0)).toBe(10);
    expect(moved.partitions.reduce((s, p) => s + p.lagAfter - p.lagBefore, 0)).toBe(10);
    const reread = await strandCli(['consume', 'cli-g', '--group', 'cli-readers', '--max-messages', '10', '--format', '%p:%o']);
    expect(reread.stdout.trim().split('\n')).toHaveLength(10);

    expect((await strandCli(['groups', 'reset-offsets', 'cli-readers'])).code).toBe(2);
    // Nothing committed on a topic: the preview says so.
    await strandCli(['topics', 'create', 'cli-g-other']);
    const none = await strandCli(['groups', 'reset-offsets', 'cli-readers', '--to-latest', '--topic', 'cli-g-other']);
    expect(none.stdout).toMatch(/cli-g-other\s+0\s+-\s+0\s+0 -> 0 \(0\)/);
    expect(await strandCli(['groups', 'delete', 'cli-readers'])).toMatchObject({ code: 0, stdout: "Deleted consumer group 'cli-readers'.\n" });
    const gone = await strandCli(['groups', 'describe', 'cli-readers']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('cli-readers');
  });
});

describe('strand groups reset-offsets on a group with a live member', () => {
  test('the preview warns; --execute is refused with 40925, a hint to stop the consumers, and no suggestion to delete the group', async () => {
    await strandCli(['topics', 'create', 'cli-g-live']);
    await strandCli(['produce', 'cli-g-live'], { input: 'a\nb\n' });
    const member = startCli(strand.url, ['consume', 'cli-g-live', '--group', 'cli-live', '-o', 'beginning']);
    try {
      await member.lines(2);
      const preview = await strandCli(['groups', 'reset-offsets', 'cli-live', '--to-earliest']);
      expect(preview.code).toBe(0);
      expect(preview.stdout).toContain('The group has 1 member: stop it first, or --execute is refused.');
      const refused = await strandCli(['groups', 'reset-offsets', 'cli-live', '--to-earliest', '--execute']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/\(error 40925\) Stop its consumers first/);
      expect(refused.stderr).not.toMatch(/delete/i);
    } finally {
      member.child.kill('SIGTERM');
      await member.exited;
    }
  });
});
