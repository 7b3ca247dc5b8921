/**
 * What the log must look like: every append the simulation attempted, every
 * acknowledgment it got, and the checks — after each step against the index as
 * it is in DynamoDB (head and chunks, read outside any actor) and the objects
 * observed written and deleted, at the end with the real read path.
 */
import { recordsFrom, readPartition, type ReadResult } from '../../src/log/readPartition';
import { objectKey } from '../../src/log/ObjectStore';
import { partitionKey, type Topic } from '../../src/log/TopicCatalog';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeIndexEntry, placeEntries, spanOf, type PlacedEntry } from '../../src/log/indexEntry';
import { headSortKey, type IndexChunk, type PartitionHead } from '../../src/log/PartitionIndex';
import type { LogContext } from '../../src/log/LogContext';
import type { ObjectLedger } from './world';

/** One partition's part of one append request: the unit that gets one index entry and one acknowledgment. */
export interface Batch {
  id: string;
  partition: number;
  values: string[];
  keys: (string | null)[];
  idempotent: boolean;
}

export interface Ack {
  batch: Batch;
  baseOffset: number;
  lastOffset: number;
  by: string;
}

export interface ModelOptions {
  /** cleanup.policy has compact: a record may be gone when a later record has its key. */
  compacted: boolean;
  /** Two offsets may hold the very same bytes (named case: one entry committed twice). */
  sharedBytes?: boolean;
}

export class Model {
  readonly batches = new Map<string, Batch>();
  /** Value → its batch (every value is unique to one batch). */
  private readonly valueBatch = new Map<string, Batch>();
  readonly acks: Ack[] = [];
  readonly violations: string[] = [];
  /** Fetches that answered out of range: fine if the log start had passed the offset. */
  readonly outOfRange: { partition: number; offset: number; by: string }[] = [];
  /** Fetches that answered 503 (moved under the read three times): allowed, counted. */
  fetchesUnavailable = 0;
  fetchesAnswered = 0;
  private readonly lastHw: number[];
  private readonly lastLso: number[];

  constructor(
    private readonly topic: Topic,
    private readonly ledger: ObjectLedger,
    readonly options: ModelOptions,
  ) {
    this.lastHw = Array.from({ length: topic.partitionsCount }, () => 0);
    this.lastLso = Array.from({ length: topic.partitionsCount }, () => 0);
  }

  violate(message: string): void {
    this.violations.push(message);
  }

  attempt(batch: Batch): void {
    if (this.batches.has(batch.id)) return;
    this.batches.set(batch.id, batch);
    for (const v of batch.values) this.valueBatch.set(v, batch);
  }

  /** An append resolved ok with these offsets: they must be its own, and stay readable. */
  acknowledge(batch: Batch, baseOffset: number, lastOffset: number, by: string): void {
    const where = `p${batch.partition}`;
    if (lastOffset - baseOffset + 1 !== batch.values.length) {
      this.violate(`${by}: ${where} batch ${batch.id} of ${batch.values.length} records acknowledged with offsets ${baseOffset}..${lastOffset}`);
    }
    for (const other of this.acks) {
      if (other.batch.partition !== batch.partition) continue;
      const overlap = other.baseOffset <= lastOffset && baseOffset <= other.lastOffset;
      if (other.batch.id === batch.id) {
        if (other.baseOffset !== baseOffset || other.lastOffset !== lastOffset) {
          this.violate(`${by}: ${where} batch ${batch.id} acknowledged at ${baseOffset}..${lastOffset}, and before at ${other.baseOffset}..${other.lastOffset} (a retry must get the original offsets)`);
        }
      } else if (overlap && !this.options.sharedBytes) {
        this.violate(`${by}: ${where} offsets ${baseOffset}..${lastOffset} of batch ${batch.id} were already assigned to batch ${other.batch.id} (${other.baseOffset}..${other.lastOffset})`);
      }
    }
    this.acks.push({ batch, baseOffset, lastOffset, by });
  }

  private objectGone(objectId: string): string | undefined {
    const key = objectKey(this.topic.topicId, objectId);
    if (this.ledger.deleted.has(key)) return 'deleted';
    if (!this.ledger.written.has(key)) return 'never written';
    return undefined;
  }

