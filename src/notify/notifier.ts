/**
 * The notifier: invoked with the log table's stream records (DynamoDB Streams
 * on AWS, whose reads are free for a Lambda trigger; the local stream stand-in
 * in local/logStream.ts), it fires the watches the commits satisfied. Per
 * batch, each partition is handled once at its newest high watermark
 * (headChanges.ts); each watch it fires gets one `moved` notice and is
 * disarmed. A connection found gone is closed (its watches deleted).
 *
 * At least once: a notice is posted before its watch is disarmed, so a crash
 * between the two sends it again on the stream's retry, never loses it. A
 * duplicate notice costs the consumer one empty fetch.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { mapBounded } from '../mapBounded';
import type { Runtime } from '../runtime';
import type { ConnectionPoster } from './ConnectionPoster';
import { coalesceHeadChanges, type HeadChange } from './headChanges';
import { watchFires } from './protocol';
import { subscriptionStore } from './socketHandlers';

/** Partitions one invocation works on at once, and posts one partition sends at once. */
export const partitionsInFlightMax = 8;
export const postsInFlightMax = 16;

export interface NotifierResult {
  partitions: number;
  notices: number;
  gone: number;
}

export async function notifyWatchers(runtime: Runtime, poster: ConnectionPoster, records: readonly DynamoDBRecord[]): Promise<NotifierResult> {
  const changes = coalesceHeadChanges(records);
  const result: NotifierResult = { partitions: changes.length, notices: 0, gone: 0 };
  await mapBounded(changes, partitionsInFlightMax, (change) => notifyPartition(runtime, poster, change, result));
  return result;
}

async function notifyPartition(runtime: Runtime, poster: ConnectionPoster, change: HeadChange, result: NotifierResult): Promise<void> {
  const store = subscriptionStore(runtime);
  const watches = (await store.watchersOf(change.headKey)).filter((w) => watchFires(w.offset, change));
  await mapBounded(watches, postsInFlightMax, async (w) => {
    const sent = await poster.post(w.connectionId, {
      type: 'moved',
      topic_name: w.topicName,
      partition_id: w.partition,
      high_watermark: change.highWatermark,
      log_start_offset: change.logStartOffset,
      ...(change.deleted ? { deleted: true as const } : {}),
    });
    if (sent === 'gone') {
      result.gone++;
      await store.closeConnection(w.connectionId);
      await store.disarm(w);
      return;
    }
    result.notices++;
    await store.disarm(w);
  });
}
