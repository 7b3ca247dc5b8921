/**
 * `strand produce` headers (-H), tombstones (-Z), keys (-K, -k) and
 * per-record acknowledgements (--ack, --json), run as child processes against
 * a real local Strand. How: what produce acknowledges is read back with
 * consume --json, offset by offset.
 */
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { runCli } from './run';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const strandCli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => runCli(strand.url, args, options);

interface Consumed {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | string[]>;
}
const readBack = async (topic: string): Promise<Consumed[]> => {
  const run = await strandCli(['--json', 'consume', topic, '-o', 'beginning', '-e']);
  expect(run.code).toBe(0);
  return run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Consumed);
};

describe('strand produce', () => {
  test('-H adds headers to every record (a repeated name is a repeated header); consume shows them with %h and in --json', async () => {
    await strandCli(['topics', 'create', 'cli-hdr']);
    const produced = await strandCli(['produce', 'cli-hdr', '-H', 'source=cli', '-H', 'trace=a=b', '-H', 'tag=x', '-H', 'tag=y'], { input: 'one\ntwo\n' });
    expect(produced.code).toBe(0);
    const records = await readBack('cli-hdr');
    expect(records.map((r) => r.value)).toEqual(['one', 'two']);
    for (const r of records) expect(r.headers).toEqual({ source: 'cli', trace: 'a=b', tag: ['x', 'y'] });
    const formatted = await strandCli(['consume', 'cli-hdr', '-o', 'beginning', '-e', '--format', '%v %h']);
    expect(formatted.stdout).toBe('one source=cli,trace=a=b,tag=x,tag=y\ntwo source=cli,trace=a=b,tag=x,tag=y\n');
  });

  test('-Z sends an empty value as null (a tombstone with -K) and an empty key as null; without -Z they stay empty strings', async () => {
    await strandCli(['topics', 'create', 'cli-tomb']);
    expect((await strandCli(['produce', 'cli-tomb', '-K', ':', '-Z'], { input: 'k1:v1\nk1:\n:keyless\n\n' })).code).toBe(0);
    expect((await strandCli(['produce', 'cli-tomb', '-K', ':'], { input: 'k2:\n' })).code).toBe(0);
    const records = await readBack('cli-tomb');
    expect(records.map((r) => [r.key, r.value])).toEqual([
      ['k1', 'v1'],
      ['k1', null],
      [null, 'keyless'],
      [null, null],
      ['k2', ''],
    ]);
  });

  test('--ack prints partition/offset per record in input order, and the summary moves to stderr; -k keys every record', async () => {
    await strandCli(['topics', 'create', 'cli-ack', '--partitions', '3']);
    const input = Array.from({ length: 2500 }, (_, i) => `k${i % 7}:v${i}`).join('\n') + '\n';
    const acked = await strandCli(['produce', 'cli-ack', '-K', ':', '--ack'], { input });
    expect(acked.code).toBe(0);
    expect(acked.stderr).toMatch(/^Produced 2,500 records .* to 3 partitions of 'cli-ack'/);
    const acks = acked.stdout.trim().split('\n');
    expect(acks).toHaveLength(2500);
    expect(acks.every((a) => /^[0-2]\/\d+$/.test(a))).toBe(true);
    // Each ack names where its line's record is: read back by (partition, offset).
    const at = new Map((await readBack('cli-ack')).map((r) => [`${r.partition}/${r.offset}`, r.value]));
    expect(acks.map((a) => at.get(a))).toEqual(Array.from({ length: 2500 }, (_, i) => `v${i}`));

    await strandCli(['topics', 'create', 'cli-ack-key', '--partitions', '3']);
    const keyed = await strandCli(['produce', 'cli-ack-key', '-k', 'same', '--ack'], { input: 'a\nb\nc\n' });
    expect(new Set(keyed.stdout.trim().split('\n').map((a) => a.split('/')[0])).size).toBe(1);
    expect((await readBack('cli-ack-key')).map((r) => r.key)).toEqual(['same', 'same', 'same']);
  });

  test('--json acknowledges each record as a JSON line; the summary is JSON on stderr', async () => {
    await strandCli(['topics', 'create', 'cli-ack-json']);
    const run = await strandCli(['--json', 'produce', 'cli-ack-json', '-H', 'h=1'], { input: 'x\ny\n' });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { topic: 'cli-ack-json', partition: 0, offset: 0, timestamp: expect.any(Number) },
      { topic: 'cli-ack-json', partition: 0, offset: 1, timestamp: expect.any(Number) },
    ]);
    expect(JSON.parse(run.stderr)).toMatchObject({ topic: 'cli-ack-json', records: 2, partitions: 1 });
  });

  test('refused before any input is sent: -H without =, -k with -K (exit 2); nothing is written', async () => {
    await strandCli(['topics', 'create', 'cli-hdr-bad']);
    const noEq = await strandCli(['produce', 'cli-hdr-bad', '-H', 'source'], { input: 'never\n' });
    expect(noEq.code).toBe(2);
    expect(noEq.stderr).toContain("-H takes name=value, not 'source'");
    const both = await strandCli(['--json', 'produce', 'cli-hdr-bad', '-k', 'a', '-K', ':'], { input: 'never\n' });
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stderr)).toEqual({ error_code: 40000, message: expect.stringContaining('-k gives every record one key') });
    expect(await readBack('cli-hdr-bad')).toEqual([]);
  });
});
