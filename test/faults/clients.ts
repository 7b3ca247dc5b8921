/**
 * Clients for fault tests and the soak: an idempotent producer that retries
 * through 503s, throttling, timeouts and dropped connections with the very same
 * bytes (as a Kafka producer does), and the checks that every acknowledged record
 * is in the log exactly once, at the offset it was acknowledged with.
 */
import { encodeRecordBatch } from '../../src/codec/recordBatch';

const batchType = 'application/vnd.kafka.record-batch.v2';

export interface Attempted {
  status: number | 'network';
  body?: { error_code?: number; message?: string };
}

export interface ClientCounters {
  requests: number;
  retries: number;
  /** Replies with a 5xx other than 503 — a storage fault must never show as one. */
  unexpected: Attempted[];
  duplicatesAnswered: number;
}

export const newCounters = (): ClientCounters => ({ requests: 0, retries: 0, unexpected: [], duplicatesAnswered: 0 });

export async function request(
  url: string,
  init: { method: string; body?: Buffer | string; headers?: Record<string, string> },
  timeoutMs: number,
): Promise<{ status: number; json: any } | 'network'> { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { raw: text.slice(0, 200) };
    }
    return { status: res.status, json };
  } catch {
    return 'network';
  }
}

export interface Ack {
  partition: number;
  baseOffset: number;
  lastOffset: number;
  values: string[];
}

/** An idempotent producer for one topic: one sequence per partition, one batch in flight per partition. */
export class RetryingProducer {
  private readonly sequences = new Map<number, number>();
  readonly acks: Ack[] = [];
  /** Batches given up on after attemptsMax (their records may or may not be in the log). */
  readonly abandoned: { partition: number; values: string[] }[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly topic: string,
    readonly producerId: number,
    readonly producerEpoch: number,
    private readonly counters: ClientCounters,
    private readonly options: { timeoutMs?: number; attemptsMax?: number; backoffMs?: number } = {},
  ) {}

  static async create(baseUrl: string, topic: string, counters: ClientCounters, options: RetryingProducer['options'] = {}): Promise<RetryingProducer> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const res = await request(`${baseUrl}/v3/clusters/local/producers`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }, options.timeoutMs ?? 2000);
      if (res !== 'network' && res.status === 201) return new RetryingProducer(baseUrl, topic, res.json.producer_id, res.json.producer_epoch, counters, options);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('could not initialize a producer');
  }

  async send(partition: number, values: string[]): Promise<Ack | undefined> {
    const seq = this.sequences.get(partition) ?? 0;
    const body = encodeRecordBatch(
      values.map((v, i) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: 1_700_000_000_000 + i })),
      { producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence: seq },
    );
    const url = `${this.baseUrl}/v3/clusters/local/topics/${this.topic}/partitions/${partition}/batches`;
    const attemptsMax = this.options.attemptsMax ?? 40;
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      if (attempt > 0) {
        this.counters.retries++;
        await new Promise((r) => setTimeout(r, Math.min(500, (this.options.backoffMs ?? 20) * 2 ** Math.min(attempt, 5))));
      }
      this.counters.requests++;
      const res = await request(url, { method: 'POST', body, headers: { 'content-type': batchType } }, this.options.timeoutMs ?? 2000);
      if (res === 'network') continue;
      if (res.status === 200) {
        if (res.json.duplicate) this.counters.duplicatesAnswered++;
        this.sequences.set(partition, seq + values.length);
        const ack = { partition, baseOffset: res.json.base_offset, lastOffset: res.json.last_offset, values };
        this.acks.push(ack);
        return ack;
      }
      if (res.status === 503 || res.status === 429) continue;
      this.counters.unexpected.push({ status: res.status, body: res.json });
      // Anything else is a bug for this client (it sends only valid, in-order batches): stop this partition.
      break;
    }
    this.abandoned.push({ partition, values });
    return undefined;
  }
}

export interface FetchedRecord {
  offset: number;
  value: string;
}

/** Every record of a partition, following next_offset (retrying 503s: the reader may run while faults are on). */
export async function readPartition(baseUrl: string, topic: string, partition: number): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  let offset = 0;
  for (let round = 0; round < 10_000; round++) {
    const res = await request(`${baseUrl}/v3/clusters/local/topics/${topic}/partitions/${partition}/records?offset=${offset}&embedded_format=string`, { method: 'GET' }, 5000);
    if (res === 'network' || res.status === 503) continue;
    if (res.status !== 200) throw new Error(`fetch ${topic}/${partition}@${offset}: ${res.status} ${JSON.stringify(res.json)}`);
    for (const r of res.json.records) out.push({ offset: r.offset, value: r.value?.data });
    if (res.json.next_offset >= res.json.high_watermark) return out;
    offset = res.json.next_offset;
  }
  throw new Error('readPartition did not reach the high watermark');
}

export interface ExactlyOnceReport {
  acknowledged: number;
  checked: number;
  lost: string[];
  duplicated: string[];
  misplaced: string[];
  gaps: number;
}

/**
 * Invariant 2 and exactly-once: every acknowledged record is at its acknowledged
 * offset, appears once in its partition, and offsets are dense from 0.
 */
