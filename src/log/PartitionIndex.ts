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
import { batchWriteAll } from '../storage/batchWrite';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { ErrorCode, OffsetOutOfRangeError, StorageUnavailableError, StrandError } from '../errors';
import { conditionally, isConditionalCheckFailed } from '../storage/storageErrors';
import { ReplyLostError, singleAttempt } from '../storage/singleAttempt';
import { decodeIndexEntry, encodeIndexEntry, placeEntries, spanOf, type IndexEntry, type PlacedEntry } from './indexEntry';

export const headSortKey = -1;
/**
 * The maintenance ledger's items are under pk "~maintenance#<topicId>" in this
 * table (src/maintenance/ledger.ts): no partition key ("<topicId>#<p>") starts
 * with '~'.
 */
export const maintenanceLedgerPrefix = '~maintenance#';
/**
 * Most entries a head may hold. An append that would pass it is refused with
 * 503 / 50301 (HeadFullError) and tries a spill: spills were failing (a leader
 * held the lease) and must catch up. At about 50 bytes an entry this keeps the
 * head near 25 KB, far below DynamoDB's 400 KB item limit, whatever happens.
 */
export const headEntriesMax = 512;
/**
 * Entries one write moves out of the head (one chunk put, one `REMOVE e[…]`
 * update). `REMOVE e[127], …, e[0]` is about 1 KB: DynamoDB refuses an
 * expression over 4 KB, which a single REMOVE of ~520 indexes passes.
 */
export const entriesPerSpillWriteMax = 128;
/**
 * Most commit slots (`u.<uploadId>`, CommitOptions.onceSlot) a head may hold,
 * counted in its `us` attribute. At ~36 bytes each this bounds them near 75 KB:
 * with headEntriesMax entries and the producers' state the head stays far below
 * DynamoDB's 400 KB item limit, however many uploads arrive before the leader
 * trims old slots. Past it an upload commit is refused with 503 and retried.
 */
export const onceSlotsMax = 2048;
/** Chunks a spill may write in one turn: enough to empty a full head. */
const spillWritesPerTurnMax = Math.ceil(headEntriesMax / entriesPerSpillWriteMax) + 1;
/**
 * Newest chunks searched for an append whose reply was lost: an entry committed
 * a moment ago is in the head or, if a spill ran in between, in one of these.
 */
const recentChunksSearched = 4;
/** Attempts of one commit whose replies were lost. */
const commitAttemptsMax = 3;
/** How long a deleted partition's tombstone head stays (DynamoDB TTL removes it on AWS). */
const tombstoneTtlSeconds = 7 * 24 * 3600;
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
  /** The topic was deleted: the head is a tombstone that refuses every write. */
  deleted: boolean;
}

export interface CommitResult {
  baseOffset: number;
  /**
   * The head as this append left it (for the spill decision, no read needed).
   * Undefined when the offsets were recovered after a lost reply: that append
   * does not trigger a spill (a later one will).
   */
  head?: Pick<PartitionHead, 'highWatermark' | 'base' | 'entries'>;
}

export interface CommitOptions {
  /**
   * An attribute of the head that records this append's base offset, and whose
   * presence refuses the append a second time (an upload committed once per
   * upload id, however often the commit is retried). The leader trims it later.
   */
  onceSlot?: string;
}

/** The head is full (spills are behind); retriable. */
export class HeadFullError extends StorageUnavailableError {
  constructor(pk: string) {
    super(`Partition ${pk} has ${headEntriesMax} unspilled index entries; its leader is catching up. Retry shortly.`);
  }
}

/**
 * The largest high watermark: offsets are JavaScript numbers, exact up to
 * 2^53-1. An append that would pass it is refused by its own conditional write,
 * so a partition can never be pushed into offsets it cannot represent.
 */
export const highWatermarkMax = Number.MAX_SAFE_INTEGER;

/** The append would move the high watermark past highWatermarkMax. */
export class OffsetsExhaustedError extends StrandError {
  constructor(pk: string, span: number) {
    super(ErrorCode.CorruptBatch, `An append of ${span} offsets would move the high watermark of ${pk} past ${highWatermarkMax}; it was refused.`);
  }
}

