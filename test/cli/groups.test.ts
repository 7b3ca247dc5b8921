/**
 * `strand consume --group` and `strand groups …`, run as child processes against
 * a real local Strand. How: a group consumes and commits through the CLI, then
 * the groups commands read, reset and delete what it left behind.
 */
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { runCli } from './run';

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

    const reset = await strandCli(['--json', 'groups', 'reset-offsets', 'cli-readers', '--to-earliest', '--topic', 'cli-g']);
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout).map((o: { offset: number }) => o.offset)).toEqual([0, 0]);
    const reread = await strandCli(['consume', 'cli-g', '--group', 'cli-readers', '--max-messages', '10', '--format', '%p:%o']);
    expect(reread.stdout.trim().split('\n')).toHaveLength(10);

    expect((await strandCli(['groups', 'reset-offsets', 'cli-readers'])).code).toBe(2);
    expect(await strandCli(['groups', 'delete', 'cli-readers'])).toMatchObject({ code: 0, stdout: "Deleted consumer group 'cli-readers'.\n" });
    const gone = await strandCli(['groups', 'describe', 'cli-readers']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('cli-readers');
  });
});
