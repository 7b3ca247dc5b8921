/**
 * xxHash32 (https://github.com/Cyan4973/xxHash, XXH32), the checksum of the
 * LZ4 frame format: its header checksum byte, block checksums and content
 * checksum. Unsigned 32-bit result.
 */
const p1 = 0x9e3779b1;
const p2 = 0x85ebca77;
const p3 = 0xc2b2ae3d;
const p4 = 0x27d4eb2f;
const p5 = 0x165667b1;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
const u32 = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
const round = (acc: number, lane: number): number => Math.imul(rotl((acc + Math.imul(lane, p2)) | 0, 13), p1);

export function xxhash32(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  let i = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (seed + p1 + p2) | 0;
    let v2 = (seed + p2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - p1) | 0;
    for (const limit = end - 16; i <= limit; i += 16) {
      v1 = round(v1, u32(buf, i));
      v2 = round(v2, u32(buf, i + 4));
      v3 = round(v3, u32(buf, i + 8));
      v4 = round(v4, u32(buf, i + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + p5) | 0;
  }
  h = (h + (end - start)) | 0;
  for (; i + 4 <= end; i += 4) h = Math.imul(rotl((h + Math.imul(u32(buf, i), p3)) | 0, 17), p4);
  for (; i < end; i++) h = Math.imul(rotl((h + Math.imul(buf[i]!, p5)) | 0, 11), p1);
  h = Math.imul(h ^ (h >>> 15), p2);
  h = Math.imul(h ^ (h >>> 13), p3);
  return (h ^ (h >>> 16)) >>> 0;
}
