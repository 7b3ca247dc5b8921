/**
 * The partition index in DynamoDB: for each partition, a head item and spilled
 * index chunks, all under pk = "<topicId>#<partition>".
 *
 *   head  (sk = -1): hw   next offset to assign = the high watermark
 *                    base base offset of the first entry in `e`
 *                    e    the most recent index entries, oldest first
 *                    lso  log start offset (absent = 0)
 *                    le   leader epoch of the last leader write (fence)
 *   chunk (sk = its base offset): e, end (= sk + span of e), maxTs
 *
 * Append is ONE UpdateItem on the head: `list_append` the entry and `ADD` its span
 * to hw. DynamoDB serializes updates to one item, so the entry's position in `e`
 * and the offsets it gets always agree, no offset is ever taken without its entry,
 * and there is no read before the write and nothing to retry under contention
 * (design.md measures why). The returned hw tells the appender its offsets.
 *
 * Spilling moves the oldest head entries into a chunk so the head stays under
 * 1 KB (one write unit per append). It is leader work: the chunk is written
 * first, then the head drops those entries on the condition that it still starts
 * at the same base and that no newer leader epoch has written it. Readers read
 * the head first and the chunks second, so an entry is always found in one of
 * the two (it is in both for a moment, never in neither).
 */
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { OffsetOutOfRangeError } from '../errors';
import { conditionally, isConditionalCheckFailed } from '../storage/storageErrors';
import { decodeIndexEntry, encodeIndexEntry, placeEntries, spanOf, type IndexEntry, type PlacedEntry } from './indexEntry';

export const headSortKey = -1;
/** A head with this many entries is spilled (by the append that reaches it, then every spillEveryEntries more). */
export const headEntriesSpillAt = 16;
export const spillEveryEntries = 8;
/** Entries a spill leaves in the head, so reads at the tail need only the head. */
export const headEntriesKept = 4;

/**
 * Bounds on walks over a partition's chunks. Injectable so tests can show what
 * happens past them without writing thousands of chunks.
 */
export interface IndexWalkLimits {
  /** Chunks read per Query page when walking forward. */
  chunksPerQuery: number;
  /**
   * Chunks one locate() call walks. A walk cut here returns the contiguous run it
   * has (a short read, which a fetch may always give), never a run with a gap.
   */
  chunksPerLocateMax: number;
  /**
   * Chunks chunks() lists. A partition with more is refused (thrown), never
   * listed in part: the sweep deletes what the list does not reference, so a
   * partial list would delete live objects. At about 12 entries a chunk this is
   * over a million entries, far more than maintenance should hold in memory.
   */
  chunksListedMax: number;
}

export const defaultIndexWalkLimits: Readonly<IndexWalkLimits> = {
  chunksPerQuery: 8,
  chunksPerLocateMax: 256,
  chunksListedMax: 100_000,
};

export interface PartitionHead {
  highWatermark: number;
  logStartOffset: number;
  base: number;
  entries: IndexEntry[];
  leaderEpoch: number;
}

export interface CommitResult {
  baseOffset: number;
  /** The head as this append left it (for the spill decision, no read needed). */
  head: Pick<PartitionHead, 'highWatermark' | 'base' | 'entries'>;
}

export interface IndexChunk {
  base: number;
  end: number;
  maxTimestamp: number;
  entries: IndexEntry[];
}

const emptyHead: PartitionHead = { highWatermark: 0, logStartOffset: 0, base: 0, entries: [], leaderEpoch: 0 };

