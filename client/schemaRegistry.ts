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
 * `encode` takes data in Avro's JSON encoding — the `data` of a REST produce
 * with a schema: unions as `{"branch": value}` (a bare value is taken when only
 * one branch fits), bytes as strings of code points 0–255 — and validates it,
 * naming the field that does not fit. `decode` returns the same encoding, as a
 * fetch with `embedded_format=avro` does.
 *
 * Registry errors carry Confluent's codes (40401 subject not found, 40403
 * schema not found, 409 incompatible, 42201 invalid schema…) as
 * `SchemaRegistryError`.
 */
import * as avro from 'avsc';
import { AvroDataError, encodeAvroJson, toAvroJson } from '../src/schemas/avro';
import { decodeWire, encodeWire } from '../src/schemas/wireFormat';
import { StrandApiError, StrandUsageError } from './errors';
import type { StrandClient } from './StrandClient';

export { encodeWire as encodeWireFormat };

/** Confluent's compatibility levels. */
export type CompatibilityLevel = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  /** The schema as JSON text. */
  schema: string;
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
  private readonly types = new Map<number, avro.Type>();

  constructor(private readonly client: StrandClient) {}

  /** Registers a schema under a subject; the same schema gets the same id. 409 when incompatible. */
  async register(subject: string, schema: string | object, options: { schemaType?: 'AVRO' } = {}): Promise<{ id: number }> {
    return this.call('POST', `/subjects/${enc(subject)}/versions`, { schema: text(schema), ...(options.schemaType ? { schemaType: options.schemaType } : {}) });
  }

  /** The schema of a global id, as JSON text. */
  async getById(id: number): Promise<{ schema: string; schemaType?: string }> {
    return this.call('GET', `/schemas/ids/${id}`);
  }

  async latest(subject: string): Promise<SubjectVersion> {
    return this.call('GET', `/subjects/${enc(subject)}/versions/latest`);
  }

  async getVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    return this.call('GET', `/subjects/${enc(subject)}/versions/${version}`);
  }

  /** The id and version a schema has under a subject (40403 when it is not registered there). */
  async lookup(subject: string, schema: string | object): Promise<SubjectVersion> {
    return this.call('POST', `/subjects/${enc(subject)}`, { schema: text(schema) });
  }

  async subjects(): Promise<string[]> {
    return this.call('GET', '/subjects');
  }

  async versions(subject: string): Promise<number[]> {
    return this.call('GET', `/subjects/${enc(subject)}/versions`);
  }

  /** Whether a schema may be registered under a subject: against one version, or (version omitted) by the subject's level. */
  async checkCompatibility(subject: string, schema: string | object, version?: number | 'latest'): Promise<CompatibilityResult> {
    const path = `/compatibility/subjects/${enc(subject)}/versions${version === undefined ? '' : `/${version}`}`;
    const res = await this.call<{ is_compatible: boolean; messages?: string[] }>('POST', path, { schema: text(schema) }, { verbose: 'true' });
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

  /** The avsc Type of a schema id, fetched once. */
  async typeOf(id: number): Promise<avro.Type> {
    let t = this.types.get(id);
    if (!t) {
      const { schema } = await this.getById(id);
      t = avro.Type.forSchema(JSON.parse(schema) as avro.Schema, { wrapUnions: true });
      if (this.types.size >= schemaCacheEntriesMax) this.types.delete(this.types.keys().next().value!);
      this.types.set(id, t);
    }
    return t;
  }

  /** Avro JSON data → wire-format bytes for schema `id`; a value that does not fit throws StrandUsageError naming the field. */
  async encode(id: number, data: unknown): Promise<Buffer> {
    const type = await this.typeOf(id);
    try {
      return encodeWire(id, encodeAvroJson(type, data, 'data'));
    } catch (err) {
      if (err instanceof AvroDataError) throw new StrandUsageError(`${err.message.replace(/\.$/, '')} (schema id ${id}).`);
      throw err;
    }
  }

  /** Wire-format bytes → the schema id and the data in Avro JSON, decoded with the writer's schema. */
  async decode(bytes: Buffer): Promise<{ schemaId: number; data: unknown }> {
    const { schemaId, payload } = decodeWireFormat(bytes);
    const type = await this.typeOf(schemaId);
    return { schemaId, data: toAvroJson(type, type.fromBuffer(payload)) };
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