  /**
   * The per-step invariants, on the index as it is now: the partition's head and
   * chunks in one consistent Query (the head is sk -1, before every chunk), made
   * outside every actor.
   */
  async check(ddb: DynamoDBDocumentClient, table: string): Promise<void> {
    for (let p = 0; p < this.topic.partitionsCount; p++) {
      const { head, chunks } = await readIndex(ddb, table, partitionKey(this.topic, p));
      this.checkPartition(p, head, chunks);
    }
  }

  checkPartition(p: number, head: PartitionHead, chunks: IndexChunk[]): void {
    const where = `p${p}`;
    const { highWatermark: hw, logStartOffset: lso } = head;
    if (spanOf(head.entries) !== hw - head.base) {
      this.violate(`${where}: dense head: entries span ${spanOf(head.entries)} but hw - base = ${hw} - ${head.base}`);
    }
    if (hw < this.lastHw[p]!) this.violate(`${where}: the high watermark moved down from ${this.lastHw[p]} to ${hw}`);
    if (lso < this.lastLso[p]!) this.violate(`${where}: the log start offset moved down from ${this.lastLso[p]} to ${lso}`);
    if (lso > hw) this.violate(`${where}: the log start offset ${lso} is past the high watermark ${hw}`);
    this.lastHw[p] = Math.max(this.lastHw[p]!, hw);
    this.lastLso[p] = Math.max(this.lastLso[p]!, lso);
    if (lso >= hw) return;

    // The walk a reader takes from the log start: gap-free up to hw, every object there.
    const fromStart = this.walkChecked(where, head, chunks, lso);
    if (!fromStart) return;
    // From each acknowledged append still above the log start (a reader starting
    // there may take another chain of chunks): the entry is there, whole, readable.
    const walks = new Map<number, PlacedEntry[] | undefined>();
    for (const ack of this.acks) {
      if (ack.batch.partition !== p || ack.lastOffset < lso) continue;
      const from = Math.max(ack.baseOffset, lso);
      if (!walks.has(from)) walks.set(from, this.walkChecked(where, head, chunks, from));
      const walk = walks.get(from);
      if (!walk) return;
      const entry = walk.find((e) => e.baseOffset === ack.baseOffset);
      const span = ack.lastOffset - ack.baseOffset + 1;
      if (!entry) {
        const at = walk.find((e) => e.baseOffset <= ack.baseOffset && ack.baseOffset < e.baseOffset + e.span);
        this.violate(
          `${where}: acknowledged ${ack.baseOffset}..${ack.lastOffset} (${ack.batch.id}) is not an entry of the index: ` +
            (at ? `offset ${ack.baseOffset} is inside the entry at ${at.baseOffset} spanning ${at.span}` : `no entry holds it`),
        );
        return;
      }
      if (entry.span !== span) {
        this.violate(`${where}: acknowledged ${ack.baseOffset}..${ack.lastOffset} (${ack.batch.id}) is an entry spanning ${entry.span}`);
        return;
      }
    }
  }

  /** A reader's walk from `from`, checked: no gap, starts at `from`, reaches hw, every object still there. */
  private walkChecked(where: string, head: PartitionHead, chunks: IndexChunk[], from: number): PlacedEntry[] | undefined {
    let walk: PlacedEntry[];
    try {
      walk = readerWalk(head, chunks, from);
    } catch (err) {
      this.violate(`${where}: the index walk from ${from} fails: ${(err as Error).message}`);
      return undefined;
    }
    if (walk.length === 0 || walk[0]!.baseOffset > from) {
      this.violate(`${where}: no index entry holds offset ${from} (lso ${head.logStartOffset}, hw ${head.highWatermark}, head base ${head.base}, chunks ${describeChunks(chunks)})`);
      return undefined;
    }
    const last = walk[walk.length - 1]!;
    if (last.baseOffset + last.span !== head.highWatermark) {
      this.violate(`${where}: the index walk from ${from} ends at ${last.baseOffset + last.span}, not at hw ${head.highWatermark} (chunks ${describeChunks(chunks)})`);
      return undefined;
    }
    const places = new Map<string, number>();
    for (const e of walk) {
      // Rewrites give every entry a place of its own, so two offsets at the same bytes
      // mean one append was committed twice (unless a scripted case made it so).
      const place = `${e.objectId}:${e.position}:${e.size}`;
      const twin = places.get(place);
      if (twin !== undefined && !this.options.sharedBytes) {
        this.violate(`${where}: offsets ${twin} and ${e.baseOffset} are the same bytes (object …${e.objectId.slice(-6)} at ${e.position}): one append committed twice`);
        return undefined;
      }
      places.set(place, e.baseOffset);
      const gone = this.objectGone(e.objectId);
      if (gone) {
        this.violate(`${where}: offset ${e.baseOffset} (walk from ${from}) points at object …${e.objectId.slice(-6)}, which was ${gone} (chunks ${describeChunks(chunks)})`);
        return undefined;
      }
    }
    return walk;
  }

