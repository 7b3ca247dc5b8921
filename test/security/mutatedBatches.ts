/**
 * Hostile RecordBatch bytes (issue 6, item 3): ≥ 10,000 mutated (four shards) RecordBatch v2
 * byte strings posted to the binary produce endpoint.
 * How: fast-check builds valid batches (random records, headers, gzip,
 * idempotent fields) and mutates them — flipped bytes, header fields overwritten
 * with extreme values, truncation, trailing garbage, concatenation — half the
 * time recomputing the CRC-32C so the mutation reaches the deeper decoders.
 * Issue 14 adds headers that lie about their records (lastOffsetDelta,
 * recordCount, maxTimestamp, baseOffset, producer fields, CRC recomputed so the
 * lie is the only fault) and compression bombs (small gzip and snappy batches
 * that together inflate past the request's budget).
 * The Lambda handler runs in-process (./inProcess.ts) against the embedded
 * emulators. Rules shown: never a 5xx and never a throw; a rejection never
 * moves the high watermark (invariant 3); a header claiming more or fewer
 * offsets than records is 42201 and a bomb 41301; whatever was accepted is read
 * back whole by a Kafka RecordBatch decoder, with one offset per record and the
 * records' own maxTimestamp, and the log holds exactly the accepted records
 * (invariants 1, 2).
 */
import fc from 'fast-check';
import { Logger } from '@aws-lambda-powertools/logger';
import { TimestampType, batchFieldOffsets, decodeRecordBatch, encodeRecordBatch, splitBatches, type CompressionCodec } from '../../src/codec/recordBatch';
import { crc32c } from '../../src/codec/crc32c';
import { createTopic, startTestStrand, type TestStrand } from '../support/localStrand';
import { mapBounded } from '../../src/mapBounded';
import { inProcessApi, type InProcessRequest, type InProcessResponse } from './inProcess';



const recordArb = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 6 }), value: fc.option(fc.uint8Array({ maxLength: 6 }), { nil: null }) }), { maxLength: 2 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
});

const batchArb = fc.record({
  records: fc.array(recordArb, { minLength: 1, maxLength: 4 }),
  compression: fc.constantFrom<CompressionCodec>('none', 'none', 'gzip'),
  producer: fc.option(fc.record({ id: fc.integer({ min: 0, max: 5 }), epoch: fc.integer({ min: 0, max: 2 }), seq: fc.integer({ min: 0, max: 3 }) }), { nil: undefined }),
});

const fields = Object.entries(batchFieldOffsets).filter(([name]) => name !== 'crc');
const extremes = fc.constantFrom(0, 1, -1, 2, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, -0x80000000, 61, 49, 12, 1 << 20);

/** Header fields a lie rewrites, with their widths. */
const lieFields = {
  lastOffsetDelta: 4,
  recordCount: 4,
  maxTimestamp: 8,
  baseOffset: 8,
  producerId: 8,
  producerEpoch: 2,
  baseSequence: 4,
} as const;
type LieField = keyof typeof lieFields;

/** How a lie departs from the true value: near it (off by a few), or far (the extremes an attacker picks). */
const lieArb = fc.record({
  kind: fc.constant('lie' as const),
  field: fc.constantFrom(...(Object.keys(lieFields) as LieField[])),
  change: fc.oneof(
    fc.record({ by: fc.integer({ min: -3, max: 3 }) }),
    fc.record({ to: fc.constantFrom(0, -1, 1, 0x7fffffff, -0x80000000, 0x7fff, 2 ** 31, 2 ** 53 - 1, 2 ** 40) }),
  ),
});

/**
 * Bombs: small batches that inflate far, within the fuzz topic's 4096-byte
 * max.message.bytes. A gzip batch of 3 MiB of zeros is ~3 KB, twelve of them
 * inflate 36 MiB; snappy reaches only ~21:1, so its bomb is 450 batches
 * (1.7 MiB, 35 MiB inflated). Both pass the 32 MiB a request that size may
 * inflate to, and are refused with 41301. Built once, then reused.
 */
const bombArb = fc.record({ kind: fc.constant('bomb' as const), codec: fc.constantFrom<CompressionCodec>('gzip', 'snappy') });
const bombs = new Map<CompressionCodec, Buffer>();
function bomb(codec: CompressionCodec): Buffer {
  let body = bombs.get(codec);
  if (!body) {
    const [valueBytes, copies] = codec === 'gzip' ? [3 * 1024 * 1024, 12] : [76 * 1024, 450];
    const one = encodeRecordBatch([{ key: null, value: Buffer.alloc(valueBytes), headers: [], timestamp: 1_700_000_000_000 }], { compression: codec });
    if (one.length > 4096) throw new Error(`the ${codec} bomb batch is ${one.length} bytes, over the fuzz topic's max.message.bytes`);
    body = Buffer.concat(Array.from({ length: copies }, () => one));
    bombs.set(codec, body);
  }
  return body;
}

