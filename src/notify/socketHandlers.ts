/**
 * The notice socket's routes, as API Gateway's WebSocket API invokes them
 * ($connect, $disconnect, subscribe, unsubscribe, ping, $default) and as the
 * local gateway invokes them for its own socket: one code path for both.
 *
 *   $connect      authenticates as the HTTP API does (keys mode), records the connection
 *   subscribe     arms watches; a watch whose partition already moved past its
 *                 offset fires at once (this closes the race with a commit that
 *                 landed between the consumer's empty fetch and its subscribe)
 *   unsubscribe   removes watches
 *   ping          keeps the connection from API Gateway's 10-minute idle close
 *   $disconnect   deletes the connection and its watches
 *
 * A route's answer body is sent back to the client (two-way routes); errors are
 * `{"type":"error","error_code":…}` with the HTTP API's error codes.
 */
import { ErrorCode, StrandError, unknownPartition } from '../errors';
import { mapBounded } from '../mapBounded';
import { asStorageUnavailable } from '../storage/storageErrors';
import { PartitionDeletedError } from '../log/PartitionIndex';
import { partitionKey, type Topic } from '../log/TopicCatalog';
import { assertKeyMay, authenticate, reauthenticate } from '../auth/authorize';
import type { Runtime } from '../runtime';
import { groupsOf } from '../groups/GroupService';
import type { ConnectionPoster } from './ConnectionPoster';
import { ClientMessageSchema, messageBytesMax, watchFires, type ServerMessage, type Watch } from './protocol';
import { subscriptionStore, TooManyWatchesError, type ArmedWatch } from './SubscriptionStore';

/** What the handlers read of API Gateway's WebSocket event (the local gateway builds the same). */
export interface SocketEvent {
  requestContext: { connectionId: string; routeKey: string; eventType?: 'CONNECT' | 'MESSAGE' | 'DISCONNECT' };
  /** $connect only: the upgrade request's headers. */
  headers?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface SocketResult {
  statusCode: number;
  body?: string;
}

/** Head reads one subscribe has in flight at once. */
export const boundsReadsInFlightMax = 16;

/** One store per runtime (src/notify/SubscriptionStore.ts); re-exported for the notifier and tests. */
export { subscriptionStore };

const reply = (message: ServerMessage): SocketResult => ({ statusCode: 200, body: JSON.stringify(message) });

export function createSocketHandler(runtime: () => Runtime, poster: () => ConnectionPoster) {
  return async (event: SocketEvent): Promise<SocketResult> => {
    const rt = runtime();
    const { connectionId, routeKey } = event.requestContext;
    switch (routeKey) {
      case '$connect':
        return connect(rt, connectionId, event.headers ?? {});
      case '$disconnect':
        await disconnect(rt, connectionId);
        return { statusCode: 200 };
      default:
        return message(rt, poster(), connectionId, event);
    }
  };
}

/**
 * $disconnect: the connection's watches and item go, and a group member that
 * listened on it has its session brought back to one timeout from now (a
 * crashed consumer is noticed as Kafka would notice it, not intervals later).
 */
async function disconnect(rt: Runtime, connectionId: string): Promise<void> {
  const store = subscriptionStore(rt);
  const member = (await store.connection(connectionId))?.member;
  if (member) await groupsOf(rt).noticeConnectionClosed(member.groupId, member.memberId, connectionId);
  await store.closeConnection(connectionId);
}

async function connect(rt: Runtime, connectionId: string, headers: Record<string, string | undefined>): Promise<SocketResult> {
  let apiKeyId: string | undefined;
  if (rt.config.auth === 'keys') {
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) lower[k.toLowerCase()] = v;
    try {
      apiKeyId = (await authenticate({ headers: lower }, rt)).id;
    } catch (err) {
      if (err instanceof StrandError) return { statusCode: err.status, body: JSON.stringify(err.toBody()) };
      throw err;
    }
  }
  await subscriptionStore(rt).openConnection(connectionId, apiKeyId);
  return { statusCode: 200 };
}

