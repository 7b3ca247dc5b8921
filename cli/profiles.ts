/**
 * Profiles, as rpk's: named settings in one file, one of them current.
 *
 *   STRAND_CONFIG, else $XDG_CONFIG_HOME/strand/config.json, else ~/.config/strand/config.json
 *
 *   { "current": "prod",
 *     "profiles": { "prod": { "url": "https://…", "cluster": "prod", "api_key_env": "PROD_STRAND_KEY",
 *                             "aws_region": "eu-west-1", "aws_profile": "ops" } } }
 *
 * A profile refers to its API key by the name of an environment variable
 * (`api_key_env`, preferred: the file then holds no secret) or holds it
 * (`api_key`; the file is written readable by its owner only). `show` and
 * `list` never print a key's value. Flags and the environment win over the
 * profile (cli/context.ts).
 *
 *   strand profile create <name> [--set key=value …]   and make it current (as rpk)
 *   strand profile set <name> key=value …               change keys (key= removes one)
 *   strand profile use <name> | list | show [name] | delete <name>
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { UsageError, collect, parseConfigPairs, table, type Context, type Wrap } from './context';

export interface Profile {
  url?: string;
  cluster?: string;
  /** The name of the environment variable holding the API key. */
  api_key_env?: string;
  /** The API key itself (never printed). */
  api_key?: string;
  aws_region?: string;
  aws_profile?: string;
}

export interface ProfileFile {
  path: string;
  current: string | undefined;
  profiles: Record<string, Profile>;
}

/** The keys a profile may set, with what each means (for errors and help). */
export const profileKeys: Record<keyof Profile, string> = {
  url: 'the HTTP API URL',
  cluster: 'the cluster id',
  api_key_env: 'the environment variable holding the API key',
  api_key: 'the API key itself (stored in the file; prefer api_key_env)',
  aws_region: 'SigV4-sign requests for this region',
  aws_profile: 'the AWS shared-config profile for SigV4 credentials',
};

/** A profile name: what a person types, no path or shell surprises. */
const profileNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A profile file larger than this is not one. */
const profileFileBytesMax = 1024 * 1024;

export function profilesPath(): string {
  if (process.env.STRAND_CONFIG) return process.env.STRAND_CONFIG;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'strand', 'config.json');
}

export function loadProfiles(path = profilesPath()): ProfileFile {
  if (!existsSync(path)) return { path, current: undefined, profiles: {} };
  const text = readFileSync(path, 'utf8');
  if (text.length > profileFileBytesMax) throw new UsageError(`${path} is larger than ${profileFileBytesMax} bytes: not a profile file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not JSON (${(err as Error).message}); fix it or set STRAND_CONFIG to another file`);
  }
  const obj = (parsed ?? {}) as { current?: unknown; profiles?: unknown };
  if (typeof obj !== 'object' || (obj.profiles !== undefined && (typeof obj.profiles !== 'object' || obj.profiles === null))) {
    throw new UsageError(`${path} is not a profile file: expected {"current": …, "profiles": {…}}`);
  }
  return { path, current: typeof obj.current === 'string' ? obj.current : undefined, profiles: (obj.profiles ?? {}) as Record<string, Profile> };
}

/** Writes the file whole (a temporary file renamed over it), readable by its owner only: it may hold an API key. */
export function saveProfiles(file: ProfileFile): void {
  mkdirSync(dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...(file.current !== undefined ? { current: file.current } : {}), profiles: file.profiles }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file.path);
}

/** `key=value` pairs into a profile's changes; `key=` (empty) removes the key. */
function changesOf(pairs: string[] | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(parseConfigPairs(pairs, '--set'))) {
    if (!(k in profileKeys)) throw new UsageError(`unknown profile key '${k}' (keys: ${Object.keys(profileKeys).join(', ')})`);
    if (k === 'url' && v !== '' && !/^https?:\/\/[^/\s]+/.test(v)) throw new UsageError(`url must be an http:// or https:// URL, not '${v}'`);
    if (k === 'api_key_env' && v !== '' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) throw new UsageError(`api_key_env names an environment variable (letters, digits, _), not '${v}'`);
    out[k] = v === '' ? undefined : v;
  }
  return out;
}

function applyChanges(profile: Profile, changes: Record<string, string | undefined>): Profile {
  const next: Record<string, string | undefined> = { ...profile };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  // One source for the key: setting one form drops the other.
  if (changes.api_key !== undefined) delete next.api_key_env;
  if (changes.api_key_env !== undefined) delete next.api_key;
  return next as Profile;
}

function checkName(name: string): void {
  if (!profileNamePattern.test(name)) throw new UsageError(`a profile name is letters, digits, '.', '_' and '-' (at most 64), not '${name}'`);
}

function existing(file: ProfileFile, name: string): Profile {
  const p = file.profiles[name];
  if (!p) {
    const known = Object.keys(file.profiles);
    throw new UsageError(`no profile '${name}' in ${file.path}${known.length > 0 ? ` (profiles: ${known.join(', ')})` : ''}`);
  }
  return p;
}

/** A profile as `show` and `list --json` print it: never the key's value. */
export function publicView(name: string, p: Profile, current: string | undefined) {
  return {
    name,
    current: name === current,
    url: p.url ?? null,
    cluster: p.cluster ?? null,
    api_key: p.api_key !== undefined ? '(hidden)' : null,
    api_key_env: p.api_key_env ?? null,
    api_key_env_set: p.api_key_env !== undefined ? Boolean(process.env[p.api_key_env]) : null,
    aws_region: p.aws_region ?? null,
    aws_profile: p.aws_profile ?? null,
  };
}

