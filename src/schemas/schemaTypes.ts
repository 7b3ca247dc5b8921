/**
 * The schema types the registry takes — Avro, JSON Schema and Protobuf, as
 * Confluent's registry does — and the one parse every route goes through:
 * bounded text, then the type's own parser with its references in scope.
 *
 * A parsed schema has a canonical text (what is stored and returned, and what
 * identity is computed on) and a fingerprint over its type, canonical text and
 * references: the same schema written in another form (key order, whitespace,
 * comments) is the same id, and the same text with other references is not,
 * as in Confluent, where references are part of a schema's identity.
 */
import { createHash } from 'node:crypto';
import type * as avro from 'avsc';
import { parseAvroSchema } from './avro';
import { invalidSchema } from './errors';
import { parseJsonSchema, type JsonSchemaParsed } from './jsonSchema';
import { parseProtobufSchema, type ProtobufParsed } from './protobufSchema';
import type { ResolvedReference, SchemaReference } from './references';
import { schemaTextBytesMax } from './schemaBounds';

export const schemaTypes = ['AVRO', 'JSON', 'PROTOBUF'] as const;
export type SchemaType = (typeof schemaTypes)[number];

export function isSchemaType(s: unknown): s is SchemaType {
  return typeof s === 'string' && (schemaTypes as readonly string[]).includes(s);
}

interface ParsedBase {
  /** The canonical text: what GET returns and what identity is computed on. */
  canonical: string;
  /** sha-256 of type, canonical text and references: equal fingerprints are the same schema (and the same id). */
  fingerprint: string;
  /** The schema's own references (versions pinned), stored with it. */
  references: SchemaReference[];
}

export type ParsedSchema = ParsedBase &
  ({ schemaType: 'AVRO'; avro: avro.Type } | { schemaType: 'JSON'; json: JsonSchemaParsed } | { schemaType: 'PROTOBUF'; protobuf: ProtobufParsed });

/**
 * Parses a schema of any type with its references' schemas in scope
 * (`resolved`, each after the schemas it needs: src/schemas/references.ts).
 * Anything invalid is 42201.
 */
export function parseSchema(
  text: string,
  schemaType: SchemaType = 'AVRO',
  references: readonly SchemaReference[] = [],
  resolved: readonly ResolvedReference[] = [],
): ParsedSchema {
  if (Buffer.byteLength(text) > schemaTextBytesMax) throw invalidSchema(`Schema is larger than ${schemaTextBytesMax} bytes.`);
  const mismatched = resolved.find((r) => r.schemaType !== schemaType);
  if (mismatched) {
    throw invalidSchema(`Invalid schema: reference '${mismatched.name}' is a ${mismatched.schemaType} schema; a ${schemaType} schema can reference only ${schemaType} schemas.`);
  }
  const base = (canonical: string) => ({ canonical, fingerprint: fingerprintOf(schemaType, canonical, references), references: [...references] });
  switch (schemaType) {
    case 'AVRO': {
      const { canonical, type } = parseAvroSchema(text, resolved);
      return { schemaType, ...base(canonical), avro: type };
    }
    case 'JSON': {
      const json = parseJsonSchema(text, resolved);
      return { schemaType, ...base(json.canonical), json };
    }
    case 'PROTOBUF': {
      const protobuf = parseProtobufSchema(text, resolved);
      return { schemaType, ...base(protobuf.canonical), protobuf };
    }
  }
}

/** The identity of a schema: its type, canonical text and references (in the order given, as Confluent compares them). */
export function fingerprintOf(schemaType: SchemaType, canonical: string, references: readonly SchemaReference[] = []): string {
  const refs = references.length === 0 ? '' : `\n${JSON.stringify(references.map((r) => [r.name, r.subject, r.version]))}`;
  return createHash('sha256').update(`${schemaType}\n${canonical}${refs}`).digest('hex');
}
