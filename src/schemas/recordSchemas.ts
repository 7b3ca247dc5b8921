/**
 * Schemas on the produce and fetch paths.
 *
 * Produce, as REST Proxy v3 does it (kafka-rest's SchemaManagerImpl and
 * SchemaRecordSerializerImpl): a key or value given with `schema_id`, or with
 * `subject` / `subject_name_strategy` and `schema_version` (latest when
 * absent), or with `type` AVRO, JSONSCHEMA or PROTOBUF and an inline `schema`
 * (registered under its subject, as REST Proxy does), is checked against the
 * schema and stored in Confluent's wire format for the schema's type
 * (src/schemas/schemaData.ts). The registered schema's type decides the
 * encoding; a `type` that names another is refused. `data: null` is a null key
 * or value, as Confluent's serializer makes it.
 *
 * Broker-side validation, as Confluent Server does it: with
 * `confluent.value.schema.validation=true` (or `.key.`), every non-null value
 * (key) must be in the wire format with a schema id that is registered under
 * `<topic>-value` (`<topic>-key`), and its payload must decode with that schema:
 * Avro binary that decodes to the end; for JSON Schema, UTF-8 JSON text that
 * the schema validates (ajv); for Protobuf, message indexes that name one of
 * the schema's messages, then bytes that decode as that message. Null keys and
 * values (unkeyed records, tombstones) pass.
 *
 * Registry failures on these paths are the produce contract's 40002 (a field
 * has an invalid value), naming the field: a REST Proxy client never sees the
 * registry's own codes from a produce call.
 */
import { z } from 'zod';
import { invalidValue, StrandError } from '../errors';
import { decodeRecordBatch, splitBatches } from '../codec/recordBatch';
import type { Topic } from '../log/TopicCatalog';
import { mapBounded } from '../mapBounded';
import type { Runtime } from '../runtime';
import { jsonNestsDeeperThan } from '../jsonNesting';
import { toAvroJson } from './avro';
import { RegistryError } from './errors';
import { jsonSchemaProblem } from './jsonSchema';
import { messageAt, messageIndexesMax, protobufProblem } from './protobufSchema';
import { parseSchema, type ParsedSchema } from './schemaTypes';
import { embeddedFormatOf, encodeSchemaData, isSchemaFormat, schemaTypeOfFormat, SchemaDataError, type SchemaFormat } from './schemaData';
import { registryOf, schemaReadsInFlightMax, type RegisteredSchema, type SchemaRegistry } from './SchemaRegistry';
import { decodeMessageIndexes, decodeWire, encodeWire } from './wireFormat';

/** Deepest nesting of a JSON Schema value's JSON text, checked before it is parsed (as request bodies are bounded: src/api/request.ts). */
export const jsonValueNestingDepthMax = 100;

export const subjectNameStrategies = ['TOPIC_NAME', 'RECORD_NAME', 'TOPIC_RECORD_NAME'] as const;
export type SubjectNameStrategy = (typeof subjectNameStrategies)[number];

/** The schema fields REST Proxy v3 allows on a key or value, beside `type` and `data`. */
export const schemaDataFields = {
  schema_id: z.number().int().min(1).max(2 ** 31 - 1).nullable().optional(),
  schema_version: z.number().int().min(-1).max(2 ** 31 - 1).nullable().optional(),
  subject: z.string().min(1).max(1024).nullable().optional(),
  subject_name_strategy: z.enum(subjectNameStrategies).nullable().optional(),
  schema: z.string().nullable().optional(),
};

export interface SchemaDataInput {
  type?: string | undefined;
  data?: unknown;
  schema_id?: number | null | undefined;
  schema_version?: number | null | undefined;
  subject?: string | null | undefined;
  subject_name_strategy?: SubjectNameStrategy | null | undefined;
  schema?: string | null | undefined;
}

export interface SchemaEncoded {
  bytes: Buffer | null;
  /** REST Proxy's name of the schema's type (AVRO, JSONSCHEMA, PROTOBUF), as the delivery report gives it. */
  type: SchemaFormat;
  schemaId: number;
  /** The subject and version the schema was named by (or registered under); unknown when given by id alone. */
  subject?: string;
  version?: number;
}

type Side = 'key' | 'value';

const present = (v: unknown) => v !== undefined && v !== null;

