/**
 * The maintenance ledger: what each partition looked like when its last
 * maintenance turn finished, and when it is next due whatever happens, so a
 * pass visits only the partitions that changed or fell due and an untouched
 * partition costs no storage request.
 *
 * Items in the log table under pk "~maintenance#<topicId>"
 * (maintenanceLedgerPrefix), sk = shard (partition / partitionsPerLedgerItem):
 *
 *   p<n>   "<hw>:<lso>:<dueAt>:<configs>"  as partition n's last completed turn
 *          left it: the high watermark the turn began at, the log start it left,
 *          when it is next due (0: only a change makes it due), and a hash of the
 *          topic's configs (a config change makes every partition due)
 *
 * and in shard 0 only:
 *
 *   lt     the listing watermark (ms): every object older than lt − listingSlackMs
 *          is reflected in the marks or the `dirty` set, so the next listing
 *          starts there (planMaintenance.ts). It moves only when a pass finds
 *          nothing outstanding: a turn handed out and lost after another
 *          worker cleared its `dirty` entry is then found again by the heads.
 *   ls     the time (ms) of the last listing that saw new objects, for the
 *          sweep's schedule (which must not re-count the same objects)
 *   sw     when the topic's object sweep is next due (ms); absent = not due
 *   dirty  partitions some writer asked to be visited (a number set): the
 *          planner adds the changed partitions it hands out, DeleteRecords adds
 *          its partition (PartitionIndex.markForMaintenance), and a worker
 *          removes a partition once its turn is recorded. So work handed out
 *          and lost (a crashed worker, a deadline) is handed out again.
 *
 * 1,000 partitions to an item keeps one near 40 KB, far below 400 KB.
 */
import { createHash } from 'node:crypto';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { maintenanceLedgerPrefix } from '../log/PartitionIndex';
import type { TopicConfig } from '../log/topicConfig';
import { isConditionalCheckFailed } from '../storage/storageErrors';

export const partitionsPerLedgerItem = 1000;
/** Partitions recorded per UpdateItem: 64 `#aN = :vN` clauses stay near 1 KB of expression (DynamoDB refuses 4 KB). */
const partitionsPerLedgerWriteMax = 64;

export interface PartitionMark {
  highWatermark: number;
  logStartOffset: number;
  /** 0: not due until it changes. */
  dueAt: number;
  configs: string;
}

export interface Ledger {
  /** Any item at all: a topic without one has never been planned, and every partition is due. */
  exists: boolean;
  partitions: Map<number, PartitionMark>;
  listedAt: number;
  /** The last listing that saw objects (for the sweep's schedule). */
  sweepListedAt: number;
  sweepAt: number | undefined;
  dirty: Set<number>;
}

export function ledgerKey(topicId: string): string {
  return maintenanceLedgerPrefix + topicId;
}

/** A short, stable fingerprint of a topic's configs (key order does not matter). */
export function configsHash(config: TopicConfig): string {
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('base64url').slice(0, 8);
}

export function encodeMark(m: PartitionMark): string {
  return `${m.highWatermark}:${m.logStartOffset}:${m.dueAt}:${m.configs}`;
}

export function decodeMark(s: string): PartitionMark | undefined {
  const [hw, lso, due, configs] = s.split(':');
  if (configs === undefined) return undefined;
  return { highWatermark: Number(hw), logStartOffset: Number(lso), dueAt: Number(due), configs };
}