/** The partition's topic was deleted (its head is a tombstone). */
export class PartitionDeletedError extends Error {
  constructor(readonly pk: string) {
    super(`Partition ${pk} belongs to a deleted topic.`);
  }
}

/**
 * The index moved under a walk: a chunk found by one read was gone (retention)
 * or replaced by the next. Readers start again from the head.
 */
export class IndexMovedError extends Error {}

export interface IndexChunk {
  base: number;
  end: number;
  maxTimestamp: number;
  entries: IndexEntry[];
}

const emptyHead: PartitionHead = { highWatermark: 0, logStartOffset: 0, base: 0, entries: [], leaderEpoch: 0, deleted: false };

export class PartitionIndex {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly limits: Readonly<IndexWalkLimits> = defaultIndexWalkLimits,
  ) {}

  /**
   * Commits one append: assigns its offsets and records its entry, atomically.
   *
   * The write is conditioned so that a replay is refused: the entry's string is
   * unique (its object id is), and `NOT contains(e, entry)` fails for a second
   * copy. It is sent once (singleAttempt), never replayed blindly by the SDK;
   * when its reply is lost, the head and the newest chunks are read to find out
   * whether it applied, and the original offsets are returned if so. Also
   * refused: a deleted topic's partition (tombstone head), and a head already
   * holding headEntriesMax entries.
   */
  async commit(pk: string, entry: IndexEntry, options: CommitOptions = {}): Promise<CommitResult> {
    const encoded = encodeIndexEntry(entry);
    const slot = options.onceSlot;
    for (let attempt = 1; ; attempt++) {
      let lost: unknown;
      try {
        const out = await this.ddb.send(
          singleAttempt(
            new UpdateCommand({
              TableName: this.table,
              Key: { pk, sk: headSortKey },
              // hw is SET, not ADDed, and the slot first: dynalite applies actions in
              // order, DynamoDB reads every operand from the item before the update;
              // this order gives the slot the pre-update hw in both.
              // A slot also counts itself in `us`, so their number stays bounded (the
              // leader's trim removes old slots and subtracts them in the same write).
              UpdateExpression:
                `SET ${slot ? '#u = if_not_exists(hw, :zero), ' : ''}e = list_append(if_not_exists(e, :empty), :entry), ` +
                '#base = if_not_exists(#base, :zero), hw = if_not_exists(hw, :zero) + :span' +
                (slot ? ' ADD us :oneSlot' : ''),
              ConditionExpression:
                'attribute_not_exists(gone) AND (attribute_not_exists(e) OR (size(e) < :max AND NOT contains(e, :one))) AND ' +
                '(attribute_not_exists(hw) OR hw <= :hwMax)' +
                (slot ? ' AND attribute_not_exists(#u) AND (attribute_not_exists(us) OR us < :slotsMax)' : ''),
              ExpressionAttributeNames: { '#base': 'base', ...(slot ? { '#u': slot } : {}) },
              ExpressionAttributeValues: {
                ':empty': [],
                ':entry': [encoded],
                ':one': encoded,
                ':zero': 0,
                ':span': entry.span,
                ':max': headEntriesMax,
                ':hwMax': highWatermarkMax - entry.span,
                ...(slot ? { ':oneSlot': 1, ':slotsMax': onceSlotsMax } : {}),
              },
              ReturnValues: 'UPDATED_NEW',
            }),
          ),
        );
        return committedResult(pk, entry, out.Attributes ?? {}, slot);
      } catch (err) {
        if (!isConditionalCheckFailed(err)) {
          if (!(err instanceof ReplyLostError)) throw err;
          lost = err;
        }
      }
      // Refused, or the reply was lost: find out which from the item as it is now.
      const item = await this.readHeadItem(pk);
      if (item?.gone !== undefined) throw new PartitionDeletedError(pk);
      if (slot && item?.[slot] !== undefined) return { baseOffset: Number(item[slot]) };
      const head = toHead(item);
      const found = await this.findCommitted(pk, head, encoded);
      if (found !== undefined) return { baseOffset: found };
      if (head.highWatermark > highWatermarkMax - entry.span) throw new OffsetsExhaustedError(pk, entry.span);
      if (lost === undefined && head.entries.length >= headEntriesMax) throw new HeadFullError(pk);
      if (lost === undefined && slot && Number(item?.us ?? 0) >= onceSlotsMax) throw new HeadFullError(pk);
      // Not applied: the reply was lost before the write, or the condition failed on
      // a head that has changed since (a spill made room). Try again.
      if (attempt >= commitAttemptsMax) {
        throw new StorageUnavailableError(`The commit to ${pk} did not get through after ${attempt} attempts; nothing was appended.`, lost);
      }
      await sleep(25 * 2 ** attempt);
    }
  }

  /**
   * The base offset of an entry already in the index, searched in `head` and
   * the newest chunks (where a spill moves what a moment ago was in the head).
   */
  private async findCommitted(pk: string, head: PartitionHead, encoded: string): Promise<number | undefined> {
    const inHead = offsetOfEncoded(head.base, head.entries, encoded);
    if (inHead !== undefined) return inHead;
    const out = await this.ddb.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk >= :zero',
        ExpressionAttributeValues: { ':pk': pk, ':zero': 0 },
        ScanIndexForward: false,
        Limit: recentChunksSearched,
        ConsistentRead: true,
      }),
    );
    for (const chunk of (out.Items ?? []).map(toChunk)) {
      const found = offsetOfEncoded(chunk.base, chunk.entries, encoded);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private async readHeadItem(pk: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk, sk: headSortKey }, ConsistentRead: true }));
    return out.Item;
  }

  async readHead(pk: string): Promise<PartitionHead> {
    return toHead(await this.readHeadItem(pk));
  }

  /**
   * Makes `epoch` the partition's leader epoch, fencing every holder of an older
   * one, and returns the head as this write left it: the view a leader's work
   * starts from, read under its own epoch (a view read before the lease could be
   * older than a rewrite another leader made since). 'fenced' when a newer epoch
   * has already written the head; 'deleted' when the topic was deleted.
   */
  async fence(pk: string, epoch: number): Promise<PartitionHead | 'fenced' | 'deleted'> {
    try {
      const out = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: headSortKey },
          UpdateExpression: 'SET le = :e',
          ConditionExpression: 'attribute_not_exists(gone) AND (attribute_not_exists(le) OR le <= :e)',
          ExpressionAttributeValues: { ':e': epoch },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toHead(out.Attributes);
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      return (await this.readHead(pk)).deleted ? 'deleted' : 'fenced';
    }
  }

  /**
   * Moves the oldest head entries into chunks, leaving `keep`. `view` must be
   * the head as read under `epoch` (fence's result): a leader never spills from
   * a view older than its lease, which could put back a chunk a rewrite replaced.
   * At most entriesPerSpillWriteMax entries per chunk and per head update, so
   * every request stays within DynamoDB's limits at any head length. Returns
   * false as soon as the head moved on (another spill) or a newer leader wrote it.
   */
  async spill(pk: string, epoch: number, view: Pick<PartitionHead, 'base' | 'entries'>, keep = headEntriesKept): Promise<boolean> {
    let head = { base: view.base, entries: view.entries };
    for (let write = 0; head.entries.length > keep; write++) {
      if (write >= spillWritesPerTurnMax) return false;
      const moving = head.entries.slice(0, Math.min(head.entries.length - keep, entriesPerSpillWriteMax));
      await this.putChunk(pk, epoch, head.base, moving);
      if (!(await this.dropHeadEntries(pk, epoch, head, moving.length))) return false;
      head = { base: head.base + spanOf(moving), entries: head.entries.slice(moving.length) };
    }
    return true;
  }

  /**
   * Writes a spilled chunk. Idempotent: a retry or a racing leader writes a
   * prefix of the same entries. Never shortens a chunk (a slow spill landing
   * after a longer one for the same base would drop entries the head no longer
   * holds), and never overwrites a chunk a newer leader rewrote (merge,
   * compaction): its old objects may already be gone.
   */
  private async putChunk(pk: string, epoch: number, base: number, moving: IndexEntry[]): Promise<void> {
    const placed = placeEntries(base, moving);
    await conditionally(
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk,
            sk: base,
            e: moving.map(encodeIndexEntry),
            h: chunkHash(moving),
            end: base + spanOf(moving),
            maxTs: Math.max(...placed.map((p) => p.maxTimestamp)),
            le: epoch,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR (size(e) < :n AND (attribute_not_exists(le) OR le <= :e))',
          ExpressionAttributeValues: { ':n': moving.length, ':e': epoch },
        }),
      ),
    );
  }

  /**
   * Removes the oldest `count` head entries and moves `base` past them, if the
   * head still starts at `seen.base` and no newer leader wrote it. Used by spill
   * (after the chunk is written) and by retention (for entries below the log
   * start). At most entriesPerSpillWriteMax removals per write; more take
   * several writes, each conditioned on the base the previous one left.
   */
  async dropHeadEntries(pk: string, epoch: number, seen: Pick<PartitionHead, 'base' | 'entries'>, count: number): Promise<boolean> {
    let base = seen.base;
    for (let from = 0; from < Math.min(count, seen.entries.length); from += entriesPerSpillWriteMax) {
      const dropping = seen.entries.slice(from, Math.min(count, from + entriesPerSpillWriteMax));
      const dropped = await conditionally(
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk, sk: headSortKey },
            // Indexes in descending order: DynamoDB resolves every index against the
            // list as it was, but dynalite removes them one by one, shifting the rest;
            // highest first gives the same result in both.
            UpdateExpression: `REMOVE ${dropping.map((_, i) => `e[${dropping.length - 1 - i}]`).join(', ')} SET le = :e ADD #base :moved`,
            ConditionExpression: '#base = :b AND (attribute_not_exists(le) OR le <= :e)',
            ExpressionAttributeNames: { '#base': 'base' },
            ExpressionAttributeValues: { ':e': epoch, ':b': base, ':moved': spanOf(dropping) },
          }),
        ),
      );
      if (!dropped) return false;
      base += spanOf(dropping);
    }
    return true;
  }

  /**
   * Moves the log start offset up to `offset` (never down, never past the high
   * watermark). Monotone, so it needs no lease: DeleteRecords and retention may
   * race and the larger wins. Returns the partition's log start offset after.
   */
  async advanceLogStart(
    pk: string,
    offset: number,
    options: { markForMaintenance?: boolean } = {},
  ): Promise<{ logStartOffset: number; highWatermark: number; moved: boolean }> {
    // DeleteRecords changes no object, so maintenance would not notice it (its
    // planner lists new objects, src/maintenance/planMaintenance.ts): mark the
    // partition first. A mark whose move then fails costs one idle visit.
    if (options.markForMaintenance ?? true) await this.markForMaintenance(pk);
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
   * Asks the next maintenance pass to visit the partition whatever else it
   * sees: adds it to its topic's `dirty` set in the maintenance ledger
   * (src/maintenance/ledger.ts). A number-set ADD, so a replay changes nothing.
   */
  async markForMaintenance(pk: string): Promise<void> {
    const cut = pk.lastIndexOf('#');
    await this.ddb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: maintenanceLedgerPrefix + pk.slice(0, cut), sk: 0 },
        UpdateExpression: 'ADD dirty :p',
        ExpressionAttributeValues: { ':p': new Set([Number(pk.slice(cut + 1))]) },
      }),
    );
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

  /**
   * Deletes a chunk that lies wholly below the log start offset, or (shadowed)
   * one that starts below it and that readers no longer use (maintainPartition).
   */
  async deleteChunk(pk: string, chunk: IndexChunk, logStartOffset: number, options: { shadowed?: boolean } = {}): Promise<void> {
    const below = options.shadowed ? chunk.base < logStartOffset : chunk.end <= logStartOffset;
    if (!below) throw new Error(`deleteChunk ${pk}@${chunk.base}..${chunk.end}: not below the log start ${logStartOffset}.`);
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
    // As locate: the walk starts at the chunk with the highest base at or below
    // `from`. A lower chunk that overlaps it is older in the head's history (a
    // chunk left below the log start), and its entries there may be stale.
    let start: IndexChunk | undefined;
    for (let after = headSortKey; ; ) {
      const page = await this.chunksPage(pk, after, this.limits.chunksPerQuery);
      for (const c of page.chunks) {
        if (c.base >= head.base) break;
        if (c.base <= from) {
          start = c;
          continue;
        }
        if (start) yield* run.add(placeEntries(start.base, start.entries));
        start = undefined;
        yield* run.add(placeEntries(c.base, c.entries));
      }
      if (page.next === undefined || page.next >= head.base) break;
      after = page.next;
    }
    if (start) yield* run.add(placeEntries(start.base, start.entries));
    yield* run.add(placeEntries(head.base, head.entries));
  }

  /**
   * Deletes a partition's index (topic deletion): the head becomes a tombstone
   * first, so no append, fence or spill can write it again (a produce may still
   * hold the deleted topic's id for topicCacheMs), then every chunk goes. The
   * tombstone carries a DynamoDB TTL; it is a few bytes until then.
   */
  async deletePartition(pk: string, now: number): Promise<void> {
    await this.ddb.send(
      new PutCommand({ TableName: this.table, Item: { pk, sk: headSortKey, gone: now, ttl: Math.floor(now / 1000) + tombstoneTtlSeconds } }),
    );
    let lastKey: Record<string, unknown> | undefined;
    do {
      const out = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk >= :zero',
          ExpressionAttributeValues: { ':pk': pk, ':zero': 0 },
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

/** Deletes these keys (bounded batches, unprocessed items sent again). */
function batchDelete(ddb: DynamoDBDocumentClient, table: string, keys: Record<string, unknown>[]): Promise<void> {
  return batchWriteAll(ddb, table, keys.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })));
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
        // A chunk found a moment ago is gone (retention deleted it after the
        // reader found the chunk before it): a race, which readers retry.
        throw new IndexMovedError(`Partition index moved under the walk: expected an entry at offset ${this.cursor}, found ${e.baseOffset}.`);
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
    deleted: item.gone !== undefined,
  };
}

