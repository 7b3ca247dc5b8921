/**
 * The poster a runtime sends notices through, for code outside the notice
 * functions (the groups function nudges members): the local gateway's socket
 * when one was registered, else API Gateway's management endpoint from
 * STRAND_NOTIFICATIONS_ENDPOINT, else none (a deployment without a socket).
 */
import type { Runtime } from '../runtime';
import { apiGatewayPoster, type ConnectionPoster } from './ConnectionPoster';

const posters = new WeakMap<Runtime, ConnectionPoster>();

/** The local runtime registers its socket's poster (local/startLocalStrand.ts). */
export function registerNoticePoster(runtime: Runtime, poster: ConnectionPoster): void {
  posters.set(runtime, poster);
}

export function noticePosterOf(runtime: Runtime): ConnectionPoster | undefined {
  const known = posters.get(runtime);
  if (known) return known;
  const endpoint = runtime.config.notifications?.endpoint;
  if (!endpoint || !/^https:\/\//.test(endpoint)) return undefined;
  const poster = apiGatewayPoster(endpoint);
  posters.set(runtime, poster);
  return poster;
}
