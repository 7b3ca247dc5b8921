/**
 * `strand consume` decodes keys and values in the Confluent wire format
 * (magic byte 0, a 4-byte big-endian schema id, the Avro payload) through the
 * schema registry, by default: a record that carries the prefix and whose id
 * the registry knows prints as its data in Avro's JSON encoding. Everything
 * else prints as it is stored:
 *
 * - bytes without the prefix (text, JSON, anything not starting with 0x00);
 * - an id the registry does not have (40403): a value that merely starts with
 *   0x00 is not mistaken for a schema's, and the id is not asked about again;
 * - a schema or payload that does not decode (another schema type, corrupt
 *   bytes): one warning per schema id on stderr, then as stored.
 *
 * A registry that cannot be reached, or refuses for another reason, is an
 * error: printing raw bytes where decoded data was expected would mislead a
 * script. `--no-decode` prints every record as stored.
 */
import { SchemaRegistry, SchemaRegistryError, StrandClientError, type KafkaMessage, type StrandClient } from '../client';
import type { Decoded, DecodedMessage } from './format';

/** Schema ids remembered as "not decodable" (unknown, or another schema type). */
const undecodableIdsMax = 10_000;
const wirePrefixBytes = 5;

export class WireDecoder {
  private readonly registry: SchemaRegistry;
  private readonly undecodable = new Set<number>();

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
    if (id === 0 || this.undecodable.has(id)) return undefined;
    try {
      const { schemaId, data } = await this.registry.decode(bytes);
      return { schemaId, data };
    } catch (err) {
      if (err instanceof SchemaRegistryError && (err.code === 40403 || err.status === 404)) {
        this.remember(id);
        return undefined;
      }
      if (!(err instanceof Error) || err instanceof StrandClientError) throw err;
      // avsc's own errors: the schema is not Avro, or the payload does not fit it.
      this.remember(id);
      this.warn(`schema id ${id}: could not decode a ${what} (${err.message}); printing such records as stored`);
      return undefined;
    }
  }

  private remember(id: number): void {
    if (this.undecodable.size >= undecodableIdsMax) this.undecodable.clear();
    this.undecodable.add(id);
  }
}
