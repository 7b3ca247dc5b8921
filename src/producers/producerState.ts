/**
 * Idempotent producers (Kafka's KIP-98 idempotence, without transactions): the
 * pure part. Which batches a request carries for which producer, how producer
 * state is laid out in the partition head, how a refused commit is classified
 * (duplicate, gap, stale epoch), and what the leader trims.
 *
 * Per-producer state lives in the partition head item itself, in top-level
 * attributes, so that an idempotent append stays ONE conditional UpdateItem with
 * no read before it (design.md; ProducerSequences.commit):
 *
 *   "p.<pid>"                          {e: epoch, n: next expected sequence, t: last append ms}
 *   "q.<pid>.<epoch>.<baseSeq>.<count>" base offset of that append   (the dedup window)
 *
 * (numbers in names are base 36). The window slot's value is written from the
 * head's own `hw` as it was before the append, inside the same update, so the
 * recorded offsets are exact and no second write is needed. Slot names never
 * repeat (epoch and sequence are in them), which is what lets the leader trim
 * old slots without a condition on them.
 */
import { objectTime } from '../log/objectId';
import { ErrorCode, StrandError, invalidValue } from '../errors';
import type { RecordBatchHeader } from '../codec/recordBatch';

/** Kafka keeps the last 5 batches per producer and partition (ProducerStateEntry.NUM_BATCHES_TO_RETAIN). */
export const dedupWindowBatches = 5;
/** Producer state idle this long is dropped by the leader (Kafka's producer.id.expiration.ms default, 1 day). */
export const producerStateTtlMs = 24 * 60 * 60 * 1000;
/**
 * Producers one partition head keeps state for; the least recently active beyond
 * this are dropped. Each costs ~100 bytes of head (≈ 0.1 write unit per append).
 */
export const producersPerPartitionMax = 32;
/** Attribute removals one trim write carries (the rest wait for the next trim). */
export const trimRemovalsMax = 200;
/** Producers one trim write drops (each adds a condition to the write). */
const producersDroppedPerTrimMax = 50;
/** Kafka's producer epoch is an INT16. */
export const producerEpochMax = 0x7fff;
const int32Max = 0x7fffffff;

/** The idempotent part of one append: a request's batches for one partition. */
export interface ProducerAppend {
  producerId: number;
  producerEpoch: number;
  /** Sequence of the first record. */
  baseSequence: number;
  /** Records (= sequences = offsets) the append covers. */
  count: number;
}

export interface ProducerState {
  producerId: number;
  epoch: number;
  nextSequence: number;
  lastAppendMs: number;
}

export interface WindowSlot {
  attribute: string;
  producerId: number;
  epoch: number;
  baseSequence: number;
  count: number;
  baseOffset: number;
}

const b36 = (n: number) => n.toString(36);

/**
 * "u.<uploadId>": the base offset a direct upload was committed at. Its presence
 * refuses a second commit of the same upload (PartitionIndex.commit's onceSlot),
 * and a retried commit answers with it. Kept until the upload can no longer be
 * committed (uploadCommitWindowMs, plus the clock skew a commit tolerates).
 */
export function uploadSlotAttribute(uploadId: string): string {
  return `u.${uploadId}`;
}
export const isUploadSlotAttribute = (name: string): boolean => name.startsWith('u.');
export const uploadSlotKeepMs = 15 * 60_000;

export function stateAttribute(producerId: number): string {
  return `p.${b36(producerId)}`;
}

export function slotAttribute(p: ProducerAppend): string {
  return `q.${b36(p.producerId)}.${b36(p.producerEpoch)}.${b36(p.baseSequence)}.${b36(p.count)}`;
}

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from INT32 max to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > int32Max - increment) return increment - (int32Max - sequence) - 1;
  return sequence + increment;
}

/**
 * The producer of a request's batches, or undefined when they carry none
 * (producerId -1). Every batch must carry the same producer id and epoch and
 * continue the previous batch's sequences; the request is then one unit of
 * deduplication. Anything else is 40002.
 */
