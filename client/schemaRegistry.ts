/**
 * A client for Strand's schema registry (the Confluent Schema Registry API at
 * the same base URL as the rest of Strand), and the Confluent wire format:
 *
 *   const strand = new StrandClient({ url });
 *   const registry = new SchemaRegistry(strand);
 *   const { id } = await registry.register('orders-value', orderSchema);
 *   await producer.send({ topic: 'orders', messages: [{ value: await registry.encode(id, order) }] });
 *   const { schemaId, data } = await registry.decode(message.value);
 *
 * Schemas are Avro, JSON Schema or Protobuf (`register(subject, text,
 * { schemaType: 'PROTOBUF', references })`). `encode` takes the `data` a REST
 * produce with that schema takes, checks it and writes the schema type's wire
 * format (src/schemas/schemaData.ts); `decode` reads any of them back:
 *
 * - Avro: Avro's JSON encoding — unions as `{"branch": value}` (a bare value
 *   is taken when only one branch fits), bytes as strings of code points 0–255
 * - JSON Schema: any JSON the schema validates; stored as its JSON text
 * - Protobuf: Protobuf's JSON mapping (lowerCamelCase or proto field names,
 *   64-bit integers as strings, enums by name), written as the schema's first
 *   message with message index 0; decoded as the message its indexes name,
 *   printed as REST Proxy's protobuf format prints it
 *
 * A schema with references is parsed with the referenced versions, read from
 * the registry.
 *
 * Registry errors carry Confluent's codes (40401 subject not found, 40403
 * schema not found, 409 incompatible, 42201 invalid schema…) as
 * `SchemaRegistryError`.
 */
import type * as avro from 'avsc';
import { resolveReferences, type SchemaReference } from '../src/schemas/references';
import { decodeSchemaData, encodeSchemaData, SchemaDataError } from '../src/schemas/schemaData';
import { parseSchema, type ParsedSchema, type SchemaType } from '../src/schemas/schemaTypes';
import { StrandError } from '../src/errors';
import { decodeWire, encodeWire } from '../src/schemas/wireFormat';
import { StrandApiError, StrandUsageError } from './errors';
import type { StrandClient } from './StrandClient';

export { encodeWire as encodeWireFormat };
export type { SchemaReference, SchemaType };
/** A payload that does not decode with its schema, or a schema that does not parse here (a plain Error, not a client error: the bytes are at fault). */
export { SchemaDataError };

/** Confluent's compatibility levels. */
export type CompatibilityLevel = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  /** The schema's text (Avro and JSON Schema as JSON text, Protobuf as .proto text). */
  schema: string;
  /** Absent for AVRO, as Confluent answers. */
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

/** A schema's type and references, when it is not a plain Avro schema. */
export interface SchemaOptions {
  /** Default AVRO. */
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

export interface CompatibilityResult {
  isCompatible: boolean;
  /** Why not, when it is not. */
  messages: string[];
}

/** A registry error, with Confluent's error code (40401, 40402, 40403, 409, 42201, 42202, …). */
export class SchemaRegistryError extends StrandApiError {
  override name = 'SchemaRegistryError';
}

/** Schemas by id a registry client keeps: an id's schema never changes. */
const schemaCacheEntriesMax = 1_000;

/** Reads the Confluent framing: magic byte 0, a 4-byte big-endian schema id, the payload. */
export function decodeWireFormat(bytes: Buffer): { schemaId: number; payload: Buffer } {
  const wire = decodeWire(bytes);
  if ('error' in wire) throw new StrandUsageError(`Not in the Confluent wire format: the value ${wire.error}.`);
  return wire;
}

export class SchemaRegistry {
  private readonly parsed = new Map<number, ParsedSchema>();

  constructor(private readonly client: StrandClient) {}

  /** Registers a schema under a subject; the same schema gets the same id. 409 when incompatible. */
  async register(subject: string, schema: string | object, options: SchemaOptions = {}): Promise<{ id: number }> {
    return this.call('POST', `/subjects/${enc(subject)}/versions`, schemaBody(schema, options));
  }

  /** The schema of a global id: its text, and its type (absent for AVRO) and references. */
  async getById(id: number): Promise<{ schema: string; schemaType?: SchemaType; references?: SchemaReference[] }> {
    return this.call('GET', `/schemas/ids/${id}`);
  }

  async latest(subject: string): Promise<SubjectVersion> {
    return this.call('GET', `/subjects/${enc(subject)}/versions/latest`);
  }

  async getVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    return this.call('GET', `/subjects/${enc(subject)}/versions/${version}`);
  }

  /** The id and version a schema has under a subject (40403 when it is not registered there). */
  async lookup(subject: string, schema: string | object, options: SchemaOptions = {}): Promise<SubjectVersion> {
    return this.call('POST', `/subjects/${enc(subject)}`, schemaBody(schema, options));
  }

  async subjects(): Promise<string[]> {
    return this.call('GET', '/subjects');
  }

  async versions(subject: string): Promise<number[]> {
    return this.call('GET', `/subjects/${enc(subject)}/versions`);
  }

