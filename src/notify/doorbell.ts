/**
 * A server-side long poll that waits like the SDK does: the function handling
 * a plain-HTTP long poll (v3 `max_wait_ms`, REST Proxy v2 `records?timeout=`)
 * connects to the notice socket as a client, arms watches on the partitions
 * it waits for, and sleeps until a notice or its deadline. It reads no
 * partition head while it waits, however long and however many partitions.
 * The function is still held for the wait (Lambda time: the costly path for
 * plain-HTTP clients, docs/notifications.md), but its storage reads are
 * bounded by commits, not by time.
 *
 * It connects as the caller: with API keys, with the caller's key (so the
 * socket checks the same consume permission); behind IAM, signed with the
 * function's own role (allowed $connect by the stack). Anything that keeps it
 * from connecting answers 'unavailable', and the wait polls within the read
 * budget instead (src/log/waitForAnyData.ts).
 */
import WebSocket from 'ws';
import type { ApiRequest } from '../api/http';
import { presentedKey } from '../auth/authorize';
import type { Runtime } from '../runtime';
import { watchesPerMessageMax } from './protocol';

/** Where a wait is, for its doorbell: the partition and the offset past which it wants records. */
export interface DoorbellWatch {
  topicName: string;
  partition: number;
  offset: number;
}

/** Rings when a watched partition moved ('moved'), or not ('timeout'), or cannot be used ('unavailable'). */
export type Doorbell = (watches: readonly DoorbellWatch[], maxWaitMs: number, signal?: AbortSignal) => Promise<'moved' | 'timeout' | 'unavailable'>;

/** How long connecting and arming may take before the wait polls instead. */
export const doorbellSetupMsMax = 2_000;

/** The doorbell for one request, or none where there is no notice socket. */
export function doorbellFor(runtime: Runtime, req: Pick<ApiRequest, 'headers'>): Doorbell | undefined {
  const url = runtime.config.notifications?.url;
  if (!url) return undefined;
  return async (watches, maxWaitMs, signal) => {
    if (watches.length === 0 || maxWaitMs <= 0) return 'timeout';
    let headers: Record<string, string>;
    try {
      headers = await connectHeaders(runtime, req, url);
    } catch (err) {
      runtime.logger.warn('doorbell: no credentials for the notice socket', { error: String(err) });
      return 'unavailable';
    }
    return ring(url, headers, watches, maxWaitMs, signal);
  };
}

async function connectHeaders(runtime: Runtime, req: Pick<ApiRequest, 'headers'>, url: string): Promise<Record<string, string>> {
  if (runtime.config.auth === 'keys') {
    const key = presentedKey(req);
    return key ? { authorization: `Bearer ${key}` } : {};
  }
  // A deployed socket (wss://) behind IAM: sign the upgrade with the function's role.
  if (!url.startsWith('wss://')) return {};
  return signUpgrade(url);
}

let signer: ((url: string) => Promise<Record<string, string>>) | undefined;
async function signUpgrade(url: string): Promise<Record<string, string>> {
  if (!signer) {
    // Loaded only where a deployed socket is used: the credential chain is heavy.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { SignatureV4 } = require('@smithy/signature-v4') as typeof import('@smithy/signature-v4');
    const { Sha256 } = require('@aws-crypto/sha256-js') as typeof import('@aws-crypto/sha256-js');
    const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const v4 = new SignatureV4({ credentials: defaultProvider(), region: process.env.AWS_REGION ?? 'us-east-1', service: 'execute-api', sha256: Sha256 });
    signer = async (u) => {
      const https = new URL(u.replace(/^wss?/, 'https'));
      const signed = await v4.sign({ method: 'GET', protocol: 'https:', hostname: https.hostname, path: https.pathname, query: {}, headers: { host: https.host } });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') out[k] = String(v);
      return out;
    };
  }
  return signer(url);
}

function ring(url: string, headers: Record<string, string>, watches: readonly DoorbellWatch[], maxWaitMs: number, signal?: AbortSignal): Promise<'moved' | 'timeout' | 'unavailable'> {
  return new Promise((resolve) => {
    let done = false;
    let armed = 0;
    const socket = new WebSocket(url, { headers, handshakeTimeout: doorbellSetupMsMax });
    const finish = (outcome: 'moved' | 'timeout' | 'unavailable') => {
      if (done) return;
      done = true;
      clearTimeout(setupTimer);
      clearTimeout(waitTimer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.terminate();
      resolve(outcome);
    };
    const onAbort = () => finish('timeout');
    const setupTimer = setTimeout(() => finish('unavailable'), doorbellSetupMsMax);
    const waitTimer = setTimeout(() => finish('timeout'), maxWaitMs);
    if (signal?.aborted) return finish('timeout');
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', () => finish('unavailable'));
    socket.on('unexpected-response', () => finish('unavailable'));
    socket.on('close', () => finish('unavailable'));
    socket.on('open', () => {
      for (let i = 0; i < watches.length; i += watchesPerMessageMax) {
        socket.send(
          JSON.stringify({
            action: 'subscribe',
            request_id: `w${i}`,
            watches: watches.slice(i, i + watchesPerMessageMax).map((w) => ({ topic_name: w.topicName, partition_id: w.partition, offset: w.offset })),
          }),
        );
      }
    });
    socket.on('message', (data) => {
      let m: { type?: string };
      try {
        m = JSON.parse(String(data));
      } catch {
        return;
      }
      if (m.type === 'moved') return finish('moved');
      if (m.type === 'error') return finish('unavailable');
      if (m.type === 'subscribed' && ++armed * watchesPerMessageMax >= watches.length) clearTimeout(setupTimer);
    });
  });
}
