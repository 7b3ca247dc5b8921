/**
 * `strand`: the command-line client, in the spirit of kcat and the Kafka
 * console tools. Global options: --url (STRAND_URL), --cluster (STRAND_CLUSTER),
 * --api-key (STRAND_API_KEY), --json. Every failure prints one line a person can act on and exits 1
 * (usage errors exit 2).
 *
 * Optional environment: STRAND_API_KEY (sent as `Authorization: Bearer …`),
 * STRAND_AWS_REGION (SigV4-sign requests with the AWS credential chain, for a
 * stack deployed with IAM authorization), STRAND_DEBUG (print SDK warnings).
 */
import { Command, CommanderError } from 'commander';
import { StrandApiError, StrandConnectionError, StrandUsageError } from '../client';
import { consume } from './consume';
import { UsageError, createContext, type Context, type GlobalOptions } from './context';
import { groupsCommand } from './groups';
import { keysCommand } from './keys';
import { produce } from './produce';
import { schemasCommand } from './schemas';
import { topicsCommand } from './topics';
import { triggersCommand } from './triggers';

export function buildProgram(): Command {
  const program = new Command('strand');
  program
    .description("Strand's command-line client: topics, produce, consume, consumer groups")
    .option('--url <url>', 'Strand HTTP API URL', process.env.STRAND_URL || 'http://localhost:8082')
    .option('--cluster <id>', 'cluster id', process.env.STRAND_CLUSTER || 'local')
    .option('--json', 'machine-readable output')
    .option('--api-key <key>', 'API key, sent as Authorization: Bearer (default: STRAND_API_KEY)')
    .showHelpAfterError()
    .exitOverride();

  const wrap =
    (action: (ctx: Context, ...args: never[]) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      const ctx = createContext(program.opts<GlobalOptions>());
      // commander passes (…arguments, options, command); actions get (ctx, …arguments, options).
      await (action as (ctx: Context, ...rest: unknown[]) => Promise<void>)(ctx, ...args.slice(0, -1));
    };

  topicsCommand(program, wrap);

  program
    .command('produce <topic>')
    .description('produce one record per line from stdin or --file')
    .option('-K, --key-separator <sep>', 'split each line into key and value at the first <sep>')
    .option('-p, --partition <n>', 'send every record to this partition')
    .option('-f, --file <path>', 'read lines from this file instead of stdin')
    .option('-z, --compression <codec>', 'none, gzip, snappy, lz4 or zstd', 'none')
    .option('--value-schema-id <id>', 'each line is JSON data (Avro JSON encoding) for this registered schema; sent in the Confluent wire format')
    .action(wrap((ctx: Context, topic: string, opts: Parameters<typeof produce>[2]) => produce(ctx, topic, opts)));

  program
    .command('consume <topic>')
    .description('print records, one per line')
    .option('-g, --group <group>', 'consume as a member of this consumer group (commits what it prints)')
    .option('-b, --from-beginning', 'start at the log start when there is no committed offset')
    .option('-p, --partition <n>', 'read only this partition')
    .option('-o, --offset <n>', 'with --partition: start at this offset')
    .option('-c, --max-messages <n>', 'stop after this many records')
    .option('-t, --timeout-ms <ms>', 'stop after this long without a record')
    .option('-f, --format <fmt>', 'kcat-style format: %t topic, %p partition, %o offset, %T timestamp, %k key, %v value, %h headers', undefined)
    .action(wrap((ctx: Context, topic: string, opts: Parameters<typeof consume>[2]) => consume(ctx, topic, opts)));

  groupsCommand(program, wrap);
  keysCommand(program, wrap);
  schemasCommand(program, wrap);
  triggersCommand(program, wrap);
  return program;
}

/** One line for a person: what went wrong, with which value, and what to do. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof UsageError || err instanceof StrandUsageError) return { message: err.message, exitCode: 2 };
  if (err instanceof StrandConnectionError) {
    const hint = err.refused ? ' Is Strand running? Start a local one with `npm start`, or point --url (STRAND_URL) at yours.' : '';
    return { message: `${err.message}${hint}`, exitCode: 1 };
  }
  if (err instanceof StrandApiError) {
    const hint =
      // The registry's 40401 is Confluent's "subject not found", not an unknown cluster.
      err.code === 40401 && err.name !== 'SchemaRegistryError'
        ? ' Check --cluster (STRAND_CLUSTER).'
        : err.code === 40925
          ? ' Stop its consumers first (or wait for their sessions to time out).'
          : err.code === 40101 || err.status === 403
            ? ' Check --api-key (STRAND_API_KEY) or your AWS credentials.'
            : '';
    return { message: `${err.message} (error ${err.code})${hint}`, exitCode: 1 };
  }
  if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT') return { message: err.message, exitCode: 1 };
  return { message: err instanceof Error ? err.message : String(err), exitCode: 1 };
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander printed the message
    const { message, exitCode } = describeError(err);
    process.stderr.write(`strand: ${message}\n`);
    return exitCode;
  }
}

/** Runs the CLI on process.argv and sets the exit code (bin/strand.js calls this). */
export function run(): void {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`strand: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) run();
