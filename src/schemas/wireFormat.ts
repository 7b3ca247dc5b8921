/**
 * Confluent's wire format for schema-encoded keys and values, the framing every
 * Confluent serializer writes and every Confluent deserializer reads:
 *
 *   SerializedValue => magic INT8 (= 0), schemaId INT32 (big-endian), payload
 *
 * The payload is Avro binary for Avro, the JSON text (UTF-8) for JSON Schema,
 * and for Protobuf the message indexes, then the message's bytes:
 *
 *   ProtobufPayload => count VARINT, index VARINT × count, message BYTES
 *
 * (zigzag varints, as Kafka's ByteUtils writes them; `count` 0 — the single
 * byte 0 — is the shortcut for [0], the first top-level message). After
 * io.confluent.kafka.serializers.AbstractKafkaSchemaSerDe (MAGIC_BYTE,
 * idSize = 4) and io.confluent.kafka.schemaregistry.protobuf.MessageIndexes.
 */
import { CorruptBatchError } from '../errors';
import { readVarintAt, sizeOfVarint, writeVarint } from '../codec/varint';
export const wireMagicByte = 0;
export const wireHeaderBytes = 5;

export function encodeWire(schemaId: number, payload: Buffer): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) throw new RangeError(`schema id ${schemaId} does not fit in an INT32`);
  const out = Buffer.allocUnsafe(wireHeaderBytes + payload.length);
  out.writeUInt8(wireMagicByte, 0);
  out.writeInt32BE(schemaId, 1);
  payload.copy(out, wireHeaderBytes);
  return out;
}

/** The schema id and payload, or a reason the bytes are not in the wire format. */
export function decodeWire(bytes: Buffer): { schemaId: number; payload: Buffer } | { error: string } {
  if (bytes.length < wireHeaderBytes) return { error: `is ${bytes.length} bytes, shorter than the 5-byte schema header (magic byte 0, 4-byte schema id)` };
  if (bytes[0] !== wireMagicByte) return { error: `starts with byte ${bytes[0]}, not the magic byte 0 of a schema id header` };
  return { schemaId: bytes.readInt32BE(1), payload: bytes.subarray(wireHeaderBytes) };
}

/** The message indexes a Protobuf payload starts with, and the message bytes after them; or why they do not read. */
export function decodeMessageIndexes(payload: Buffer, indexesMax: number): { indexes: number[]; message: Buffer } | { error: string } {
  try {
    const count = readVarintAt(payload, 0, payload.length, 'message index count');
    let at = count.bytes;
    if (count.value === 0) return { indexes: [0], message: payload.subarray(at) };
    if (count.value < 0 || count.value > indexesMax) return { error: `carries ${count.value} message indexes (at most ${indexesMax})` };
    const indexes: number[] = [];
    for (let i = 0; i < count.value; i++) {
      const index = readVarintAt(payload, at, payload.length, 'message index');
      if (index.value < 0) return { error: `carries a negative message index (${index.value})` };
      indexes.push(index.value);
      at += index.bytes;
    }
    return { indexes, message: payload.subarray(at) };
  } catch (err) {
    if (err instanceof CorruptBatchError) return { error: `has no readable message indexes (${err.message})` };
    throw err;
  }
}

/** Message indexes as Confluent's serializer writes them: the single byte 0 for [0], else the count and each index. */
export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const values = [indexes.length, ...indexes];
  const out = Buffer.alloc(values.reduce((n, v) => n + sizeOfVarint(v), 0));
  let at = 0;
  for (const v of values) at = writeVarint(out, at, v);
  return out;
}
