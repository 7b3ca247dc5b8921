/**
 * `strand topics …` and the CLI's error messages, run as a child process against
 * a real local Strand. How: each case checks stdout, stderr and the exit code.
 */
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { freePort, runCli } from './run';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const strandCli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => runCli(strand.url, args, options);

describe('strand topics', () => {
  test('create, list, describe, alter and delete a topic', async () => {
    const created = await strandCli(['topics', 'create', 'cli-orders', '--partitions', '3', '--config', 'retention.ms=86400000']);
    expect(created).toMatchObject({ code: 0, stdout: "Created topic 'cli-orders' with 3 partitions.\n" });
    expect((await strandCli(['topics', 'list'])).stdout.split('\n')).toContain('cli-orders');

    const described = await strandCli(['topics', 'describe', 'cli-orders']);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/Topic: cli-orders\s+partitions: 3/);
    expect(described.stdout).toMatch(/retention\.ms\s+86400000\s+topic/);

    const altered = await strandCli(['--json', 'topics', 'alter', 'cli-orders', '--config', 'cleanup.policy=compact', '--partitions', '4']);
    expect(altered.code).toBe(0);
    const json = JSON.parse(altered.stdout);
    expect(json.partitions).toBe(4);
    expect(json.configs.find((c: { name: string }) => c.name === 'cleanup.policy').value).toBe('compact');

    expect(await strandCli(['topics', 'delete', 'cli-orders'])).toMatchObject({ code: 0, stdout: "Deleted topic 'cli-orders'.\n" });
    expect((await strandCli(['--json', 'topics', 'list'])).stdout).not.toContain('cli-orders');
  });

  test('a topic that exists is refused with its name and exit code 1', async () => {
    await strandCli(['topics', 'create', 'cli-dup']);
    const again = await strandCli(['topics', 'create', 'cli-dup']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/cli-dup/);
  });
});

describe('errors a person can act on', () => {
  test('an unknown topic is named, exit code 1 (produce, consume, describe)', async () => {
    for (const args of [['produce', 'cli-nope'], ['consume', 'cli-nope'], ['topics', 'describe', 'cli-nope']]) {
      const run = await strandCli(args, { input: 'x\n' });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("Topic 'cli-nope' not found.");
    }
  });

  test('a refused connection names the URL and suggests npm start', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await strandCli(['topics', 'list'], { env: { STRAND_URL: url } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Could not reach Strand at ${url}: connection refused`);
    expect(run.stderr).toContain('npm start');
  });

  test('--url wins over STRAND_URL, and a wrong cluster id points at --cluster', async () => {
    const run = await strandCli(['--url', strand.url, '--cluster', 'elsewhere', 'topics', 'list'], { env: { STRAND_URL: 'http://127.0.0.1:9' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/40401.*--cluster/);
  });

  test('usage errors exit 2: a bad --format directive, an -o that is no offset', async () => {
    await strandCli(['topics', 'create', 'cli-usage']);
    const bad = await strandCli(['consume', 'cli-usage', '--format', '%x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown format directive %x');
    const offset = await strandCli(['consume', 'cli-usage', '--offset', 'yesterday']);
    expect(offset.code).toBe(2);
    expect(offset.stderr).toMatch(/-o takes beginning, end, stored, an offset N, -N .* not 'yesterday'/);
  });

  test('under --json every error is one JSON object on stderr with the contract\'s code, and the exit code stays', async () => {
    const missing = await strandCli(['--json', 'topics', 'describe', 'cli-nope']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr)).toEqual({ error_code: 40403, message: expect.stringContaining("Topic 'cli-nope' not found."), status: 404 });

    const usage = await strandCli(['--json', 'consume', 'cli-nope', '-o', 'soon']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stderr)).toEqual({ error_code: 40000, message: expect.stringContaining("not 'soon'") });

    // commander's own parse errors too, without its help text.
    const unknownOption = await strandCli(['topics', 'list', '--json', '--colour']);
    expect(unknownOption.code).toBe(2);
    expect(JSON.parse(unknownOption.stderr)).toEqual({ error_code: 40000, message: expect.stringContaining("'--colour'") });

    const url = `http://127.0.0.1:${await freePort()}`;
    const refused = await strandCli(['--json', 'topics', 'list'], { env: { STRAND_URL: url } });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr)).toEqual({ error_code: 50300, message: expect.stringContaining(`Could not reach Strand at ${url}`) });
  });
});
