/**
 * `strand keys create | list | revoke` and `--api-key` / STRAND_API_KEY, run as
 * a child process against a local Strand with STRAND_AUTH=keys. How: the
 * bootstrap admin key creates a key through the CLI; that key is then used with
 * --api-key (allowed and refused), listed without its secret, and revoked.
 */
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { runCli } from './run';

const bootstrap = 'cli-bootstrap-admin-key-0123456789';
let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand({ auth: 'keys', bootstrapAdminKey: bootstrap });
});
afterAll(() => strand.dispose());

const strandCli = (args: string[], env: Record<string, string> = {}) => runCli(strand.url, args, { env: { STRAND_API_KEY: '', ...env } });
const asAdmin = (args: string[]) => strandCli(args, { STRAND_API_KEY: bootstrap });

describe('strand keys', () => {
  test('create prints the secret once; the key works with --api-key within its permissions only; list hides secrets; revoke stops it', async () => {
    expect((await asAdmin(['topics', 'create', 'cli-orders-1'])).code).toBe(0);
    expect((await asAdmin(['topics', 'create', 'cli-payments'])).code).toBe(0);

    const created = await asAdmin(['keys', 'create', '--name', 'ci', '--allow', 'produce:cli-orders-*', '--allow', 'consume:*']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^Created API key [0-9a-f]{16} \(ci\): produce:cli-orders-\*, consume:\*$/m);
    const key = /^(strand_[0-9a-f]{16}_\S+)$/m.exec(created.stdout)![1]!;
    const keyId = key.split('_')[1]!;

    const withInput = await runCli(strand.url, ['--api-key', key, 'produce', 'cli-orders-1'], { input: 'a\nb\n', env: { STRAND_API_KEY: '' } });
    expect(withInput.code).toBe(0);
    const consumed = await runCli(strand.url, ['consume', 'cli-orders-1', '--from-beginning', '--max-messages', '2'], { env: { STRAND_API_KEY: key } });
    expect(consumed).toMatchObject({ code: 0, stdout: 'a\nb\n' });

    const refused = await runCli(strand.url, ['--api-key', key, 'produce', 'cli-payments'], { input: 'x\n', env: { STRAND_API_KEY: '' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/40301/);

    const listed = await asAdmin(['keys', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${keyId}\\s+ci\\s+active`));
    expect(listed.stdout).not.toContain(key.split('_').slice(2).join('_'));
    const json = JSON.parse((await asAdmin(['--json', 'keys', 'list'])).stdout);
    expect(json.find((k: { keyId: string }) => k.keyId === keyId)).toMatchObject({ name: 'ci', permissions: ['produce:cli-orders-*', 'consume:*'], revokedAt: null });

    // The new key is not an admin key.
    const notAdmin = await strandCli(['keys', 'list'], { STRAND_API_KEY: key });
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toMatch(/40301/);

    expect(await asAdmin(['keys', 'revoke', keyId])).toMatchObject({ code: 0, stdout: `Revoked API key ${keyId}.\n` });
    const afterRevoke = await strandCli(['topics', 'list'], { STRAND_API_KEY: key });
    expect(afterRevoke.code).toBe(1);
    expect(afterRevoke.stderr).toMatch(/revoked\. \(error 40101\)/);
    expect((await asAdmin(['keys', 'list'])).stdout).toMatch(new RegExp(`${keyId}\\s+ci\\s+revoked`));
  });

  test('no key is 40101 with a hint; --allow is required; a bad permission is 40002', async () => {
    const none = await strandCli(['topics', 'list']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/\(error 40101\) Check --api-key \(STRAND_API_KEY\)/);
    const noAllow = await asAdmin(['keys', 'create', '--name', 'x']);
    expect(noAllow.code).toBe(2);
    expect(noAllow.stderr).toMatch(/--allow/);
    const bad = await asAdmin(['keys', 'create', '--name', 'x', '--allow', 'fly:*']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/40002/);
  });
});