function keyText(p: Profile): string {
  if (p.api_key_env !== undefined) return `$${p.api_key_env} (${process.env[p.api_key_env] ? 'set' : 'not set'})`;
  if (p.api_key !== undefined) return '(stored, hidden)';
  return '-';
}

export function profilesCommand(program: Command, wrap: Wrap): void {
  const profile = program.command('profile').description('named connection settings (url, cluster, credentials) in a profile file, as rpk profiles');
  // These never need the server: the wrapped action's context is built from the file, but no request is made.
  const local = (action: (ctx: Context, ...args: never[]) => Promise<void> | void) => wrap(async (ctx: Context, ...args: never[]) => action(ctx, ...args));

  profile
    .command('create <name>')
    .description(`create a profile and make it current; keys: ${Object.keys(profileKeys).join(', ')}`)
    .option('-s, --set <key=value>', 'a setting (repeatable), e.g. --set url=https://… --set api_key_env=PROD_KEY', collect)
    .option('--no-use', 'leave the current profile as it is')
    .action(
      local((ctx: Context, name: string, opts: { set?: string[]; use: boolean }) => {
        checkName(name);
        const file = loadProfiles();
        if (file.profiles[name]) throw new UsageError(`profile '${name}' exists; change it with \`strand profile set ${name} key=value\` or delete it first`);
        const p = applyChanges({}, changesOf(opts.set));
        file.profiles[name] = p;
        if (opts.use) file.current = name;
        saveProfiles(file);
        if (ctx.json) return ctx.printJson(publicView(name, p, file.current));
        ctx.say(`Created profile '${name}' in ${file.path}${opts.use ? ' and made it current' : ''}.`);
      }),
    );

  profile
    .command('set <name> <key=value...>')
    .description('change keys of a profile (key= removes one)')
    .action(
      local((ctx: Context, name: string, pairs: string[]) => {
        const file = loadProfiles();
        const p = applyChanges(existing(file, name), changesOf(pairs));
        file.profiles[name] = p;
        saveProfiles(file);
        if (ctx.json) return ctx.printJson(publicView(name, p, file.current));
        ctx.say(`Updated profile '${name}'.`);
      }),
    );

  profile
    .command('use <name>')
    .description('make a profile current')
    .action(
      local((ctx: Context, name: string) => {
        const file = loadProfiles();
        existing(file, name);
        file.current = name;
        saveProfiles(file);
        if (ctx.json) return ctx.printJson({ current: name });
        ctx.say(`Using profile '${name}'.`);
      }),
    );

  profile
    .command('list')
    .description('list profiles (* marks the current one)')
    .action(
      local((ctx: Context) => {
        const file = loadProfiles();
        const names = Object.keys(file.profiles).sort();
        if (ctx.json) return ctx.printJson(names.map((n) => publicView(n, file.profiles[n]!, file.current)));
        if (names.length === 0) return ctx.say(`No profiles in ${file.path}; create one with \`strand profile create <name> --set url=…\`.`);
        ctx.say(
          table(
            ['', 'NAME', 'URL', 'CLUSTER', 'API KEY'],
            names.map((n) => {
              const p = file.profiles[n]!;
              return [n === file.current ? '*' : '', n, p.url ?? '-', p.cluster ?? '-', keyText(p)];
            }),
          ),
        );
      }),
    );

  profile
    .command('show [name]')
    .description('a profile (the current one by default), never its key; then the settings commands run with and where each comes from')
    .action(
      local((ctx: Context, name: string | undefined) => {
        const file = loadProfiles();
        const shown = name ?? ctx.settings.profile ?? file.current;
        if (shown === undefined) {
          if (ctx.json) return ctx.printJson({ profile: null, effective: effectiveView(ctx) });
          ctx.say(`No current profile (${file.path}).`);
          return ctx.say(effectiveText(ctx));
        }
        const p = existing(file, shown);
        if (ctx.json) return ctx.printJson({ profile: publicView(shown, p, file.current), effective: name === undefined ? effectiveView(ctx) : undefined });
        ctx.say(`Profile: ${shown}${shown === file.current ? ' (current)' : ''}  file: ${file.path}`);
        ctx.say(
          table(
            ['KEY', 'VALUE'],
            (Object.keys(profileKeys) as (keyof Profile)[]).filter((k) => p[k] !== undefined).map((k) => [k, k === 'api_key' ? '(hidden)' : k === 'api_key_env' ? keyText(p) : p[k]!]),
          ),
        );
        if (name === undefined) ctx.say(effectiveText(ctx));
      }),
    );

  profile
    .command('delete <name>')
    .description('delete a profile')
    .action(
      local((ctx: Context, name: string) => {
        const file = loadProfiles();
        existing(file, name);
        delete file.profiles[name];
        if (file.current === name) file.current = undefined;
        saveProfiles(file);
        if (ctx.json) return ctx.printJson({ deleted: name });
        ctx.say(`Deleted profile '${name}'.`);
      }),
    );
}

function effectiveView(ctx: Context) {
  const s = ctx.settings;
  return { url: s.url, cluster: s.cluster, api_key: s.apiKey ? '(hidden)' : null, aws_region: s.awsRegion ?? null, aws_profile: s.awsProfile ?? null, profile: s.profile ?? null };
}

function effectiveText(ctx: Context): string {
  const s = ctx.settings;
  return `In effect (flags > environment > profile > defaults): url ${s.url}  cluster ${s.cluster}  api key ${s.apiKey ? 'set' : 'none'}${s.awsRegion ? `  SigV4 ${s.awsRegion}${s.awsProfile ? ` (AWS profile ${s.awsProfile})` : ''}` : ''}`;
}