export function producerOfBatches(headers: RecordBatchHeader[]): ProducerAppend | undefined {
  if (headers.length === 0) return undefined;
  const first = headers[0]!;
  if (headers.every((h) => h.producerId === -1)) return undefined;
  const where = (i: number) => `Batch ${i} of the request`;
  let expected = first.baseSequence;
  let count = 0;
  headers.forEach((h, i) => {
    if (h.producerId < 0 || !Number.isSafeInteger(h.producerId)) {
      throw invalidValue(`${where(i)} has producerId ${h.producerId}; idempotent batches carry an id from POST /producers, and a request may not mix them with batches without one.`);
    }
    if (h.producerId !== first.producerId || h.producerEpoch !== first.producerEpoch) {
      throw invalidValue(`${where(i)} has producer ${h.producerId} epoch ${h.producerEpoch}; every batch of a request must have producer ${first.producerId} epoch ${first.producerEpoch}.`);
    }
    if (h.producerEpoch < 0 || h.producerEpoch > producerEpochMax) {
      throw invalidValue(`${where(i)} has producerEpoch ${h.producerEpoch}; an idempotent batch needs 0 to ${producerEpochMax}.`);
    }
    if (h.baseSequence < 0) throw invalidValue(`${where(i)} has baseSequence ${h.baseSequence}; an idempotent batch needs a sequence ≥ 0.`);
    if (h.recordCount !== h.lastOffsetDelta + 1) {
      throw invalidValue(`${where(i)} has ${h.recordCount} records but lastOffsetDelta ${h.lastOffsetDelta}; an idempotent batch numbers its records densely.`);
    }
    if (h.baseSequence !== expected) {
      throw invalidValue(`${where(i)} has baseSequence ${h.baseSequence}; it must continue the previous batch at ${expected}.`);
    }
    expected = incrementSequence(h.baseSequence, h.recordCount);
    count += h.recordCount;
  });
  return { producerId: first.producerId, producerEpoch: first.producerEpoch, baseSequence: first.baseSequence, count };
}

export function readProducerState(item: Record<string, unknown> | undefined, producerId: number): ProducerState | undefined {
  const raw = item?.[stateAttribute(producerId)] as { e?: unknown; n?: unknown; t?: unknown } | undefined;
  if (!raw || typeof raw !== 'object') return undefined;
  return { producerId, epoch: Number(raw.e), nextSequence: Number(raw.n), lastAppendMs: Number(raw.t ?? 0) };
}

export function producerStates(item: Record<string, unknown>): ProducerState[] {
  const out: ProducerState[] = [];
  for (const name of Object.keys(item)) {
    const m = /^p\.([0-9a-z]+)$/.exec(name);
    if (!m) continue;
    const state = readProducerState(item, parseInt(m[1]!, 36));
    if (state) out.push(state);
  }
  return out;
}

export function windowSlots(item: Record<string, unknown>): WindowSlot[] {
  const out: WindowSlot[] = [];
  for (const [name, value] of Object.entries(item)) {
    const m = /^q\.([0-9a-z]+)\.([0-9a-z]+)\.([0-9a-z]+)\.([0-9a-z]+)$/.exec(name);
    if (!m) continue;
    out.push({
      attribute: name,
      producerId: parseInt(m[1]!, 36),
      epoch: parseInt(m[2]!, 36),
      baseSequence: parseInt(m[3]!, 36),
      count: parseInt(m[4]!, 36),
      baseOffset: Number(value),
    });
  }
  return out;
}

export type RefusedCommit = { duplicate: true; baseOffset: number } | { duplicate: false; error: StrandError };

const fenced = (message: string) => new StrandError(ErrorCode.ProducerFenced, message);

/**
 * Why an idempotent commit's condition failed, from the head as it was then
 * (or later: state only moves forward, see ProducerSequences.commit).
 */
