/**
 * What every command needs: the client, built from the global options, and output helpers.
 *
 * Where each setting comes from, first match wins (as rpk): a flag (--url,
 * --cluster, --api-key), then the environment (STRAND_URL, STRAND_CLUSTER,
 * STRAND_API_KEY, STRAND_AWS_REGION, STRAND_AWS_PROFILE), then the profile
 * (--profile, else STRAND_PROFILE, else the profile file's current one:
 * cli/profiles.ts), then the defaults (http://localhost:8082, cluster `local`,
 * no credentials). An empty environment variable counts as unset.
 */
import { StrandClient, type AwsCredentials, type SigningOptions } from '../client';
import { loadProfiles, type Profile } from './profiles';

export interface GlobalOptions {
  url?: string;
  cluster?: string;
  json?: boolean;
  /** --api-key; else STRAND_API_KEY; else the profile's. */
  apiKey?: string;
  /** --profile; else STRAND_PROFILE; else the profile file's current one. */
  profile?: string;
}

export const defaultUrl = 'http://localhost:8082';
export const defaultCluster = 'local';

/** Every environment variable the CLI reads, for --help (cli/main.ts) and docs/cli.md. */
export const environmentVariables: [name: string, meaning: string][] = [
  ['STRAND_URL', `the HTTP API URL (--url; default ${defaultUrl})`],
  ['STRAND_CLUSTER', `the cluster id (--cluster; default ${defaultCluster})`],
  ['STRAND_API_KEY', 'API key, sent as Authorization: Bearer (--api-key)'],
  ['STRAND_AWS_REGION', 'SigV4-sign requests for this region (a stack deployed with IAM authorization)'],
  ['STRAND_AWS_PROFILE', 'with SigV4: the AWS shared-config profile for credentials (else the AWS default chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, …)'],
  ['STRAND_PROFILE', 'the profile to use (--profile)'],
  ['STRAND_CONFIG', 'the profile file (default $XDG_CONFIG_HOME/strand/config.json, else ~/.config/strand/config.json)'],
  ['STRAND_DEBUG', 'print SDK warnings to stderr'],
  ['STRAND_SOURCE_API_KEY', 'strand mirror: API key for the source (--source-api-key)'],
  ['STRAND_TARGET_API_KEY', 'strand mirror: API key for the target (--target-api-key)'],
  ['XDG_CONFIG_HOME', 'where the profile file lives when STRAND_CONFIG is unset'],
];

/** The settings a command runs with, and where each came from (`strand profile show` prints them). */
export interface Settings {
  url: string;
  cluster: string;
  apiKey: string | undefined;
  awsRegion: string | undefined;
  awsProfile: string | undefined;
  /** The profile that was read, if any. */
  profile: string | undefined;
  /** Why there is no API key though the profile names one (added to a 40101's hint). */
  apiKeyNote: string | undefined;
}

const env = (name: string): string | undefined => process.env[name] || undefined;

/** Resolves flags > environment > profile > defaults. A profile named but missing, or a key variable unset, is a usage error. */
export function resolveSettings(options: GlobalOptions): Settings {
  const file = loadProfiles();
  const name = options.profile || env('STRAND_PROFILE') || file.current;
  let profile: Profile = {};
  let used: string | undefined;
  if (name !== undefined) {
    const found = file.profiles[name];
    if (!found) {
      const known = Object.keys(file.profiles);
      // A `current` that names a deleted profile is not worth failing every command for.
      if (options.profile || env('STRAND_PROFILE')) {
        throw new UsageError(`no profile '${name}' in ${file.path}${known.length > 0 ? ` (profiles: ${known.join(', ')})` : '; create one with `strand profile create`'}`);
      }
    } else {
      profile = found;
      used = name;
    }
  }
  let profileKey: string | undefined;
  let apiKeyNote: string | undefined;
  if (profile.api_key_env !== undefined) {
    profileKey = env(profile.api_key_env);
    // Not an error here: `strand profile …` must still work to fix it, and a server without auth needs no key.
    if (profileKey === undefined) apiKeyNote = `profile '${name}' reads its API key from $${profile.api_key_env}, which is not set`;
  } else profileKey = profile.api_key;
  return {
    url: options.url || env('STRAND_URL') || profile.url || defaultUrl,
    cluster: options.cluster || env('STRAND_CLUSTER') || profile.cluster || defaultCluster,
    apiKey: options.apiKey || env('STRAND_API_KEY') || profileKey,
    awsRegion: env('STRAND_AWS_REGION') || profile.aws_region,
    awsProfile: env('STRAND_AWS_PROFILE') || profile.aws_profile,
    profile: used,
    apiKeyNote: options.apiKey || env('STRAND_API_KEY') ? undefined : apiKeyNote,
  };
}