export class LedgerStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Every shard of the topic's ledger: one Query (a page holds about 25 shards). */
  async read(topicId: string): Promise<Ledger> {
    const ledger: Ledger = { exists: false, partitions: new Map(), listedAt: 0, sweepListedAt: 0, sweepAt: undefined, dirty: new Set() };
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ledgerKey(topicId) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        ledger.exists = true;
        for (const [name, value] of Object.entries(item)) {
          if (/^p\d+$/.test(name) && typeof value === 'string') {
            const mark = decodeMark(value);
            if (mark) ledger.partitions.set(Number(name.slice(1)), mark);
          }
        }
        if (typeof item.lt === 'number') ledger.listedAt = item.lt;
        if (typeof item.ls === 'number') ledger.sweepListedAt = item.ls;
        if (typeof item.sw === 'number') ledger.sweepAt = item.sw;
        if (item.dirty instanceof Set) for (const p of item.dirty) ledger.dirty.add(Number(p));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return ledger;
  }

  /** What the planner saw: the listing's time (when it saw new objects) and the partitions it handed out. */
  async recordPlan(topicId: string, plan: { listedAt?: number; sweepListedAt?: number; handedOut: number[] }): Promise<void> {
    const sets: string[] = [];
    const values: Record<string, unknown> = {};
    if (plan.listedAt !== undefined) {
      sets.push('lt = :lt');
      values[':lt'] = plan.listedAt;
    }
    if (plan.sweepListedAt !== undefined) {
      sets.push('ls = :ls');
      values[':ls'] = plan.sweepListedAt;
    }
    const add = plan.handedOut.length > 0 ? ' ADD dirty :d' : '';
    if (add) values[':d'] = new Set(plan.handedOut);
    if (sets.length === 0 && !add) return;
    await this.ddb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: ledgerKey(topicId), sk: 0 },
        UpdateExpression: `${sets.length > 0 ? `SET ${sets.join(', ')}` : ''}${add}`.trim(),
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** Completed turns: their marks, and their partitions out of `dirty`. Safe to replay (SET and a set DELETE). */
  async recordTurns(topicId: string, turns: { partition: number; mark: PartitionMark }[]): Promise<void> {
    const byShard = new Map<number, { partition: number; mark: PartitionMark }[]>();
    for (const t of turns) {
      const shard = Math.floor(t.partition / partitionsPerLedgerItem);
      byShard.set(shard, [...(byShard.get(shard) ?? []), t]);
    }
    for (const [shard, all] of byShard) {
      for (let i = 0; i < all.length; i += partitionsPerLedgerWriteMax) {
        const part = all.slice(i, i + partitionsPerLedgerWriteMax);
        const names: Record<string, string> = {};
        const values: Record<string, unknown> = {};
        const sets = part.map((t, j) => {
          names[`#p${j}`] = `p${t.partition}`;
          values[`:p${j}`] = encodeMark(t.mark);
          return `#p${j} = :p${j}`;
        });
        await this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: ledgerKey(topicId), sk: shard },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
      }
    }
    if (turns.length > 0) {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: ledgerKey(topicId), sk: 0 },
          UpdateExpression: 'DELETE dirty :d',
          ExpressionAttributeValues: { ':d': new Set(turns.map((t) => t.partition)) },
        }),
      );
    }
  }

  /** Brings the sweep forward to `at` if it is due later or not at all (never pushes it back). */
  async sweepNoLaterThan(topicId: string, at: number): Promise<void> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: ledgerKey(topicId), sk: 0 },
          UpdateExpression: 'SET sw = :at',
          ConditionExpression: 'attribute_not_exists(sw) OR sw > :at',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  /**
   * After a sweep: the next one is due at `next` (undefined: not due), unless
   * someone brought it forward meanwhile (sw is no longer what the sweep saw).
   */
  async sweepDone(topicId: string, seen: number | undefined, next: number | undefined): Promise<void> {
    const values: Record<string, unknown> = {};
    let condition = 'attribute_not_exists(sw)';
    if (seen !== undefined) {
      condition = 'sw = :seen';
      values[':seen'] = seen;
    }
    if (next !== undefined) values[':next'] = next;
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: ledgerKey(topicId), sk: 0 },
          UpdateExpression: next === undefined ? 'REMOVE sw' : 'SET sw = :next',
          ConditionExpression: condition,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }
}
