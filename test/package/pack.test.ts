/**
 * The package users install (issue 19): what `npm pack` makes works in an empty
 * project, with no tsx, no TypeScript sources and no network.
 *
 * How: `npm pack` builds the tarball (prepack runs `npm run build`); an empty
 * project in a temporary directory installs it offline; there `npx strand`
 * runs, an ES module and a CommonJS script that take the SDK from 'strand'
 * produce a record and consume it from a local Strand started here, and tsc
 * checks a TypeScript file against the installed declarations.
 *
 * Offline: npm 11 resolves a version range from the full packument, which
 * `npm ci` does not cache (it installs the lockfile's versions), so a bare
 * `npm install --offline <tgz>` fails ENOTCACHED. The project is therefore given
 * a package-lock.json cut from this repository's (projectLock below): the
 * tarball, and the entries for its dependencies as Node resolves them, each
 * with its registry tarball URL. `npm install --offline <tgz>` then takes every
 * tarball from the cache `npm ci` filled, and installs the versions the
 * repository's tests run against.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startTestStrand, type TestStrand } from '../support/localStrand';

const repoRoot = join(__dirname, '..', '..');
/** Every child process's bound: a step that hangs fails the test instead of the suite's timeout. */
const stepMsMax = 60_000;
const scriptMsMax = 20_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The children's environment: offline npm, and none of the variables `npm test` sets about this package. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_(package|lifecycle)_/i.test(k)) env[k] = v;
  return {
    ...env,
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'error',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

/** Runs a command to its end, killed after `timeoutMs`; never rejects for a non-zero exit (callers assert on it). */
function run(command: string, args: string[], cwd: string, options: { timeoutMs?: number; env?: Record<string, string>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends what it started too (npm pack runs the build in a grandchild).
    const child = spawn(command, args, { cwd, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      reject(new Error(`${command} ${args.join(' ')} took longer than ${options.timeoutMs ?? stepMsMax} ms\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? stepMsMax);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

function expectSuccess(r: Run, what: string): void {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

interface LockEntry {
  version: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [k: string]: unknown;
}

/**
 * The project's package-lock.json: the tarball at node_modules/strand and, for
 * each of its dependencies, the repository lock's entry at the path Node would
 * load it from (its parent's node_modules, then each one above).
 */
function projectLock(tarball: string, projectDir: string): { lock: object; packageJson: object } {
  const repoLock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; license: string; dependencies: Record<string, string>; bin: object; engines: object };
  const entries = repoLock.packages;
  const picked: Record<string, LockEntry> = {};

  const locate = (from: string, name: string): string | undefined => {
    for (let dir = from; ; ) {
      const at = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (entries[at]) return at;
      if (!dir) return undefined;
      const up = dir.lastIndexOf('/node_modules/');
      dir = up < 0 ? '' : dir.slice(0, up);
    }
  };
  const visit = (from: string, deps: Record<string, string> | undefined, optional: boolean): void => {
    for (const name of Object.keys(deps ?? {})) {
      const at = locate(from, name);
      if (!at) {
        if (optional) continue;
        throw new Error(`${name}, a dependency of ${from || 'strand'}, is not in package-lock.json: run npm install`);
      }
      if (picked[at]) continue;
      const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = entries[at];
      entry.resolved ??= `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
      picked[at] = entry;
      visit(at, entry.dependencies, false);
      visit(at, entry.optionalDependencies, true);
      visit(at, entry.peerDependencies, true);
    }
  };
  visit('', pkg.dependencies, false);

  const spec = `file:${relative(projectDir, tarball)}`;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const root = { name: 'strand-user', version: '1.0.0', private: true, dependencies: { strand: spec } };
  return {
    packageJson: root,
    lock: {
      name: root.name,
      version: root.version,
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: root.name, version: root.version, dependencies: root.dependencies },
        'node_modules/strand': { version: pkg.version, resolved: spec, integrity, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
        ...Object.fromEntries(Object.entries(picked).sort(([a], [b]) => a.localeCompare(b))),
      },
    },
  };
}

/** Produces one record to a new topic and consumes it as a group member; prints what it sent and got as JSON. */
const produceConsume = (topic: string) => `
  const strand = new StrandClient({ url: process.env.STRAND_URL });
  await strand.admin().createTopics({ topics: [{ topic: '${topic}', numPartitions: 1 }] });
  const producer = strand.producer();
  const [sent] = await producer.send({ topic: '${topic}', messages: [{ key: 'user-42', value: 'hello from ${topic}' }] });
  await producer.close();
  const consumer = strand.consumer({ groupId: '${topic}-group' });
  await consumer.subscribe({ topics: ['${topic}'], fromBeginning: true });
  const got = await new Promise((resolve) =>
    consumer.run({ eachMessage: async ({ partition, message }) => resolve({ partition, offset: message.offset, key: String(message.key), value: String(message.value) }) }),
  );
  await consumer.close();
  console.log(JSON.stringify({ sent, got }));
`;

const esmScript = `import { StrandClient, StrandApiError } from 'strand';
import { createRequire } from 'node:module';

// One copy of each class: the ES module entry re-exports the CommonJS bundle.
if (createRequire(import.meta.url)('strand').StrandApiError !== StrandApiError) throw new Error('two copies of StrandApiError');
${produceConsume('pack-esm')}`;

const cjsScript = `'use strict';
const { StrandClient } = require('strand');

async function main() {
${produceConsume('pack-cjs')}}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
`;

const tsCheck = `import { StrandClient, UnknownTopicError, partitionForKey, type ProducerRecord, type KafkaMessage } from 'strand';

const record: ProducerRecord = { topic: 'orders', messages: [{ key: 'k', value: 'v' }] };
const strand: StrandClient = new StrandClient({ url: 'http://localhost:8082' });
export async function send(): Promise<number> {
  const [meta] = await strand.producer().send(record);
  return meta.offset + partitionForKey(Buffer.from('k'), 3);
}
export const isUnknown = (err: unknown): boolean => err instanceof UnknownTopicError;
export const valueOf = (m: KafkaMessage): string | undefined => m.value?.toString();
`;

/**
 * tsc on a TypeScript ES module and CommonJS module that use the SDK from
 * 'strand', in the project. Started as soon as the package is installed, to run
 * beside the other tests (it is the slowest step).
 */
function startTypeCheck(): Promise<Run> {
  writeFileSync(join(project, 'check.mts'), tsCheck);
  writeFileSync(join(project, 'check.cts'), tsCheck);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'Node16',
        moduleResolution: 'Node16',
        strict: true,
        noEmit: true,
        // Checking every declaration (@types/node's too) takes tsc 20 s; what is checked here is
        // that 'strand' resolves to its declarations and that they type this use of the SDK.
        skipLibCheck: true,
        // @types/node comes from the repository: the project has no network to install it.
        typeRoots: [join(repoRoot, 'node_modules', '@types')],
        types: ['node'],
      },
      files: ['check.mts', 'check.cts'],
    }),
  );
  return run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project);
}

