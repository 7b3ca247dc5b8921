/**
 * `strand profile …` and where settings come from (flags > environment >
 * profile > defaults), against a local Strand with API keys on. How: each
 * test has its own profile file (STRAND_CONFIG) and clears STRAND_URL and
 * STRAND_API_KEY unless it is about them; a wrong URL or a missing key shows
 * which setting won.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { freePort, runCli } from './run';

const adminKey = 'cli-profiles-admin-key-0123456789';
let strand: TestStrand;
let dir: string;
let deadUrl: string;
beforeAll(async () => {
  strand = await startTestStrand({ auth: 'keys', bootstrapAdminKey: adminKey });
  dir = mkdtempSync(join(tmpdir(), 'strand-profiles-'));
  deadUrl = `http://127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  await strand.dispose();
  rmSync(dir, { recursive: true, force: true });
});

let fileNumber = 0;
/** A CLI whose profile file is `config`, with no URL or key from the environment unless `env` gives them. */
function withProfiles() {
  const config = join(dir, `config-${++fileNumber}.json`);
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(strand.url, args, { env: { STRAND_CONFIG: config, STRAND_URL: '', STRAND_API_KEY: '', PROFILE_TEST_KEY: '', ...env } });
  return { config, cli };
}

describe('strand profile', () => {
  test('create, list, show, use and delete; the file is private and show never prints a key', async () => {
    const { config, cli } = withProfiles();
    const created = await cli(['profile', 'create', 'local', '--set', `url=${strand.url}`, '--set', `api_key=${adminKey}`]);
    expect(created).toMatchObject({ code: 0, stdout: `Created profile 'local' in ${config} and made it current.\n` });
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect((await cli(['profile', 'create', 'prod', '--set', `url=${deadUrl}`, '--set', 'cluster=prod', '--set', 'api_key_env=PROFILE_TEST_KEY', '--no-use'])).code).toBe(0);

    const list = await cli(['profile', 'list']);
    expect(list.stdout).toMatch(/\*\s+local\s+http:\/\/127\.0\.0\.1:\d+\s+-\s+\(stored, hidden\)/);
    expect(list.stdout).toMatch(/\n\s+prod\s+http:\/\/127\.0\.0\.1:\d+\s+prod\s+\$PROFILE_TEST_KEY \(not set\)/);
    const shown = await cli(['profile', 'show']);
    expect(shown.stdout).toContain('Profile: local (current)');
    expect(shown.stdout).toMatch(/api_key\s+\(hidden\)/);
    const json = await cli(['--json', 'profile', 'show', 'prod'], { PROFILE_TEST_KEY: 'from-env-secret' });
    expect(JSON.parse(json.stdout).profile).toMatchObject({ name: 'prod', current: false, cluster: 'prod', api_key: null, api_key_env: 'PROFILE_TEST_KEY', api_key_env_set: true });
    for (const out of [list, shown, json, await cli(['--json', 'profile', 'list'])]) {
      expect(out.stdout + out.stderr).not.toContain(adminKey);
      expect(out.stdout + out.stderr).not.toContain('from-env-secret');
    }

    // set changes keys; key= removes one; one form of the key replaces the other.
    expect(await cli(['profile', 'set', 'prod', 'cluster=prod-2', 'aws_region=eu-west-1'])).toMatchObject({ code: 0, stdout: "Updated profile 'prod'.\n" });
    expect(JSON.parse(readFileSync(config, 'utf8')).profiles.prod).toEqual({ url: deadUrl, cluster: 'prod-2', api_key_env: 'PROFILE_TEST_KEY', aws_region: 'eu-west-1' });
    await cli(['profile', 'set', 'prod', 'aws_region=', 'api_key=second-secret']);
    expect(JSON.parse(readFileSync(config, 'utf8')).profiles.prod).toEqual({ url: deadUrl, cluster: 'prod-2', api_key: 'second-secret' });
    expect((await cli(['profile', 'show', 'prod'])).stdout).not.toContain('second-secret');

    // The current profile is used with no flag or environment at all.
    expect((await cli(['topics', 'create', 'cli-prof-t'])).code).toBe(0);
    expect(await cli(['profile', 'use', 'prod'])).toMatchObject({ code: 0, stdout: "Using profile 'prod'.\n" });
    expect(JSON.parse(readFileSync(config, 'utf8')).current).toBe('prod');
    expect(await cli(['profile', 'delete', 'prod'])).toMatchObject({ code: 0, stdout: "Deleted profile 'prod'.\n" });
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ profiles: { local: { url: strand.url, api_key: adminKey } } });
  });

  test('flags > environment > profile: --url beats STRAND_URL beats the profile; --profile and STRAND_PROFILE pick one', async () => {
    const { cli } = withProfiles();
    await cli(['profile', 'create', 'good', '--set', `url=${strand.url}`, '--set', 'api_key_env=PROFILE_TEST_KEY']);
    await cli(['profile', 'create', 'dead', '--set', `url=${deadUrl}`, '--set', `api_key=${adminKey}`]);
    const key = { PROFILE_TEST_KEY: adminKey };

    // 'dead' is current (created last): its URL refuses.
    const byProfile = await cli(['topics', 'list'], key);
    expect(byProfile.code).toBe(1);
    expect(byProfile.stderr).toContain(`Could not reach Strand at ${deadUrl}`);
    expect((await cli(['--profile', 'good', 'topics', 'list'], key)).code).toBe(0);
    expect((await cli(['topics', 'list'], { ...key, STRAND_PROFILE: 'good' })).code).toBe(0);
    // The environment beats the profile; a flag beats the environment.
    expect((await cli(['topics', 'list'], { STRAND_URL: strand.url })).code).toBe(0);
    const flagWins = await cli(['--url', deadUrl, 'topics', 'list'], { STRAND_URL: strand.url });
    expect(flagWins.stderr).toContain(`Could not reach Strand at ${deadUrl}`);
    // The key: STRAND_API_KEY beats the profile's stored one.
    const wrongKey = await cli(['topics', 'list'], { STRAND_URL: strand.url, STRAND_API_KEY: 'strand_0000000000000000_nope' });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/40101/);
  });

  test('a profile whose key variable is unset says so on 40101; an unknown profile, a bad key or a broken file is refused', async () => {
    const { config, cli } = withProfiles();
    await cli(['profile', 'create', 'ci', '--set', `url=${strand.url}`, '--set', 'api_key_env=PROFILE_TEST_KEY']);
    const unset = await cli(['topics', 'list']);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/\(error 40101\) .*profile 'ci' reads its API key from \$PROFILE_TEST_KEY, which is not set/);

    const refusals: [string[], RegExp][] = [
      [['--profile', 'nope', 'topics', 'list'], /no profile 'nope' in .* \(profiles: ci\)/],
      [['profile', 'create', 'ci'], /profile 'ci' exists/],
      [['profile', 'create', 'x', '--set', 'colour=red'], /unknown profile key 'colour' \(keys: url, cluster, api_key_env, api_key, aws_region, aws_profile\)/],
      [['profile', 'create', 'x', '--set', 'url=localhost:8082'], /url must be an http:\/\/ or https:\/\/ URL/],
      [['profile', 'create', '../x'], /a profile name is letters/],
      [['profile', 'use', 'nope'], /no profile 'nope'/],
    ];
    for (const [args, message] of refusals) {
      const run = await cli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
    }
    writeFileSync(config, '{ not json');
    const broken = await cli(['topics', 'list']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`${config} is not JSON`);
  });
});
