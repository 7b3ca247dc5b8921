/**
 * `strand mirror` (docs/mirroring.md):
 *
 *   strand mirror --source URL --target URL [--topics REGEX] [--exclude REGEX]
 *                 [--topic-name prefixed|identity] [--sync-group-offsets] [--once]
 *   strand mirror status --target URL [--name NAME]
 *   strand mirror translate-offsets --source URL --target URL --group G [--name NAME]
 *
 * Each side has its own credentials: `--source-api-key` / `--target-api-key`
 * (else STRAND_SOURCE_API_KEY / STRAND_TARGET_API_KEY), and SigV4 with
 * `--source-aws-region` / `--target-aws-region` (optionally a named profile,
 * `--source-aws-profile` / `--target-aws-profile`; else the default AWS
 * credential chain). A side's cluster id is asked of the side itself
 * (GET /v3/clusters) unless `--source-cluster` / `--target-cluster` name it.
 * The global --url, --cluster and --api-key are not used here.
 */
import { Command } from 'commander';
import { StrandClient, type AwsCredentials, type StrandClientConfig } from '../client';
import { Mirror, translateGroup } from '../src/mirror/mirror';
import { TopicStateStore, stateTopicName } from '../src/mirror/mirrorState';
import { internalTopicPrefix, type TopicNamePolicy } from '../src/mirror/topicSelection';
import { summarizeLag, type MirrorStatus } from '../src/mirror/status';
import { UsageError, parseInteger, table, type Context, type Wrap } from './context';

interface SideOptions {
  source?: string;
  target?: string;
  sourceCluster?: string;
  targetCluster?: string;
  sourceApiKey?: string;
  targetApiKey?: string;
  sourceAwsRegion?: string;
  targetAwsRegion?: string;
  sourceAwsProfile?: string;
  targetAwsProfile?: string;
}

interface RunOptions extends SideOptions {
  topics?: string;
  exclude?: string;
  topicName?: string;
  syncGroupOffsets?: boolean;
  groups?: string;
  groupsExclude?: string;
  once?: boolean;
  name?: string;
  pollMs?: string;
}

type Side = 'source' | 'target';

function profileCredentials(profile: string | undefined): (() => Promise<AwsCredentials>) | undefined {
  if (profile === undefined) return undefined;
  let provider: (() => Promise<AwsCredentials>) | undefined;
  return () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    provider ??= (require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node')).defaultProvider({ profile });
    return provider();
  };
}

/** One side's client: its URL, cluster id (asked of it when not given) and credentials. */
export async function sideClient(opts: SideOptions, side: Side): Promise<StrandClient> {
  const url = side === 'source' ? opts.source : opts.target;
  if (!url) throw new UsageError(`--${side} <url> is required`);
  const apiKey = (side === 'source' ? opts.sourceApiKey : opts.targetApiKey) ?? process.env[side === 'source' ? 'STRAND_SOURCE_API_KEY' : 'STRAND_TARGET_API_KEY'];
  const region = side === 'source' ? opts.sourceAwsRegion : opts.targetAwsRegion;
  const profile = side === 'source' ? opts.sourceAwsProfile : opts.targetAwsProfile;
  if (profile && !region) throw new UsageError(`--${side}-aws-profile signs requests: give --${side}-aws-region too`);
  const config: StrandClientConfig = {
    url,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 5000 },
    logger: { warn: (m) => (process.env.STRAND_DEBUG ? process.stderr.write(`${m}\n`) : undefined) },
    ...(apiKey ? { apiKey } : {}),
    ...(region ? { signing: { region, ...(profile ? { credentials: profileCredentials(profile) } : {}) } } : {}),
  };
  let clusterId = side === 'source' ? opts.sourceCluster : opts.targetCluster;
  if (!clusterId) {
    const probe = new StrandClient({ ...config, clusterId: 'probe' });
    const res = await probe.transport.json<{ data: { cluster_id: string }[] }>('GET', '/v3/clusters');
    clusterId = res.data[0]?.cluster_id;
    if (!clusterId) throw new UsageError(`${url} lists no cluster: give --${side}-cluster`);
  }
  return new StrandClient({ ...config, clusterId });
}

