/**
 * `strand consume <topic…>`: prints records, one per line (the value by
 * default; kcat-style --format; JSON lines with --json), from one or more
 * topics (arguments, or -t repeated).
 *
 * Where it starts (-o, kcat's): `beginning`, `end` (the default), `N` (that
 * offset, within the log's bounds), `-N` (N records before the end, per
 * partition), `@MS` (the first record at or after that time, epoch ms; kcat's
 * `s@MS` too), `stored` (the group's committed offsets). `--from-beginning` is
 * `-o beginning`. With --group the group's committed offsets win, and
 * `-o beginning|end` says where to start without one; moving a group is
 * `strand groups reset-offsets`.
 *
 * When it stops: after -c N records; with -e, once it has printed every record
 * that was in its partitions when it started (kcat's exit at end); after
 * --timeout-ms without a record; when stdout's reader goes away (EPIPE:
 * `| head -2`); on SIGINT or SIGTERM. Each of these is a clean stop, exit 0:
 * a group member commits what it printed and leaves the group, so its
 * partitions move to another member at once. "Printed" is what was written to
 * stdout: records in a pipe's buffer that the reader never read count too, as
 * they do for every Kafka console consumer; `-c N` consumes exactly N. A
 * second signal while stopping exits at once (130 for SIGINT, 143 for
 * SIGTERM), without committing.
 *
 * Keys and values in the Confluent wire format are decoded through the schema
 * registry unless --no-decode (cli/decode.ts).
 */
import type { Command } from 'commander';
import type { Consumer, KafkaMessage, PartitionDescription } from '../client';
import { mapBounded } from '../src/mapBounded';
import { UsageError, collect, onStdoutClosed, parseInteger, writeOutAcknowledged, type Context, type Wrap } from './context';
import { WireDecoder } from './decode';
import { compileFormat, defaultFormat, jsonLine } from './format';

export interface ConsumeOptions {
  topic?: string[];
  group?: string;
  fromBeginning?: boolean;
  partition?: string;
  offset?: string;
  count?: string;
  maxMessages?: string;
  exit?: boolean;
  timeoutMs?: string;
  format?: string;
  /** false with --no-decode. */
  decode?: boolean;
}

export type OffsetSpec =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'stored' }
  | { kind: 'absolute'; offset: number }
  | { kind: 'fromEnd'; count: number }
  | { kind: 'timestamp'; ms: number };

/** How often -e checks whether every partition is caught up (local state only: no request). */
const caughtUpCheckMs = 100;
/** Offsets-for-timestamp lookups -o @MS keeps in flight. */
const offsetLookupsInFlightMax = 8;
/** Topics one consume reads (each is a describe at start). */
const topicsPerConsumeMax = 100;

const signalNumbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

/** kcat's -o: beginning | end | stored | N | -N | @MS (or s@MS). */
export function parseOffsetSpec(raw: string): OffsetSpec {
  const v = raw.trim().toLowerCase();
  if (v === 'beginning' || v === 'earliest' || v === 'start') return { kind: 'beginning' };
  if (v === 'end' || v === 'latest') return { kind: 'end' };
  if (v === 'stored') return { kind: 'stored' };
  if (/^\d+$/.test(v)) return { kind: 'absolute', offset: parseInteger(v, '-o') };
  if (/^-\d+$/.test(v)) return { kind: 'fromEnd', count: parseInteger(v.slice(1), '-o -N') };
  const at = /^s?@(\d+)$/.exec(v);
  if (at) return { kind: 'timestamp', ms: parseInteger(at[1]!, '-o @timestamp') };
  throw new UsageError(`-o takes beginning, end, stored, an offset N, -N (N before the end) or @MS (a time in epoch ms), not '${raw}'`);
}

