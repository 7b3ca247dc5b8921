/**
 * Fetch of many partitions in one request, as Kafka's Fetch: partitions of one
 * or more topics, each from its offset, answered with whatever is available.
 *
 *   POST /v3/clusters/{cluster_id}/records:fetch
 *   { "partitions": [{ "topic_name", "partition_id", "offset", "max_bytes"? }],
 *     "max_bytes"?, "min_bytes"?, "max_wait_ms"? }
 *
 * The route sits on the cluster, as a custom method (`:fetch`) in the table's
 * style (records:batch, records:delete, offsets:commit): the request names
 * its topics in the body, so no topic is in the path, and POST carries the body.
 *
 * Steps: validate; check consume on every named topic (40301 before anything
 * is read); locate each partition's entries from the index (a bounded
 * fan-out); choose what to read in request order (src/log/fetchPlan.ts,
 * KIP-74); when that is less than `min_bytes`, wait reading partition heads
 * only (src/log/waitForAnyData.ts), then locate and choose again; read the
 * chosen entries and answer in the form the Accept header asks for: JSON
 * records (default, `embedded_format` as on the single-partition fetch),
 * framed RecordBatch bytes (src/api/partitionBatches.ts), or presigned batch
 * URLs. A partition's own failure (unknown topic or partition, offset out of
 * range) is reported in its place inside the 200, as Kafka does; storage
 * failures fail the request (503, retriable).
 */
import { doorbellFor } from '../notify/doorbell';
import { z } from 'zod';
import { ErrorCode, StrandError, invalidValue } from '../errors';
import { coalesce, locateRanges, readLocated, type PartitionBounds, type ReadResult } from '../log/readPartition';
import { nextOffsetAfterPlan, planFetch, type PlannedPartition } from '../log/fetchPlan';
import type { PlacedEntry } from '../log/indexEntry';
import { newAllowance, walkRecords } from '../log/recordWalk';
import { topicNameLengthMax } from '../log/topicName';
import type { Topic } from '../log/TopicCatalog';
import { mapBounded } from '../mapBounded';
import type { Runtime } from '../runtime';
import { assertTopicsGranted } from '../auth/authorize';
import type { ApiRequest, ApiResponse } from './http';
import type { Operation } from './operations';
import { assertCluster, parseJsonBody } from './request';
import { fetchBytesDefault, fetchBytesMax, longPollMsMax } from './fetch';
import { batchUrlRangesMax, batchUrlsExpireAt, batchUrlsMediaType, embeddedFormatParam, oversizedEntry, presignedRanges, recordSizing } from './fetchForms';
import {
  binaryResponseBytesMax,
  JsonRecordsFill,
  jsonResponseBytesMax,
  lambdaResponseBytesMax,
  responseEnvelopeBytesMax,
  skippedPerResponseMax,
} from './responseBudget';
import { encodePartitionBatches, frameLengthBytes, partitionBatchesMediaType, type FramedPartition } from './partitionBatches';

/**
 * Partitions one request names at most. Each costs a head read (and, waiting,
 * one per poll interval) and up to `partitionEnvelopeBytesMax` of the answer:
 * 1,000 keep the reads under a second at 16 in flight and the envelopes under
 * 1.6 MB, leaving most of a response for records. (Kafka has no such bound;
 * its consumers fetch per broker, rarely more than a few hundred partitions.)
 */
export const partitionsPerFetchMax = 1_000;
/** Bytes of the whole fetch by default and at most: what one binary response carries, about. */
export const multiFetchBytesDefault = fetchBytesMax;
export const multiFetchBytesMax = fetchBytesMax;
/** Partitions located (head + index) at once. */
const locatesInFlightMax = 16;
/** Partitions read from S3 at once; each runs up to 8 ranged GETs (readPartition's rangeReadsInFlightMax). */
const readsInFlightMax = 4;

/**
 * Bytes one partition's answer takes at most besides its records or batches:
 * its fields, numbers at their widest, and the longest per-partition error
 * (41302, which names the topic), measured as Lambda counts a JSON body (each
 * `"` twice). Topic names are Kafka's legal characters, which JSON never
 * escapes. Pinned by the multi-fetch tests against the widest real answer.
 */
