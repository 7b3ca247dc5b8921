/**
 * Lambda adapters for the notice socket (functions/notices.ts) and the
 * notifier (functions/notifier.ts). On AWS notices go out through API
 * Gateway's management endpoint, STRAND_NOTIFICATIONS_ENDPOINT.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { Runtime } from '../runtime';
import type { ConnectionPoster } from './ConnectionPoster';
import { noticePosterOf } from './noticePoster';
import { notifyWatchers } from './notifier';
import { createSocketHandler } from './socketHandlers';

function posterFor(runtime: () => Runtime): () => ConnectionPoster {
  let poster: ConnectionPoster | undefined;
  return () => {
    if (poster) return poster;
    poster = noticePosterOf(runtime());
    if (!poster) throw new Error('STRAND_NOTIFICATIONS_ENDPOINT is not set: the stack sets it on the notice functions.');
    return poster;
  };
}

export function createNoticeSocketHandler(runtime: () => Runtime) {
  return createSocketHandler(runtime, posterFor(runtime));
}

export function createNotifierHandler(runtime: () => Runtime) {
  const poster = posterFor(runtime);
  return async (event: DynamoDBStreamEvent) => {
    const rt = runtime();
    const result = await notifyWatchers(rt, poster(), event.Records);
    rt.logger.debug('notifier', { ...result });
    return result;
  };
}