export interface Context {
  client: StrandClient;
  json: boolean;
  settings: Settings;
  out(text: string): void;
  /** Human output only: skipped with --json. */
  say(text: string): void;
  printJson(value: unknown): void;
}

/** With a named AWS profile: its credentials, loaded only when a request is signed (the credential chain is large). */
function awsCredentials(profile: string | undefined): SigningOptions['credentials'] {
  if (profile === undefined) return undefined;
  let provider: (() => Promise<AwsCredentials>) | undefined;
  return () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    provider ??= (require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node')).defaultProvider({ profile });
    return provider();
  };
}

/** The settings of the command running (cli/main.ts's error hints read it). */
export let activeSettings: Settings | undefined;

export function createContext(options: GlobalOptions): Context {
  const json = options.json === true;
  const settings = resolveSettings(options);
  activeSettings = settings;
  const credentials = awsCredentials(settings.awsProfile);
  const client = new StrandClient({
    url: settings.url,
    clusterId: settings.cluster,
    // A person waits for these: give up on a dead server quickly.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2000 },
    // The idempotence fallback warning is for SDK users; the CLI stays quiet unless asked.
    logger: { warn: (m) => (process.env.STRAND_DEBUG ? process.stderr.write(`${m}\n`) : undefined) },
    // '' rather than undefined: the SDK would read STRAND_API_KEY itself, and resolveSettings already did.
    apiKey: settings.apiKey ?? '',
    ...(settings.awsRegion ? { signing: { region: settings.awsRegion, ...(credentials ? { credentials } : {}) } } : {}),
  });
  return {
    client,
    json,
    settings,
    out: (text) => writeOut(text),
    say: (text) => {
      if (!json) writeOut(`${text}\n`);
    },
    printJson: (value) => writeOut(`${JSON.stringify(value, null, 2)}\n`),
  };
}

// stdout -----------------------------------------------------------------------

/**
 * Whether stdout's reader went away (EPIPE: `strand consume … | head -2`).
 * cli/main.ts listens for stdout's errors once; commands that stream (consume)
 * subscribe to hear it and stop; every other write after it is dropped.
 */
let stdoutClosed = false;
const stdoutClosedListeners = new Set<() => void>();

export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/** Calls `listener` once stdout's reader is gone; returns the unsubscribe. */
export function onStdoutClosed(listener: () => void): () => void {
  if (stdoutClosed) {
    queueMicrotask(listener);
    return () => {};
  }
  stdoutClosedListeners.add(listener);
  return () => stdoutClosedListeners.delete(listener);
}

/** cli/main.ts's stdout 'error' listener: EPIPE (and a destroyed stream) mean the reader left. Other errors are returned. */
export function stdoutFailed(err: NodeJS.ErrnoException): boolean {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') return false;
  if (!stdoutClosed) {
    stdoutClosed = true;
    for (const l of [...stdoutClosedListeners]) l();
    stdoutClosedListeners.clear();
  }
  return true;
}

/** Writes to stdout unless its reader is gone. */
export function writeOut(text: string): void {
  if (!stdoutClosed) process.stdout.write(text);
}

/**
 * Writes to stdout and resolves once the bytes are handed to the OS (a pipe or
 * file on Linux: at once), false if the reader is gone. consume waits for it
 * before it counts a record as printed, so a group commits only what was written.
 */
export function writeOutAcknowledged(text: string): Promise<boolean> {
  if (stdoutClosed) return Promise.resolve(false);
  return new Promise((resolve) => {
    process.stdout.write(text, (err) => resolve(!err && !stdoutClosed));
  });
}

// options ----------------------------------------------------------------------

/** `k=v` options, repeated, into a record; a pair without `=` is a usage error. */
export function parseConfigPairs(pairs: string[] | undefined, option = '--config'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${option} takes name=value, not '${pair}'`);
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
