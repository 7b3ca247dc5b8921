/**
 * The notice socket's protocol (docs/notifications.md): what a waiting consumer
 * sends over the WebSocket and what it receives. The same messages travel over
 * API Gateway's WebSocket API on AWS and over the local gateway's socket.
 *
 * A consumer at the end of a partition *arms a watch*: "tell me once when this
 * partition has records at or after offset N". When a commit moves the
 * partition's high watermark past N (or its log start past N, or the topic is
 * deleted), the watch fires one `moved` notice and is disarmed. The consumer
 * fetches, and arms again only when it reaches the end again. So a busy
 * partition sends a consumer one notice per time it caught up, never one per
 * append, and an idle one sends nothing.
 */
import { z } from 'zod';

/** The local gateway serves the socket here; on AWS it is the WebSocket API's stage URL. */
export const noticeSocketPath = '/v3/notifications';

/**
 * API Gateway WebSocket quotas (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html#apigateway-execution-service-websocket-limits-table):
 * a connection lives at most 2 hours, closes after 10 minutes idle, and a
 * message carries at most 128 KB. The local socket enforces the same.
 */
export const connectionLifetimeMsMax = 2 * 60 * 60 * 1000;
export const connectionIdleMsMax = 10 * 60 * 1000;
export const messageBytesMax = 128 * 1024;

/** Clients ping this often, well inside connectionIdleMsMax. */
export const keepaliveIntervalMs = 5 * 60 * 1000;

/** Watches one connection holds at most: a consumer's partitions (client/consumer.ts partitionsPerConsumerMax is 1024). */
export const watchesPerConnectionMax = 1024;
/** Watches one subscribe message names at most: 100 × ~300 bytes stays far below messageBytesMax. */
export const watchesPerMessageMax = 100;
/** Watchers of one partition one notifier pass serves at most; more wait for the next commit (or their recheck). */
export const watchersPerPartitionMax = 10_000;

/**
 * Every subscriptions item expires this long after it was written: past a
 * connection's longest life, so a connection that vanished without $disconnect
 * leaves nothing behind for long. (DynamoDB deletes expired items within days;
 * the notifier treats a post to a closed connection as a cue to delete.)
 */
export const subscriptionTtlSeconds = connectionLifetimeMsMax / 1000 + 10 * 60;

const topicName = z.string().min(1).max(249);
const partitionId = z.number().int().min(0).max(100_000);
const requestId = z.string().max(64).optional();

export const WatchSchema = z.object({
  topic_name: topicName,
  partition_id: partitionId,
  /** Notify once the partition has a record at or after this offset. */
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type Watch = z.infer<typeof WatchSchema>;

export const ClientMessageSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('subscribe'), request_id: requestId, watches: z.array(WatchSchema).min(1).max(watchesPerMessageMax) }),
  z.object({
    action: z.literal('unsubscribe'),
    request_id: requestId,
    watches: z.array(WatchSchema.omit({ offset: true })).min(1).max(watchesPerMessageMax),
  }),
  z.object({ action: z.literal('ping'), request_id: requestId }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

/** The actions the WebSocket API routes on (`$request.body.action`); anything else reaches `$default`. */
export const clientActions = ['subscribe', 'unsubscribe', 'ping'] as const;

/** A watch fired: the partition has records past the watched offset (or its log moved on, or it is gone). */
export interface MovedNotice {
  type: 'moved';
  topic_name: string;
  partition_id: number;
  high_watermark: number;
  log_start_offset: number;
  /** The topic was deleted: nothing more will come. */
  deleted?: true;
}

/**
 * A group member listening here (its heartbeat named this connection) has
 * work in its group: heartbeat now (src/groups/coordinator.ts membersToNudge).
 */
export interface GroupNudge {
  type: 'group';
  group_id: string;
}

export type ServerMessage =
  | MovedNotice
  | GroupNudge
  | { type: 'subscribed'; request_id?: string; watches: number }
  | { type: 'unsubscribed'; request_id?: string; watches: number }
  /** `connection_id`: this connection's id, which a group member names in its heartbeats to be nudged here. */
  | { type: 'pong'; request_id?: string; connection_id: string }
  | { type: 'error'; request_id?: string; error_code: number; message: string };

/** True when a watch at `offset` must fire for a partition at these bounds. */
export function watchFires(offset: number, bounds: { highWatermark: number; logStartOffset: number; deleted?: boolean }): boolean {
  return bounds.deleted === true || bounds.highWatermark > offset || bounds.logStartOffset > offset;
}
