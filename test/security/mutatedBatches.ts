/**
 * Hostile RecordBatch bytes (issue 6, item 3): ≥ 10,000 mutated (four shards) RecordBatch v2
 * byte strings posted to the binary produce endpoint.
 * How: fast-check builds valid batches (random records, headers, gzip,
 * idempotent fields) and mutates them — flipped bytes, header fields overwritten
 * with extreme values, truncation, trailing garbage, concatenation — half the
 * time recomputing the CRC-32C so the mutation reaches the deeper decoders.
 * The Lambda handler runs in-process (./inProcess.ts) against the embedded
 * emulators. Rules shown: never a 5xx and never a throw; a rejection never
 * moves the high watermark (invariant 3); whatever was accepted is read back
 * whole by a Kafka RecordBatch decoder, and the log holds exactly the accepted
 * records (invariants 1, 2).
 */
import fc from 'fast-check';
import { Logger } from '@aws-lambda-powertools/logger';
import { batchFieldOffsets, decodeRecordBatch, encodeRecordBatch, splitBatches, type CompressionCodec } from '../../src/codec/recordBatch';
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

const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('field' as const), field: fc.integer({ min: 0, max: fields.length - 1 }), value: fc.oneof(extremes, fc.integer()) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 70 }) }),
  fc.record({ kind: fc.constant('twice' as const) }),
  fc.record({ kind: fc.constant('varint' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.integer({ min: 1, max: 11 }) }),
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
  }
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
    // Inputs are drawn up front (seeded) and sent 8 at a time: the emulators run in
    // this process, and overlapping their I/O keeps 10,000 requests within budget.
    const inputs = fc.sample(fc.tuple(batchArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.boolean()), { numRuns: mutatedBatchesRuns, seed });
    await mapBounded(inputs, 8, async ([b, mutations, crcFixed]) => {
      let body = encodeRecordBatch(
        b.records.map((r) => ({ key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value), headers: r.headers.map((h) => ({ key: h.key, value: h.value && Buffer.from(h.value) })), timestamp: r.timestamp })),
        { compression: b.compression, ...(b.producer ? { producerId: b.producer.id, producerEpoch: b.producer.epoch, baseSequence: b.producer.seq } : {}) },
      );
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
      }
    }
    expect(offset).toBe(expectedHw);
    expect(records).toBeLessThanOrEqual(expectedHw);
    // Most inputs are refused, but the generator also reaches acceptance (and duplicates).
    expect(accepted).toBeGreaterThan(mutatedBatchesRuns / 250);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
  });
}
