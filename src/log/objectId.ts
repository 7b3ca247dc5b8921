/**
 * Object ids: the write time in base 36 (9 characters), then 13 random ones.
 * Listings are in write order, and the sweep tells an object's age from its key.
 * Pure, so the head's attribute layout (src/producers/producerState.ts) can read
 * an upload's age without the S3 client.
 */
import { randomBytes } from 'node:crypto';

export function newObjectId(now: number): string {
  const time = now.toString(36).padStart(9, '0');
  const random = BigInt('0x' + randomBytes(8).toString('hex')).toString(36).padStart(13, '0');
  return time + random;
}

/** When an object was written, from its id (see newObjectId). */
export function objectTime(objectId: string): number {
  return parseInt(objectId.slice(0, 9), 36);
}