export const partitionEnvelopeBytesMax = (topicName: string): number => 1024 + 2 * topicName.length;

/** The binary index's own fields besides its partitions (cluster_id, brackets). */
const indexFieldsBytesMax = 512;

const legalTopicName = /^[a-zA-Z0-9._-]+$/;
export const multiFetchBody = z.object({
  partitions: z
    .array(
      z.object({
        topic_name: z.string().min(1).max(topicNameLengthMax).regex(legalTopicName, "must be a legal topic name (ASCII letters, digits, '.', '_', '-')"),
        partition_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
        offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
        max_bytes: z.number().int().min(1).max(fetchBytesMax).optional(),
      }),
    )
    .min(1)
    .max(partitionsPerFetchMax),
  max_bytes: z.number().int().min(1).max(multiFetchBytesMax).optional(),
  min_bytes: z.number().int().min(0).max(multiFetchBytesMax).optional(),
  max_wait_ms: z.number().int().min(0).max(longPollMsMax).optional(),
});
type MultiFetchBody = z.infer<typeof multiFetchBody>;

/** One named partition through the steps: what it asked, and what it has so far. */
interface Slot {
  topicName: string;
  partition: number;
  offset: number;
  bytesMax: number;
  /** Undefined when the topic or partition does not exist (then `error` says which). */
  topic?: Topic;
  error?: StrandError;
  bounds?: PartitionBounds;
  located: PlacedEntry[];
  plan?: PlannedPartition;
}

type Form = 'json' | 'binary' | 'urls';

function formOf(req: ApiRequest): Form {
  const accept = (req.headers.accept ?? '').toLowerCase();
  if (accept.includes(partitionBatchesMediaType)) return 'binary';
  if (accept.includes(batchUrlsMediaType)) return 'urls';
  return 'json';
}

/** A partition's own failure, reported in its place: the codes Kafka reports per partition. */
const partitionErrorCodes = new Set<number>([ErrorCode.UnknownTopic, ErrorCode.UnknownPartition, ErrorCode.OffsetOutOfRange]);
function asPartitionError(err: unknown): StrandError {
  if (err instanceof StrandError && partitionErrorCodes.has(err.code)) return err;
  throw err;
}

async function resolveSlots(runtime: Runtime, body: MultiFetchBody): Promise<Slot[]> {
  const seen = new Set<string>();
  for (const p of body.partitions) {
    const key = `${p.topic_name}\u0000${p.partition_id}`;
    if (seen.has(key)) throw invalidValue(`Partition ${p.partition_id} of '${p.topic_name}' is named twice; name each partition once.`);
    seen.add(key);
  }
  const names = [...new Set(body.partitions.map((p) => p.topic_name))];
  const topics = new Map<string, Topic | StrandError>();
  await mapBounded(names, locatesInFlightMax, async (name) => {
    try {
      topics.set(name, await runtime.engine.topics.getCached(name));
    } catch (err) {
      topics.set(name, asPartitionError(err));
    }
  });
  return body.partitions.map((p): Slot => {
    const slot: Slot = { topicName: p.topic_name, partition: p.partition_id, offset: p.offset, bytesMax: p.max_bytes ?? fetchBytesDefault, located: [] };
    const topic = topics.get(p.topic_name)!;
    if (topic instanceof StrandError) return { ...slot, error: topic };
    try {
      runtime.engine.assertPartition(topic, p.partition_id);
    } catch (err) {
      return { ...slot, error: asPartitionError(err) };
    }
    return { ...slot, topic };
  });
}

