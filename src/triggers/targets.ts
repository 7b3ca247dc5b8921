/**
 * Sending one event to a trigger's target. A delivery succeeds when the target
 * accepts it (a webhook answers 2xx; a handler returns or resolves); anything
 * else — an error status, a throw, a timeout, an abort — is a failure the
 * runner retries. The target's answer (a webhook's JSON body, a handler's
 * return value, a function's payload) is returned: it may report a partial
 * batch failure (src/triggers/batchItemFailures.ts).
 *
 *   http    POST the event as JSON, signed (src/triggers/signature.ts) when the
 *           trigger has a secret; X-Strand-Delivery names the batch, the same on
 *           every retry, so a receiver can drop a duplicate.
 *   module  a Lambda-style handler loaded with require, `handler(event, context)`
 *           (or with a callback, as Node.js Lambda handlers may), local only.
 *   lambda  Lambda's Invoke (RequestResponse), on AWS only (src/triggers/lambdaTarget.ts).
 *   s3      the archive: not an event but gzip NDJSON objects (src/triggers/archive.ts,
 *           called by partitionDelivery.ts).
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { signPayload, signatureHeader } from './signature';
import { invokeLambdaTarget } from './lambdaTarget';
import type { KafkaEvent } from './kafkaEvent';
import type { Target } from './triggerSpec';

/** Characters of a webhook's error answer kept in the failure message (and a dead letter's `strand.error`). */
const errorBodyCharsMax = 200;
/**
 * The most of a webhook's answer read: Lambda's own bound on a function's
 * response (6 MB), so an HTTP target may answer what a Lambda target may. A
 * longer answer fails the delivery (it is retried) instead of filling memory.
 */
export const webhookAnswerBytesMax = 6 * 1024 * 1024;

export interface Delivery {
  triggerName: string;
  /** `<trigger>/<topic>/<partition>/<first offset>-<last offset>`: the same for every retry of the same records. */
  deliveryId: string;
  /** Aborted when the runtime stops: the delivery counts as failed and is not committed. */
  signal: AbortSignal;
  timeoutMs: number;
  nowMs: number;
}

export interface TargetOptions {
  /** Where module paths are resolved from. @default process.cwd() */
  moduleRoot?: string;
}

export class DeliveryFailedError extends Error {
  override name = 'DeliveryFailedError';
}

/** Delivers; resolves with the target's answer (undefined when it gave none), rejects with DeliveryFailedError. */
export async function deliverEvent(target: Target, event: KafkaEvent, delivery: Delivery, options: TargetOptions = {}): Promise<unknown> {
  // One controller per delivery, detached from the runtime's signal afterwards: the
  // runtime's signal outlives every delivery and must not collect listeners.
  const controller = new AbortController();
  const abort = () => controller.abort(new DeliveryFailedError('delivery aborted'));
  if (delivery.signal.aborted) abort();
  delivery.signal.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(() => controller.abort(new DeliveryFailedError(`target did not answer within ${delivery.timeoutMs} ms`)), delivery.timeoutMs);
  try {
    switch (target.type) {
      case 'http':
        return await postWebhook(target, event, delivery, controller.signal);
      case 'module':
        return await callModule(target.handler, event, delivery, controller.signal, options.moduleRoot ?? process.cwd());
      case 'lambda':
        // Lambda's Invoke (src/triggers/lambdaTarget.ts): only the dispatcher on AWS has lambda targets; a local Strand refuses them at create.
        return await invokeLambdaTarget(target, event, controller.signal);
      case 's3':
        // The archive writes records, not an event: partitionDelivery calls src/triggers/archive.ts instead.
        throw new DeliveryFailedError('s3 targets are written by the archive (src/triggers/archive.ts), not sent an event');
    }
  } finally {
    clearTimeout(timer);
    delivery.signal.removeEventListener('abort', abort);
  }
}

async function postWebhook(target: Extract<Target, { type: 'http' }>, event: KafkaEvent, delivery: Delivery, signal: AbortSignal): Promise<unknown> {
  const body = JSON.stringify(event);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'strand-trigger',
    'x-strand-trigger': delivery.triggerName,
    'x-strand-delivery': delivery.deliveryId,
  };
  if (target.secret !== undefined) headers[signatureHeader] = signPayload(target.secret, body, delivery.nowMs);
  let res: Response;
  try {
    res = await fetch(target.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
  } catch (err) {
    throw new DeliveryFailedError(`webhook ${target.url} did not answer: ${signal.aborted ? describe(signal.reason) : describe(err)}`);
  }
  const text = await boundedText(res, webhookAnswerBytesMax);
  if (res.status < 200 || res.status > 299) {
    throw new DeliveryFailedError(`webhook answered ${res.status}${text ? `: ${text.slice(0, errorBodyCharsMax)}` : ''}`);
  }
  return jsonAnswer(text);
}

/** The answer's body as text, at most `max` bytes; a longer one is a failed delivery. */
async function boundedText(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > max) throw new DeliveryFailedError(`webhook answered more than ${max} bytes`);
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    if (err instanceof DeliveryFailedError) {
      await res.body.cancel().catch(() => undefined);
      throw err;
    }
    return Buffer.concat(chunks).toString('utf8'); // the connection broke mid-answer: what arrived, as before
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A 2xx body that is a JSON object (a partial batch failure answer), else undefined: any other body is a plain success. */
export function jsonAnswer(text: string): unknown {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

type LambdaCallback = (err?: unknown, result?: unknown) => void;
type LambdaHandler = (event: unknown, context: unknown, callback?: LambdaCallback) => unknown;

/** `./handlers/orders.ts#handler` → the module's `handler` export. Loaded once per process (require caches it). */
export function loadHandler(spec: string, moduleRoot: string): LambdaHandler {
  const hash = spec.lastIndexOf('#');
  const path = spec.slice(0, hash);
  const name = spec.slice(hash + 1);
  const file = isAbsolute(path) ? path : resolve(moduleRoot, path);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as Record<string, unknown>;
  const fn = mod[name];
  if (typeof fn !== 'function') throw new DeliveryFailedError(`module ${path} has no function export '${name}'`);
  return fn as LambdaHandler;
}

async function callModule(spec: string, event: KafkaEvent, delivery: Delivery, signal: AbortSignal, moduleRoot: string): Promise<unknown> {
  let handler: LambdaHandler;
  try {
    handler = loadHandler(spec, moduleRoot);
  } catch (err) {
    throw new DeliveryFailedError(`cannot load handler ${spec}: ${describe(err)}`);
  }
  const deadline = delivery.nowMs + delivery.timeoutMs;
  const functionName = `trigger-${delivery.triggerName}`;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  const run = new Promise<unknown>((resolveRun, rejectRun) => {
    // A handler taking a callback (Node.js Lambda's older style) finishes when it calls it.
    const callback: LambdaCallback = (err, result) => (err ? rejectRun(err) : resolveRun(result));
    try {
      const out = handler.length >= 3 ? handler(event, context, callback) : handler(event, context);
      if (handler.length < 3) Promise.resolve(out).then(resolveRun, rejectRun);
    } catch (err) {
      rejectRun(err);
    }
  });
  const stopped = new Promise<never>((_, rejectStop) => {
    const stop = () => rejectStop(signal.reason instanceof DeliveryFailedError ? signal.reason : new DeliveryFailedError('delivery aborted'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  try {
    return await Promise.race([run, stopped]);
  } catch (err) {
    throw err instanceof DeliveryFailedError ? err : new DeliveryFailedError(`handler failed: ${describe(err)}`);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