function addSideOptions(cmd: Command, sides: Side[]): Command {
  for (const side of sides) {
    cmd
      .option(`--${side} <url>`, `the ${side} Strand's HTTP API URL`)
      .option(`--${side}-cluster <id>`, `the ${side}'s cluster id (default: asked of the ${side})`)
      .option(`--${side}-api-key <key>`, `API key for the ${side} (env STRAND_${side.toUpperCase()}_API_KEY)`)
      .option(`--${side}-aws-region <region>`, `SigV4-sign requests to the ${side} (a stack with IAM authorization)`)
      .option(`--${side}-aws-profile <name>`, `with --${side}-aws-region: credentials of this AWS profile (default: the AWS credential chain)`);
  }
  return cmd;
}

function lagRows(status: MirrorStatus): (string | number)[][] {
  return status.partitions.map((p) => [
    p.sourceTopic,
    p.targetTopic,
    p.partition,
    p.nextSourceOffset,
    p.sourceHighWatermark,
    p.lagRecords,
    p.lagSeconds.toFixed(1),
    p.lastError ?? '',
  ]);
}

function printStatus(ctx: Context, status: MirrorStatus, where: string): void {
  const lag = summarizeLag(status);
  ctx.say(`Mirror ${status.name}: ${status.sourceCluster} → ${status.targetCluster}  state: ${status.state}  updated: ${status.updatedAt}  (state in ${where})`);
  ctx.say(`Passes: ${status.passes}  records copied: ${status.recordsCopied}  max lag: ${lag.maxLagRecords} records, ${lag.maxLagSeconds.toFixed(1)} s`);
  if (status.lastError) ctx.say(`Last error (${status.lastErrorAt}): ${status.lastError}`);
  if (status.partitions.length > 0) ctx.say(table(['SOURCE', 'TARGET', 'PARTITION', 'NEXT', 'SOURCE-END', 'LAG', 'LAG-SECONDS', 'ERROR'], lagRows(status)));
  for (const t of status.skippedTopics) ctx.say(`not copied: ${t.topic} (${t.reason})`);
}