export class PartitionIndex {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly limits: Readonly<IndexWalkLimits> = defaultIndexWalkLimits,
  ) {}

  /** Commits one append: assigns its offsets and records its entry, atomically. */
  async commit(pk: string, entry: IndexEntry): Promise<CommitResult> {
    const out = await this.ddb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk, sk: headSortKey },
        UpdateExpression: 'SET e = list_append(if_not_exists(e, :empty), :entry), #base = if_not_exists(#base, :zero) ADD hw :span',
        ExpressionAttributeNames: { '#base': 'base' },
        ExpressionAttributeValues: { ':empty': [], ':entry': [encodeIndexEntry(entry)], ':zero': 0, ':span': entry.span },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const attrs = out.Attributes ?? {};
    const highWatermark = Number(attrs.hw);
    const entries = (attrs.e as string[]).map(decodeIndexEntry);
    const base = Number(attrs.base);
    // The entry just appended is the last one: its offsets end at the new high watermark.
    if (spanOf(entries) !== highWatermark - base) {
      throw new Error(`Partition ${pk} head is inconsistent: entries span ${spanOf(entries)} but hw - base = ${highWatermark - base}.`);
    }
    return { baseOffset: highWatermark - entry.span, head: { highWatermark, base, entries } };
  }

  async readHead(pk: string): Promise<PartitionHead> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk, sk: headSortKey }, ConsistentRead: true }));
    return toHead(out.Item);
  }

  /**
   * Makes `epoch` the partition's leader epoch, fencing every holder of an older
   * one. False when a newer epoch has already written the head.
   */
  async fence(pk: string, epoch: number): Promise<boolean> {
    return conditionally(
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: headSortKey },
          UpdateExpression: 'SET le = :e',
          ConditionExpression: 'attribute_not_exists(le) OR le <= :e',
          ExpressionAttributeValues: { ':e': epoch },
        }),
      ),
    );
  }

  /**
   * Moves the oldest head entries into a chunk. `seen` is the head as the caller
   * last saw it; if it moved on (another spill) or a newer leader wrote it, the
   * head is left alone and false is returned. The chunk write is idempotent: a
   * retry or a racing leader rewrites a prefix of the same entries.
   */
  async spill(pk: string, epoch: number, seen: Pick<PartitionHead, 'base' | 'entries'>, keep = headEntriesKept): Promise<boolean> {
    const moving = seen.entries.slice(0, Math.max(0, seen.entries.length - keep));
    if (moving.length === 0) return true;
    const placed = placeEntries(seen.base, moving);
    await this.ddb.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk,
          sk: seen.base,
          e: moving.map(encodeIndexEntry),
          h: chunkHash(moving),
          end: seen.base + spanOf(moving),
          maxTs: Math.max(...placed.map((p) => p.maxTimestamp)),
          le: epoch,
        },
        // Never shorten a chunk: a slow spill landing after a longer one for the
        // same base would otherwise drop entries the head no longer holds. Never
        // overwrite a chunk a newer leader rewrote (merge, compaction): its old
        // objects may already be gone.
        ConditionExpression: 'attribute_not_exists(pk) OR (size(e) < :n AND (attribute_not_exists(le) OR le <= :e))',
        ExpressionAttributeValues: { ':n': moving.length, ':e': epoch },
      }),
    ).catch((err: unknown) => {
      if (!isConditionalCheckFailed(err)) throw err;
    });
    return this.dropHeadEntries(pk, epoch, seen, moving.length);
  }

  /**
   * Removes the oldest `count` head entries and moves `base` past them, if the
   * head still starts at `seen.base` and no newer leader wrote it. Used by spill
   * (after the chunk is written) and by retention (for entries below the log start).
   */
  async dropHeadEntries(pk: string, epoch: number, seen: Pick<PartitionHead, 'base' | 'entries'>, count: number): Promise<boolean> {
    const dropping = seen.entries.slice(0, count);
    if (dropping.length === 0) return true;
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: headSortKey },
          // Indexes in descending order: DynamoDB resolves every index against the
          // list as it was, but dynalite removes them one by one, shifting the rest;
          // highest first gives the same result in both.
          UpdateExpression: `REMOVE ${dropping.map((_, i) => `e[${dropping.length - 1 - i}]`).join(', ')} SET le = :e ADD #base :moved`,
          ConditionExpression: '#base = :b AND (attribute_not_exists(le) OR le <= :e)',
          ExpressionAttributeNames: { '#base': 'base' },
          ExpressionAttributeValues: { ':e': epoch, ':b': seen.base, ':moved': spanOf(dropping) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Moves the log start offset up to `offset` (never down, never past the high
   * watermark). Monotone, so it needs no lease: DeleteRecords and retention may
   * race and the larger wins. Returns the partition's log start offset after.
   */
  async advanceLogStart(pk: string, offset: number): Promise<{ logStartOffset: number; highWatermark: number; moved: boolean }> {
    try {
      const out = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: headSortKey },
          UpdateExpression: 'SET lso = :o',
          ConditionExpression: 'hw >= :o AND (attribute_not_exists(lso) OR lso < :o)',
          ExpressionAttributeValues: { ':o': offset },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { logStartOffset: offset, highWatermark: Number(out.Attributes?.hw ?? 0), moved: true };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // Why it failed (past the high watermark, or already at or past the offset)
      // is read, not taken from the error: dynalite returns no item there, and the
      // document client would not unmarshall one.
      const head = await this.readHead(pk);
      if (offset > head.highWatermark) throw new OffsetOutOfRangeError(offset, head.logStartOffset, head.highWatermark);
      return { logStartOffset: head.logStartOffset, highWatermark: head.highWatermark, moved: false };
    }
  }

  /**
   * Every chunk of the partition, ascending: all of them, or a throw when there
   * are more than chunksListedMax. Never a part: the sweep keeps only the objects
   * this list references.
   */
  async chunks(pk: string): Promise<IndexChunk[]> {
    const all: IndexChunk[] = [];
    const pageSize = this.limits.chunksPerQuery * 4;
    for (let after = headSortKey; ; ) {
      const page = await this.chunksPage(pk, after, pageSize);
      all.push(...page.chunks);
      if (all.length > this.limits.chunksListedMax) {
        throw new Error(`Partition ${pk} has more than ${this.limits.chunksListedMax} index chunks; refusing to list part of them.`);
      }
      if (page.next === undefined) return all;
      after = page.next;
    }
  }

  /**
   * Rewrites a chunk's entries in place (merge, compaction): same base and
   * offsets, new object locations. Only if the chunk is still exactly as read and
   * no newer leader rewrote it. False when it changed.
   */
  async replaceChunk(pk: string, epoch: number, chunk: IndexChunk, entries: IndexEntry[]): Promise<boolean> {
    if (spanOf(entries) !== chunk.end - chunk.base) throw new Error(`replaceChunk ${pk}@${chunk.base}: the new entries change the span.`);
    return conditionally(
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk,
            sk: chunk.base,
            e: entries.map(encodeIndexEntry),
            h: chunkHash(entries),
            end: chunk.end,
            maxTs: Math.max(...entries.map((e) => e.maxTimestamp)),
            le: epoch,
          },
          // A hash of the entries stands for the list: comparing lists in a
          // condition is not portable across DynamoDB implementations.
          ConditionExpression: 'h = :old AND (attribute_not_exists(le) OR le <= :ep)',
          ExpressionAttributeValues: { ':old': chunkHash(chunk.entries), ':ep': epoch },
        }),
      ),
    );
  }

  /** Deletes a chunk that lies wholly below the log start offset. */
  async deleteChunk(pk: string, chunk: IndexChunk, logStartOffset: number): Promise<void> {
    if (chunk.end > logStartOffset) throw new Error(`deleteChunk ${pk}@${chunk.base}: it ends at ${chunk.end}, above the log start ${logStartOffset}.`);
    await this.ddb.send(new DeleteCommand({ TableName: this.table, Key: { pk, sk: chunk.base } }));
  }

  /**
   * The entries holding `offset` and after, in order, until their bytes reach
   * `bytesWanted` (always at least the entry holding `offset`, when there is one).
   * `head` must have been read before this call (see the class comment).
   */
  async locate(pk: string, head: PartitionHead, offset: number, bytesWanted: number): Promise<PlacedEntry[]> {
    const run = new ContiguousRun(offset);
    if (offset < head.base) {
      const first = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :zero AND :o',
          ExpressionAttributeValues: { ':pk': pk, ':zero': 0, ':o': offset },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const queue = (first.Items ?? []).map(toChunk);
      for (let walked = 0; queue.length > 0; ) {
        const chunk = queue.shift()!;
        if (chunk.base >= head.base) break;
        run.add(placeEntries(chunk.base, chunk.entries), bytesWanted);
        walked++;
        if (run.entries.length > 0 && run.bytes >= bytesWanted) return startingAt(run.entries, offset);
        if (chunk.end >= head.base) break;
        // The walk is cut: what it has is contiguous up to a chunk's end, a valid
        // short read (the caller reads on from there). Adding the head now would
        // leave a gap between this chunk and head.base.
        if (walked >= this.limits.chunksPerLocateMax) return startingAt(run.entries, offset);
        if (queue.length === 0) queue.push(...(await this.chunksAfter(pk, chunk.base, this.limits.chunksPerQuery)));
      }
    }
    if (run.bytes < bytesWanted || run.entries.length === 0) run.add(placeEntries(head.base, head.entries), bytesWanted);
    return startingAt(run.entries, offset);
  }

  /** Chunks with base > `after`, ascending, at most `limit`. */
  async chunksAfter(pk: string, after: number, limit: number): Promise<IndexChunk[]> {
    return (await this.chunksPage(pk, after, limit)).chunks;
  }

  /**
   * One Query page of chunksAfter, and where the next page starts (undefined at
   * the end). The end is told by LastEvaluatedKey, not by a short page: DynamoDB
   * also ends a page at 1 MB, and a walk that took that for the end would miss chunks.
   */
  private async chunksPage(pk: string, after: number, limit: number): Promise<{ chunks: IndexChunk[]; next: number | undefined }> {
    const out = await this.ddb.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk > :after',
        ExpressionAttributeValues: { ':pk': pk, ':after': after },
        ScanIndexForward: true,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    const chunks = (out.Items ?? []).map(toChunk);
    return { chunks, next: out.LastEvaluatedKey === undefined ? undefined : Number(out.LastEvaluatedKey.sk) };
  }

  /**
   * Every entry of the partition from `from` on, oldest chunk first, head last
   * (for scans like offsets-by-timestamp and retention). It pages through every
   * chunk below the head, with no cap: a cut walk followed by the head would be a
   * gap, and memory is one page at a time.
   */
  async *entriesFrom(pk: string, head: PartitionHead, from: number): AsyncGenerator<PlacedEntry> {
    const run = new ContiguousRun(from);
    for (let after = headSortKey; ; ) {
      const page = await this.chunksPage(pk, after, this.limits.chunksPerQuery);
      for (const c of page.chunks) {
        if (c.base >= head.base) break;
        yield* run.add(placeEntries(c.base, c.entries));
      }
      if (page.next === undefined || page.next >= head.base) break;
      after = page.next;
    }
    yield* run.add(placeEntries(head.base, head.entries));
  }

  /** Removes the head and every chunk of a partition (topic deletion). */
  async deletePartition(pk: string): Promise<void> {
    let lastKey: Record<string, unknown> | undefined;
    do {
      const out = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ProjectionExpression: 'pk, sk',
          ExclusiveStartKey: lastKey,
          Limit: 100,
        }),
      );
      const keys = out.Items ?? [];
      for (let i = 0; i < keys.length; i += 25) {
        await batchDelete(this.ddb, this.table, keys.slice(i, i + 25));
      }
      lastKey = out.LastEvaluatedKey;
    } while (lastKey);
  }
}

