/**
 * One fetch loop for all of a consumer's partitions (`multiPartitionFetch`):
 * the partitions' workers ask for their next records here, and the session
 * sends them together as one multi-partition fetch (POST …/records:fetch), so
 * a consumer of N partitions makes one request, and at the end of the log
 * holds one long poll, instead of N.
 *
 * At most one request is in flight. Asks that arrive while it is out wait for
 * the next round, except that a partition the request does not name (one just
 * assigned, or re-asked after a seek) ends a request that is long-polling:
 * it was sent with `max_wait_ms` and would keep that partition waiting for
 * nothing. Nothing is lost by ending it: a fetch moves nothing on the server.
 * An ask whose signal aborts (seek, pause, revocation) rejects at once, and
 * its part of an answer in flight is dropped.
 */
import { decodePartitionBatches, partitionBatchesMediaType } from '../src/api/partitionBatches';
import { apiErrorFrom } from './errors';
import type { StrandClient } from './StrandClient';

/** Media type of a fetch answered with presigned ranged-GET URLs (src/api/fetchForms.ts). */
const batchUrlsMediaType = 'application/vnd.strand.batch-urls+json';

/** How long a round waits for more asks before it is sent: the workers of one answer ask again within it. */
export const gatherMs = 2;
/** Partitions one request names at most (the server's partitionsPerFetchMax); more go in later rounds. */
export const partitionsPerRequestMax = 1_000;

export interface LocatedRanges {
  high_watermark: number;
  next_offset: number;
  ranges: { url: string; range: string; size: number; base_offset: number }[];
}

/** A partition's part of an answer: its batches, or (direct) where they are in S3. */
export type PartitionAnswer =
  | { kind: 'batches'; batches: Buffer; nextOffset: number; highWatermark: number }
  | { kind: 'ranges'; located: LocatedRanges };

interface Ask {
  topic: string;
  partition: number;
  offset: number;
  maxWaitMs: number;
  signal: AbortSignal;
  resolve: (answer: PartitionAnswer) => void;
  reject: (err: unknown) => void;
  settled: boolean;
}

export interface FetchSessionOptions {
  maxBytesPerPartition: number;
  /** Ask for presigned ranges rather than bytes through the API. */
  direct: boolean;
}

export class FetchSession {
  private queue: Ask[] = [];
  private inFlight: { asks: Ask[]; abort: AbortController } | undefined;
  private looping = false;

  constructor(
    private readonly client: StrandClient,
    private readonly options: FetchSessionOptions,
  ) {}

  /** `maxWaitMs`: how long the server may hold the request for data; a round waits the least any of its asks allows. */
  fetch(topic: string, partition: number, offset: number, maxWaitMs: number, signal: AbortSignal): Promise<PartitionAnswer> {
    return new Promise<PartitionAnswer>((resolve, reject) => {
      const ask: Ask = { topic, partition, offset, maxWaitMs, signal, resolve, reject, settled: false };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', () => this.settle(ask, undefined, signal.reason), { once: true });
      this.queue.push(ask);
      const flight = this.inFlight;
      if (flight && !flight.asks.some((a) => a.topic === topic && a.partition === partition && !a.settled)) flight.abort.abort();
      void this.loop();
    });
  }

  private settle(ask: Ask, answer: PartitionAnswer | undefined, err?: unknown): void {
    if (ask.settled) return;
    ask.settled = true;
    if (answer) ask.resolve(answer);
    else ask.reject(err);
  }

  private async loop(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, gatherMs));
        this.queue = this.queue.filter((a) => !a.settled);
        if (this.queue.length === 0) return;
        // The newest ask per partition wins: an older one was left behind by its
        // worker (a fetch ahead it did not use), and a request names a partition once.
        const latest = new Map<string, Ask>();
        for (const a of this.queue) {
          const k = `${a.topic}\u0000${a.partition}`;
          const older = latest.get(k);
          if (older) this.settle(older, undefined, new Error(`A newer fetch of ${a.topic}/${a.partition} replaced this one.`));
          latest.set(k, a);
        }
        const all = [...latest.values()];
        const asks = all.slice(0, partitionsPerRequestMax);
        this.queue = all.slice(partitionsPerRequestMax);
        const abort = new AbortController();
        this.inFlight = { asks, abort };
        try {
          await this.round(asks, abort.signal);
        } catch (err) {
          if (abort.signal.aborted) {
            // Ended for a newcomer: these asks go again in the next round, with it.
            this.queue.unshift(...asks.filter((a) => !a.settled));
          } else {
            for (const a of asks) this.settle(a, undefined, err);
          }
        } finally {
          this.inFlight = undefined;
        }
      }
    } finally {
      this.looping = false;
    }
  }

  private async round(asks: Ask[], signal: AbortSignal): Promise<void> {
    const maxWaitMs = Math.min(...asks.map((a) => a.maxWaitMs));
    const res = await this.client.transport.request('POST', `${this.client.clusterPath}/records:fetch`, {
      json: {
        partitions: asks.map((a) => ({ topic_name: a.topic, partition_id: a.partition, offset: a.offset, max_bytes: this.options.maxBytesPerPartition })),
        max_wait_ms: maxWaitMs,
      },
      headers: { accept: this.options.direct ? batchUrlsMediaType : partitionBatchesMediaType },
      signal,
      timeout: maxWaitMs + 30_000,
    });
    const items: Record<string, unknown>[] = [];
    const batches: Buffer[] = [];
    if (this.options.direct) {
      items.push(...(res.json as { partitions: Record<string, unknown>[] }).partitions);
    } else {
      const framed = decodePartitionBatches(res.body);
      items.push(...framed.index.partitions);
      batches.push(...framed.batches);
    }
    asks.forEach((ask, i) => {
      const item = items[i]!;
      if (typeof item.error_code === 'number') return this.settle(ask, undefined, apiErrorFrom(Math.floor(item.error_code / 100), item));
      if (this.options.direct) return this.settle(ask, { kind: 'ranges', located: item as unknown as LocatedRanges });
      this.settle(ask, { kind: 'batches', batches: batches[i]!, nextOffset: Number(item.next_offset), highWatermark: Number(item.high_watermark) });
    });
  }
}
