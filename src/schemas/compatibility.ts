/**
 * Compatibility levels, after the Confluent Schema Registry. "Reader can read
 * writer" is avsc's `reader.createResolver(writer)`, which applies Avro's
 * schema-resolution rules (matching record names or aliases, fields by name or
 * alias, defaults for fields the writer lacks, promotions int → long → float →
 * double, string ⇄ bytes, enum symbols) and throws when they fail.
 *
 *   BACKWARD    the new schema reads data written with the latest version
 *   FORWARD     the latest version reads data written with the new schema
 *   FULL        both
 *   *_TRANSITIVE  the same against every live version, not just the latest
 *   NONE        no check
 */
import type * as avro from 'avsc';

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

export interface PreviousVersion {
  version: number;
  type: avro.Type;
}

/**
 * The reasons `candidate` breaks `level` against `previous` (live versions,
 * oldest first); empty when it is compatible.
 */
export function compatibilityProblems(level: CompatibilityLevel, candidate: avro.Type, previous: readonly PreviousVersion[]): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const p of against) {
    if (backward) {
      const why = canRead(candidate, p.type);
      if (why) problems.push(`the new schema cannot read data written with version ${p.version} (BACKWARD): ${why}`);
    }
    if (forward) {
      const why = canRead(p.type, candidate);
      if (why) problems.push(`version ${p.version} cannot read data written with the new schema (FORWARD): ${why}`);
    }
  }
  return problems;
}
