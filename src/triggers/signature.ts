/**
 * Webhook signatures, Stripe's scheme: the receiver proves a delivery came
 * from Strand and is recent.
 *
 *   X-Strand-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *
 * The timestamp is inside the MAC, so a captured delivery cannot be replayed
 * later than the receiver's tolerance; comparing in constant time leaks
 * nothing about the expected MAC.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'x-strand-signature';
/** How old a signature a receiver accepts by default (Stripe's default too). */
export const signatureToleranceSecondsDefault = 300;

function mac(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header value for `body`, signed at `nowMs`. */
export function signPayload(secret: string, body: string | Buffer, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${mac(secret, t, body)}`;
}

/**
 * True when `header` signs `body` with `secret` and its time is within
 * `toleranceSeconds` of `nowMs`. Pass the raw body bytes as received: a
 * re-serialised JSON body does not verify.
 */
export function verifySignature(
  secret: string,
  header: string | undefined | null,
  body: string | Buffer,
  options: { nowMs?: number; toleranceSeconds?: number } = {},
): boolean {
  if (!header) return false;
  const parts = new Map<string, string[]>();
  for (const piece of header.split(',')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) continue;
    const k = piece.slice(0, eq).trim();
    parts.set(k, [...(parts.get(k) ?? []), piece.slice(eq + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isSafeInteger(t)) return false;
  const now = options.nowMs ?? Date.now();
  if (Math.abs(now / 1000 - t) > (options.toleranceSeconds ?? signatureToleranceSecondsDefault)) return false;
  const expected = Buffer.from(mac(secret, t, body), 'hex');
  // Several v1 values may be present (a receiver may see one per secret during a rotation).
  return (parts.get('v1') ?? []).some((v) => {
    const given = Buffer.from(v, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
