import { execFileSync, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { CorruptBatchError, DecompressedTooLargeError } from '../errors';
import { decompress } from './compression';
import frames from './fixtures/frames.json';
import { lz4BlockBytes, lz4Compress, lz4Decompress } from './lz4';
import { xxhash32 } from './xxhash32';

// How: golden frames written by liblz4 (the `lz4` tool, src/codec/fixtures/frames.json)
// must decode; our frames must decode with lz4js (a second, independent reader)
// and, where the tool is installed, with liblz4 itself; hostile frames must fail
// as CorruptBatchErrors, and bombs stop at the bound.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lz4js = require('lz4js') as { compress(b: Uint8Array): Uint8Array; decompress(b: Uint8Array): Uint8Array };
const hasLz4Tool = spawnSync('lz4', ['--version']).status === 0;
const mib = 1024 * 1024;
const plains = frames.plainsBase64.map((p) => Buffer.from(p, 'base64'));
const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `record ${i} of the lz4 test, `).join(''));

/** A frame with the given descriptor and blocks (raw block words and bytes), with a correct header checksum. */
function frame(flg: number, bd: number, body: Buffer, extra: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18, flg, bd]), extra]);
  return Buffer.concat([head, Buffer.from([(xxhash32(head, 4) >>> 8) & 0xff]), body]);
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

describe('xxhash32', () => {
  it.each([
    ['', 0x02cc5d05],
    ['a', 0x550d7456],
    ['abc', 0x32d153ff],
    ['Nobody inspects the spammish repetition', 0xe2293b2f],
  ])('xxh32(%j) is the reference value', (input, hash) => {
    expect(xxhash32(Buffer.from(input))).toBe(hash);
  });
});

describe('lz4 frames', () => {
  it("writes Kafka's framing: magic, FLG 0x60 (version 1, independent blocks), BD 0x40 (64 KiB), a correct header checksum, an end mark", () => {
    const out = lz4Compress(Buffer.from('hello hello hello hello'));
    expect([...out.subarray(0, 7)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, (xxhash32(out, 4, 6) >>> 8) & 0xff]);
    expect(out.readUInt32LE(out.length - 4)).toBe(0);
  });

  it('round-trips any bytes, repetitive or not, across block boundaries', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 5000 }),
          fc.array(fc.constantFrom('a', 'b', 'key-', 'value ', '\u0000'), { maxLength: 40_000 }).map((p) => Buffer.from(p.join(''))),
        ),
        (bytes) => {
          const input = Buffer.from(bytes);
          expect(lz4Decompress(lz4Compress(input), 1 << 22).equals(input)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
    const big = text(20_000);
    expect(big.length).toBeGreaterThan(4 * lz4BlockBytes);
    const out = lz4Compress(big);
    expect(out.length).toBeLessThan(big.length / 4);
    expect(lz4Decompress(out, big.length).equals(big)).toBe(true);
  });

  it('incompressible blocks are stored uncompressed (bit 31 of the block size)', () => {
    const noise = Buffer.from(plains[3]!);
    const out = lz4Compress(noise);
    expect(out.readUInt32LE(7) >>> 31).toBe(1);
    expect(lz4Decompress(out, noise.length).equals(noise)).toBe(true);
  });

  it('our frames are read by lz4js, and lz4js frames by us', () => {
    for (const input of [...plains, text(3000)]) {
      expect(Buffer.from(lz4js.decompress(lz4Compress(input))).equals(input)).toBe(true);
      expect(lz4Decompress(Buffer.from(lz4js.compress(input)), 1 << 22).equals(input)).toBe(true);
    }
  });

  (hasLz4Tool ? it : it.skip)('our frames are read by liblz4 (the lz4 tool)', () => {
    for (const input of [...plains, text(30_000)]) {
      expect(execFileSync('lz4', ['-d', '-c', '-q'], { input: lz4Compress(input) }).equals(input)).toBe(true);
    }
  });

  const golden = frames.frames.filter((f) => f.codec === 'lz4');
  it.each(golden.map((f) => [f.command, f.plain, f] as const))('reads the frame of `%s` for input %d', (_command, plain, f) => {
    expect(decompress('lz4', Buffer.from(f.compressedBase64, 'base64')).equals(plains[plain]!)).toBe(true);
  });

  it('golden frames cover checksums, linked blocks, content size and several block sizes', () => {
    expect(golden.length).toBeGreaterThanOrEqual(12);
    expect(golden.map((f) => f.command).join(' ')).toMatch(/-BD.*--content-size/);
  });

  it('several frames in a row and skippable frames are read as one stream', () => {
    const skippable = Buffer.concat([u32(0x184d2a53), u32(3), Buffer.from('abc')]);
    const stream = Buffer.concat([lz4Compress(Buffer.from('one ')), skippable, lz4Compress(Buffer.from('two'))]);
    expect(lz4Decompress(stream, 100).toString()).toBe('one two');
  });
});

