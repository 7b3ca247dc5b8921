/**
 * Data ⇄ a schema's wire-format payload, for each schema type, as Confluent's
 * serializers write it and REST Proxy's converters read it
 * (src/schemas/wireFormat.ts has the framing):
 *
 *   AVRO     data in Avro's JSON encoding → Avro binary
 *            (kafka-rest: AvroSchemaUtils.toObject, KafkaAvroSerializer)
 *   JSON     any JSON the schema validates → its JSON text, UTF-8
 *            (JsonSchemaUtils.toObject validates, KafkaJsonSchemaSerializer)
 *   PROTOBUF data in Protobuf's JSON mapping → message indexes, then the
 *            message's bytes (ProtobufSchemaUtils.toObject parses with
 *            JsonFormat into the schema's first message; KafkaProtobufSerializer)
 *
 * Shared by produce (src/schemas/recordSchemas.ts), the v2 consumer formats
 * (src/api/schemaFormats.ts) and the SDK (client/schemaRegistry.ts).
 */
import { AvroDataError, encodeAvroJson, toAvroJson } from './avro';
import { jsonSchemaProblem } from './jsonSchema';
import { protobufFromJson, protobufToJson, ProtobufJsonError } from './protobufJson';
import { decodeMessage, messageAt, messageIndexesMax } from './protobufSchema';
import type { ParsedSchema, SchemaType } from './schemaTypes';
import { decodeMessageIndexes, encodeMessageIndexes } from './wireFormat';

/** REST Proxy's name of a schema type (its EmbeddedFormat): the registry's JSON is JSONSCHEMA. */
export const embeddedFormatOf = { AVRO: 'AVRO', JSON: 'JSONSCHEMA', PROTOBUF: 'PROTOBUF' } as const satisfies Record<SchemaType, string>;
export type SchemaFormat = (typeof embeddedFormatOf)[SchemaType];
export const schemaFormats = ['AVRO', 'JSONSCHEMA', 'PROTOBUF'] as const;
export const schemaTypeOfFormat: Record<SchemaFormat, SchemaType> = { AVRO: 'AVRO', JSONSCHEMA: 'JSON', PROTOBUF: 'PROTOBUF' };

export function isSchemaFormat(s: unknown): s is SchemaFormat {
  return typeof s === 'string' && (schemaFormats as readonly string[]).includes(s);
}

/** Data that does not fit its schema; the message names the field (`Field 'value.data.zip' must be …`). */
export class SchemaDataError extends Error {
  override name = 'SchemaDataError';
}

/** The message a Protobuf value is written as: the schema's first message, as ProtobufSchema.toDescriptor() picks it. */
function firstMessage(parsed: Extract<ParsedSchema, { schemaType: 'PROTOBUF' }>) {
  const type = parsed.protobuf.messages[0];
  if (!type) throw new SchemaDataError('The Protobuf schema declares no message to write the data as.');
  return type;
}

/** `data` → the payload after the 5-byte header, for the schema's type; SchemaDataError naming `path` when it does not fit. */
export function encodeSchemaData(parsed: ParsedSchema, data: unknown, path: string): Buffer {
  switch (parsed.schemaType) {
    case 'AVRO':
      try {
        return encodeAvroJson(parsed.avro, data, path);
      } catch (err) {
        if (err instanceof AvroDataError) throw new SchemaDataError(err.message);
        throw err;
      }
    case 'JSON': {
      const problem = jsonSchemaProblem(parsed.json, data);
      if (problem !== undefined) throw new SchemaDataError(`Field '${path}' does not match the JSON Schema: ${problem}.`);
      return Buffer.from(JSON.stringify(data), 'utf8');
    }
    case 'PROTOBUF': {
      const type = firstMessage(parsed);
      try {
        const message = protobufFromJson(type, data, path);
        return Buffer.concat([encodeMessageIndexes([0]), type.encode(message).finish()]);
      } catch (err) {
        if (err instanceof ProtobufJsonError) throw new SchemaDataError(err.message);
        throw err;
      }
    }
  }
}

/**
 * A payload → its data as REST Proxy renders it: Avro's JSON encoding, the
 * JSON document, Protobuf's JSON mapping of the message its indexes name.
 * Throws SchemaDataError saying why it does not decode.
 */
export function decodeSchemaData(parsed: ParsedSchema, payload: Buffer): unknown {
  switch (parsed.schemaType) {
    case 'AVRO': {
      let decoded: { value: unknown; offset: number };
      try {
        decoded = parsed.avro.decode(payload, 0);
      } catch (err) {
        throw new SchemaDataError(`not Avro: ${(err as Error).message}`);
      }
      if (decoded.offset < 0) throw new SchemaDataError('not Avro: it ends early');
      return toAvroJson(parsed.avro, decoded.value);
    }
    case 'JSON': {
      try {
        return JSON.parse(payload.toString('utf8'));
      } catch (err) {
        throw new SchemaDataError(`not JSON: ${(err as Error).message}`);
      }
    }
    case 'PROTOBUF': {
      const framed = decodeMessageIndexes(payload, messageIndexesMax);
      if ('error' in framed) throw new SchemaDataError(`the Protobuf payload ${framed.error}`);
      const type = messageAt(parsed.protobuf, framed.indexes);
      if (typeof type === 'string') throw new SchemaDataError(`the message indexes [${framed.indexes.join(', ')}] ${type}`);
      let message;
      try {
        message = decodeMessage(type, framed.message);
      } catch (err) {
        throw new SchemaDataError(`not a ${type.fullName.replace(/^\./, '')} message: ${(err as Error).message}`);
      }
      try {
        return protobufToJson(type, message);
      } catch (err) {
        throw new SchemaDataError(`a ${type.fullName.replace(/^\./, '')} message that has no JSON form: ${(err as Error).message}`);
      }
    }
  }
}