// Weights: bombs cost ~0.1 s of inflation each, so about one input in a hundred carries one.
const mutationArb = fc.oneof(
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), xor: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('field' as const), field: fc.integer({ min: 0, max: fields.length - 1 }), value: fc.oneof(extremes, fc.integer()) }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 70 }) }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('twice' as const) }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('varint' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.integer({ min: 1, max: 11 }) }) },
  { weight: 40, arbitrary: lieArb },
  { weight: 1, arbitrary: bombArb },
);

type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

function mutate(input: Buffer, m: Mutation): Buffer {
  const buf = Buffer.from(input);
  const pos = (at: number) => Math.min(buf.length - 1, Math.floor(at * buf.length));
  switch (m.kind) {
    case 'flip':
      if (buf.length > 0) buf[pos(m.at)]! ^= m.xor;
      return buf;
    case 'field': {
      const [name, offset] = fields[m.field]!;
      const width = name === 'magic' ? 1 : ['attributes', 'producerEpoch'].includes(name) ? 2 : ['baseOffset', 'baseTimestamp', 'maxTimestamp', 'producerId'].includes(name) ? 8 : 4;
      if (buf.length < offset + width) return buf;
      if (width === 1) buf.writeInt8(((m.value % 128) + 128) % 256 - 128, offset);
      else if (width === 2) buf.writeInt16BE((((m.value % 32768) + 65536) % 65536) - 32768, offset);
      else if (width === 4) buf.writeInt32BE(m.value | 0, offset);
      else buf.writeBigInt64BE(BigInt(m.value), offset);
      return buf;
    }
    case 'truncate':
      return buf.subarray(0, pos(m.at));
    case 'append':
      return Buffer.concat([buf, Buffer.from(m.bytes)]);
    case 'twice':
      return Buffer.concat([buf, buf]);
    case 'varint': {
      // A run of continuation bytes: the varint decoder must stop at its bound.
      const p = Math.max(61, pos(m.at));
      for (let i = p; i < Math.min(buf.length, p + m.len); i++) buf[i] = 0xff;
      return buf;
    }
    case 'lie': {
      // The lie is the only fault: the CRC is recomputed over it.
      const offset = batchFieldOffsets[m.field];
      const width = lieFields[m.field];
      if (buf.length < offset + width) return buf;
      const truth = width === 8 ? Number(buf.readBigInt64BE(offset)) : width === 4 ? buf.readInt32BE(offset) : buf.readInt16BE(offset);
      const value = 'to' in m.change ? m.change.to : truth + m.change.by;
      if (width === 8) buf.writeBigInt64BE(BigInt(value), offset);
      else if (width === 4) buf.writeInt32BE(value | 0, offset);
      else buf.writeInt16BE((((value % 65536) + 98304) % 65536) - 32768, offset);
      return fixCrc(buf);
    }
    case 'bomb':
      return Buffer.from(bomb(m.codec));
  }
}

/** What the request must be answered with when it is known from the mutations alone. */
function expectedErrorCode(original: Buffer, mutations: Mutation[]): number | undefined {
  const last = mutations[mutations.length - 1]!;
  if (last.kind === 'bomb') return 41301;
  if (mutations.length !== 1 || last.kind !== 'lie' || (last.field !== 'lastOffsetDelta' && last.field !== 'recordCount')) return undefined;
  // A single lie about the offsets or the count of an otherwise valid batch.
  const lied = mutate(original, last);
  const f = batchFieldOffsets;
  return lied.readInt32BE(f.lastOffsetDelta) + 1 === lied.readInt32BE(f.recordCount) ? undefined : 42201;
}

/** Recomputes the CRC-32C of the batch at 0 (and of a second one right after, when its length allows). */
function fixCrc(buf: Buffer): Buffer {
  let start = 0;
  for (let i = 0; i < 2 && start + 61 <= buf.length; i++) {
    const end = start + 12 + buf.readInt32BE(start + batchFieldOffsets.batchLength);
    if (end > buf.length || end < start + 61) break;
    buf.writeUInt32BE(crc32c(buf, start + batchFieldOffsets.attributes, end), start + batchFieldOffsets.crc);
    start = end;
  }
  return buf;
}

const batchType = 'application/vnd.kafka.record-batch.v2';

/**
 * One shard of the run (the suite runs four shards of 2,500 with different seeds,
 * one per test file, so each file stays well under a minute on a loaded machine).
 */
