/**
 * `strand`: the command-line client, in the spirit of kcat, rpk and the Kafka
 * console tools. Global options: --url, --cluster, --api-key, --profile, --json;
 * each also from the environment or a profile (cli/context.ts resolves flags >
 * environment > profile > defaults). Every failure prints one line a person can
 * act on (with --json, one JSON object: cli/errors.ts) and exits 1; usage
 * errors exit 2. docs/cli.md is the reference.
 */
import { Command, CommanderError } from 'commander';
import { completionCommand } from './completion';
import { consumeCommand } from './consume';
import { createContext, environmentVariables, stdoutFailed, type Context, type GlobalOptions } from './context';
import { describeError, errorJson } from './errors';
import { groupsCommand } from './groups';
import { keysCommand } from './keys';
import { mirrorCommand } from './mirror';
import { produceCommand } from './produce';
import { profilesCommand } from './profiles';
import { schemasCommand } from './schemas';
import { statusCommand } from './status';
import { topicsCommand } from './topics';
import { triggersCommand } from './triggers';

export { describeError } from './errors';

const environmentHelp = `\nEnvironment (flags win over these; these win over the profile):\n${environmentVariables.map(([name, meaning]) => `  ${name.padEnd(Math.max(...environmentVariables.map(([n]) => n.length)) + 2)}${meaning}`).join('\n')}\n`;

export function buildProgram(options: { json?: boolean } = {}): Command {
  const program = new Command('strand');
  program
    .description("Strand's command-line client: topics, produce, consume, consumer groups, schemas, status")
    .option('--url <url>', 'Strand HTTP API URL (env STRAND_URL, else the profile, else http://localhost:8082)')
    .option('--cluster <id>', 'cluster id (env STRAND_CLUSTER, else the profile, else local)')
    .option('--json', 'machine-readable output; errors as {"error_code", "message"} on stderr')
    .option('--api-key <key>', 'API key, sent as Authorization: Bearer (env STRAND_API_KEY, else the profile)')
    .option('--profile <name>', 'use this profile (env STRAND_PROFILE, else the current one: strand profile)')
    .addHelpText('after', environmentHelp)
    .exitOverride();
  if (options.json) {
    // Under --json, commander's own errors (an unknown option, a missing argument) come out as JSON from main().
    program.configureOutput({ outputError: () => undefined });
  } else program.showHelpAfterError();

  const wrap =
    (action: (ctx: Context, ...args: never[]) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      const ctx = createContext(program.opts<GlobalOptions>());
      // commander passes (…arguments, options, command); actions get (ctx, …arguments, options).
      await (action as (ctx: Context, ...rest: unknown[]) => Promise<void>)(ctx, ...args.slice(0, -1));
    };

  topicsCommand(program, wrap);
  produceCommand(program, wrap);
  consumeCommand(program, wrap);
  groupsCommand(program, wrap);
  keysCommand(program, wrap);
  schemasCommand(program, wrap);
  triggersCommand(program, wrap);
  mirrorCommand(program, wrap);
  statusCommand(program, wrap);
  profilesCommand(program, wrap);
  completionCommand(program, wrap);
  return program;
}

/** --json anywhere before a `--`: known before parsing, so even a parse error comes out as JSON. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

export async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  const program = buildProgram({ json });
  // A reader that went away (`strand consume … | head -2`) is the end of output, not a crash: cli/context.ts.
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (!stdoutFailed(err)) process.stderr.write(`strand: stdout: ${err.message}\n`);
  };
  process.stdout.on('error', onStdoutError);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      if (json) process.stderr.write(errorJson(describeError(err)));
      return 2; // commander printed the message (as text) unless --json
    }
    const described = describeError(err);
    process.stderr.write(json ? errorJson(described) : `strand: ${described.message}\n`);
    return described.exitCode;
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