async function runMirror(ctx: Context, opts: RunOptions): Promise<void> {
  const naming = (opts.topicName ?? 'prefixed') as TopicNamePolicy;
  if (naming !== 'prefixed' && naming !== 'identity') throw new UsageError(`--topic-name is 'prefixed' or 'identity', not '${opts.topicName}'`);
  const [source, target] = await Promise.all([sideClient(opts, 'source'), sideClient(opts, 'target')]);
  for (const [flag, pattern] of [['--topics', opts.topics], ['--exclude', opts.exclude], ['--groups', opts.groups], ['--groups-exclude', opts.groupsExclude]] as const) {
    if (pattern === undefined) continue;
    try {
      new RegExp(pattern);
    } catch (err) {
      throw new UsageError(`${flag} is not a regular expression: ${(err as Error).message}`);
    }
  }
  const mirror = new Mirror({
    source,
    target,
    topics: opts.topics,
    exclude: opts.exclude,
    topicNaming: naming,
    syncGroupOffsets: opts.syncGroupOffsets === true,
    groups: opts.groups,
    groupsExclude: opts.groupsExclude,
    name: opts.name,
    pollIntervalMs: opts.pollMs === undefined ? undefined : parseInteger(opts.pollMs, '--poll-ms', 10),
    onPass: (r) => {
      if (opts.once || r.copied > 0 || r.errors.length > 0) {
        const lag = summarizeLag(r.status);
        ctx.say(`copied ${r.copied} records; ${r.status.partitions.length} partitions, max lag ${lag.maxLagRecords} records${r.errors.length > 0 ? `; errors: ${r.errors.join('; ')}` : ''}`);
      }
    },
  });
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    ctx.say(`mirroring ${source.clusterId} (${source.url}) → ${target.clusterId} (${target.url}); state in ${mirror.store.where}${opts.once ? '' : '; Ctrl-C stops'}`);
    const report = await mirror.run({ once: opts.once === true, signal: abort.signal });
    if (ctx.json) ctx.printJson(report.status);
    else if (opts.once) printStatus(ctx, report.status, mirror.store.where);
    if (opts.once && !report.caughtUp) throw new Error(`the mirror did not catch up: ${report.errors[0] ?? 'records remain'}`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function showStatus(ctx: Context, opts: SideOptions & { name?: string }): Promise<void> {
  const target = await sideClient(opts, 'target');
  const names = opts.name
    ? [opts.name]
    : (await target.admin().listTopics()).filter((t) => t.startsWith(internalTopicPrefix) && t.endsWith('.state')).map((t) => t.slice(internalTopicPrefix.length, -'.state'.length));
  if (names.length === 0) throw new Error(`no mirror writes to ${target.url} (no ${stateTopicName('<name>')} topic there)`);
  const all: MirrorStatus[] = [];
  for (const name of names) {
    const store = new TopicStateStore(target, name);
    const state = await store.load();
    if (!state.status) {
      ctx.say(`Mirror ${name}: no pass finished yet (state in ${store.where})`);
      continue;
    }
    all.push(state.status);
    if (!ctx.json) printStatus(ctx, state.status, store.where);
  }
  if (ctx.json) ctx.printJson(opts.name ? (all[0] ?? null) : all);
}

async function translateOffsets(ctx: Context, opts: SideOptions & { group?: string; name?: string }): Promise<void> {
  if (!opts.group) throw new UsageError('--group <group> is required');
  const [source, target] = await Promise.all([sideClient(opts, 'source'), sideClient(opts, 'target')]);
  const store = new TopicStateStore(target, opts.name ?? source.clusterId);
  const rows = await translateGroup(source, undefined, await store.load(), opts.group);
  if (ctx.json) return ctx.printJson(rows);
  if (rows.length === 0) return ctx.say(`group ${opts.group} has no committed offsets on mirrored topics`);
  ctx.say(
    table(
      ['SOURCE', 'PARTITION', 'SOURCE-OFFSET', 'TARGET', 'TARGET-OFFSET', 'EXACT'],
      rows.map((r) => [r.sourceTopic, r.partition, r.sourceOffset, r.targetTopic, r.targetOffset ?? `earliest (${r.reason})`, r.exact ? 'yes' : 'no']),
    ),
  );
}

/**
 * One command with an optional action word, not subcommands: the run's options
 * and the actions' share names (--source, --target, --name), and commander
 * would give options written after a subcommand to the parent command.
 */
export function mirrorCommand(program: Command, wrap: Wrap): void {
  addSideOptions(
    program
      .command('mirror')
      .argument('[action]', "nothing to run the mirror; 'status' (read from the target); 'translate-offsets' (with --group)")
      .description('copy topics from a source Strand to a target Strand (MirrorMaker 2), without duplicates; see docs/mirroring.md')
      .option('--topics <regex>', 'source topics to copy (whole-name match)', '.*')
      .option('--exclude <regex>', 'source topics not to copy (whole-name match)')
      .option('--topic-name <policy>', "target names: 'prefixed' (<source cluster>.<topic>) or 'identity'", 'prefixed')
      .option('--sync-group-offsets', 'commit translated group offsets on the target (groups with no live members there)')
      .option('--groups <regex>', 'with --sync-group-offsets: the groups to sync', '.*')
      .option('--groups-exclude <regex>', 'with --sync-group-offsets: groups not to sync')
      .option('--once', 'copy everything present, sync offsets, and exit (0 when caught up)')
      .option('--name <name>', 'the mirror name: state in strand-mirror.<name>.state on the target (default: the source cluster id; status: every mirror)')
      .option('--group <group>', 'translate-offsets: the consumer group')
      .option('--poll-ms <ms>', 'wait between passes that found nothing to copy', '1000'),
    ['source', 'target'],
  ).action(
    wrap(async (ctx: Context, action: string | undefined, opts: RunOptions & { group?: string }) => {
      if (action === undefined) return runMirror(ctx, opts);
      if (action === 'status') return showStatus(ctx, opts);
      if (action === 'translate-offsets') return translateOffsets(ctx, opts);
      throw new UsageError(`strand mirror takes no action, 'status' or 'translate-offsets', not '${action}'`);
    }),
  );
}
