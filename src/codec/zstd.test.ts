import { execFileSync, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { decompress as fzstdDecompress } from 'fzstd';
import { CorruptBatchError, DecompressedTooLargeError } from '../errors';
import { decompress } from './compression';
import frames from './fixtures/frames.json';
import { zstdBlockBytes, zstdCompress, zstdDecompress, zstdStreamWindowMax } from './zstd';

// How: golden frames written by libzstd (the `zstd` tool, src/codec/fixtures/frames.json,
// levels 1 to 22, streamed and from files, with and without checksums and content
// sizes, a 128 MiB window) must decode; our frames must decode with fzstd's one-shot
// decoder and, where the tool is installed, with libzstd itself; hand-built hostile
// frames (lying content sizes, RLE bombs, huge windows, dictionaries) must fail as
// CorruptBatchErrors, and bombs stop at the bound.

const hasZstdTool = spawnSync('zstd', ['--version']).status === 0;
const mib = 1024 * 1024;
const plains = frames.plainsBase64.map((p) => Buffer.from(p, 'base64'));
const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `record ${i} of the zstd test, `).join(''));
const magic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

function block(last: boolean, type: 0 | 1 | 2 | 3, size: number, body: Buffer): Buffer {
  const v = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.concat([Buffer.from([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff]), body]);
}
/** A frame without content size or checksum, window 2^(10 + exponent). */
const streamed = (exponent: number, ...blocks: Buffer[]) => Buffer.concat([magic, Buffer.from([0x00, exponent << 3]), ...blocks]);
/** A frame with a 4-byte content size and window 2^(10 + exponent). */
const sized = (exponent: number, size: number, ...blocks: Buffer[]) => {
  const fcs = Buffer.alloc(4);
  fcs.writeUInt32LE(size);
  return Buffer.concat([magic, Buffer.from([0x80, exponent << 3]), fcs, ...blocks]);
};

