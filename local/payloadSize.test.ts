import fc from 'fast-check';
import { jsonPayloadBytes } from './payloadSize';

describe("a payload's size as Lambda measures it", () => {
  test('equals the length of the whole payload as JSON, for base64 and text bodies alike', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.string(),
        fc.boolean(),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 5 }),
        (bytes, text, base64, headers) => {
          const payload = base64
            ? { statusCode: 200, headers, body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true }
            : { statusCode: 200, headers, body: text, isBase64Encoded: false };
          expect(jsonPayloadBytes(payload)).toBe(Buffer.byteLength(JSON.stringify(payload)));
        },
      ),
    );
  });

  test('a payload without a body is measured whole', () => {
    const payload: { statusCode: number; headers: Record<string, string>; body?: string } = { statusCode: 204, headers: { a: 'é"\n' } };
    expect(jsonPayloadBytes(payload)).toBe(Buffer.byteLength(JSON.stringify(payload)));
  });
});