let strand: TestStrand;
let typeCheck: Promise<Run>;
let work: string;
let project: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'strand-pack-'));
  // The Strand starts while npm pack builds; both are awaited before either's failure is thrown, so afterAll stops what started.
  const [started, packed] = await Promise.allSettled([
    startTestStrand().then((s) => (strand = s)),
    run('npm', ['pack', '--pack-destination', work], repoRoot),
  ]);
  if (started.status === 'rejected') throw started.reason;
  if (packed.status === 'rejected') throw packed.reason;
  expectSuccess(packed.value, 'npm pack');
  const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz')) ?? 'no .tgz written by npm pack');

  project = join(work, 'project');
  mkdirSync(project);
  const { packageJson, lock } = projectLock(tarball, project);
  writeFileSync(join(project, 'package.json'), JSON.stringify(packageJson, null, 2));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  expectSuccess(await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project), 'npm install --offline');
  typeCheck = startTypeCheck();
  typeCheck.catch(() => undefined); // awaited (and its failure reported) by its test
}, 3 * stepMsMax);

afterAll(async () => {
  await typeCheck?.catch(() => undefined); // never left running after the tests, even when its test did not run
  await strand?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the installed package', () => {
  test('holds the bundles, the declarations and the bin, and no TypeScript source', () => {
    const installed = join(project, 'node_modules', 'strand');
    for (const file of ['dist/sdk/index.cjs', 'dist/sdk/index.mjs', 'dist/cli/main.cjs', 'dist/types/client/index.d.ts', 'bin/strand.js', 'package.json'])
      expect({ file, exists: existsSync(join(installed, file)) }).toEqual({ file, exists: true });
    // `files` in package.json: besides what npm always packs (README, LICENSE and the like), only bin/ and dist/.
    expect(readdirSync(installed).filter((f) => !/^(license|licence|notice|changelog)/i.test(f)).sort()).toEqual(['README.md', 'bin', 'dist', 'package.json']);
    expect(readdirSync(join(installed, 'dist')).sort()).toEqual(['cli', 'sdk', 'types']);
  });

  test('brings no server-only package and no tsx', () => {
    const modules = join(project, 'node_modules');
    for (const name of ['aws-cdk-lib', 'constructs', 'dynalite', 's3rver', '@aws-sdk/client-dynamodb', '@aws-sdk/client-s3', '@aws-sdk/lib-dynamodb', 'tsx', 'typescript'])
      expect({ name, installed: existsSync(join(modules, name)) }).toEqual({ name, installed: false });
  });

  test('`npx strand --help` runs the bundled CLI and names STRAND_URL', async () => {
    const help = await run('npx', ['strand', '--help'], project);
    expectSuccess(help, 'npx strand --help');
    expect(help.stdout).toContain('Usage: strand');
    expect(help.stdout).toContain('STRAND_URL');
  });

  test('the installed CLI produces and consumes against a Strand', async () => {
    // node_modules/.bin/strand is what `npx strand` runs (above), without npx's start-up for each command.
    const strandBin = (args: string[], input?: string) =>
      run(process.execPath, [join(project, 'node_modules', '.bin', 'strand'), ...args], project, { env: { STRAND_URL: strand.url, STRAND_CLUSTER: 'local' }, input });
    expectSuccess(await strandBin(['topics', 'create', 'pack-cli']), 'strand topics create');
    expectSuccess(await strandBin(['produce', 'pack-cli', '--key-separator', ':'], 'user-1:hello\n'), 'strand produce');
    const consumed = await strandBin(['consume', 'pack-cli', '--from-beginning', '--max-messages', '1', '--format', '%k=%v']);
    expectSuccess(consumed, 'strand consume');
    expect(consumed.stdout).toBe('user-1=hello\n');
  });

  test('an ES module imports the SDK from strand, produces a record and consumes it', async () => {
    writeFileSync(join(project, 'esm.mjs'), esmScript);
    const r = await run(process.execPath, ['esm.mjs'], project, { timeoutMs: scriptMsMax, env: { STRAND_URL: strand.url } });
    expectSuccess(r, 'node esm.mjs');
    expect(JSON.parse(r.stdout)).toMatchObject({
      sent: { topicName: 'pack-esm', partition: 0, offset: 0 },
      got: { partition: 0, offset: 0, key: 'user-42', value: 'hello from pack-esm' },
    });
  });

  test('a CommonJS script requires the SDK from strand, produces a record and consumes it', async () => {
    writeFileSync(join(project, 'cjs.cjs'), cjsScript);
    const r = await run(process.execPath, ['cjs.cjs'], project, { timeoutMs: scriptMsMax, env: { STRAND_URL: strand.url } });
    expectSuccess(r, 'node cjs.cjs');
    expect(JSON.parse(r.stdout)).toMatchObject({
      sent: { topicName: 'pack-cjs', partition: 0, offset: 0 },
      got: { partition: 0, offset: 0, key: 'user-42', value: 'hello from pack-cjs' },
    });
  });

  test('TypeScript finds the declarations through exports (node16 resolution, ESM and CJS)', async () => {
    expectSuccess(await typeCheck, 'tsc');
  });
});