describe('lz4: hostile frames', () => {
  const good = lz4Compress(text(200));

  it.each<[string, () => Buffer, RegExp]>([
    ['bad magic', () => Buffer.concat([Buffer.from([0, 0, 0, 0]), good.subarray(4)]), /bad magic/],
    ['a wrong header checksum', () => Buffer.concat([good.subarray(0, 6), Buffer.from([good[6]! ^ 1]), good.subarray(7)]), /header checksum/],
    ['version 0', () => frame(0x20, 0x40, u32(0)), /version/],
    ['reserved bits', () => frame(0x62, 0x40, u32(0)), /reserved/],
    ['a dictionary', () => frame(0x61, 0x40, u32(0), u32(7)), /dictionary/],
    ['block size id 3', () => frame(0x60, 0x30, u32(0)), /block maximum/],
    ['truncation', () => good.subarray(0, good.length - 10), /past the end|truncated/],
    ['no end mark', () => good.subarray(0, good.length - 4), /truncated/],
    ['empty input', () => Buffer.alloc(0), /no frame/],
    ['a block larger than the maximum', () => frame(0x60, 0x40, Buffer.concat([u32(0x80000000 | (lz4BlockBytes + 1)), Buffer.alloc(lz4BlockBytes + 1), u32(0)])), /exceeds/],
    ['a match offset of 0', () => frame(0x60, 0x40, Buffer.concat([u32(8), Buffer.from([0x40, 1, 2, 3, 4, 0, 0, 0x00]), u32(0)])), /offset 0/],
    ['a match before the start', () => frame(0x60, 0x40, Buffer.concat([u32(8), Buffer.from([0x40, 1, 2, 3, 4, 9, 0, 0x00]), u32(0)])), /offset 9/],
    ['literals past the block', () => frame(0x60, 0x40, Buffer.concat([u32(3), Buffer.from([0xf0, 200, 1]), u32(0)])), /literals run past/],
    ['a wrong block checksum', () => frame(0x70, 0x40, Buffer.concat([u32(0x80000001), Buffer.from('x'), u32(1), u32(0)])), /block checksum/],
    ['a wrong content checksum', () => frame(0x64, 0x40, Buffer.concat([u32(0x80000001), Buffer.from('x'), u32(0), u32(1)])), /content checksum/],
    ['a content size that lies', () => frame(0x68, 0x40, Buffer.concat([u32(0x80000001), Buffer.from('x'), u32(0)]), Buffer.from([5, 0, 0, 0, 0, 0, 0, 0])), /declares 5 bytes/],
  ])('%s is a CorruptBatchError', (_name, make, message) => {
    const input = make();
    expect(() => lz4Decompress(input, mib)).toThrow(CorruptBatchError);
    expect(() => lz4Decompress(input, mib)).toThrow(message);
  });

  it('a bomb stops at the bound: no more output than the bound, and a DecompressedTooLargeError', () => {
    const bomb = lz4Compress(Buffer.alloc(32 * mib));
    expect(bomb.length).toBeLessThan(200 * 1024);
    const started = process.hrtime.bigint();
    expect(() => lz4Decompress(bomb, mib)).toThrow(DecompressedTooLargeError);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
  });

  it('a declared content size beyond the bound is refused before decoding', () => {
    const liar = frame(0x68, 0x40, Buffer.concat([u32(0x80000001), Buffer.from('x'), u32(0)]), Buffer.from([0, 0, 0, 0, 0, 1, 0, 0]));
    expect(() => lz4Decompress(liar, mib)).toThrow(DecompressedTooLargeError);
  });

  it('mutated frames decode or fail as CorruptBatchErrors, never anything else', () => {
    const base = [lz4Compress(text(400)), ...frames.frames.filter((f) => f.codec === 'lz4' && f.plain === 2).map((f) => Buffer.from(f.compressedBase64, 'base64'))];
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), (which, edits) => {
        const bytes = Buffer.from(base[which]!);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        try {
          expect(lz4Decompress(bytes, mib).length).toBeLessThanOrEqual(mib);
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptBatchError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
