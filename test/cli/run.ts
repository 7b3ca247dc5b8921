/** Runs the `strand` CLI as a child process (`node bin/strand.js …`, what `npx strand` runs). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const bin = join(__dirname, '..', '..', 'bin', 'strand.js');

/**
 * The environment every run starts from: the test's Strand, and a profile file
 * that does not exist (unless a test names one), so a person's own
 * ~/.config/strand/config.json never leaks into a test.
 */
export function cliEnv(url: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, STRAND_URL: url, STRAND_CLUSTER: 'local', STRAND_PROFILE: '', STRAND_CONFIG: join(tmpdir(), 'strand-cli-test-no-profiles.json'), ...env };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(url: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: cliEnv(url, options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A CLI process the test talks to while it runs (signals, closing its stdout): output so far, and its end. */
export interface LiveCli {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout holds at least `lines` lines (rejects after `timeoutMs`). */
  lines(lines: number, timeoutMs?: number): Promise<string[]>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(url: string, args: string[], options: { env?: Record<string, string> } = {}): LiveCli {
  const child = spawn(process.execPath, [bin, ...args], { env: cliEnv(url, options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const lines = (n: number, timeoutMs = 20_000) =>
    new Promise<string[]>((resolve, reject) => {
      const have = () => stdout.split('\n').filter((l) => l !== '');
      const check = () => {
        if (have().length < n) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(have());
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`waited ${timeoutMs} ms for ${n} lines; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, lines, exited };
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