export function consumeCommand(program: Command, wrap: Wrap): void {
  program
    .command('consume [topics...]')
    .description('print records, one per line, from one or more topics')
    .option('-t, --topic <topic>', 'a topic to read (repeatable; or name topics as arguments)', collect)
    .option('-g, --group <group>', 'consume as a member of this consumer group (commits what it prints, leaves on exit)')
    .option('-o, --offset <spec>', 'where to start: beginning, end (default), stored, N, -N (N before the end), @MS (first at or after epoch ms)')
    .option('-b, --from-beginning', 'alias of -o beginning')
    .option('-p, --partition <n>', 'read only this partition (of each topic)')
    .option('-c, --count <n>', 'stop after this many records')
    .option('--max-messages <n>', 'alias of --count')
    .option('-e, --exit', 'exit once every record that was there at start is printed (caught up on all partitions)')
    .option('--timeout-ms <ms>', 'stop after this long without a record')
    .option('-f, --format <fmt>', 'kcat-style format: %t topic, %p partition, %o offset, %T timestamp, %k key, %v value, %h headers, %K %S key/value length')
    .option('--decode', 'decode Confluent wire-format keys and values (Avro, JSON Schema) through the schema registry (the default)')
    .option('--no-decode', 'print wire-format keys and values as stored')
    .action(wrap((ctx: Context, topics: string[], opts: ConsumeOptions) => consume(ctx, topics, opts)));
}

interface Plan {
  topics: string[];
  spec: OffsetSpec | undefined;
  partition: number | undefined;
  count: number | undefined;
  timeoutMs: number | undefined;
}

