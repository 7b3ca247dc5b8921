/**
 * The REST Proxy v2 consumer's `avro`, `jsonschema` and `protobuf` formats: a
 * key or value in Confluent's wire format (magic byte 0, 4-byte schema id,
 * payload) is decoded through the schema registry into the JSON kafka-rest
 * returns.
 *
 *   avro       → Avro's JSON encoding (kafka-rest's AvroConverter.toJson, which
 *                uses Avro's JsonEncoder): unions wrapped as {"<branch>": value}
 *                (null bare), bytes and fixed as strings of code points 0-255,
 *                named branches by their full names
 *   jsonschema → the JSON text after the prefix (KafkaJsonSchemaDeserializer)
 *   protobuf   → the message the message indexes name, in Protobuf's JSON
 *                mapping as kafka-rest's ProtobufConverter prints it
 *                (JsonFormat with includingDefaultValueFields: lowerCamelCase
 *                names, 64-bit integers as strings, enums by name, defaults
 *                printed; src/schemas/protobufJson.ts)
 *
 * A value without the prefix, with an id the registry does not have, of
 * another schema type, or whose payload does not decode, is what Kafka's
 * deserializer refuses with a SerializationException, which kafka-rest answers
 * with 408 / 40801 (KafkaRestExceptionMapper). Schemas are read once per id and
 * kept (ids name one schema forever); decoding is synchronous, so a renderer
 * asks for a schema it has not read yet with LookupFirst (ConsumerInstances).
 */
import type * as avro from 'avsc';
import type { ParsedSchema } from '../schemas/schemaTypes';
import { decodeSchemaData, SchemaDataError } from '../schemas/schemaData';
import { StrandError } from '../errors';
import { LookupFirst } from '../groups/ConsumerInstances';
import type { Runtime } from '../runtime';
import { toAvroJson } from '../schemas/avro';
import { registryOf } from '../schemas/SchemaRegistry';
import { decodeWire } from '../schemas/wireFormat';
import { storedJson } from './fetchForms';

export type SchemaFormat = 'avro' | 'jsonschema' | 'protobuf';

export function isSchemaFormat(format: string): format is SchemaFormat {
  return format === 'avro' || format === 'jsonschema' || format === 'protobuf';
}

/** Why a key or value cannot be decoded in the instance's format (the caller names the record). */
export class UndecodableData extends Error {
  override name = 'UndecodableData';
}

/** A schema as decoding needs it: its type and parsed form. */
interface KnownSchema {
  schemaType: string;
  parsed: ParsedSchema;
}

/** Schemas kept per runtime (ids are immutable); past this many the oldest is dropped. */
const knownSchemasMax = 1_000;
const knownSchemas = new WeakMap<Runtime, Map<number, KnownSchema>>();

/** Confluent's schema type names: Avro's is AVRO, JSON Schema's JSON, Protobuf's PROTOBUF. */
const schemaTypeOf: Record<SchemaFormat, string> = { avro: 'AVRO', jsonschema: 'JSON', protobuf: 'PROTOBUF' };

/** Decodes one `records` call's keys and values; ids the registry lacks are remembered for the call only. */
export class SchemaDecoder {
  private readonly known: Map<number, KnownSchema>;
  private readonly missing = new Set<number>();

  constructor(
    private readonly runtime: Runtime,
    readonly format: SchemaFormat,
  ) {
    let known = knownSchemas.get(runtime);
    if (!known) knownSchemas.set(runtime, (known = new Map()));
    this.known = known;
  }

  /** The JSON of `bytes`; LookupFirst when its schema must be read first; UndecodableData when it cannot be decoded. */
  decode(bytes: Buffer): unknown {
    const wire = decodeWire(bytes);
    if ('error' in wire) throw new UndecodableData(`it ${wire.error}`);
    const schema = this.known.get(wire.schemaId);
    if (!schema) {
      if (this.missing.has(wire.schemaId)) throw new UndecodableData(`schema id ${wire.schemaId} is not in the schema registry`);
      throw new LookupFirst(() => this.load(wire.schemaId));
    }
    const expected = schemaTypeOf[this.format];
    if (schema.schemaType !== expected) {
      throw new UndecodableData(`schema id ${wire.schemaId} is a ${schema.schemaType} schema; the instance's format ${this.format} reads ${expected} schemas`);
    }
    if (schema.parsed.schemaType === 'AVRO') return avroJson(schema.parsed.avro, wire.payload, wire.schemaId);
    if (schema.parsed.schemaType === 'JSON') return schemaJson(wire.payload, wire.schemaId);
    return protobufJson(schema.parsed, wire.payload, wire.schemaId);
  }

  private async load(id: number): Promise<void> {
    // The registry's parsed form (and its cache), the one produce encodes and validates with.
    const registered = await registryOf(this.runtime)
      .schemaById(id)
      .catch((err: unknown) => {
        // A stored schema that no longer parses (42201) cannot decode anything: as an unknown id.
        if (err instanceof StrandError) return undefined;
        throw err;
      });
    if (!registered) {
      this.missing.add(id);
      return;
    }
    const parsed = registered.parsed;
    if (this.known.size >= knownSchemasMax) this.known.delete(this.known.keys().next().value!);
    this.known.set(id, { schemaType: parsed.schemaType, parsed });
  }
}

/**
 * Avro binary → Avro's JSON encoding. Bytes after the datum are ignored, as
 * Confluent's KafkaAvroDeserializer ignores them.
 */
function avroJson(type: avro.Type, payload: Buffer, schemaId: number): unknown {
  let decoded: { value: unknown; offset: number };
  try {
    decoded = type.decode(payload, 0);
  } catch (err) {
    throw new UndecodableData(`its payload is not Avro of schema id ${schemaId}: ${(err as Error).message}`);
  }
  if (decoded.offset < 0) throw new UndecodableData(`its payload is not Avro of schema id ${schemaId}: it ends early`);
  return toAvroJson(type, decoded.value);
}

/** The JSON text after the prefix, as a value. */
function schemaJson(payload: Buffer, schemaId: number): unknown {
  const json = storedJson(payload);
  if (!json) throw new UndecodableData(`its payload (schema id ${schemaId}) is not JSON, or nests too deep to send`);
  return json.value;
}

/**
 * Message indexes, then the message they name → Protobuf's JSON mapping.
 * Bytes that do not decode as that message are refused, as
 * KafkaProtobufDeserializer refuses them.
 */
function protobufJson(parsed: ParsedSchema, payload: Buffer, schemaId: number): unknown {
  try {
    return decodeSchemaData(parsed, payload);
  } catch (err) {
    if (err instanceof SchemaDataError) throw new UndecodableData(`its payload is not Protobuf of schema id ${schemaId}: ${err.message}`);
    throw err;
  }
}