export function checkExactlyOnce(acks: Ack[], logs: Map<number, FetchedRecord[]>): ExactlyOnceReport {
  const report: ExactlyOnceReport = { acknowledged: 0, checked: 0, lost: [], duplicated: [], misplaced: [], gaps: 0 };
  const counts = new Map<string, number>();
  const at = new Map<string, number>();
  for (const [partition, records] of logs) {
    records.forEach((r, i) => {
      if (r.offset !== i) report.gaps++;
      counts.set(`${partition}/${r.value}`, (counts.get(`${partition}/${r.value}`) ?? 0) + 1);
      at.set(`${partition}@${r.offset}`, i);
    });
  }
  for (const ack of acks) {
    const records = logs.get(ack.partition) ?? [];
    ack.values.forEach((v, i) => {
      report.acknowledged++;
      const key = `${ack.partition}/${v}`;
      const n = counts.get(key) ?? 0;
      if (n === 0) report.lost.push(key);
      if (n > 1) report.duplicated.push(key);
      if (records[ack.baseOffset + i]?.value !== v) report.misplaced.push(`${key}@${ack.baseOffset + i}`);
      report.checked++;
    });
  }
  return report;
}

/** A record a test client sends: a value unique in its partition, optionally a key and a timestamp. */
export interface SentRecord {
  value: string;
  key?: string;
  timestamp?: number;
}

/** A request whose outcome the client does not know (503, or no reply): its records may be in the log, at most once. */
export interface Unknown {
  partition: number;
  values: string[];
  status: number | 'network';
}

/**
 * A plain (non-idempotent) producer that never retries at the HTTP level: one
 * request per send, to …/partitions/{p}/batches, each outcome recorded. A 200 is
 * an ack; a 503 or no reply is an unknown outcome; anything else is unexpected.
 */
export class PlainProducer {
  readonly acks: Ack[] = [];
  readonly unknown: Unknown[] = [];
  readonly unexpected: Attempted[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly topic: string,
    private readonly options: { timeoutMs?: number } = {},
  ) {}

  async send(partition: number, records: SentRecord[]): Promise<Ack | undefined> {
    const body = encodeRecordBatch(
      records.map((r, i) => ({ key: r.key === undefined ? null : Buffer.from(r.key), value: Buffer.from(r.value), headers: [], timestamp: r.timestamp ?? 1_700_000_000_000 + i })),
    );
    const url = `${this.baseUrl}/v3/clusters/local/topics/${this.topic}/partitions/${partition}/batches`;
    const res = await request(url, { method: 'POST', body, headers: { 'content-type': batchType } }, this.options.timeoutMs ?? 5000);
    const values = records.map((r) => r.value);
    if (res !== 'network' && res.status === 200) {
      const ack = { partition, baseOffset: res.json.base_offset, lastOffset: res.json.last_offset, values };
      this.acks.push(ack);
      return ack;
    }
    if (res === 'network' || res.status === 503) this.unknown.push({ partition, values, status: res === 'network' ? 'network' : 503 });
    else this.unexpected.push({ status: res.status, body: res.json });
    return undefined;
  }
}

/** Values of unknown-outcome requests found more than once in their partition (at most once is the rule). */
export function unknownsRepeated(unknown: Unknown[], logs: Map<number, FetchedRecord[]>): string[] {
  const out: string[] = [];
  for (const u of unknown) {
    const records = logs.get(u.partition) ?? [];
    for (const v of u.values) {
      const n = records.filter((r) => r.value === v).length;
      if (n > 1) out.push(`${u.partition}/${v} ×${n}`);
    }
  }
  return out;
}

export interface LoggedRecord {
  offset: number;
  key: string | null;
  value: string | null;
}

export interface PartitionLog {
  logStartOffset: number;
  highWatermark: number;
  records: LoggedRecord[];
}

/**
 * A partition read from its log start to its high watermark, following
 * next_offset (compaction leaves gaps). A 503 or no reply is retried a few
 * times; any other non-200 throws (a 500 inside [log start, high watermark) is a bug).
 */
export async function readFromLogStart(baseUrl: string, topic: string, partition: number): Promise<PartitionLog> {
  const path = `${baseUrl}/v3/clusters/local/topics/${topic}/partitions/${partition}`;
  let transient = 0;
  const meta = await request(path, { method: 'GET' }, 5000);
  if (meta === 'network' || meta.status !== 200) throw new Error(`partition ${topic}/${partition}: ${meta === 'network' ? 'network' : `${meta.status} ${JSON.stringify(meta.json)}`}`);
  const logStartOffset = meta.json.log_start_offset as number;
  let highWatermark = meta.json.high_watermark as number;
  const records: LoggedRecord[] = [];
  let offset = logStartOffset;
  for (let round = 0; offset < highWatermark && round < 10_000; round++) {
    const res = await request(`${path}/records?offset=${offset}&embedded_format=string`, { method: 'GET' }, 5000);
    if (res === 'network' || res.status === 503) {
      if (++transient > 20) throw new Error(`fetch ${topic}/${partition}@${offset}: still unavailable`);
      continue;
    }
    if (res.status !== 200) throw new Error(`fetch ${topic}/${partition}@${offset} (log start ${logStartOffset}, high watermark ${highWatermark}): ${res.status} ${JSON.stringify(res.json)}`);
    for (const r of res.json.records) records.push({ offset: r.offset, key: r.key?.data ?? null, value: r.value?.data ?? null });
    highWatermark = res.json.high_watermark;
    if (res.json.next_offset <= offset) throw new Error(`fetch ${topic}/${partition}@${offset}: next_offset ${res.json.next_offset} does not move on`);
    offset = res.json.next_offset;
  }
  return { logStartOffset, highWatermark, records };
}
