/**
 * GET /v3/clusters/{cluster_id}/notifications: where a waiting consumer gets
 * notices instead of long-polling (docs/notifications.md). 404 / 40401 on a
 * deployment without a notice socket: clients then long-poll.
 */
import { ErrorCode, StrandError } from '../errors';
import { connectionLifetimeMsMax, keepaliveIntervalMs, messageBytesMax, watchesPerConnectionMax, watchesPerMessageMax } from '../notify/protocol';
import type { Operation } from './operations';
import { assertCluster } from './request';

export const notificationOperations: Record<string, Operation> = {
  'GET /v3/clusters/{cluster_id}/notifications': async (req, runtime) => {
    assertCluster(req, runtime);
    const notifications = runtime.config.notifications;
    if (!notifications) throw new StrandError(ErrorCode.UnknownCluster, 'This deployment has no notice socket: wait with max_wait_ms (long polling).');
    return {
      status: 200,
      json: {
        kind: 'KafkaNotifications',
        url: notifications.url,
        keepalive_interval_ms: keepaliveIntervalMs,
        connection_lifetime_ms_max: connectionLifetimeMsMax,
        message_bytes_max: messageBytesMax,
        watches_per_message_max: watchesPerMessageMax,
        watches_per_connection_max: watchesPerConnectionMax,
      },
    };
  },
};
