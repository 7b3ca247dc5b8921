/**
 * `strand produce <topic>`: one record per line from stdin or --file, through
 * the SDK producer (batched, idempotent when the server supports it). Reading
 * is bounded: at most `sendsInFlightMax` chunks of `linesPerSendMax` lines are
 * waiting for acknowledgment, so a huge file never sits in memory.
 *
 * A line is the value, or `key<sep>value` with -K (kcat's); -k gives every
 * record one key. -H name=value adds a header to every record (repeatable; a
 * name given twice is a repeated header). With -Z (kcat's), an empty value or
 * key is sent as null: `key:` with -K: is a tombstone, which compaction removes.
 *
 * Acknowledgements: with --ack, one `partition/offset` line per record, in
 * input order; with --json, one JSON line per record ({"topic","partition",
 * "offset","timestamp"}). Then the summary goes to stderr, so stdout holds only
 * acknowledgements; without them the summary is stdout's one line. If stdout's
 * reader goes away, acknowledgements stop and producing goes on: the input
 * asked for those records.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { IHeaders, Message, RecordMetadata } from '../client';
import type { CompressionCodec } from '../src/codec/recordBatch';
import { UsageError, collect, parseInteger, writeOut, type Context, type Wrap } from './context';
import { valueEncoder } from './schemas';
import { Progress, formatBytes, formatCount } from './progress';

export const linesPerSendMax = 1000;
export const sendsInFlightMax = 16;
/** Inputs at least this large (or of unknown size) get a progress line on a terminal. */
const progressBytesMin = 1024 * 1024;
/** Headers -H may add to every record (the server's per-record limit is the real one). */
const headersPerRecordMax = 64;

export interface ProduceOptions {
  keySeparator?: string;
  key?: string;
  header?: string[];
  nullEmpty?: boolean;
  ack?: boolean;
  partition?: string;
  file?: string;
  compression?: string;
  /** Encode each line (JSON) with this registered schema (cli/schemas.ts). */
  valueSchemaId?: string;
}

export interface ProduceSummary {
  topic: string;
  records: number;
  bytes: number;
  partitions: number;
  seconds: number;
}

export function produceCommand(program: Command, wrap: Wrap): void {
  program
    .command('produce <topic>')
    .description('produce one record per line from stdin or --file')
    .option('-K, --key-separator <sep>', 'split each line into key and value at the first <sep>')
    .option('-k, --key <key>', 'the key of every record')
    .option('-H, --header <name=value>', 'a header on every record (repeatable)', collect)
    .option('-Z, --null-empty', 'send an empty value or key as null (with -K, `key<sep>` is a tombstone)')
    .option('--ack', 'print each record\'s partition/offset once acknowledged, in input order')
    .option('-p, --partition <n>', 'send every record to this partition')
    .option('-f, --file <path>', 'read lines from this file instead of stdin')
    .option('-z, --compression <codec>', 'none, gzip, snappy, lz4 or zstd', 'none')
    .option('--value-schema-id <id>', 'each line is JSON data (Avro JSON encoding) for this registered schema; sent in the Confluent wire format')
    .action(wrap((ctx: Context, topic: string, opts: ProduceOptions) => produce(ctx, topic, opts)));
}

/** -H name=value, repeated, into headers (a repeated name becomes a repeated header). */
export function parseHeaders(pairs: string[] | undefined): IHeaders | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  if (pairs.length > headersPerRecordMax) throw new UsageError(`at most ${headersPerRecordMax} -H headers`);
  const headers: Record<string, string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`-H takes name=value, not '${pair}'`);
    (headers[pair.slice(0, eq)] ??= []).push(pair.slice(eq + 1));
  }
  const out: IHeaders = {};
  for (const [name, values] of Object.entries(headers)) out[name] = values.length === 1 ? values[0]! : values;
  return out;
}

/** Prints acknowledgements in input order: a chunk's lines wait for the chunks before it. */
class AckPrinter {
  private readonly done = new Map<number, string>();
  private next = 0;

  constructor(private readonly line: (topic: string, meta: RecordMetadata) => string) {}

  /** Chunk `seq` (numbered from 0 as sent) was acknowledged. */
  acknowledged(seq: number, topic: string, metas: RecordMetadata[]): void {
    this.done.set(seq, metas.map((m) => this.line(topic, m)).join(''));
    for (let text = this.done.get(this.next); text !== undefined; text = this.done.get(this.next)) {
      writeOut(text);
      this.done.delete(this.next++);
    }
  }
}

