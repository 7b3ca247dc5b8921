/**
 * `strand consume` decodes keys and values in the Confluent wire format
 * (magic byte 0, a 4-byte big-endian schema id, the payload) through the
 * schema registry, by default: a record that carries the prefix and whose id
 * the registry knows prints as its data: an Avro schema's in Avro's JSON
 * encoding, a JSON Schema's as the JSON it is. Everything else prints as it is
 * stored:
 *
 * - bytes without the prefix (text, JSON, anything not starting with 0x00);
 * - an id the registry does not have (40403): a value that merely starts with
 *   0x00 is not mistaken for a schema's, and the id is not asked about again;
 * - a schema or payload that does not decode (a Protobuf schema: the CLI
 *   carries no .proto compiler; corrupt bytes): one warning per schema id on
 *   stderr, then as stored.
 *
 * A registry that cannot be reached, or refuses for another reason, is an
 * error: printing raw bytes where decoded data was expected would mislead a
 * script. `--no-decode` prints every record as stored.
 */
import { SchemaRegistry, SchemaRegistryError, StrandClientError, type KafkaMessage, type StrandClient } from '../client';
import type { Decoded, DecodedMessage } from './format';

/** Schema ids whose type (or "not decodable") is remembered. */
const schemaIdsRememberedMax = 10_000;
const wirePrefixBytes = 5;

export class WireDecoder {
  private readonly registry: SchemaRegistry;
  /** Each schema id's type, once asked ('AVRO', 'JSON', 'PROTOBUF'), or null: not decodable. */
  private readonly kinds = new Map<number, string | null>();

  constructor(
    client: StrandClient,
    private readonly warn: (message: string) => void,
  ) {
    this.registry = new SchemaRegistry(client);
  }

  /** The decoded key and value, or undefined when neither is in the wire format. */
  async decode(message: KafkaMessage): Promise<DecodedMessage | undefined> {
    const key = await this.one(message.key, 'key');
    const value = await this.one(message.value, 'value');
    if (!key && !value) return undefined;
    return { ...(key ? { key } : {}), ...(value ? { value } : {}) };
  }

  private async one(bytes: Buffer | null, what: string): Promise<Decoded | undefined> {
    if (bytes === null || bytes.length < wirePrefixBytes || bytes[0] !== 0) return undefined;
    const id = bytes.readUInt32BE(1);
    if (id === 0) return undefined;
    const kind = await this.kindOf(id);
    if (kind === null) return undefined;
    try {
      if (kind === 'JSON') return { schemaId: id, data: JSON.parse(bytes.subarray(wirePrefixBytes).toString('utf8')) as unknown };
      if (kind !== 'AVRO') throw new Error(`a ${kind} schema`);
      const { schemaId, data } = await this.registry.decode(bytes);
      return { schemaId, data };
    } catch (err) {
      if (!(err instanceof Error) || err instanceof StrandClientError) throw err;
      // avsc's or JSON's own errors: the payload does not fit its schema, or the schema cannot be used here.
      this.remember(id, null);
      this.warn(`schema id ${id}: could not decode a ${what} (${err.message}); printing such records as stored`);
      return undefined;
    }
  }

  private async kindOf(id: number): Promise<string | null> {
    const known = this.kinds.get(id);
    if (known !== undefined) return known;
    try {
      const { schemaType } = await this.registry.getById(id);
      const kind = (schemaType ?? 'AVRO').toUpperCase();
      this.remember(id, kind);
      return kind;
    } catch (err) {
      // An id the registry does not have: the bytes only look like the wire format.
      if (err instanceof SchemaRegistryError && (err.code === 40403 || err.status === 404)) {
        this.remember(id, null);
        return null;
      }
      throw err;
    }
  }

  private remember(id: number, kind: string | null): void {
    if (this.kinds.size >= schemaIdsRememberedMax) this.kinds.clear();
    this.kinds.set(id, kind);
  }
}
