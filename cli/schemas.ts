/**
 * `strand schemas register | list | get | check`: the schema registry from the
 * command line. Schemas are read from files (`.avsc`: Avro schema JSON).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SchemaRegistry } from '../client/schemaRegistry';
import { UsageError, parseInteger, table, type Context, type Wrap } from './context';

/** Subjects whose latest version `schemas list` reads at once. */
const subjectReadsInFlightMax = 8;

function readSchemaFile(path: string | undefined): string {
  if (!path) throw new UsageError('--file <schema.avsc> is required');
  const text = readFileSync(path, 'utf8');
  try {
    JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not JSON: ${(err as Error).message}`);
  }
  return text;
}

function versionOption(raw: string | undefined): number | 'latest' {
  if (raw === undefined || raw === 'latest') return 'latest';
  return parseInteger(raw, '--version', 1);
}

export function schemasCommand(program: Command, wrap: Wrap): void {
  const schemas = program.command('schemas').description('register, list, show and check schemas in the schema registry');
  const registry = (ctx: Context) => new SchemaRegistry(ctx.client);

  schemas
    .command('register <subject>')
    .description('register a schema under a subject (the same schema keeps its id)')
    .option('-f, --file <path>', 'the schema (.avsc)')
    .action(
      wrap(async (ctx: Context, subject: string, opts: { file?: string }) => {
        const schema = readSchemaFile(opts.file);
        const r = registry(ctx);
        const { id } = await r.register(subject, schema);
        const { version } = await r.lookup(subject, schema);
        if (ctx.json) return ctx.printJson({ subject, id, version });
        ctx.say(`Registered schema id ${id} as version ${version} of subject '${subject}'.`);
      }),
    );

  schemas
    .command('list')
    .description('list subjects with their latest version and schema id')
    .action(
      wrap(async (ctx: Context) => {
        const r = registry(ctx);
        const subjects = await r.subjects();
        const rows: { subject: string; version: number; id: number }[] = [];
        for (let i = 0; i < subjects.length; i += subjectReadsInFlightMax) {
          const latest = await Promise.all(subjects.slice(i, i + subjectReadsInFlightMax).map((s) => r.latest(s)));
          rows.push(...latest.map((l) => ({ subject: l.subject, version: l.version, id: l.id })));
        }
        if (ctx.json) return ctx.printJson(rows);
        if (rows.length === 0) return ctx.say('No subjects.');
        ctx.say(table(['SUBJECT', 'LATEST VERSION', 'SCHEMA ID'], rows.map((x) => [x.subject, x.version, x.id])));
      }),
    );

  schemas
    .command('get <subject>')
    .description('show a version of a subject (latest by default)')
    .option('-v, --version <v>', 'version number or latest')
    .action(
      wrap(async (ctx: Context, subject: string, opts: { version?: string }) => {
        const v = await registry(ctx).getVersion(subject, versionOption(opts.version));
        if (ctx.json) return ctx.printJson({ ...v, schema: JSON.parse(v.schema) });
        ctx.say(`Subject '${v.subject}' version ${v.version}, schema id ${v.id}:`);
        ctx.say(JSON.stringify(JSON.parse(v.schema), null, 2));
      }),
    );

  schemas
    .command('check <subject>')
    .description("check a schema against a subject's compatibility level (exit 1 when incompatible)")
    .option('-f, --file <path>', 'the schema (.avsc)')
    .option('-v, --version <v>', 'check against this version only')
    .action(
      wrap(async (ctx: Context, subject: string, opts: { file?: string; version?: string }) => {
        const schema = readSchemaFile(opts.file);
        const r = registry(ctx);
        const result = await r.checkCompatibility(subject, schema, opts.version === undefined ? undefined : versionOption(opts.version));
        const level = await r.getCompatibility(subject);
        if (ctx.json) ctx.printJson({ subject, compatibility: level, is_compatible: result.isCompatible, messages: result.messages });
        else if (result.isCompatible) ctx.say(`Compatible: the schema may be registered under '${subject}' (${level}).`);
        if (!result.isCompatible) {
          throw new Error(`Incompatible with subject '${subject}' (${level}): ${result.messages.join('; ') || 'no details'}`);
        }
      }),
    );
}

/**
 * For `strand produce --value-schema-id N`: checks the id exists before any
 * input is read, then turns each line (JSON in Avro's JSON encoding) into
 * wire-format bytes, naming the line and field of data that does not fit.
 */
export async function valueEncoder(ctx: Context, rawId: string | undefined): Promise<((line: string, lineNumber: number) => Promise<Buffer>) | undefined> {
  if (rawId === undefined) return undefined;
  const id = parseInteger(rawId, '--value-schema-id', 1);
  const r = new SchemaRegistry(ctx.client);
  await r.typeOf(id);
  return async (line, lineNumber) => {
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (err) {
      throw new Error(`line ${lineNumber} is not JSON: ${(err as Error).message}`);
    }
    try {
      return await r.encode(id, data);
    } catch (err) {
      throw new Error(`line ${lineNumber}: ${(err as Error).message}`);
    }
  };
}