/** Whether a key or value asks for a schema (so the plain BINARY/JSON/STRING encoding does not apply). */
export function usesSchema(input: SchemaDataInput | null | undefined): input is SchemaDataInput {
  if (!input) return false;
  return (
    isSchemaFormat(input.type) ||
    present(input.schema_id) ||
    present(input.schema_version) ||
    present(input.subject) ||
    present(input.subject_name_strategy) ||
    present(input.schema)
  );
}

/** Topic config names for broker-side validation. */
export const schemaValidationConfig = {
  key: 'confluent.key.schema.validation',
  value: 'confluent.value.schema.validation',
} as const;

/** Per-request schema work for one topic: memoizes subject lookups so a batch of 10,000 entries reads each subject once. */
export class RecordSchemas {
  private readonly subjectIds = new Map<string, Promise<Set<number>>>();
  private readonly registry: SchemaRegistry;

  constructor(
    runtime: Runtime,
    private readonly topic: Topic,
  ) {
    this.registry = registryOf(runtime);
  }

  /** Encodes the schema-carrying key and value of one record; a side without schema fields is left to the plain encodings. */
  async encode(input: { key?: SchemaDataInput | null; value?: SchemaDataInput | null }): Promise<{ key?: SchemaEncoded; value?: SchemaEncoded }> {
    const out: { key?: SchemaEncoded; value?: SchemaEncoded } = {};
    if (usesSchema(input.key)) out.key = await this.encodeSide(input.key, 'key');
    if (usesSchema(input.value)) out.value = await this.encodeSide(input.value, 'value');
    return out;
  }

  private async encodeSide(input: SchemaDataInput, side: Side): Promise<SchemaEncoded> {
    if (input.type !== undefined && !isSchemaFormat(input.type)) {
      throw invalidValue(`Field '${side}.type' must be AVRO, JSONSCHEMA or PROTOBUF (or omitted) when a schema is given, not '${input.type}'.`);
    }
    const given = [present(input.schema_id) && 'schema_id', present(input.schema) && 'schema', present(input.schema_version) && 'schema_version'].filter(Boolean);
    if (given.length > 1) throw invalidValue(`Field '${side}' gives ${given.join(' and ')}; give only one of schema_id, schema or schema_version.`);
    const asInvalid = (err: unknown) => {
      throw err instanceof RegistryError ? invalidValue(`Field '${side}': ${err.message}`) : err;
    };
    const hasData = input.data !== undefined && input.data !== null;
    // An inline schema is registered only once the data encodes with it: bad data (40002) leaves the registry as it was.
    if (present(input.schema) && hasData) {
      let parsed: ParsedSchema;
      try {
        parsed = inlineSchema(input);
      } catch (err) {
        asInvalid(err);
      }
      encodeData(parsed!, input.data, side);
    }
    const { schema, subject, version } = (await this.resolve(input, side).catch(asInvalid))!;
    const format = embeddedFormatOf[schema.parsed.schemaType];
    if (input.type !== undefined && input.type !== format) {
      throw invalidValue(`Field '${side}.type' is ${input.type}, but schema id ${schema.id} is a ${format} schema (${schema.parsed.schemaType} in the registry).`);
    }
    const named = { schemaId: schema.id, ...(subject !== undefined ? { subject } : {}), ...(version !== undefined ? { version } : {}) };
    if (!hasData) return { bytes: null, type: format, ...named };
    return { bytes: encodeWire(schema.id, encodeData(schema.parsed, input.data, side, schema.id)), type: format, ...named };
  }

  private async resolve(input: SchemaDataInput, side: Side): Promise<{ schema: RegisteredSchema; subject?: string; version?: number }> {
    if (present(input.schema_id)) {
      const s = await this.registry.schemaById(input.schema_id!);
      if (!s) throw invalidValue(`Field '${side}.schema_id': schema id ${input.schema_id} is not registered.`);
      return { schema: s };
    }
    const strategy = input.subject_name_strategy ?? 'TOPIC_NAME';
    if (present(input.schema)) {
      const parsed = inlineSchema(input);
      const subject = input.subject ?? this.subjectFor(strategy, side, recordNameOf(parsed), `${side}.subject_name_strategy`);
      const { id, version } = await this.registry.register(subject, input.schema!, parsed.schemaType);
      return { schema: await this.registry.getById(id), subject, version };
    }
    if (!present(input.schema_version) && !present(input.subject) && !present(input.subject_name_strategy)) {
      throw invalidValue(`Field '${side}' has type ${input.type ?? 'AVRO'} but no schema, schema_id or schema_version.`);
    }
    const subject = input.subject ?? this.subjectFor(strategy, side, undefined, `${side}.subject_name_strategy`);
    const version = input.schema_version === undefined || input.schema_version === null || input.schema_version === -1 ? 'latest' : input.schema_version;
    const v = await this.registry.version(subject, version);
    return { schema: await this.registry.getById(v.id), subject, version: v.version };
  }