export async function produce(ctx: Context, topic: string, opts: ProduceOptions): Promise<void> {
  const partition = opts.partition === undefined ? undefined : parseInteger(opts.partition, '--partition');
  const headers = parseHeaders(opts.header);
  if (opts.key !== undefined && opts.keySeparator !== undefined) throw new UsageError('-k gives every record one key; -K takes each key from its line: give one');
  // Fail fast, naming the topic, before reading any input.
  await ctx.client.admin().describeTopic(topic);
  const encodeValue = await valueEncoder(ctx, opts.valueSchemaId);
  // The producer refuses an unknown or unsupported codec (a usage error: exit 2) before any input is read.
  const producer = ctx.client.producer({ lingerMs: 20, batchSize: 256 * 1024, compression: (opts.compression ?? 'none') as CompressionCodec });
  const input = opts.file ? createReadStream(opts.file) : process.stdin;
  const totalBytes = opts.file ? statSync(opts.file).size : undefined;
  const progress = new Progress({ stream: process.stderr, totalBytes, delayMs: totalBytes !== undefined && totalBytes < progressBytesMin ? Number.POSITIVE_INFINITY : 1000 });
  const acks = ctx.json
    ? new AckPrinter((t, m) => `${JSON.stringify({ topic: t, partition: m.partition, offset: m.offset, timestamp: m.timestamp })}\n`)
    : opts.ack
      ? new AckPrinter((_, m) => `${m.partition}/${m.offset}\n`)
      : undefined;
  const started = Date.now();
  const partitions = new Set<number>();
  let records = 0;
  let bytes = 0;
  let readBytes = 0;
  let lineNumber = 0;
  let chunks = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const sendChunk = (messages: Message[]) => {
    const seq = chunks++;
    const p = producer
      .send({ topic, messages })
      .then((metas) => {
        for (const m of metas) partitions.add(m.partition);
        records += metas.length;
        for (const m of messages) bytes += size(m.value) + size(m.key);
        acks?.acknowledged(seq, topic, metas);
        progress.update(records, readBytes);
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  let chunk: Message[] = [];
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    readBytes += Buffer.byteLength(line) + 1;
    if (failure) break;
    lineNumber++;
    const message = toMessage(line, opts.keySeparator, partition, { key: opts.key, headers, nullEmpty: opts.nullEmpty === true });
    if (encodeValue && message.value !== null) {
      try {
        message.value = await encodeValue(message.value as string, lineNumber);
      } catch (err) {
        failure ??= err;
        break;
      }
    }
    chunk.push(message);
    if (chunk.length >= linesPerSendMax) {
      sendChunk(chunk);
      chunk = [];
      while (inFlight.size >= sendsInFlightMax) await Promise.race(inFlight);
    }
  }
  if (chunk.length > 0 && !failure) sendChunk(chunk);
  await Promise.all(inFlight);
  await producer.close();
  progress.done();
  if (failure) throw failure;

  const summary: ProduceSummary = { topic, records, bytes, partitions: partitions.size, seconds: (Date.now() - started) / 1000 };
  if (ctx.json) {
    process.stderr.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const rate = summary.seconds > 0 ? ` (${formatCount(records / summary.seconds)} records/s)` : '';
  const text = `Produced ${formatCount(records)} record${records === 1 ? '' : 's'} (${formatBytes(bytes)}) to ${summary.partitions} partition${summary.partitions === 1 ? '' : 's'} of '${topic}' in ${summary.seconds.toFixed(2)} s${rate}.`;
  if (acks) process.stderr.write(`${text}\n`);
  else ctx.say(text);
}

const size = (v: Message['value'] | Message['key']) => (v === null || v === undefined ? 0 : Buffer.isBuffer(v) ? v.length : Buffer.byteLength(v));

/**
 * A line → a record: `key<sep>value` when a separator is given and present,
 * else the whole line as the value (and `key` as the key). With `nullEmpty`,
 * an empty value or key is null.
 */
export function toMessage(
  line: string,
  keySeparator: string | undefined,
  partition: number | undefined,
  extra: { key?: string; headers?: IHeaders; nullEmpty?: boolean } = {},
): Message {
  let key: string | null = extra.key ?? null;
  let value: string | null = line;
  if (keySeparator) {
    const at = line.indexOf(keySeparator);
    if (at >= 0) {
      key = line.slice(0, at);
      value = line.slice(at + keySeparator.length);
    }
  }
  if (extra.nullEmpty) {
    if (value === '') value = null;
    if (key === '') key = null;
  }
  return { key, value, ...(extra.headers ? { headers: extra.headers } : {}), ...(partition !== undefined ? { partition } : {}) };
}