function plan(topicArgs: string[], opts: ConsumeOptions): Plan {
  const topics = [...new Set([...(topicArgs ?? []), ...(opts.topic ?? [])])];
  if (topics.length === 0) throw new UsageError('name a topic: strand consume <topic…> (or -t <topic>, repeatable)');
  if (topics.length > topicsPerConsumeMax) throw new UsageError(`one consume reads at most ${topicsPerConsumeMax} topics`);
  const partition = opts.partition === undefined ? undefined : parseInteger(opts.partition, '--partition');
  if (opts.count !== undefined && opts.maxMessages !== undefined && opts.count !== opts.maxMessages) throw new UsageError('--count and --max-messages are the same option: give one');
  const rawCount = opts.count ?? opts.maxMessages;
  const count = rawCount === undefined ? undefined : parseInteger(rawCount, '--count', 1);
  const timeoutMs = opts.timeoutMs === undefined ? undefined : parseInteger(opts.timeoutMs, '--timeout-ms', 1);
  let spec = opts.offset === undefined ? undefined : parseOffsetSpec(opts.offset);
  if (opts.fromBeginning) {
    if (spec && spec.kind !== 'beginning') throw new UsageError(`--from-beginning is -o beginning; it cannot be combined with -o ${opts.offset}`);
    spec = { kind: 'beginning' };
  }
  if (opts.group) {
    if (partition !== undefined) throw new UsageError('--group and --partition cannot be combined: the group assigns partitions');
    if (spec && spec.kind !== 'beginning' && spec.kind !== 'end' && spec.kind !== 'stored') {
      throw new UsageError(
        `with --group, -o takes beginning or end (where to start without a committed offset); to move the group, use \`strand groups reset-offsets ${opts.group} …\``,
      );
    }
  } else if (spec?.kind === 'stored') throw new UsageError('-o stored reads a group\'s committed offsets: it needs --group');
  return { topics, spec, partition, count, timeoutMs };
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Without a group: the start offset of each partition, from its bounds (and -o @MS's lookups). */
async function startOffsets(ctx: Context, spec: OffsetSpec | undefined, parts: { topic: string; p: PartitionDescription }[]): Promise<number[]> {
  const admin = ctx.client.admin();
  return mapBounded(parts, offsetLookupsInFlightMax, async ({ topic, p }) => {
    const { logStartOffset: start, highWatermark: end } = p;
    if (!spec || spec.kind === 'end') return end;
    if (spec.kind === 'beginning') return start;
    if (spec.kind === 'absolute') return Math.min(Math.max(spec.offset, start), end);
    if (spec.kind === 'fromEnd') return Math.max(start, end - spec.count);
    if (spec.kind === 'timestamp') return admin.offsetForTimestamp(topic, p.partitionId, spec.ms);
    throw new UsageError('-o stored needs --group');
  });
}

export async function consume(ctx: Context, topicArgs: string[], opts: ConsumeOptions): Promise<void> {
  const { topics, spec, partition, count, timeoutMs } = plan(topicArgs, opts);
  const format = ctx.json ? jsonLine : compileFormat(opts.format ?? defaultFormat);
  const admin = ctx.client.admin();

  // Names an unknown topic (or a missing partition) before anything else; the bounds are -o's and -e's.
  const described = await Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin.describePartitions(topic) })));
  const parts: { topic: string; p: PartitionDescription }[] = [];
  for (const { topic, partitions } of described) {
    if (partition !== undefined && partition >= partitions.length) {
      throw new UsageError(`topic '${topic}' has ${partitions.length} partition${partitions.length === 1 ? '' : 's'}; there is no partition ${partition}`);
    }
    for (const p of partitions) if (partition === undefined || p.partitionId === partition) parts.push({ topic, p });
  }
  /** The high watermarks at start: -e stops once every consumed partition reaches its own. */
  const ends = new Map(parts.map(({ topic, p }) => [tpKey(topic, p.partitionId), p.highWatermark]));

  const consumer: Consumer = ctx.client.consumer({
    groupId: opts.group,
    autoOffsetReset: spec?.kind === 'beginning' ? 'earliest' : 'latest',
    maxWaitTimeInMs: Math.min(timeoutMs ?? 5000, 5000),
  });
  if (opts.group) await consumer.subscribe({ topics, fromBeginning: spec?.kind === 'beginning' });
  else {
    const offsets = await startOffsets(ctx, spec, parts);
    consumer.assign(parts.map(({ topic, p }, i) => ({ topic, partition: p.partitionId, offset: offsets[i]! })));
  }
  const decoder = opts.decode === false ? undefined : new WireDecoder(ctx.client, (m) => process.stderr.write(`strand: ${m}\n`));

  let printed = 0;
  let stopping = false;
  let signalled: string | undefined;
  let idle: NodeJS.Timeout | undefined;
  let caughtUpTimer: NodeJS.Timeout | undefined;
  let finish!: (err?: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => (finish = (err?: unknown) => (err ? reject(err) : resolve())));
  const stop = (err?: unknown) => {
    stopping = true;
    finish(err);
  };
  const armIdle = () => {
    if (timeoutMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(() => stop(), timeoutMs);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(128 + (signalNumbers[signal] ?? 0)); // a second signal: stop now, commit nothing more
    signalled = signal;
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const offStdoutClosed = onStdoutClosed(() => stop());
  consumer.on('crash', (err: unknown) => stop(err));

  const caughtUp = () => {
    const assigned = consumer.assignment();
    if (assigned.length === 0) return false;
    return assigned.every((tp) => {
      const position = consumer.position(tp);
      const end = ends.get(tpKey(tp.topic, tp.partition));
      return position !== undefined && (end === undefined || position >= end);
    });
  };

  try {
    await consumer.run({
      eachMessage: async ({ topic, partition: p, message, pause }: { topic: string; partition: number; message: KafkaMessage; pause(): () => void }) => {
        if (stopping) {
          pause(); // not printed, so not processed: the position (and a group's commit) stays before it
          return;
        }
        const decoded = decoder ? await decoder.decode(message) : undefined;
        const written = await writeOutAcknowledged(format({ topic, partition: p, message, ...(decoded ? { decoded } : {}) }));
        if (!written) {
          // The reader left (EPIPE): this record was not printed, so it is not committed either.
          pause();
          stop();
          return;
        }
        printed++;
        armIdle();
        if (count !== undefined && printed >= count) stop();
      },
    });
    armIdle();
    if (opts.exit) {
      caughtUpTimer = setInterval(() => {
        if (caughtUp()) stop();
      }, caughtUpCheckMs);
    }
    await finished;
  } finally {
    clearTimeout(idle);
    clearInterval(caughtUpTimer);
    offStdoutClosed();
    stopping = true;
    // Commits what was printed and leaves the group (Consumer.stop); a second signal meanwhile exits at once.
    await consumer.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  if (!ctx.json) {
    const why = signalled ? ` (stopped by ${signalled})` : '';
    process.stderr.write(`Consumed ${printed} message${printed === 1 ? '' : 's'} from ${topics.map((t) => `'${t}'`).join(', ')}${why}.\n`);
  }
}
