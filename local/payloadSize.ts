/**
 * The size of a Lambda payload (an event or a result) as JSON, which is what
 * Lambda's 6 MB bound measures, without serialising a base64 body: base64 is
 * ASCII with nothing JSON escapes, so it adds exactly its length. The gateway
 * checks every request and response against the bound, and stringifying a
 * megabyte body only to count it cost ~2 ms per MiB each way (issue 21).
 */
export function jsonPayloadBytes(payload: { body?: string; isBase64Encoded?: boolean }): number {
  if (typeof payload.body !== 'string' || !payload.isBase64Encoded) return Buffer.byteLength(JSON.stringify(payload));
  return Buffer.byteLength(JSON.stringify({ ...payload, body: '' })) + payload.body.length;
}
