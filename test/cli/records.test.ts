/**
 * `strand produce` and `strand consume`, run as child processes against a real
 * local Strand. How: records produced by one command are read back by the other.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { runCli } from './run';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const strandCli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => runCli(strand.url, args, options);

describe('strand produce and consume', () => {
  test('lines from stdin are produced with keys and consumed back with a kcat-style format', async () => {
    await strandCli(['topics', 'create', 'cli-kv', '--partitions', '2']);
    const lines = Array.from({ length: 50 }, (_, i) => `user-${i % 5}:value ${i}`).join('\n') + '\n';
    const produced = await strandCli(['produce', 'cli-kv', '--key-separator', ':'], { input: lines });
    expect(produced.code).toBe(0);
    expect(produced.stdout).toMatch(/^Produced 50 records \(.+\) to [12] partitions? of 'cli-kv' in \d+\.\d\d s/);

    const consumed = await strandCli(['consume', 'cli-kv', '--from-beginning', '--max-messages', '50', '--format', '%t/%p@%o %k=%v']);
    expect(consumed.code).toBe(0);
    const out = consumed.stdout.trim().split('\n');
    expect(out).toHaveLength(50);
    expect(new Set(out.map((l) => l.replace(/^cli-kv\/\d@\d+ /, '')))).toEqual(new Set(lines.trim().split('\n').map((l) => l.replace(':', '='))));
    // One key, one partition: every user-0 line sits in the same partition.
    expect(new Set(out.filter((l) => l.includes(' user-0=')).map((l) => l.split('@')[0])).size).toBe(1);
  });

  test('--file, --partition and --json summary; consume --json, --partition with --offset', async () => {
    await strandCli(['topics', 'create', 'cli-file', '--partitions', '3']);
    const file = join(strand.dataDir, 'input.txt');
    writeFileSync(file, 'a\nb\nc\nd\n');
    const produced = await strandCli(['--json', 'produce', 'cli-file', '--file', file, '--partition', '2']);
    expect(produced.code).toBe(0);
    // --json: an acknowledgement per record on stdout, the summary on stderr.
    expect(produced.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([0, 1, 2, 3].map((offset) => expect.objectContaining({ topic: 'cli-file', partition: 2, offset })));
    expect(JSON.parse(produced.stderr)).toMatchObject({ topic: 'cli-file', records: 4, bytes: 4, partitions: 1 });

    const consumed = await strandCli(['--json', 'consume', 'cli-file', '--partition', '2', '--offset', '2', '--max-messages', '2']);
    expect(consumed.code).toBe(0);
    const records = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r: { offset: number; value: string; partition: number }) => [r.partition, r.offset, r.value])).toEqual([
      [2, 2, 'c'],
      [2, 3, 'd'],
    ]);
  });

  test('--compression takes every codec the SDK writes; an unknown one is a usage error (exit 2) and writes nothing', async () => {
    await strandCli(['topics', 'create', 'cli-codec']);
    expect((await strandCli(['produce', 'cli-codec', '-z', 'snappy'], { input: 's1\ns2\n' })).code).toBe(0);
    expect((await strandCli(['produce', 'cli-codec', '-z', 'lz4'], { input: 'l1\n' })).code).toBe(0);
    expect((await strandCli(['produce', 'cli-codec', '-z', 'zstd'], { input: 'z1\n' })).code).toBe(0);
    const refused = await strandCli(['produce', 'cli-codec', '-z', 'lz5'], { input: 'never\n' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/lz5/);
    const consumed = await strandCli(['consume', 'cli-codec', '--from-beginning', '--timeout-ms', '800']);
    expect(consumed.stdout).toBe('s1\ns2\nl1\nz1\n');
  });

  test('consume stops after --timeout-ms without data and prints values by default', async () => {
    await strandCli(['topics', 'create', 'cli-idle']);
    await strandCli(['produce', 'cli-idle'], { input: 'only\n' });
    const started = Date.now();
    const consumed = await strandCli(['consume', 'cli-idle', '--from-beginning', '--timeout-ms', '800']);
    expect(consumed).toMatchObject({ code: 0, stdout: 'only\n' });
    expect(consumed.stderr).toContain('Consumed 1 message');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