export function mutatedBatchesShard(seed: number, mutatedBatchesRuns: number): void {
  let strand: TestStrand;
  let api: (req: InProcessRequest) => Promise<InProcessResponse>;
  beforeAll(async () => {
    strand = await startTestStrand({ logger: new Logger({ serviceName: 'strand', logLevel: 'ERROR' }) });
    api = inProcessApi(strand.runtime);
  });
  afterAll(() => strand.dispose());

  test(`${mutatedBatchesRuns} mutated batches (seed ${seed}): never a 5xx, a rejection changes nothing, what is accepted reads back`, async () => {
    await createTopic(strand.http, 'fuzz-batches', 1, { 'max.message.bytes': '4096' });
    const topic = await strand.runtime.engine.topics.get('fuzz-batches');
    const ranges: [number, number][] = [];
    let accepted = 0;
    const statuses = new Map<number, number>();
    const expectedRefusals = new Map<number, number>();
    // Inputs are drawn up front (seeded) and sent 8 at a time: the emulators run in
    // this process, and overlapping their I/O keeps 10,000 requests within budget.
    const inputs = fc.sample(fc.tuple(batchArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.boolean()), { numRuns: mutatedBatchesRuns, seed });
    await mapBounded(inputs, 8, async ([b, mutations, crcFixed]) => {
      const original = encodeRecordBatch(
        b.records.map((r) => ({ key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value), headers: r.headers.map((h) => ({ key: h.key, value: h.value && Buffer.from(h.value) })), timestamp: r.timestamp })),
        { compression: b.compression, ...(b.producer ? { producerId: b.producer.id, producerEpoch: b.producer.epoch, baseSequence: b.producer.seq } : {}) },
      );
      let body = original;
      for (const m of mutations) body = mutate(body, m);
      if (crcFixed) body = fixCrc(body);
      let res: InProcessResponse;
      try {
        res = await api({ method: 'POST', path: '/v3/clusters/local/topics/fuzz-batches/partitions/0/batches', headers: { 'content-type': batchType }, body });
      } catch (err) {
        throw new Error(`the handler threw for ${body.toString('hex').slice(0, 200)}: ${String(err)}`);
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) throw new Error(`5xx for mutated batch ${body.toString('hex').slice(0, 200)}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
      const expected = expectedErrorCode(original, mutations);
      if (expected !== undefined) {
        if (res.json?.error_code !== expected) throw new Error(`expected ${expected} for ${JSON.stringify(mutations)}, got ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
        expectedRefusals.set(expected, (expectedRefusals.get(expected) ?? 0) + 1);
      }
      if (res.status === 200) {
        if (res.json.duplicate !== true) {
          ranges.push([res.json.base_offset, res.json.last_offset + 1]);
          accepted++;
        }
      } else {
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(Math.floor(res.json.error_code / 100)).toBe(res.status);
      }
    });
    // Accepted appends tile [0, hw) exactly: dense, no overlap (invariant 1).
    ranges.sort((a, b) => a[0] - b[0]);
    let expectedHw = 0;
    for (const [from, to] of ranges) {
      expect(from).toBe(expectedHw);
      expectedHw = to;
    }
    // Rejections never moved the high watermark; every accepted batch reads back whole.
    const bounds = await strand.runtime.engine.bounds(topic, 0);
    expect(bounds.highWatermark).toBe(expectedHw);
    let offset = 0;
    let records = 0;
    while (offset < expectedHw) {
      const res = await api({ method: 'GET', path: '/v3/clusters/local/topics/fuzz-batches/partitions/0/records', query: { offset: String(offset), max_bytes: String(1 << 20) }, headers: { accept: batchType } });
      expect(res.status).toBe(200);
      for (const slice of splitBatches(res.body, { verifyCrc: true })) {
        const decoded = decodeRecordBatch(res.body, slice.start);
        records += decoded.records.length;
        offset = slice.header.baseOffset + slice.header.lastOffsetDelta + 1;
        // One offset per record, and the header's maxTimestamp is the records' (Kafka's NO_TIMESTAMP, -1, at least).
        expect(decoded.records.length).toBe(slice.header.lastOffsetDelta + 1);
        if (slice.header.timestampType === TimestampType.CreateTime) {
          expect(slice.header.maxTimestamp).toBe(Math.max(-1, ...decoded.records.map((r) => r.timestamp)));
        }
      }
    }
    expect(offset).toBe(expectedHw);
    // Every offset is a record: no header could claim offsets its records do not fill.
    expect(records).toBe(expectedHw);
    // Most inputs are refused, but the generator also reaches acceptance (and duplicates).
    expect(accepted).toBeGreaterThan(mutatedBatchesRuns / 250);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    // The generator reaches the lies and the bombs it was written for.
    expect(expectedRefusals.get(42201) ?? 0).toBeGreaterThan(mutatedBatchesRuns / 500);
    expect(expectedRefusals.get(41301) ?? 0).toBeGreaterThan(0);
  });
}
