/** What every command needs: the client, built from the global options, and output helpers. */
import { StrandClient } from '../client';

export interface GlobalOptions {
  url: string;
  cluster: string;
  json?: boolean;
  /** --api-key; else STRAND_API_KEY. */
  apiKey?: string;
}

export interface Context {
  client: StrandClient;
  json: boolean;
  out(text: string): void;
  /** Human output only: skipped with --json. */
  say(text: string): void;
  printJson(value: unknown): void;
}

export function createContext(options: GlobalOptions): Context {
  const json = options.json === true;
  const client = new StrandClient({
    url: options.url,
    clusterId: options.cluster,
    // A person waits for these: give up on a dead server quickly.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2000 },
    // The idempotence fallback warning is for SDK users; the CLI stays quiet unless asked.
    logger: { warn: (m) => (process.env.STRAND_DEBUG ? process.stderr.write(`${m}\n`) : undefined) },
    // Sent as Authorization: Bearer (the SDK's apiKey option); --api-key wins over STRAND_API_KEY.
    ...(options.apiKey || process.env.STRAND_API_KEY ? { apiKey: options.apiKey || process.env.STRAND_API_KEY } : {}),
    ...(process.env.STRAND_AWS_REGION ? { signing: { region: process.env.STRAND_AWS_REGION } } : {}),
  });
  return {
    client,
    json,
    out: (text) => process.stdout.write(text),
    say: (text) => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

/** `k=v` options, repeated, into a record; a pair without `=` is a usage error. */
export function parseConfigPairs(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config takes name=value, not '${pair}'`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseInteger(value: string, what: string, min = 0): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`${what} must be an integer, not '${value}'`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${what} must be at least ${min}, not ${value}`);
  return n;
}

/** Wraps a command's action: builds its Context and turns failures into messages and exit codes (cli/main.ts). */
export type Wrap = (action: (ctx: Context, ...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** commander's collector for an option that may be repeated. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Left-aligned columns separated by two spaces. */
export function table(header: string[], rows: (string | number)[][]): string {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
