/** `strand triggers create | list | get | pause | resume | delete` (docs/triggers.md) */
import type { Command } from 'commander';
import type { TriggerConfig, TriggerDescription, TriggerTarget } from '../client';
import { UsageError, parseInteger, table, type Context, type Wrap } from './context';

interface CreateOptions {
  topic?: string;
  topicPattern?: string;
  http?: string;
  secret?: string;
  handler?: string;
  lambda?: string;
  s3?: string;
  batchSize?: string;
  batchingWindowMs?: string;
  startingPosition?: string;
  maxRetryAttempts?: string;
  maxRecordAgeMs?: string;
  bisect?: boolean;
  deadLetterTopic?: string;
}

function targetOf(opts: CreateOptions): TriggerTarget {
  const targets: TriggerTarget[] = [];
  if (opts.http !== undefined) targets.push({ type: 'http', url: opts.http, ...(opts.secret !== undefined ? { secret: opts.secret } : {}) });
  if (opts.handler !== undefined) targets.push({ type: 'module', handler: opts.handler });
  if (opts.lambda !== undefined) targets.push({ type: 'lambda', functionArn: opts.lambda });
  if (opts.s3 !== undefined) targets.push(s3TargetOf(opts.s3));
  if (targets.length !== 1) throw new UsageError('create needs exactly one target: --http URL [--secret S], --handler ./path.ts#export, --lambda ARN or --s3 [BUCKET]/PREFIX/');
  if (opts.secret !== undefined && opts.http === undefined) throw new UsageError('--secret signs webhook deliveries: use it with --http');
  return targets[0]!;
}

/**
 * `--s3 <bucket>/<prefix>` (`my-bucket/archive/`, `my-bucket` for the bucket's
 * root) or `--s3 /<prefix>` for the deployment's own bucket (`/archive/`). An
 * `s3://` in front is allowed; a prefix gets its trailing '/' added.
 */