/** The result of an applied commit, from the attributes its update returned. */
function committedResult(pk: string, entry: IndexEntry, attrs: Record<string, unknown>, slot: string | undefined): CommitResult {
  const highWatermark = Number(attrs.hw);
  const entries = (attrs.e as string[]).map(decodeIndexEntry);
  const base = Number(attrs.base);
  // The entry just appended is the last one: its offsets end at the new high watermark.
  if (spanOf(entries) !== highWatermark - base) {
    throw new Error(`Partition ${pk} head is inconsistent: entries span ${spanOf(entries)} but hw - base = ${highWatermark - base}.`);
  }
  const baseOffset = highWatermark - entry.span;
  if (slot && Number(attrs[slot]) !== baseOffset) {
    throw new Error(`Partition ${pk}: the commit slot recorded ${String(attrs[slot])}, not the base offset ${baseOffset}.`);
  }
  return { baseOffset, head: { highWatermark, base, entries } };
}

/** Where the entry whose string is `encoded` starts, in a run based at `base`. */
function offsetOfEncoded(base: number, entries: IndexEntry[], encoded: string): number | undefined {
  let offset = base;
  for (const e of entries) {
    if (encodeIndexEntry(e) === encoded) return offset;
    offset += e.span;
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function toChunk(item: Record<string, unknown>): IndexChunk {
  return {
    base: Number(item.sk),
    end: Number(item.end),
    maxTimestamp: Number(item.maxTs),
    entries: (item.e as string[]).map(decodeIndexEntry),
  };
}