  /** The subject a strategy names (Confluent's TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy). */
  private subjectFor(strategy: SubjectNameStrategy, side: Side, recordName: string | undefined, field: string): string {
    if (strategy === 'TOPIC_NAME') return `${this.topic.name}-${side}`;
    if (!recordName) throw invalidValue(`Field '${field}' ${strategy} needs the record's name: give an inline record schema or a subject.`);
    return strategy === 'RECORD_NAME' ? recordName : `${this.topic.name}-${recordName}`;
  }

  get validates(): boolean {
    return this.topic.config[schemaValidationConfig.key] || this.topic.config[schemaValidationConfig.value];
  }

  /** Broker-side validation of one record's key and value (40002 naming `where` when refused). */
  async validate(record: { key: Buffer | null; value: Buffer | null }, where: string): Promise<void> {
    for (const side of ['key', 'value'] as const) {
      if (!this.topic.config[schemaValidationConfig[side]]) continue;
      const bytes = record[side];
      if (bytes === null) continue;
      const problem = await this.problemWith(bytes, side);
      if (problem) {
        throw invalidValue(
          `${where}: the ${side} ${problem}; topic '${this.topic.name}' requires ${side}s serialized with a schema registered under subject '${this.topic.name}-${side}' (${schemaValidationConfig[side]}=true).`,
        );
      }
    }
  }

  private async problemWith(bytes: Buffer, side: Side): Promise<string | undefined> {
    const wire = decodeWire(bytes);
    if ('error' in wire) return wire.error;
    const subject = `${this.topic.name}-${side}`;
    if (!(await this.idsOf(subject)).has(wire.schemaId)) return `carries schema id ${wire.schemaId}, which is not registered under subject '${subject}'`;
    const schema = await this.registry.schemaById(wire.schemaId);
    if (!schema) return `carries schema id ${wire.schemaId}, which is not registered`;
    const why = payloadProblem(schema.parsed, wire.payload);
    return why === undefined ? undefined : `does not decode with schema id ${wire.schemaId} (${why})`;
  }

  private idsOf(subject: string): Promise<Set<number>> {
    let ids = this.subjectIds.get(subject);
    if (!ids) {
      ids = this.registry.store.versions(subject).then((vs) => new Set(vs.filter((v) => !v.deleted).map((v) => v.id)));
      this.subjectIds.set(subject, ids);
    }
    return ids;
  }
}

/**
 * An inline schema, of the type `type` names (AVRO when omitted), parsed
 * without references, as kafka-rest parses a raw schema (a schema with
 * references is registered through the registry, then named by id or version).
 */
function inlineSchema(input: SchemaDataInput): ParsedSchema {
  const format = isSchemaFormat(input.type) ? input.type : 'AVRO';
  return parseSchema(input.schema!, schemaTypeOfFormat[format]);
}

/**
 * The record name RECORD_NAME and TOPIC_RECORD_NAME use, as Confluent's
 * ParsedSchema.name(): an Avro named type's full name, a Protobuf schema's
 * first message (with its package), a JSON Schema's `title`.
 */