async function message(rt: Runtime, poster: ConnectionPoster, connectionId: string, event: SocketEvent): Promise<SocketResult> {
  const text = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  let requestId: string | undefined;
  try {
    if (Buffer.byteLength(text) > messageBytesMax) throw new StrandError(ErrorCode.BodyTooLarge, `A message carries at most ${messageBytesMax} bytes.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new StrandError(ErrorCode.BadRequest, 'A message is one JSON object with an "action".');
    }
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { request_id?: unknown }).request_id === 'string') {
      requestId = (parsed as { request_id: string }).request_id.slice(0, 64);
    }
    const result = ClientMessageSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new StrandError(ErrorCode.BadRequest, `Not a valid message: ${issue ? `${issue.path.join('.') || 'action'}: ${issue.message}` : 'unknown action'}. Actions: subscribe, unsubscribe, ping.`);
    }
    const msg = result.data;
    switch (msg.action) {
      case 'ping':
        return reply({ type: 'pong', ...(requestId ? { request_id: requestId } : {}), connection_id: connectionId });
      case 'subscribe': {
        const watches = await subscribe(rt, poster, connectionId, msg.watches);
        return reply({ type: 'subscribed', ...(requestId ? { request_id: requestId } : {}), watches });
      }
      case 'unsubscribe': {
        const topics = await resolveTopics(rt, connectionId, msg.watches);
        const keys = msg.watches.map((w) => partitionKey(topics.get(w.topic_name)!, w.partition_id));
        await subscriptionStore(rt).unwatch(connectionId, keys);
        return reply({ type: 'unsubscribed', ...(requestId ? { request_id: requestId } : {}), watches: keys.length });
      }
    }
  } catch (err) {
    const known = err instanceof StrandError ? err : asStorageUnavailable(err);
    if (!known) rt.logger.error('notice socket: internal error', { error: err instanceof Error ? err.message : String(err) });
    const e = known ?? new StrandError(ErrorCode.Internal, 'Internal error.');
    return reply({ type: 'error', ...(requestId ? { request_id: requestId } : {}), error_code: e.code, message: e.message });
  }
}

/** The topics the watches name, each checked: known, partition in range, and (keys mode) consumable by the connection's key. */
async function resolveTopics(rt: Runtime, connectionId: string, watches: readonly Pick<Watch, 'topic_name' | 'partition_id'>[]): Promise<Map<string, Topic>> {
  const connection = await subscriptionStore(rt).connection(connectionId);
  if (!connection) throw new StrandError(ErrorCode.Unauthenticated, 'This connection is not open (it closed, or $connect did not finish): connect again.');
  const names = [...new Set(watches.map((w) => w.topic_name))];
  if (rt.config.auth === 'keys') {
    if (!connection.apiKeyId) throw new StrandError(ErrorCode.Unauthenticated, 'This connection did not authenticate: connect again with an API key.');
    assertKeyMay(await reauthenticate(connection.apiKeyId, rt), 'consume', names);
  }
  const topics = new Map<string, Topic>();
  for (const name of names) topics.set(name, await rt.engine.topics.getCached(name));
  for (const w of watches) {
    const topic = topics.get(w.topic_name)!;
    if (w.partition_id >= topic.partitionsCount) throw unknownPartition(w.topic_name, w.partition_id);
  }
  return topics;
}

async function subscribe(rt: Runtime, poster: ConnectionPoster, connectionId: string, watches: readonly Watch[]): Promise<number> {
  const topics = await resolveTopics(rt, connectionId, watches);
  const armed: ArmedWatch[] = watches.map((w) => ({
    headKey: partitionKey(topics.get(w.topic_name)!, w.partition_id),
    connectionId,
    topicName: w.topic_name,
    partition: w.partition_id,
    offset: w.offset,
  }));
  const store = subscriptionStore(rt);
  try {
    await store.arm(connectionId, armed);
  } catch (err) {
    if (err instanceof TooManyWatchesError) throw new StrandError(ErrorCode.InvalidValue, err.message);
    throw err;
  }
  // Armed first, read second: a commit after the read is seen by the notifier
  // (the watch exists by then); one before it is seen here.
  await mapBounded(armed, boundsReadsInFlightMax, async (w) => {
    const topic = topics.get(w.topicName)!;
    let bounds: { highWatermark: number; logStartOffset: number; deleted?: boolean };
    try {
      bounds = await rt.engine.bounds(topic, w.partition);
    } catch (err) {
      if (!(err instanceof PartitionDeletedError)) throw err;
      bounds = { highWatermark: 0, logStartOffset: 0, deleted: true };
    }
    if (!watchFires(w.offset, bounds)) return;
    const sent = await poster.post(connectionId, {
      type: 'moved',
      topic_name: w.topicName,
      partition_id: w.partition,
      high_watermark: bounds.highWatermark,
      log_start_offset: bounds.logStartOffset,
      ...(bounds.deleted ? { deleted: true as const } : {}),
    });
    if (sent === 'sent') await store.disarm(w);
  });
  return armed.length;
}