export function classifyRefusedCommit(item: Record<string, unknown> | undefined, p: ProducerAppend): RefusedCommit {
  const who = `Producer ${p.producerId} epoch ${p.producerEpoch}`;
  const state = readProducerState(item, p.producerId);
  if (!state) {
    return { duplicate: false, error: fenced(`${who}: this partition has no state for the producer, so its first batch must have sequence 0, not ${p.baseSequence} (unknown producer or state expired; initialize the producer again).`) };
  }
  if (state.epoch > p.producerEpoch) {
    return { duplicate: false, error: fenced(`${who} is fenced: the partition has seen epoch ${state.epoch}.`) };
  }
  if (state.epoch < p.producerEpoch) {
    return { duplicate: false, error: fenced(`${who}: a new epoch must start at sequence 0, not ${p.baseSequence}.`) };
  }
  const slot = item?.[slotAttribute(p)];
  if (slot !== undefined) return { duplicate: true, baseOffset: Number(slot) };
  const sameBase = windowSlots(item ?? {}).find((s) => s.producerId === p.producerId && s.epoch === p.producerEpoch && s.baseSequence === p.baseSequence);
  if (sameBase) {
    return { duplicate: false, error: fenced(`${who}: sequence ${p.baseSequence} was written with ${sameBase.count} records, not ${p.count}.`) };
  }
  if (p.baseSequence === state.nextSequence) {
    // Only possible when the state moved on and back, which it never does; be explicit anyway.
    return { duplicate: false, error: fenced(`${who}: sequence ${p.baseSequence} could not be committed; retry.`) };
  }
  return {
    duplicate: false,
    error: fenced(`${who}: out of order sequence ${p.baseSequence}; the partition expects ${state.nextSequence} (a gap, or a batch older than the last ${dedupWindowBatches}).`),
  };
}

export interface TrimPlan {
  /** Attributes to remove (bounded by trimRemovalsMax). */
  remove: string[];
  /** Producers whose whole state is dropped, with the lastAppendMs seen (the write is conditioned on it). */
  dropped: ProducerState[];
}

/**
 * What the partition leader removes from a head: producers idle past the TTL and
 * the least recently active beyond producersPerPartitionMax (whole state), slots
 * of older epochs, and slots beyond the last dedupWindowBatches per producer.
 * Slots are ordered by their base offset, which only grows.
 */
export function planTrim(item: Record<string, unknown>, now: number): TrimPlan {
  const states = producerStates(item).sort((a, b) => b.lastAppendMs - a.lastAppendMs);
  const dropped = states
    .filter((s, i) => now - s.lastAppendMs > producerStateTtlMs || i >= producersPerPartitionMax)
    .slice(0, producersDroppedPerTrimMax);
  const droppedIds = new Set(dropped.map((s) => s.producerId));
  const live = new Map(states.filter((s) => !droppedIds.has(s.producerId)).map((s) => [s.producerId, s]));
  const remove: string[] = dropped.map((s) => stateAttribute(s.producerId));
  const byProducer = new Map<number, WindowSlot[]>();
  for (const slot of windowSlots(item)) {
    const state = live.get(slot.producerId);
    if (!state || slot.epoch !== state.epoch) {
      remove.push(slot.attribute);
      continue;
    }
    const list = byProducer.get(slot.producerId) ?? [];
    list.push(slot);
    byProducer.set(slot.producerId, list);
  }
  for (const slots of byProducer.values()) {
    slots.sort((a, b) => a.baseOffset - b.baseOffset);
    remove.push(...slots.slice(0, Math.max(0, slots.length - dedupWindowBatches)).map((s) => s.attribute));
  }
  for (const name of Object.keys(item)) {
    if (isUploadSlotAttribute(name) && now - objectTime(name.slice(2)) > uploadSlotKeepMs) remove.push(name);
  }
  return { remove: remove.slice(0, trimRemovalsMax), dropped };
}
