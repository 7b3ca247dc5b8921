/**
 * Idempotent appends on the partition head (layout in ./producerState.ts).
 *
 * An idempotent append is the same ONE UpdateItem as PartitionIndex.commit (it
 * appends its entry to `e` and advances `hw`), plus, in the same write:
 *   - a condition on the producer's own state: the epoch matches and the next
 *     expected sequence is this append's base sequence (or, at sequence 0, the
 *     producer is new here or comes with a newer epoch);
 *   - SET of the producer's new state, and of a window slot holding the append's
 *     base offset, copied from the head's `hw` as it was before this update.
 * No read comes before it. Other producers never touch this producer's state, so
 * the condition cannot fail under contention; it fails only for a retry, a gap or
 * a stale epoch, and then the head as it was (ALL_OLD) says which.
 *
 * `hw` is SET (`hw = if_not_exists(hw, 0) + span`) instead of ADDed here, and the
 * slot is SET first: DynamoDB evaluates every operand against the item before the
 * update, while dynalite applies actions in order, and this order gives the
 * pre-update `hw` in both. `commit` asserts it (slot = new hw - span).
 *
 * Races, walked through:
 *   1. The reply is lost after the commit; the client retries. The retry's
 *      condition fails (next sequence moved on), its slot is in the head, and it
 *      gets the original offsets with duplicate = true. Its S3 object is an orphan
 *      (swept like any uncommitted object).
 *   2. A retry overtakes the original, still in flight. Whichever commits first
 *      wins; the other finds its slot and answers with the same offsets. The
 *      record is in the log once.
 *   3. dynalite has no ReturnValuesOnConditionCheckFailure, so a refused commit is
 *      classified from a consistent read made after it. Producer state only moves
 *      forward (sequence, epoch), so the later head can only turn a gap into a
 *      duplicate if an append with exactly this sequence range committed in between
 *      — and then its offsets are the right answer.
 *   4. The leader trims slots beyond the window while appends add new ones. Slot
 *      names never repeat, and a trim removes only slots older than the last 5 it
 *      saw, which later appends cannot make recent again. Dropping a whole producer
 *      (idle past the TTL, or beyond producersPerPartitionMax) is conditioned on
 *      the `t` it saw, so a producer that appended meanwhile is kept.
 *   5. A dropped producer comes back: its next batch has sequence ≠ 0 and gets
 *      40926 (unknown producer), so it must initialize again; a retry of its
 *      sequence-0 batch after the drop would be appended again — the same window
 *      Kafka has after producer-id expiration, which is why the TTL is a day.
 *
 * Spills only REMOVE `e[i]` and ADD `base`; they never touch these attributes,
 * so producer state survives them. Nothing may ever Put the head item whole.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../storage/storageErrors';
import { encodeIndexEntry, decodeIndexEntry, spanOf, type IndexEntry } from '../log/indexEntry';
import {
  HeadFullError,
  OffsetsExhaustedError,
  PartitionDeletedError,
  headEntriesMax,
  headSortKey,
  highWatermarkMax,
  type CommitResult,
} from '../log/PartitionIndex';
import {
  classifyRefusedCommit,
  incrementSequence,
  planTrim,
  isUploadSlotAttribute,
  slotAttribute,
  stateAttribute,
  type ProducerAppend,
} from './producerState';

export type IdempotentCommitResult = (CommitResult & { duplicate: false }) | { duplicate: true; baseOffset: number };

export class ProducerSequences {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Commits an idempotent append, or returns the offsets it already has; a gap or stale epoch throws 40926. */
  async commit(pk: string, entry: IndexEntry, p: ProducerAppend, now: number): Promise<IdempotentCommitResult> {
    if (entry.span !== p.count) throw new Error(`Idempotent append spans ${entry.span} offsets but carries ${p.count} sequences.`);
    const mayStartHere = p.baseSequence === 0 ? 'attribute_not_exists(#p) OR #p.e < :ep OR ' : '';
    let out;
    try {
      out = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: headSortKey },
          // Order matters on dynalite: #q must read hw before hw is set (see the file comment).
          UpdateExpression:
            'SET #q = if_not_exists(hw, :zero), e = list_append(if_not_exists(e, :empty), :entry), #base = if_not_exists(#base, :zero), ' +
            '#p = :state, hw = if_not_exists(hw, :zero) + :span',
          // As for a plain commit (PartitionIndex.commit): never into a deleted
          // topic's tombstone head, never past the head's bound.
          // (DynamoDB refuses redundant parentheses: the producer clause gets its own only when it is a disjunction.)
          ConditionExpression: `attribute_not_exists(gone) AND (attribute_not_exists(e) OR size(e) < :max) AND (attribute_not_exists(hw) OR hw <= :hwMax) AND ${mayStartHere ? `(${mayStartHere}(#p.e = :ep AND #p.n = :seq))` : '(#p.e = :ep AND #p.n = :seq)'}`,
          ExpressionAttributeNames: { '#base': 'base', '#p': stateAttribute(p.producerId), '#q': slotAttribute(p) },
          ExpressionAttributeValues: {
            ':empty': [],
            ':entry': [encodeIndexEntry(entry)],
            ':zero': 0,
            ':span': entry.span,
            ':ep': p.producerEpoch,
            ':seq': p.baseSequence,
            ':state': { e: p.producerEpoch, n: incrementSequence(p.baseSequence, p.count), t: now },
            ':max': headEntriesMax,
            ':hwMax': highWatermarkMax - entry.span,
          },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const old = itemOfConditionFailure(err) ?? (await this.readHead(pk));
      if (old?.gone !== undefined) throw new PartitionDeletedError(pk);
      const refused = classifyRefusedCommit(old, p);
      // A full head refuses any append; once spills catch up, a retry gets the
      // producer's own verdict (accepted, duplicate, or a gap).
      if (!refused.duplicate && Number(old?.hw ?? 0) > highWatermarkMax - entry.span) throw new OffsetsExhaustedError(pk, entry.span);
      if (!refused.duplicate && Array.isArray(old?.e) && old.e.length >= headEntriesMax) throw new HeadFullError(pk);
      if (refused.duplicate) return refused;
      throw refused.error;
    }
    const attrs = out.Attributes ?? {};
    const highWatermark = Number(attrs.hw);
    const base = Number(attrs.base);
    const entries = (attrs.e as string[]).map(decodeIndexEntry);
    if (spanOf(entries) !== highWatermark - base) {
      throw new Error(`Partition ${pk} head is inconsistent: entries span ${spanOf(entries)} but hw - base = ${highWatermark - base}.`);
    }
    const baseOffset = highWatermark - entry.span;
    if (Number(attrs[slotAttribute(p)]) !== baseOffset) {
      throw new Error(`Partition ${pk}: the dedup slot recorded ${String(attrs[slotAttribute(p)])}, not the base offset ${baseOffset}.`);
    }
    return { duplicate: false, baseOffset, head: { highWatermark, base, entries } };
  }

  private async readHead(pk: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk, sk: headSortKey }, ConsistentRead: true }));
    return out.Item;
  }

  /**
   * Leader work, after a spill: drops expired producers and slots outside the
   * dedup window. Conditioned on the leader epoch (like every leader write) and
   * on each dropped producer's `t`. Returns the attributes removed (0 when there
   * was nothing to do or the head moved on).
   */
  async trim(pk: string, leaderEpoch: number, now: number): Promise<number> {
    const item = await this.readHead(pk);
    if (!item) return 0;
    const plan = planTrim(item, now);
    if (plan.remove.length === 0) return 0;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':le': leaderEpoch };
    const removes = plan.remove.map((attr, i) => {
      names[`#r${i}`] = attr;
      return `#r${i}`;
    });
    const conditions = ['(attribute_not_exists(le) OR le <= :le)'];
    // Upload commit slots removed are subtracted from their count in the same
    // write. It is conditioned on one of them still being there: the write removes
    // them all at once, so a replay of an applied trim (the SDK retrying after a
    // lost reply) is refused instead of subtracting twice.
    const slotsRemoved = plan.remove.filter(isUploadSlotAttribute).length;
    if (slotsRemoved > 0) {
      values[':slots'] = -slotsRemoved;
      conditions.push(`attribute_exists(#r${plan.remove.findIndex(isUploadSlotAttribute)})`);
    }
    plan.dropped.forEach((s, i) => {
      names[`#d${i}`] = stateAttribute(s.producerId);
      values[`:t${i}`] = s.lastAppendMs;
      conditions.push(`#d${i}.t = :t${i}`);
    });
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: headSortKey },
          UpdateExpression: `REMOVE ${removes.join(', ')}${slotsRemoved > 0 ? ' ADD us :slots' : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return plan.remove.length;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return 0;
      throw err;
    }
  }
}

/**
 * The item a failed condition returned (ReturnValuesOnConditionCheckFailure:
 * ALL_OLD). The document client does not unmarshall error payloads, so on AWS it
 * arrives as AttributeValues; dynalite does not return it at all (undefined).
 */
export function itemOfConditionFailure(err: unknown): Record<string, unknown> | undefined {
  const item = (err as { Item?: Record<string, unknown> }).Item;
  if (!item || typeof item !== 'object') return undefined;
  const looksMarshalled = Object.values(item).every(
    (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && /^(S|N|B|SS|NS|BS|M|L|NULL|BOOL)$/.test(Object.keys(v)[0]!),
  );
  if (!looksMarshalled) return item;
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, fromAttributeValue(v as AttributeValue)]));
}

type AttributeValue = Partial<Record<'S' | 'N' | 'BOOL' | 'NULL' | 'SS' | 'NS' | 'L' | 'M' | 'B' | 'BS', unknown>>;

/** The few AttributeValue shapes a partition head holds (S, N, L, M, BOOL, NULL); binary is kept as is. */
function fromAttributeValue(v: AttributeValue): unknown {
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return Number(v.N);
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.NULL !== undefined) return null;
  if (v.SS !== undefined) return new Set(v.SS as string[]);
  if (v.NS !== undefined) return new Set((v.NS as string[]).map(Number));
  if (v.L !== undefined) return (v.L as AttributeValue[]).map(fromAttributeValue);
  if (v.M !== undefined) return Object.fromEntries(Object.entries(v.M as Record<string, AttributeValue>).map(([k, x]) => [k, fromAttributeValue(x)]));
  return v.B ?? v.BS;
}
