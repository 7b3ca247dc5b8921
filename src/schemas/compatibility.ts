/**
 * Compatibility levels, after the Confluent Schema Registry. "Reader can read
 * writer" depends on the schema type:
 *
 *   Avro         avsc's `reader.createResolver(writer)`, which applies Avro's
 *                schema-resolution rules (matching record names or aliases,
 *                fields by name or alias, defaults for fields the writer
 *                lacks, promotions int → long → float → double, string ⇄
 *                bytes, enum symbols) and throws when they fail
 *   JSON Schema  the reader accepts every document the writer accepts
 *                (src/schemas/jsonSchemaCompatibility.ts)
 *   Protobuf     Confluent's incompatible differences from writer to reader
 *                (src/schemas/protobufCompatibility.ts)
 *
 * A schema of another type than the version it is checked against is
 * incompatible with it.
 *
 *   BACKWARD    the new schema reads data written with the latest version
 *   FORWARD     the latest version reads data written with the new schema
 *   FULL        both
 *   *_TRANSITIVE  the same against every live version, not just the latest
 *   NONE        no check
 */
import type * as avro from 'avsc';
import { jsonSchemaReadProblems } from './jsonSchemaCompatibility';
import { protobufDifferences } from './protobufCompatibility';
import type { ParsedSchema } from './schemaTypes';

export const compatibilityLevels = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;
export type CompatibilityLevel = (typeof compatibilityLevels)[number];
export const defaultCompatibilityLevel: CompatibilityLevel = 'BACKWARD';

export function isCompatibilityLevel(s: unknown): s is CompatibilityLevel {
  return typeof s === 'string' && (compatibilityLevels as readonly string[]).includes(s);
}

/** Null when `reader` can read everything `writer` writes, else avsc's reason. */
export function canRead(reader: avro.Type, writer: avro.Type): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Where `reader` cannot read data written with `writer`; empty when it can. */
export function readProblems(reader: ParsedSchema, writer: ParsedSchema): string[] {
  if (reader.schemaType !== writer.schemaType) return [`the schema type changed (${writer.schemaType} → ${reader.schemaType})`];
  if (reader.schemaType === 'AVRO' && writer.schemaType === 'AVRO') {
    const why = canRead(reader.avro, writer.avro);
    return why ? [why] : [];
  }
  if (reader.schemaType === 'JSON' && writer.schemaType === 'JSON') return jsonSchemaReadProblems(reader.json, writer.json);
  if (reader.schemaType === 'PROTOBUF' && writer.schemaType === 'PROTOBUF') return protobufDifferences(writer.protobuf, reader.protobuf);
  return [];
}

export interface PreviousVersion {
  version: number;
  schema: ParsedSchema;
}

/**
 * The reasons `candidate` breaks `level` against `previous` (live versions,
 * oldest first); empty when it is compatible.
 */
export function compatibilityProblems(level: CompatibilityLevel, candidate: ParsedSchema, previous: readonly PreviousVersion[]): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const p of against) {
    if (backward) {
      const why = readProblems(candidate, p.schema);
      if (why.length > 0) problems.push(`the new schema cannot read data written with version ${p.version} (BACKWARD): ${why.join('; ')}`);
    }
    if (forward) {
      const why = readProblems(p.schema, candidate);
      if (why.length > 0) problems.push(`version ${p.version} cannot read data written with the new schema (FORWARD): ${why.join('; ')}`);
    }
  }
  return problems;
}
