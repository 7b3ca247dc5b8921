/**
 * Docs that run (issue 19): every command block of README.md and docs/*.md is
 * executed against a local Strand, so a broken example fails the build.
 *
 * How: each document's blocks (test/docs/docBlocks.ts) run in order in one
 * bash session (`set -euo pipefail`), as a reader pasting them into one
 * terminal would, in a fresh working directory and against a fresh Strand of
 * its own (so documents cannot interfere, and each may reuse names like
 * `orders`). The session sees:
 *   - `http://localhost:8082` (and 127.0.0.1:8082) in the blocks rewritten to
 *     the test's Strand, which listens on a free port;
 *   - STRAND_URL / STRAND_CLUSTER set for the CLI, and no profile file; no
 *     `URL`: a document defines its own, as its reader must (`set -u` fails a
 *     block that uses one it never defined);
 *   - `strand` on PATH and `npx strand` both running this checkout's bin/strand.js;
 *   - curl failing on an HTTP error status (--fail-with-body), so a request the
 *     doc shows succeeding must succeed;
 *   - trigger handler modules resolved in its working directory, where a
 *     `<!-- doc-test: file PATH -->` block (the handler the doc shows) is written.
 * Handlers run in this process: what they log is swallowed, so the test prints nothing.
 * A document with `<!-- doc-test: api-keys -->` gets a Strand with API keys on
 * and an admin key in STRAND_API_KEY.
 * A block that cannot run here (AWS, LocalStack, `npm start` itself, installs,
 * synopses) carries `<!-- doc-test: skip (why) -->` just before it; skips are
 * counted in the test names. A failure names the document, the block's line
 * and the output of that block.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStrand } from '../support/localStrand';
import { type DocBlock, extractBlocks, failedBlock, scriptFor } from './docBlocks';

const root = join(__dirname, '..', '..');
const strandBin = join(root, 'bin', 'strand.js');
/** A document's whole session, with its CLI starts on a loaded 2-core machine. */
const documentRunMsMax = 80_000;
const outputCharsShownMax = 4_000;

const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const parsed = documents.map((doc) => ({ doc, blocks: extractBlocks(readFileSync(join(root, doc), 'utf8')) }));
/** Documents with command blocks, run or marked skip: each is a test whose name counts both. */
const withCommands = parsed.filter((d) => d.blocks.some((b) => b.kind !== 'file'));

const count = (blocks: DocBlock[], kind: DocBlock['kind']) => blocks.filter((b) => b.kind === kind).length;

jest.spyOn(console, 'log').mockImplementation(() => undefined);
let shimDir: string;
const workDirs: string[] = [];
/** Each document's failure, by document (absent: it ran to the end). */
const failures = new Map<string, string>();

/**
 * Every document runs here, side by side (each against its own Strand, in its
 * own directory: most of a document's time is CLI start-ups and long polls,
 * which overlap well), and each Strand is stopped before the hook ends. In a
 * hook, not in concurrent tests: a trigger handler is `require`d in this
 * process while its document runs, and jest refuses a require made between
 * two tests, which concurrent tests leave open while one has finished.
 */
beforeAll(async () => {
  shimDir = mkdtempSync(join(tmpdir(), 'strand-doc-bin-'));
  writeFileSync(join(shimDir, 'strand'), `#!/bin/sh\nexec "${process.execPath}" "${strandBin}" "$@"\n`);
  chmodSync(join(shimDir, 'strand'), 0o755);
  await Promise.all(
    withCommands.map(async ({ doc, blocks }) => {
      if (count(blocks, 'run') === 0) return;
      const failure = await runDocument(doc, blocks).catch((err: Error) => `${doc}: ${err.stack ?? err.message}`);
      if (failure) failures.set(doc, failure);
    }),
  );
}, documentRunMsMax + 30_000);

afterAll(() => {
  for (const dir of [shimDir, ...workDirs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('every command block of the docs runs', () => {
  test('each skipped block says why, and the README has blocks to run', () => {
    for (const { blocks } of parsed) for (const b of blocks.filter((x) => x.kind === 'skip')) expect(b.reason).toBeTruthy();
    expect(count(parsed.find((d) => d.doc === 'README.md')!.blocks, 'run')).toBeGreaterThan(0);
  });

  test.each(withCommands.map((d) => [`${d.doc}: ${count(d.blocks, 'run')} blocks run, ${count(d.blocks, 'skip')} marked skip`, d.doc] as const))('%s', (_name, doc) => {
    const failure = failures.get(doc);
    if (failure) throw new Error(failure);
  });
});

/** Runs a document's blocks in one bash session against a Strand of its own; the failure's description, if any. */
async function runDocument(doc: string, blocks: DocBlock[]): Promise<string | undefined> {
  const workDir = mkdtempSync(join(tmpdir(), 'strand-doc-'));
  workDirs.push(workDir);
  const keys = apiKeysOn(doc);
  // Trigger handler modules (`--handler ./handlers/orders.ts#handler`) resolve where the reader's shell is.
  const strand = await startTestStrand({ triggers: { moduleRoot: workDir }, ...(keys ? { auth: 'keys', bootstrapAdminKey: keys } : {}) });
  let result: Awaited<ReturnType<typeof runBash>>;
  try {
    const hostPort = new URL(strand.url).host;
    const rewrite = (text: string) => text.replace(/(https?:\/\/)?(localhost|127\.0\.0\.1):8082/g, (_m, scheme: string | undefined) => `${scheme ?? ''}${hostPort}`);
    result = await runBash(scriptFor(blocks, rewrite), {
      cwd: workDir,
      env: {
        ...process.env,
        PATH: `${shimDir}:${process.env.PATH}`,
        STRAND_URL: strand.url,
        STRAND_CLUSTER: 'local',
        STRAND_PROFILE: '',
        STRAND_CONFIG: join(workDir, 'no-profiles.json'),
        ...(keys ? { STRAND_API_KEY: keys } : {}),
      },
    });
  } finally {
    await strand.dispose();
  }
  if (result.code === 0 && !result.timedOut) return undefined;
  const failed = failedBlock(result.output);
  const where = failed ? `${doc}:${failed.line}` : doc;
  const shown = (failed?.output ?? result.output).slice(-outputCharsShownMax);
  return `${where}: the block ${result.timedOut ? `ran over ${documentRunMsMax} ms` : `failed (exit ${result.code})`}; its output:\n${shown}`;
}

/**
 * A document that says `<!-- doc-test: api-keys -->` runs against a Strand
 * with API keys on (STRAND_AUTH=keys), its session holding an admin key in
 * STRAND_API_KEY, as after docs/security.md's bootstrap.
 */
function apiKeysOn(doc: string): string | undefined {
  return /<!--\s*doc-test:\s*api-keys\s*-->/.test(readFileSync(join(root, doc), 'utf8')) ? `doc-test-admin-${randomBytes(12).toString('hex')}` : undefined;
}

/** Runs a script in bash in a process group of its own, killed whole when it ends or runs over. */
function runBash(script: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, documentRunMsMax);
    child.on('error', reject);
    // Anything a block left running in the background holds the pipes open: kill it once bash is done.
    child.on('exit', () => killGroup());
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}
