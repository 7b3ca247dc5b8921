/**
 * `strand consume <topic>`: prints records, one per line (the value by
 * default; kcat-style --format; JSON lines with --json). Without --group it
 * reads every partition (or --partition N from --offset O) without committing;
 * with --group it joins the consumer group and commits what it printed.
 * Stops after --max-messages, after --timeout-ms without a record, or on Ctrl-C.
 */
import type { Consumer, KafkaMessage } from '../client';
import { UsageError, parseInteger, type Context } from './context';
import { compileFormat, defaultFormat, jsonLine } from './format';

export interface ConsumeOptions {
  group?: string;
  fromBeginning?: boolean;
  partition?: string;
  offset?: string;
  maxMessages?: string;
  timeoutMs?: string;
  format?: string;
}

export async function consume(ctx: Context, topic: string, opts: ConsumeOptions): Promise<void> {
  const partition = opts.partition === undefined ? undefined : parseInteger(opts.partition, '--partition');
  const offset = opts.offset === undefined ? undefined : parseInteger(opts.offset, '--offset');
  const maxMessages = opts.maxMessages === undefined ? undefined : parseInteger(opts.maxMessages, '--max-messages', 1);
  const timeoutMs = opts.timeoutMs === undefined ? undefined : parseInteger(opts.timeoutMs, '--timeout-ms', 1);
  if (offset !== undefined && partition === undefined) throw new UsageError('--offset needs --partition');
  if (opts.group && partition !== undefined) throw new UsageError('--group and --partition cannot be combined: the group assigns partitions');
  const format = ctx.json ? jsonLine : compileFormat(opts.format ?? defaultFormat);

  const { partitions } = await ctx.client.admin().describeTopic(topic); // names an unknown topic before anything else
  if (partition !== undefined && partition >= partitions) throw new UsageError(`topic '${topic}' has ${partitions} partition${partitions === 1 ? '' : 's'}; there is no partition ${partition}`);

  const consumer: Consumer = ctx.client.consumer({
    groupId: opts.group,
    autoOffsetReset: opts.fromBeginning ? 'earliest' : 'latest',
    maxWaitTimeInMs: Math.min(timeoutMs ?? 5000, 5000),
  });
  if (partition !== undefined) consumer.assign([{ topic, partition, ...(offset !== undefined ? { offset } : {}) }], { fromBeginning: opts.fromBeginning ?? false });
  else await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning ?? false });

  let count = 0;
  let stopping = false;
  let idle: NodeJS.Timeout | undefined;
  let finish!: (err?: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => (finish = (err?: unknown) => (err ? reject(err) : resolve())));
  const armIdle = () => {
    if (timeoutMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(() => finish(), timeoutMs);
  };
  const onSigint = () => finish();
  process.once('SIGINT', onSigint);
  consumer.on('crash', (err: unknown) => finish(err));

  await consumer.run({
    eachMessage: async ({ topic: t, partition: p, message, pause }: { topic: string; partition: number; message: KafkaMessage; pause(): () => void }) => {
      if (stopping) {
        pause(); // not printed, so not processed: the position (and a group's commit) stays before it
        return;
      }
      process.stdout.write(format({ topic: t, partition: p, message }));
      count++;
      armIdle();
      if (maxMessages !== undefined && count >= maxMessages) {
        stopping = true;
        finish();
      }
    },
  });
  armIdle();
  try {
    await finished;
  } finally {
    clearTimeout(idle);
    process.removeListener('SIGINT', onSigint);
    stopping = true;
    await consumer.close();
  }
  if (!ctx.json) process.stderr.write(`Consumed ${count} message${count === 1 ? '' : 's'} from '${topic}'.\n`);
}