/** BatchWriteItem with its unprocessed items sent again (bounded). */
async function batchDelete(ddb: DynamoDBDocumentClient, table: string, keys: Record<string, unknown>[]): Promise<void> {
  let requests = keys.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt >= 8) throw new Error(`BatchWriteItem left ${requests.length} deletes unprocessed in ${table}.`);
    if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
    requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
  }
}

/**
 * Collects entries into one gap-free run of offsets starting at the entry that
 * holds `from`. Chunks may overlap each other and the head (a spill whose head
 * update lost a race leaves a longer chunk behind), so entries that start below
 * the run's end are duplicates and are skipped.
 */
class ContiguousRun {
  readonly entries: PlacedEntry[] = [];
  bytes = 0;
  private cursor: number | undefined;

  constructor(private readonly from: number) {}

  /** Adds what continues the run; returns what it added. Stops once `bytesWanted` is reached. */
  add(candidates: PlacedEntry[], bytesWanted = Infinity): PlacedEntry[] {
    const added: PlacedEntry[] = [];
    for (const e of candidates) {
      if (this.bytes >= bytesWanted && this.entries.length > 0) break;
      const end = e.baseOffset + e.span;
      if (this.cursor === undefined) {
        if (end <= this.from) continue;
      } else if (e.baseOffset < this.cursor) {
        continue;
      } else if (e.baseOffset > this.cursor) {
        throw new Error(`Partition index has a gap: expected an entry at offset ${this.cursor}, found ${e.baseOffset}.`);
      }
      this.entries.push(e);
      added.push(e);
      this.bytes += e.size;
      this.cursor = end;
    }
    return added;
  }
}