  /** A fetch's answer, checked against what was acknowledged. */
  checkFetch(p: number, offset: number, result: ReadResult, by: string): void {
    this.fetchesAnswered++;
    const where = `${by}: fetch p${p}@${offset}`;
    let records;
    try {
      records = recordsFrom(result.batches, offset);
    } catch (err) {
      this.violate(`${where}: the answer does not decode: ${(err as Error).message}`);
      return;
    }
    if (result.batches.length > 0 && result.nextOffset <= offset) this.violate(`${where}: answered data but next offset ${result.nextOffset}`);
    const seen = new Map<number, string>();
    let previous = -1;
    for (const r of records) {
      const value = r.value?.toString() ?? '';
      if (r.offset <= previous) this.violate(`${where}: offsets out of order (${r.offset} after ${previous})`);
      previous = r.offset;
      if (r.offset >= result.nextOffset) this.violate(`${where}: record at ${r.offset} past next offset ${result.nextOffset}`);
      if (!this.valueBatch.has(value)) this.violate(`${where}: record '${value}' at ${r.offset} was never produced`);
      seen.set(r.offset, value);
    }
    for (const ack of this.acks) {
      if (ack.batch.partition !== p) continue;
      ack.batch.values.forEach((v, i) => {
        const o = ack.baseOffset + i;
        if (o < offset || o >= result.nextOffset) return;
        const got = seen.get(o);
        if (got !== undefined && got !== v) this.violate(`${where}: offset ${o} reads '${got}', acknowledged as '${v}'`);
        if (got === undefined && !this.options.compacted && o >= result.logStartOffset) this.violate(`${where}: acknowledged offset ${o} ('${v}') is missing from the answer`);
      });
    }
  }

  /**
   * The end of a seed: every partition read with the real read path from its log
   * start to its high watermark. Every acknowledged record above the log start is
   * there once, at its offset (or compacted away by a later record of its key);
   * nothing appears twice; nothing appears that was never produced.
   */
  async finalRead(ctx: LogContext, label: string): Promise<void> {
    for (let p = 0; p < this.topic.partitionsCount; p++) {
      const where = `${label} p${p}`;
      const head = await ctx.index.readHead(partitionKey(this.topic, p));
      const records: { offset: number; value: string; key: string | null }[] = [];
      let offset = head.logStartOffset;
      try {
        for (let rounds = 0; offset < head.highWatermark; rounds++) {
          if (rounds > 10_000) throw new Error('no end');
          const result = await readPartition(ctx, this.topic, p, offset, 1 << 20);
          if (result.nextOffset <= offset) throw new Error(`the read at ${offset} made no progress (next offset ${result.nextOffset})`);
          for (const r of recordsFrom(result.batches, offset)) records.push({ offset: r.offset, value: r.value?.toString() ?? '', key: r.key?.toString() ?? null });
          offset = result.nextOffset;
        }
      } catch (err) {
        this.violate(`${where}: reading from the log start ${head.logStartOffset} to hw ${head.highWatermark} failed at offset ${offset}: ${(err as Error).name}: ${(err as Error).message}`);
        continue;
      }
      const byOffset = new Map<number, { value: string; key: string | null }>();
      const counts = new Map<string, number[]>();
      const latestOfKey = new Map<string, number>();
      let previous = -1;
      for (const r of records) {
        if (r.offset <= previous) this.violate(`${where}: offset ${r.offset} read after ${previous}`);
        previous = r.offset;
        byOffset.set(r.offset, r);
        counts.set(r.value, [...(counts.get(r.value) ?? []), r.offset]);
        if (r.key !== null) latestOfKey.set(r.key, Math.max(latestOfKey.get(r.key) ?? -1, r.offset));
        if (!this.valueBatch.has(r.value)) this.violate(`${where}: record '${r.value}' at ${r.offset} was never produced`);
      }
      if (!this.options.sharedBytes) {
        for (const [value, offsets] of counts) {
          if (offsets.length > 1) {
            const acked = this.acks.some((a) => a.batch.values.includes(value));
            this.violate(`${where}: ${acked ? 'acknowledged' : 'unacknowledged'} record '${value}' appears ${offsets.length} times, at offsets ${offsets.join(', ')}`);
          }
        }
      }
      for (const ack of this.acks) {
        if (ack.batch.partition !== p) continue;
        ack.batch.values.forEach((v, i) => {
          const o = ack.baseOffset + i;
          if (o < head.logStartOffset) return;
          const got = byOffset.get(o);
          if (got === undefined) {
            const key = ack.batch.keys[i] ?? null;
            if (this.options.compacted && key !== null && (latestOfKey.get(key) ?? -1) > o) return;
            this.violate(`${where}: acknowledged record '${v}' at offset ${o} is missing`);
          } else if (got.value !== v) {
            this.violate(`${where}: offset ${o} reads '${got.value}', acknowledged as '${v}'`);
          }
        });
      }
      for (const oor of this.outOfRange) {
        if (oor.partition === p && oor.offset >= head.logStartOffset && oor.offset <= head.highWatermark) {
          this.violate(`${oor.by}: a fetch at ${oor.offset} answered out of range, but the log start is still ${head.logStartOffset} (hw ${head.highWatermark})`);
        }
      }
    }
  }
}