describe('zstd frames', () => {
  it('writes one single-segment frame declaring its content size, in blocks of at most 128 KiB', () => {
    const input = text(10_000);
    const out = zstdCompress(input);
    expect([...out.subarray(0, 4)]).toEqual([...magic]);
    expect(out[4]! & 0x20).toBe(0x20); // Single_Segment
    expect(out.readUInt32LE(5)).toBe(input.length);
    expect(zstdDecompress(out, input.length).equals(input)).toBe(true);
    expect(input.length).toBeGreaterThan(2 * zstdBlockBytes);
  });

  it('round-trips any bytes, and runs become RLE blocks', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 0, max: 400_000 }).map((n) => Buffer.alloc(n, 7))), (bytes) => {
        const input = Buffer.from(bytes);
        expect(zstdDecompress(zstdCompress(input), 1 << 22).equals(input)).toBe(true);
      }),
      { numRuns: 100 },
    );
    expect(zstdCompress(Buffer.alloc(mib)).length).toBeLessThan(100);
  });

  const repetitive = fc
    .array(fc.oneof(fc.constantFrom('key-', 'value ', '{"id":', ',"n":', 'aaaaaaaa', '\u0000\u0000'), fc.string({ maxLength: 6 })), { maxLength: 8000 })
    .map((parts) => Buffer.from(parts.join('')));

  it('repetitive input is written as compressed blocks (predefined FSE sequences, raw literals) that fzstd reads', () => {
    const input = text(3000);
    const out = zstdCompress(input);
    expect((out[9]! >>> 1) & 3).toBe(2); // the first block header, after magic, FHD and a 4-byte content size
    expect(out.length).toBeLessThan(input.length / 5);
    fc.assert(
      fc.property(repetitive, (input) => {
        expect(Buffer.from(fzstdDecompress(zstdCompress(input))).equals(input)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  (hasZstdTool ? it : it.skip)('libzstd reads our compressed blocks for any repetitive input', () => {
    fc.assert(
      fc.property(fc.array(repetitive, { minLength: 1, maxLength: 20 }), (inputs) => {
        // One process for many frames: libzstd decodes concatenated frames as one stream.
        const joined = Buffer.concat(inputs);
        const frames = Buffer.concat(inputs.map((i) => zstdCompress(i)));
        expect(execFileSync('zstd', ['-d', '-c', '-q'], { input: frames }).equals(joined)).toBe(true);
      }),
      { numRuns: 15 },
    );
  });

  it('our frames are read by fzstd\'s one-shot decoder', () => {
    for (const input of [...plains, text(20_000)]) expect(Buffer.from(fzstdDecompress(zstdCompress(input))).equals(input)).toBe(true);
  });

  (hasZstdTool ? it : it.skip)('our frames are read by libzstd (the zstd tool)', () => {
    for (const input of [...plains, text(20_000), Buffer.alloc(300_000, 1)]) {
      expect(execFileSync('zstd', ['-d', '-c', '-q'], { input: zstdCompress(input) }).equals(input)).toBe(true);
    }
  });

  const golden = frames.frames.filter((f) => f.codec === 'zstd');
  it.each(golden.map((f) => [f.command, f.plain, f] as const))('reads the frame of `%s` for input %d', (_command, plain, f) => {
    expect(decompress('zstd', Buffer.from(f.compressedBase64, 'base64')).equals(plains[plain]!)).toBe(true);
  });

  it('golden frames include streamed ones (no content size), single-segment ones, and level 22', () => {
    const headers = golden.map((f) => Buffer.from(f.compressedBase64, 'base64')[4]!);
    expect(headers.some((fhd) => fhd >>> 6 === 0 && (fhd & 0x20) === 0)).toBe(true); // no Frame_Content_Size
    expect(headers.some((fhd) => (fhd & 0x20) !== 0)).toBe(true); // Single_Segment
    expect(golden.some((f) => f.command.includes('-22'))).toBe(true);
  });

  it('a window over 8 MiB with a content size is decoded in one shot into exactly that size', () => {
    // Window 2^27 (what level 22 asks for when it does not know the size), content size 300000 declared.
    const frame = sized(17, 300_000, block(false, 1, zstdBlockBytes, Buffer.from('a')), block(false, 1, zstdBlockBytes, Buffer.from('a')), block(true, 0, 300_000 - 2 * zstdBlockBytes, Buffer.alloc(300_000 - 2 * zstdBlockBytes, 'b')));
    const out = zstdDecompress(frame, mib);
    expect(out.length).toBe(300_000);
    expect(out.subarray(0, 2 * zstdBlockBytes).equals(Buffer.alloc(2 * zstdBlockBytes, 'a'))).toBe(true);
    expect(out.subarray(2 * zstdBlockBytes).equals(Buffer.alloc(300_000 - 2 * zstdBlockBytes, 'b'))).toBe(true);
  });

  it('several frames in a row and skippable frames are read as one stream', () => {
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9]);
    const stream = Buffer.concat([zstdCompress(Buffer.from('one ')), skippable, zstdCompress(Buffer.from('two'))]);
    expect(zstdDecompress(stream, 100).toString()).toBe('one two');
  });
});

describe('zstd: hostile frames', () => {
  it('RLE blocks without a content size stop at the bound (a DecompressedTooLargeError), quickly', () => {
    // 2000 RLE blocks of 128 KiB: 250 MiB from 8 KB.
    const bomb = streamed(13, ...Array.from({ length: 2000 }, (_, i) => block(i === 1999, 1, zstdBlockBytes, Buffer.from([0x61]))));
    expect(bomb.length).toBeLessThan(10_000);
    const started = process.hrtime.bigint();
    expect(() => zstdDecompress(bomb, mib)).toThrow(DecompressedTooLargeError);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
  });

  it('libzstd\'s own bomb (64 MiB of zeros, streamed) stops at the bound', () => {
    const bomb = zstdCompress(Buffer.alloc(64 * mib));
    expect(() => zstdDecompress(bomb, mib)).toThrow(DecompressedTooLargeError);
  });

  it('a declared content size beyond the bound is refused before decoding', () => {
    expect(() => zstdDecompress(sized(10, 2 * mib, block(true, 1, 10, Buffer.from('a'))), mib)).toThrow(DecompressedTooLargeError);
  });

  it.each<[string, Buffer, RegExp]>([
    ['a content size smaller than the content', sized(10, 5, block(true, 1, 10, Buffer.from('a'))), /declares 5 bytes and decompresses to more/],
    ['a content size larger than the content', sized(10, 50, block(true, 1, 10, Buffer.from('a'))), /declares 50 bytes and decompresses to 10/],
    ['a window over 8 MiB without a content size', streamed(14, block(true, 0, 1, Buffer.from('a'))), /window of 16777216 bytes without a content size/],
    ['a 2 GiB window', streamed(21, block(true, 0, 1, Buffer.from('a'))), /window of 2147483648 bytes/],
    ['a dictionary id', Buffer.concat([magic, Buffer.from([0x01, 0x50, 7]), block(true, 0, 1, Buffer.from('a'))]), /dictionary 7/],
    ['the reserved header bit', Buffer.concat([magic, Buffer.from([0x08, 0x50]), block(true, 0, 1, Buffer.from('a'))]), /reserved bit/],
    ['the reserved block type', streamed(10, block(true, 3, 1, Buffer.from('a'))), /reserved block type/],
    ['a block over 128 KiB', streamed(13, block(true, 1, zstdBlockBytes + 1, Buffer.from('a'))), /exceeds the 131072-byte maximum/],
    ['a block over the window', streamed(0, block(true, 1, 2000, Buffer.from('a'))), /exceeds the 1024-byte maximum/],
    ['truncation', streamed(10, block(true, 0, 10, Buffer.from('abc'))), /runs past the end/],
    ['no last block', streamed(10, block(false, 0, 1, Buffer.from('a'))), /truncated block header/],
    ['bad magic', Buffer.from('not zstd at all'), /bad magic/],
    ['empty input', Buffer.alloc(0), /no frame/],
    ['garbage in a compressed block', streamed(10, block(true, 2, 6, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))), /does not decompress/],
  ])('%s is a CorruptBatchError', (_name, input, message) => {
    expect(() => zstdDecompress(input, mib)).toThrow(CorruptBatchError);
    expect(() => zstdDecompress(input, mib)).toThrow(message);
    if (!/beyond/.test(_name)) expect(() => zstdDecompress(input, mib)).not.toThrow(DecompressedTooLargeError);
  });

  it('a lying content size in a window over 8 MiB (decoded in one shot) still yields no more than it declares', () => {
    // The one-shot decoder writes into a buffer of the declared size: a lie cannot inflate, only truncate or leave zeros.
    expect(zstdDecompress(sized(17, 50, block(true, 1, 10, Buffer.from('a'))), mib).length).toBe(50);
    expect(() => zstdDecompress(sized(17, 2 * mib, block(true, 1, 10, Buffer.from('a'))), mib)).toThrow(DecompressedTooLargeError);
  });

  it('a window of at most 8 MiB is streamed; a frame of exactly 8 MiB window reads', () => {
    expect(zstdStreamWindowMax).toBe(8 * mib);
    expect(zstdDecompress(streamed(13, block(true, 0, 3, Buffer.from('abc'))), mib).toString()).toBe('abc');
  });

  it('mutated frames decode within the bound or fail as CorruptBatchErrors, never anything else', () => {
    const base = [zstdCompress(text(400)), ...frames.frames.filter((f) => f.codec === 'zstd' && f.plain === 2).map((f) => Buffer.from(f.compressedBase64, 'base64'))];
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), (which, edits) => {
        const bytes = Buffer.from(base[which]!);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        try {
          expect(zstdDecompress(bytes, mib).length).toBeLessThanOrEqual(mib);
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptBatchError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