  /** Whether a schema may be registered under a subject: against one version, or (version omitted) by the subject's level. */
  async checkCompatibility(subject: string, schema: string | object, version?: number | 'latest', options: SchemaOptions = {}): Promise<CompatibilityResult> {
    const path = `/compatibility/subjects/${enc(subject)}/versions${version === undefined ? '' : `/${version}`}`;
    const res = await this.call<{ is_compatible: boolean; messages?: string[] }>('POST', path, schemaBody(schema, options), { verbose: 'true' });
    return { isCompatible: res.is_compatible, messages: res.messages ?? [] };
  }

  async getCompatibility(subject?: string): Promise<CompatibilityLevel> {
    const path = subject === undefined ? '/config' : `/config/${enc(subject)}`;
    return (await this.call<{ compatibilityLevel: CompatibilityLevel }>('GET', path, undefined, subject === undefined ? {} : { defaultToGlobal: 'true' })).compatibilityLevel;
  }

  async setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    await this.call('PUT', subject === undefined ? '/config' : `/config/${enc(subject)}`, { compatibility: level });
  }

  async deleteSubject(subject: string, options: { permanent?: boolean } = {}): Promise<number[]> {
    return this.call('DELETE', `/subjects/${enc(subject)}`, undefined, options.permanent ? { permanent: 'true' } : {});
  }

  async deleteVersion(subject: string, version: number | 'latest', options: { permanent?: boolean } = {}): Promise<number> {
    return this.call('DELETE', `/subjects/${enc(subject)}/versions/${version}`, undefined, options.permanent ? { permanent: 'true' } : {});
  }

  /**
   * A schema id's schema, parsed with its references in scope (read once: an
   * id's schema never changes). Throws SchemaRegistryError 40403 for an
   * unknown id, SchemaDataError when the schema does not parse here.
   */
  async schemaOf(id: number): Promise<ParsedSchema> {
    let parsed = this.parsed.get(id);
    if (!parsed) {
      const { schema, schemaType = 'AVRO', references = [] } = await this.getById(id);
      try {
        const { pinned, resolved } = await resolveReferences(references, async (subject, version) => {
          const v = await this.getVersion(subject, version);
          return { version: v.version, schema: v.schema, schemaType: v.schemaType ?? 'AVRO', references: v.references ?? [] };
        });
        parsed = parseSchema(schema, schemaType, pinned, resolved);
      } catch (err) {
        if (err instanceof StrandError) throw new SchemaDataError(`Schema id ${id} does not parse: ${err.message}`);
        throw err;
      }
      if (this.parsed.size >= schemaCacheEntriesMax) this.parsed.delete(this.parsed.keys().next().value!);
      this.parsed.set(id, parsed);
    }
    return parsed;
  }

  /** The avsc Type of an Avro schema id (StrandUsageError for a JSON Schema or Protobuf id). */
  async typeOf(id: number): Promise<avro.Type> {
    const parsed = await this.schemaOf(id);
    if (parsed.schemaType !== 'AVRO') throw new StrandUsageError(`Schema id ${id} is a ${parsed.schemaType} schema, not AVRO.`);
    return parsed.avro;
  }

  /** Data → wire-format bytes for schema `id`, per its type; data that does not fit throws StrandUsageError naming the field. */
  async encode(id: number, data: unknown): Promise<Buffer> {
    const parsed = await this.schemaOf(id);
    try {
      return encodeWire(id, encodeSchemaData(parsed, data, 'data'));
    } catch (err) {
      if (err instanceof SchemaDataError) throw new StrandUsageError(`${err.message.replace(/\.$/, '')} (schema id ${id}).`);
      throw err;
    }
  }

  /** Wire-format bytes → the schema id and the data (Avro JSON, the JSON document, or Protobuf's JSON mapping), decoded with the writer's schema. */
  async decode(bytes: Buffer): Promise<{ schemaId: number; data: unknown }> {
    const { schemaId, payload } = decodeWireFormat(bytes);
    const parsed = await this.schemaOf(schemaId);
    try {
      return { schemaId, data: decodeSchemaData(parsed, payload) };
    } catch (err) {
      if (err instanceof SchemaDataError) throw new SchemaDataError(`The value does not decode with schema id ${schemaId}: ${err.message}.`);
      throw err;
    }
  }

  private async call<T>(method: string, path: string, json?: unknown, query: Record<string, string> = {}): Promise<T> {
    try {
      return await this.client.transport.json<T>(method, path, { ...(json === undefined ? {} : { json }), query });
    } catch (err) {
      // The transport maps Strand's codes (where 40401 is "unknown cluster"); registry codes are Confluent's.
      if (err instanceof StrandApiError && !(err instanceof SchemaRegistryError) && err.status < 500 && err.status !== 429) {
        throw new SchemaRegistryError(err.code, err.status, err.message, { body: err.body, method, path, cause: err });
      }
      throw err;
    }
  }
}

const enc = encodeURIComponent;
const text = (schema: string | object) => (typeof schema === 'string' ? schema : JSON.stringify(schema));
const schemaBody = (schema: string | object, options: SchemaOptions) => ({
  schema: text(schema),
  ...(options.schemaType ? { schemaType: options.schemaType } : {}),
  ...(options.references && options.references.length > 0 ? { references: options.references } : {}),
});