/** Locates every healthy slot's entries from its offset, then plans the read. */
async function locateAndPlan(runtime: Runtime, slots: Slot[], totalBytesMax: number, entryBytesMax: number): Promise<void> {
  const ctx = runtime.engine.context;
  await mapBounded(slots, locatesInFlightMax, async (slot) => {
    // A slot without a topic has its error for good (unknown topic or partition); any other is this pass's.
    if (slot.topic === undefined) return;
    slot.error = undefined;
    try {
      const located = await locateRanges(ctx, slot.topic, slot.partition, slot.offset, Math.min(slot.bytesMax, totalBytesMax));
      slot.bounds = { logStartOffset: located.logStartOffset, highWatermark: located.highWatermark };
      slot.located = located.runs.flatMap((run) => run.entries);
    } catch (err) {
      slot.error = asPartitionError(err);
      slot.located = [];
    }
  });
  const plans = planFetch(
    slots.map((s) => ({ entries: s.located, bytesMax: s.bytesMax })),
    { totalBytesMax, entryBytesMax },
  );
  slots.forEach((s, i) => {
    s.plan = plans[i]!;
    if (s.plan.oversized && s.topic) s.error = oversizedEntry(s.plan.oversized, s.topic, s.partition, entryBytesMax);
  });
}

const plannedBytes = (slots: Slot[]) => slots.reduce((n, s) => n + (s.plan?.take ?? []).reduce((m, e) => m + e.size, 0), 0);

/** Answer now rather than wait: min_bytes reached, an error to report, or more data than the limits let this answer hold. */
function answerNow(slots: Slot[], minBytes: number): boolean {
  if (plannedBytes(slots) >= minBytes) return true;
  return slots.some((s) => s.error !== undefined || (s.bounds !== undefined && nextOffsetAfterPlan(s.plan?.take ?? [], s.offset) < s.bounds.highWatermark));
}

function errorItem(slot: Slot): Record<string, unknown> {
  return { topic_name: slot.topicName, partition_id: slot.partition, ...slot.error!.toBody() };
}

function boundsItem(slot: Slot, nextOffset: number): Record<string, unknown> {
  return {
    topic_name: slot.topicName,
    partition_id: slot.partition,
    high_watermark: slot.bounds!.highWatermark,
    log_start_offset: slot.bounds!.logStartOffset,
    next_offset: nextOffset,
  };
}

export const multiFetchOperations: Record<string, Operation> = {
  'POST /v3/clusters/{cluster_id}/records:fetch': async (req, runtime): Promise<ApiResponse> => {
    assertCluster(req, runtime);
    const body = parseJsonBody(req, multiFetchBody);
    const form = formOf(req);
    const format = embeddedFormatParam(req);
    // Before any read, the catalog's included: a key without consume on one named topic learns nothing.
    assertTopicsGranted(req, runtime, [...new Set(body.partitions.map((p) => p.topic_name))], 'consume');

    const slots = await resolveSlots(runtime, body);
    const envelopes = slots.reduce((n, s) => n + partitionEnvelopeBytesMax(s.topicName), 0);
    // What one response can carry of entries: the binary frame's index and the
    // JSON envelopes come out of Lambda's 6 MB first. The direct form carries no bytes.
    const binaryRoom = Math.min(binaryResponseBytesMax, 3 * Math.floor((lambdaResponseBytesMax - responseEnvelopeBytesMax) / 4) - frameLengthBytes - indexFieldsBytesMax - envelopes);
    const entryBytesMax = form === 'urls' ? Infinity : binaryRoom;
    const totalBytesMax = Math.min(body.max_bytes ?? multiFetchBytesDefault, entryBytesMax);
    const minBytes = Math.min(body.min_bytes ?? 1, totalBytesMax);
    const maxWaitMs = body.max_wait_ms ?? 0;

    await locateAndPlan(runtime, slots, totalBytesMax, entryBytesMax);
    if (maxWaitMs > 0 && !answerNow(slots, minBytes)) {
      const watched = slots
        .filter((s) => s.topic !== undefined && s.error === undefined)
        .map((s) => ({ topic: s.topic!, partition: s.partition, offset: nextOffsetAfterPlan(s.plan!.take, s.offset) }));
      await runtime.engine.waitForAnyData(watched, minBytes - plannedBytes(slots), maxWaitMs, doorbellFor(runtime, req));
      await locateAndPlan(runtime, slots, totalBytesMax, entryBytesMax);
    }

    if (form === 'urls') return urlsAnswer(runtime, slots);
    const reads = await readPlanned(runtime, slots, form === 'json');
    return form === 'binary' ? binaryAnswer(runtime, slots, reads) : jsonAnswer(runtime, slots, reads, format, envelopes);
  },
};

