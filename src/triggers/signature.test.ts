import { signPayload, verifySignature } from './signature';

const secret = 'whsec_0123456789abcdef';
const now = 1_700_000_000_000;

describe('webhook signatures', () => {
  test('a signature made for a body verifies with the same secret and body', () => {
    const header = signPayload(secret, '{"a":1}', now);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, header, Buffer.from('{"a":1}'), { nowMs: now })).toBe(true);
  });

  test('another body, another secret or a missing header does not verify', () => {
    const header = signPayload(secret, '{"a":1}', now);
    expect(verifySignature(secret, header, '{"a":2}', { nowMs: now })).toBe(false);
    expect(verifySignature('whsec_another-secret-value', header, '{"a":1}', { nowMs: now })).toBe(false);
    expect(verifySignature(secret, undefined, '{"a":1}', { nowMs: now })).toBe(false);
    expect(verifySignature(secret, 'v1=abc', '{"a":1}', { nowMs: now })).toBe(false);
  });

  test('a signature older than the tolerance is refused (a replayed delivery)', () => {
    const header = signPayload(secret, 'x', now);
    expect(verifySignature(secret, header, 'x', { nowMs: now + 299_000 })).toBe(true);
    expect(verifySignature(secret, header, 'x', { nowMs: now + 301_000 })).toBe(false);
    expect(verifySignature(secret, header, 'x', { nowMs: now + 3_601_000, toleranceSeconds: 3_700 })).toBe(true);
  });

  test('any one of several v1 values may match (secret rotation)', () => {
    const header = signPayload(secret, 'x', now);
    const t = header.split(',')[0];
    const other = signPayload('whsec_another-secret-value', 'x', now).split(',')[1];
    expect(verifySignature(secret, `${t},${other},${header.split(',')[1]}`, 'x', { nowMs: now })).toBe(true);
  });
});