export function s3TargetOf(spec: string): TriggerTarget {
  const rest = spec.replace(/^s3:\/\//, '');
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  let prefix = slash === -1 ? '' : rest.slice(slash + 1);
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (bucket === '' && prefix === '') throw new UsageError('--s3 needs a bucket, a prefix or both: BUCKET/PREFIX/, BUCKET or /PREFIX/ (the deployment\'s bucket)');
  return { type: 's3', ...(bucket !== '' ? { bucket } : {}), prefix };
}

/** earliest, latest, or a time in epoch milliseconds. */
function startingPositionOf(value: string | undefined): TriggerConfig['startingPosition'] {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (upper === 'EARLIEST' || upper === 'LATEST') return upper;
  return { timestamp: parseInteger(value, '--starting-position (earliest, latest or epoch ms)') };
}

const optionalInteger = (value: string | undefined, what: string, min = 0) => (value === undefined ? undefined : parseInteger(value, what, min));

function targetText(t: TriggerDescription['target']): string {
  if (t.type === 'http') return `${t.url}${t.secretSet ? ' (signed)' : ''}`;
  if (t.type === 'module') return t.handler;
  if (t.type === 's3') return `s3://${t.bucket}/${t.prefix}`;
  return t.functionArn;
}

/** The topic, or the pattern as `/<pattern>/`. */
function topicText(t: TriggerDescription): string {
  return t.topic ?? `/${t.topicPattern ?? ''}/`;
}

function describeTrigger(ctx: Context, t: TriggerDescription): void {
  ctx.say(`Trigger: ${t.name}  state: ${t.state}  ${t.topic !== null ? `topic: ${t.topic}` : `topic pattern: ${t.topicPattern}`}  group: ${t.groupId}`);
  ctx.say(`Target: ${t.target.type} ${targetText(t.target)}`);
  const position = typeof t.startingPosition === 'string' ? t.startingPosition : `timestamp ${t.startingPosition.timestamp}`;
  ctx.say(
    `Batch size: ${t.batchSize}  window: ${t.maxBatchingWindowMs} ms  starting position: ${position}  retries: ${t.maxRetryAttempts}  ` +
      `max record age: ${t.maxRecordAgeMs} ms  bisect: ${t.bisectBatchOnError}  dead-letter topic: ${t.deadLetterTopic ?? '-'}`,
  );
}

export function triggersCommand(program: Command, wrap: Wrap): void {
  const triggers = program.command('triggers').description('push a topic\'s records to a webhook or a function, or archive them to S3: create, list, get, pause, resume, delete');

  triggers
    .command('create <name>')
    .description('attach a target to a topic')
    .option('-t, --topic <topic>', 'the topic whose records are delivered')
    .option('--topic-pattern <regex>', 'instead of --topic: every topic whose whole name matches (topics created later too)')
    .option('--http <url>', 'target: a webhook (POST, JSON)')
    .option('--secret <secret>', 'with --http: sign each delivery (X-Strand-Signature)')
    .option('--handler <module#export>', 'target: a Lambda-style handler module (local Strand only), e.g. ./handlers/orders.ts#handler')
    .option('--lambda <arn>', 'target: a Lambda function (AWS only)')
    .option('--s3 <bucket/prefix>', "target: archive to S3 as gzip NDJSON, e.g. my-bucket/archive/ (or /archive/ for the deployment's bucket)")
    .option('--batch-size <n>', 'records per delivery, 1-10000 (default 100)')
    .option('--batching-window-ms <ms>', 'wait up to this long to fill a batch (default 0)')
    .option('--starting-position <pos>', 'earliest, latest (default) or epoch ms')
    .option('--max-retry-attempts <n>', 'retries of a failing batch; -1 forever (default 3 with a dead-letter topic, else -1)')
    .option('--max-record-age-ms <ms>', 'skip (dead-letter) records older than this; -1 no limit')
    .option('--bisect', 'split a failing batch in halves to isolate the bad record')
    .option('--dead-letter-topic <topic>', 'where records that could not be delivered go')
    .action(
      wrap(async (ctx: Context, name: string, opts: CreateOptions) => {
        if ((opts.topic === undefined) === (opts.topicPattern === undefined)) throw new UsageError('create needs exactly one of --topic TOPIC and --topic-pattern REGEX');
        const startingPosition = startingPositionOf(opts.startingPosition);
        const config: TriggerConfig = {
          ...(opts.topic !== undefined ? { topic: opts.topic } : {}),
          ...(opts.topicPattern !== undefined ? { topicPattern: opts.topicPattern } : {}),
          target: targetOf(opts),
          ...(startingPosition !== undefined ? { startingPosition } : {}),
          batchSize: optionalInteger(opts.batchSize, '--batch-size', 1),
          maxBatchingWindowMs: optionalInteger(opts.batchingWindowMs, '--batching-window-ms'),
          maxRetryAttempts: optionalInteger(opts.maxRetryAttempts, '--max-retry-attempts', -1),
          maxRecordAgeMs: optionalInteger(opts.maxRecordAgeMs, '--max-record-age-ms', -1),
          ...(opts.bisect ? { bisectBatchOnError: true } : {}),
          ...(opts.deadLetterTopic !== undefined ? { deadLetterTopic: opts.deadLetterTopic } : {}),
        };
        const t = await ctx.client.admin().createTrigger(name, config);
        if (ctx.json) return ctx.printJson(t);
        ctx.say(`Created trigger '${t.name}': ${topicText(t)} → ${t.target.type} ${targetText(t.target)} (progress in group ${t.groupId}).`);
      }),
    );

  triggers
    .command('list')
    .description('list triggers')
    .action(
      wrap(async (ctx: Context) => {
        const list = await ctx.client.admin().listTriggers();
        if (ctx.json) return ctx.printJson(list);
        if (list.length === 0) return ctx.say('No triggers.');
        ctx.say(table(['TRIGGER', 'STATE', 'TOPIC', 'TARGET'], list.map((t) => [t.name, t.state, topicText(t), `${t.target.type} ${targetText(t.target)}`])));
      }),
    );

  triggers
    .command('get <name>')
    .description('a trigger\'s target and settings (its lag: strand groups lag trigger-<name>)')
    .action(
      wrap(async (ctx: Context, name: string) => {
        const t = await ctx.client.admin().describeTrigger(name);
        if (ctx.json) return ctx.printJson(t);
        describeTrigger(ctx, t);
      }),
    );

  for (const [verb, what] of [
    ['pause', 'stop delivering, keeping the position'],
    ['resume', 'deliver again from where it stopped'],
  ] as const) {
    triggers
      .command(`${verb} <name>`)
      .description(what)
      .action(
        wrap(async (ctx: Context, name: string) => {
          const admin = ctx.client.admin();
          const t = verb === 'pause' ? await admin.pauseTrigger(name) : await admin.resumeTrigger(name);
          if (ctx.json) return ctx.printJson(t);
          ctx.say(`Trigger '${t.name}' is ${t.state}.`);
        }),
      );
  }

  triggers
    .command('delete <name>')
    .description('delete a trigger and its consumer group')
    .action(
      wrap(async (ctx: Context, name: string) => {
        await ctx.client.admin().deleteTrigger(name);
        if (ctx.json) ctx.printJson({ deleted: name });
        else ctx.say(`Deleted trigger '${name}'.`);
      }),
    );
}