function recordNameOf(parsed: ParsedSchema): string | undefined {
  switch (parsed.schemaType) {
    case 'AVRO':
      return parsed.avro.name;
    case 'PROTOBUF':
      return parsed.protobuf.messages[0]?.fullName.replace(/^\./, '');
    case 'JSON': {
      const title = (parsed.json.schema as Record<string, unknown> | null)?.title;
      return typeof title === 'string' ? title : undefined;
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why a wire-format payload is not a value of its schema (per schema type), or undefined when it is. */
export function payloadProblem(parsed: ParsedSchema, payload: Buffer): string | undefined {
  switch (parsed.schemaType) {
    case 'AVRO':
      try {
        const { offset } = parsed.avro.decode(payload, 0);
        if (offset !== payload.length) return offset < 0 ? 'truncated' : `${payload.length - offset} bytes left over`;
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    case 'JSON': {
      let text: string;
      try {
        text = utf8.decode(payload);
      } catch {
        return 'not UTF-8 text';
      }
      if (jsonNestsDeeperThan(text, jsonValueNestingDepthMax)) return `JSON nested more than ${jsonValueNestingDepthMax} levels deep`;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        return `not JSON: ${(err as Error).message}`;
      }
      return jsonSchemaProblem(parsed.json, value);
    }
    case 'PROTOBUF': {
      const framed = decodeMessageIndexes(payload, messageIndexesMax);
      if ('error' in framed) return `the Protobuf payload ${framed.error}`;
      const type = messageAt(parsed.protobuf, framed.indexes);
      if (typeof type === 'string') return `the message indexes [${framed.indexes.join(', ')}] ${type}`;
      const why = protobufProblem(type, framed.message);
      return why === undefined ? undefined : `as ${type.fullName.replace(/^\./, '')}: ${why}`;
    }
  }
}

/** Broker-side validation of binary RecordBatches: every record of every batch (no-op unless the topic turns it on). */
export async function validateBatches(runtime: Runtime, topic: Topic, body: Buffer): Promise<void> {
  const schemas = new RecordSchemas(runtime, topic);
  if (!schemas.validates) return;
  for (const slice of splitBatches(body, { verifyCrc: false })) {
    const { records } = decodeRecordBatch(body, slice.start);
    for (const [i, r] of records.entries()) await schemas.validate(r, `Batch at byte ${slice.start}, record ${i}`);
  }
}

/** An embedded value in the `avro` format of a JSON fetch: decoded when the bytes carry a known schema id, else BINARY. */
export type AvroEmbedded = { type: 'AVRO'; data: unknown; schema_id: number } | { type: 'BINARY'; data: string };

/** Loads the schemas the fetched keys and values name, then embeds synchronously (fetch.ts builds records one by one). */
export async function avroEmbedder(runtime: Runtime, records: { key: Buffer | null; value: Buffer | null }[]): Promise<(bytes: Buffer) => AvroEmbedded> {
  const registry = registryOf(runtime);
  const ids = new Set<number>();
  for (const r of records) {
    for (const b of [r.key, r.value]) {
      if (b === null) continue;
      const wire = decodeWire(b);
      if (!('error' in wire)) ids.add(wire.schemaId);
    }
  }
  const schemas = new Map<number, RegisteredSchema>();
  await mapBounded([...ids], schemaReadsInFlightMax, async (id) => {
    const s = await registry.schemaById(id).catch((err: unknown) => {
      // A fetch must not fail because one id is unreadable as a schema; that record comes back as BINARY.
      if (err instanceof StrandError) return undefined;
      throw err;
    });
    if (s) schemas.set(id, s);
  });
  return (bytes) => {
    const binary: AvroEmbedded = { type: 'BINARY', data: bytes.toString('base64') };
    const wire = decodeWire(bytes);
    if ('error' in wire) return binary;
    const schema = schemas.get(wire.schemaId);
    // JSON Schema and Protobuf values are not embedded as AVRO: they come back as they were stored.
    if (!schema || schema.parsed.schemaType !== 'AVRO') return binary;
    const type = schema.parsed.avro;
    try {
      const { value, offset } = type.decode(wire.payload, 0);
      if (offset !== wire.payload.length) return binary;
      return { type: 'AVRO', data: toAvroJson(type, value), schema_id: wire.schemaId };
    } catch {
      return binary;
    }
  };
}

/** The payload of `data` under the schema (per its type: src/schemas/schemaData.ts); data that does not fit is 40002, naming the schema id when it is known. */
function encodeData(parsed: ParsedSchema, data: unknown, side: Side, schemaId?: number): Buffer {
  try {
    return encodeSchemaData(parsed, data, `${side}.data`);
  } catch (err) {
    if (err instanceof SchemaDataError) throw invalidValue(`${err.message.replace(/\.$/, '')}${schemaId === undefined ? '' : ` (schema id ${schemaId})`}.`);
    throw err;
  }
}