/**
 * A located run must start at or below the offset asked for. One that starts
 * above it means the index moved under a stale head: retention advanced the log
 * start and deleted the chunks below it, so the walk found nothing at `offset`
 * and fell through to later entries. Answering those would skip the live records
 * between the new log start and them; [] makes the reader read the head again
 * (and answer out of range, or the right entries).
 */
function startingAt(entries: PlacedEntry[], offset: number): PlacedEntry[] {
  return entries.length > 0 && entries[0]!.baseOffset > offset ? [] : entries;
}

/** Fingerprint of a chunk's entries, for conditional rewrites. */
export function chunkHash(entries: IndexEntry[]): string {
  return createHash('sha256').update(entries.map(encodeIndexEntry).join('\n')).digest('base64').slice(0, 16);
}

function toHead(item: Record<string, unknown> | undefined): PartitionHead {
  if (!item) return { ...emptyHead, entries: [] };
  return {
    highWatermark: Number(item.hw ?? 0),
    logStartOffset: Number(item.lso ?? 0),
    base: Number(item.base ?? 0),
    entries: ((item.e as string[] | undefined) ?? []).map(decodeIndexEntry),
    leaderEpoch: Number(item.le ?? 0),
  };
}

function toChunk(item: Record<string, unknown>): IndexChunk {
  return {
    base: Number(item.sk),
    end: Number(item.end),
    maxTimestamp: Number(item.maxTs),
    entries: (item.e as string[]).map(decodeIndexEntry),
  };
}
