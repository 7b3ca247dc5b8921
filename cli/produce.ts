/**
 * `strand produce <topic>`: one record per line from stdin or --file, through
 * the SDK producer (batched, idempotent when the server supports it). Reading
 * is bounded: at most `sendsInFlightMax` chunks of `linesPerSendMax` lines are
 * waiting for acknowledgment, so a huge file never sits in memory.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Message } from '../client';
import type { CompressionCodec } from '../src/codec/recordBatch';
import { parseInteger, type Context } from './context';
import { valueEncoder } from './schemas';
import { Progress, formatBytes, formatCount } from './progress';

export const linesPerSendMax = 1000;
export const sendsInFlightMax = 16;
/** Inputs at least this large (or of unknown size) get a progress line on a terminal. */
const progressBytesMin = 1024 * 1024;

export interface ProduceOptions {
  keySeparator?: string;
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

export async function produce(ctx: Context, topic: string, opts: ProduceOptions): Promise<void> {
  const partition = opts.partition === undefined ? undefined : parseInteger(opts.partition, '--partition');
  // Fail fast, naming the topic, before reading any input.
  await ctx.client.admin().describeTopic(topic);
  const encodeValue = await valueEncoder(ctx, opts.valueSchemaId);
  // The producer refuses an unknown or unsupported codec (a usage error: exit 2) before any input is read.
  const producer = ctx.client.producer({ lingerMs: 20, batchSize: 256 * 1024, compression: (opts.compression ?? 'none') as CompressionCodec });
  const input = opts.file ? createReadStream(opts.file) : process.stdin;
  const totalBytes = opts.file ? statSync(opts.file).size : undefined;
  const progress = new Progress({ stream: process.stderr, totalBytes, delayMs: totalBytes !== undefined && totalBytes < progressBytesMin ? Number.POSITIVE_INFINITY : 1000 });
  const started = Date.now();
  const partitions = new Set<number>();
  let records = 0;
  let bytes = 0;
  let readBytes = 0;
  let lineNumber = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const sendChunk = (messages: Message[]) => {
    const p = producer
      .send({ topic, messages })
      .then((metas) => {
        for (const m of metas) partitions.add(m.partition);
        records += metas.length;
        for (const m of messages) bytes += Buffer.byteLength((m.value as string) ?? '') + Buffer.byteLength((m.key as string | null) ?? '');
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
    const message = toMessage(line, opts.keySeparator, partition);
    if (encodeValue) {
      try {
        message.value = await encodeValue(message.value as string, ++lineNumber);
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
  if (ctx.json) ctx.printJson(summary);
  else {
    const rate = summary.seconds > 0 ? ` (${formatCount(records / summary.seconds)} records/s)` : '';
    ctx.say(
      `Produced ${formatCount(records)} record${records === 1 ? '' : 's'} (${formatBytes(bytes)}) to ${summary.partitions} partition${summary.partitions === 1 ? '' : 's'} of '${topic}' in ${summary.seconds.toFixed(2)} s${rate}.`,
    );
  }
}

/** A line → a record: `key<sep>value` when a separator is given and present, else the whole line as the value. */
export function toMessage(line: string, keySeparator: string | undefined, partition: number | undefined): Message {
  let key: string | null = null;
  let value = line;
  if (keySeparator) {
    const at = line.indexOf(keySeparator);
    if (at >= 0) {
      key = line.slice(0, at);
      value = line.slice(at + keySeparator.length);
    }
  }
  return { key, value, ...(partition !== undefined ? { partition } : {}) };
}
