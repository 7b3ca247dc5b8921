/**
 * `strand consume` start offsets (-o), exit at end (-e), -c and several
 * topics, run as child processes against a real local Strand. How: two topics
 * get records with known offsets (and, for @MS, a known time between two
 * batches); each case reads what a user would see.
 */
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { runCli } from './run';

let strand: TestStrand;
/** A time between the first and second batch of cli-off-a. */
let between: number;
beforeAll(async () => {
  strand = await startTestStrand();
  await strandCli(['topics', 'create', 'cli-off-a', '--partitions', '2']);
  await strandCli(['topics', 'create', 'cli-off-b']);
  // cli-off-a: a0..a4 on partition 0, then (a moment later) a5..a7 on partition 0 and p1-0..p1-2 on partition 1.
  await strandCli(['produce', 'cli-off-a', '-p', '0'], { input: 'a0\na1\na2\na3\na4\n' });
  await new Promise((r) => setTimeout(r, 50));
  between = Date.now();
  await new Promise((r) => setTimeout(r, 50));
  await strandCli(['produce', 'cli-off-a', '-p', '0'], { input: 'a5\na6\na7\n' });
  await strandCli(['produce', 'cli-off-a', '-p', '1'], { input: 'p1-0\np1-1\np1-2\n' });
  await strandCli(['produce', 'cli-off-b'], { input: 'b0\nb1\n' });
});
afterAll(() => strand.dispose());

const strandCli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => runCli(strand.url, args, options);
const sorted = (out: string) => out.trim().split('\n').filter(Boolean).sort();

describe('consume -o and -e', () => {
  test('-o beginning -e prints every record of several topics and exits 0; -t is the same as arguments', async () => {
    const started = Date.now();
    const both = await strandCli(['consume', 'cli-off-a', 'cli-off-b', '-o', 'beginning', '-e']);
    expect(both.code).toBe(0);
    expect(sorted(both.stdout)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'b0', 'b1', 'p1-0', 'p1-1', 'p1-2']);
    expect(both.stderr).toBe("Consumed 13 messages from 'cli-off-a', 'cli-off-b'.\n");
    expect(Date.now() - started).toBeLessThan(15_000);
    const withT = await strandCli(['consume', '-t', 'cli-off-a', '-t', 'cli-off-b', '--from-beginning', '-e', '--format', '%t/%p/%o']);
    expect(sorted(withT.stdout)).toHaveLength(13);
    expect(withT.stdout).toContain('cli-off-b/0/1\n');
  });

  test('-o -N starts N records before the end of each partition; -o N at an offset; -p one partition', async () => {
    const lastTwo = await strandCli(['consume', 'cli-off-a', '-o', '-2', '-e', '--format', '%p:%v']);
    expect(lastTwo.code).toBe(0);
    expect(sorted(lastTwo.stdout)).toEqual(['0:a6', '0:a7', '1:p1-1', '1:p1-2']);
    const fromThree = await strandCli(['consume', 'cli-off-a', '-p', '0', '-o', '3', '-e']);
    expect(fromThree.stdout).toBe('a3\na4\na5\na6\na7\n');
    // An offset past the end starts at the end (kcat would reset; either way nothing old is printed).
    const past = await strandCli(['consume', 'cli-off-a', '-o', '999', '-e']);
    expect(past).toMatchObject({ code: 0, stdout: '' });
  });

  test('-o @MS starts at the first record at or after that time, per partition', async () => {
    const since = await strandCli(['consume', 'cli-off-a', '-o', `@${between}`, '-e']);
    expect(since.code).toBe(0);
    expect(sorted(since.stdout)).toEqual(['a5', 'a6', 'a7', 'p1-0', 'p1-1', 'p1-2']);
    const kcatForm = await strandCli(['consume', 'cli-off-a', '-p', '0', '-o', `s@${between}`, '-e']);
    expect(kcatForm.stdout).toBe('a5\na6\na7\n');
  });

  test('-o end -e on a caught-up topic prints nothing and exits at once; -c stops after N', async () => {
    const started = Date.now();
    expect(await strandCli(['consume', 'cli-off-a', '-o', 'end', '-e'])).toMatchObject({ code: 0, stdout: '' });
    expect(Date.now() - started).toBeLessThan(10_000);
    const three = await strandCli(['consume', 'cli-off-a', '-p', '0', '-o', 'beginning', '-c', '3']);
    expect(three).toMatchObject({ code: 0, stdout: 'a0\na1\na2\n' });
    expect(three.stderr).toContain('Consumed 3 messages');
  });

  test('with --group, -e exits once the group caught up, and committed what it printed', async () => {
    const first = await strandCli(['consume', 'cli-off-b', '-g', 'cli-off-group', '-o', 'beginning', '-e']);
    expect(first).toMatchObject({ code: 0, stdout: 'b0\nb1\n' });
    const lag = JSON.parse((await strandCli(['--json', 'groups', 'lag', 'cli-off-group'])).stdout) as { currentOffset: number; lag: number }[];
    expect(lag).toEqual([expect.objectContaining({ currentOffset: 2, lag: 0 })]);
    expect(await strandCli(['consume', 'cli-off-b', '-g', 'cli-off-group', '-e'])).toMatchObject({ code: 0, stdout: '' });
  });

  test('refused: an -o that is no offset, -o N with --group (moving a group is reset-offsets), stored without a group, -b with -o end, no topic, an unknown topic among several', async () => {
    const cases: [string[], RegExp][] = [
      [['consume', 'cli-off-a', '-o', 'tomorrow'], /-o takes beginning, end, stored/],
      [['consume', 'cli-off-a', '-g', 'g1', '-o', '5'], /strand groups reset-offsets g1/],
      [['consume', 'cli-off-a', '-o', 'stored'], /-o stored .* needs --group/],
      [['consume', 'cli-off-a', '-b', '-o', 'end'], /cannot be combined with -o end/],
      [['consume'], /name a topic/],
      [['consume', 'cli-off-a', '-p', '5'], /topic 'cli-off-a' has 2 partitions; there is no partition 5/],
    ];
    for (const [args, message] of cases) {
      const run = await strandCli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
    }
    const unknown = await strandCli(['consume', 'cli-off-a', 'cli-off-nope', '-e']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Topic 'cli-off-nope' not found.");
    expect(unknown.stdout).toBe('');
  });
});