/** Head and chunks of a partition as stored (layout in src/log/PartitionIndex.ts), in one paged Query. */
export async function readIndex(ddb: DynamoDBDocumentClient, table: string, pk: string): Promise<{ head: PartitionHead; chunks: IndexChunk[] }> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  const headItem = items.find((i) => Number(i.sk) === headSortKey);
  const head: PartitionHead = {
    highWatermark: Number(headItem?.hw ?? 0),
    logStartOffset: Number(headItem?.lso ?? 0),
    base: Number(headItem?.base ?? 0),
    entries: ((headItem?.e as string[] | undefined) ?? []).map(decodeIndexEntry),
    leaderEpoch: Number(headItem?.le ?? 0),
  } as PartitionHead;
  const chunks = items
    .filter((i) => Number(i.sk) !== headSortKey)
    .map((i) => ({ base: Number(i.sk), end: Number(i.end), maxTimestamp: Number(i.maxTs), entries: (i.e as string[]).map(decodeIndexEntry) }))
    .sort((a, b) => a.base - b.base);
  return { head, chunks };
}

function describeChunks(chunks: IndexChunk[]): string {
  return chunks.length === 0 ? 'none' : chunks.map((c) => `[${c.base},${c.end})`).join('');
}

/**
 * PartitionIndex.locate's walk, in memory (no byte or chunk bound): the chunk
 * holding `from` (the one with the largest base at or below it), the chunks
 * after it until the head's base, then the head; entries that start below the
 * run's end are skipped (overlap), an entry past it is a gap (throws).
 */
export function readerWalk(head: PartitionHead, chunks: IndexChunk[], from: number): PlacedEntry[] {
  const run: PlacedEntry[] = [];
  let cursor: number | undefined;
  const add = (entries: PlacedEntry[]) => {
    for (const e of entries) {
      const end = e.baseOffset + e.span;
      if (cursor === undefined) {
        if (end <= from) continue;
      } else if (e.baseOffset < cursor) {
        continue;
      } else if (e.baseOffset > cursor) {
        throw new Error(`gap: expected an entry at offset ${cursor}, found ${e.baseOffset}`);
      }
      run.push(e);
      cursor = end;
    }
  };
  if (from < head.base) {
    let i = -1;
    chunks.forEach((c, j) => {
      if (c.base >= 0 && c.base <= from) i = j;
    });
    if (i >= 0) {
      for (let j = i; j < chunks.length; j++) {
        const c = chunks[j]!;
        if (c.base >= head.base) break;
        add(placeEntries(c.base, c.entries));
        if (c.end >= head.base) break;
      }
    }
  }
  add(placeEntries(head.base, head.entries));
  return run;
}