/** Reads each slot's planned entries; a slot whose read failed on its own (out of range after a move) gets its error. */
async function readPlanned(runtime: Runtime, slots: Slot[], verifyCrc: boolean): Promise<(ReadResult | undefined)[]> {
  const ctx = runtime.engine.context;
  return mapBounded(slots, readsInFlightMax, async (slot) => {
    if (slot.error !== undefined || slot.topic === undefined) return undefined;
    try {
      return await readLocated(ctx, slot.topic, slot.partition, slot.offset, slot.bounds!, slot.plan!.take, { verifyCrc });
    } catch (err) {
      slot.error = asPartitionError(err);
      return undefined;
    }
  });
}

function binaryAnswer(runtime: Runtime, slots: Slot[], reads: (ReadResult | undefined)[]): ApiResponse {
  const batches: Buffer[] = [];
  const partitions = slots.map((slot, i): FramedPartition => {
    const read = reads[i];
    if (read === undefined) return { ...errorItem(slot), size: 0 } as FramedPartition;
    batches.push(read.batches);
    return { ...boundsItem({ ...slot, bounds: read }, read.nextOffset), size: read.batches.length } as FramedPartition;
  });
  return {
    status: 200,
    headers: { 'content-type': partitionBatchesMediaType },
    binary: encodePartitionBatches({ cluster_id: runtime.config.clusterId, partitions }, batches),
  };
}

async function jsonAnswer(runtime: Runtime, slots: Slot[], reads: (ReadResult | undefined)[], format: ReturnType<typeof embeddedFormatParam>, envelopes: number): Promise<ApiResponse> {
  // The records' room: what Lambda's 6 MB leaves beside the envelope, every
  // partition's fields and the skipped offsets, and never more than one
  // single-partition answer's.
  let room = Math.min(jsonResponseBytesMax, lambdaResponseBytesMax - responseEnvelopeBytesMax - skippedPerResponseMax * 64 - envelopes);
  let skippedLeft = skippedPerResponseMax;
  // One decompression budget for the whole answer, as for one partition's.
  const allowance = newAllowance();
  const partitions: Record<string, unknown>[] = [];
  for (const [i, slot] of slots.entries()) {
    const read = reads[i];
    if (read === undefined) {
      partitions.push(errorItem(slot));
      continue;
    }
    const sizing = recordSizing(runtime, format);
    const fill = new JsonRecordsFill(sizing, Math.max(0, room), { skipAbove: jsonResponseBytesMax, skippedMax: skippedLeft });
    const walkStop = walkRecords(read.batches, slot.offset, allowance, fill.offer);
    await sizing.prepare(fill.candidates);
    fill.finish();
    room -= fill.bytesUsed;
    skippedLeft -= fill.skipped.length;
    partitions.push({
      ...boundsItem({ ...slot, bounds: read }, fill.resumeAt ?? walkStop ?? read.nextOffset),
      records: fill.records,
      ...(fill.skipped.length > 0 ? { skipped: fill.skipped } : {}),
    });
  }
  return { status: 200, json: { cluster_id: runtime.config.clusterId, partitions } };
}

async function urlsAnswer(runtime: Runtime, slots: Slot[]): Promise<ApiResponse> {
  // Ranges are shared across partitions in request order (the first partition with data gets up to all of them).
  let rangesLeft = batchUrlRangesMax;
  const partitions: Record<string, unknown>[] = [];
  for (const slot of slots) {
    if (slot.error !== undefined || slot.bounds === undefined) {
      partitions.push(errorItem(slot));
      continue;
    }
    const runs = coalesce(slot.plan!.take).slice(0, rangesLeft);
    rangesLeft -= runs.length;
    const next = nextOffsetAfterPlan(runs.flatMap((r) => r.entries), slot.offset);
    partitions.push({ ...boundsItem(slot, next), ranges: await presignedRanges(runtime, slot.topic!, runs) });
  }
  return {
    status: 200,
    headers: { 'content-type': batchUrlsMediaType },
    json: { cluster_id: runtime.config.clusterId, expires_at: batchUrlsExpireAt(runtime), partitions },
  };
}
