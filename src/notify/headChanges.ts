/**
 * Which partitions a batch of log-table stream records moved, coalesced: many
 * commits to one partition in one batch make one change, at the newest
 * high watermark. Pure, so the notifier's input rule is tested on its own.
 *
 * Only head items matter (sk = -1, src/log/PartitionIndex.ts); spilled chunks
 * and removals (REMOVE records, which carry no NewImage) are skipped. On AWS
 * the event source mapping also filters on sk = -1, so chunk writes do not
 * even invoke the notifier (infra/strand.ts).
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { headSortKey } from '../log/PartitionIndex';

export interface HeadChange {
  /** "<topicId>#<partition>" */
  headKey: string;
  highWatermark: number;
  logStartOffset: number;
  deleted: boolean;
}

type Image = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;

function numberOf(image: Image, name: string): number | undefined {
  const n = image[name]?.N;
  return n === undefined ? undefined : Number(n);
}

export function headChangeOf(record: DynamoDBRecord): HeadChange | undefined {
  const image = record.dynamodb?.NewImage;
  if (!image || record.eventName === 'REMOVE') return undefined;
  const headKey = image.pk?.S;
  if (headKey === undefined || numberOf(image, 'sk') !== headSortKey) return undefined;
  return {
    headKey,
    highWatermark: numberOf(image, 'hw') ?? 0,
    logStartOffset: numberOf(image, 'lso') ?? 0,
    deleted: image.gone !== undefined,
  };
}

/** One change per partition: the highest offsets seen, deleted if any record said so. */
export function coalesceHeadChanges(records: readonly DynamoDBRecord[]): HeadChange[] {
  const byKey = new Map<string, HeadChange>();
  for (const record of records) {
    const change = headChangeOf(record);
    if (!change) continue;
    const seen = byKey.get(change.headKey);
    byKey.set(
      change.headKey,
      seen
        ? {
            headKey: change.headKey,
            highWatermark: Math.max(seen.highWatermark, change.highWatermark),
            logStartOffset: Math.max(seen.logStartOffset, change.logStartOffset),
            deleted: seen.deleted || change.deleted,
          }
        : change,
    );
  }
  return [...byKey.values()];
}
