/**
 * Confluent's wire format for schema-encoded keys and values, the framing every
 * Confluent serializer writes and every Confluent deserializer reads:
 *
 *   SerializedValue => magic INT8 (= 0), schemaId INT32 (big-endian), payload (Avro binary)
 *
 * After io.confluent.kafka.serializers.AbstractKafkaSchemaSerDe (MAGIC_BYTE,
 * idSize = 4).
 */
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
