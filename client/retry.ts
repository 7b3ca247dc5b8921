/**
 * Retry policy: exponential backoff with jitter, bounded in attempts and in
 * time. The option names are kafkajs's (`retry: { retries, initialRetryTime,
 * maxRetryTime, factor, multiplier }`) so kafkajs users can reuse theirs.
 */
export interface RetryOptions {
  /** Retries after the first attempt. @default 5 */
  retries?: number;
  /** Delay before the first retry, in ms. @default 100 */
  initialRetryTime?: number;
  /** Ceiling on one delay, in ms. @default 30000 */
  maxRetryTime?: number;
  /** Jitter: each delay is randomized within ±factor of itself. @default 0.2 */
  factor?: number;
  /** Growth of the delay per retry. @default 2 */
  multiplier?: number;
}

export type RetryPolicy = Required<RetryOptions>;

/** Upper bound on `retries`, whatever the caller asks for. */
export const retriesMax = 50;

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy: RetryPolicy = {
    retries: Math.min(options.retries ?? 5, retriesMax),
    initialRetryTime: options.initialRetryTime ?? 100,
    maxRetryTime: options.maxRetryTime ?? 30_000,
    factor: options.factor ?? 0.2,
    multiplier: options.multiplier ?? 2,
  };
  if (!(Number.isInteger(policy.retries) && policy.retries >= 0)) throw new RangeError(`retry.retries must be a non-negative integer, not ${policy.retries}`);
  if (!(policy.initialRetryTime >= 0)) throw new RangeError(`retry.initialRetryTime must be >= 0, not ${policy.initialRetryTime}`);
  if (!(policy.factor >= 0 && policy.factor <= 1)) throw new RangeError(`retry.factor must be within [0, 1], not ${policy.factor}`);
  if (!(policy.multiplier >= 1)) throw new RangeError(`retry.multiplier must be >= 1, not ${policy.multiplier}`);
  return policy;
}

/**
 * Delay before retry number `attempt` (0 = the first retry): initial × multiplier^attempt,
 * randomized by ±factor, capped at maxRetryTime. A server's Retry-After, when
 * larger, wins (still capped).
 */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfterSeconds?: number, random: () => number = Math.random): number {
  const base = policy.initialRetryTime * Math.pow(policy.multiplier, attempt);
  const jittered = base * (1 - policy.factor + 2 * policy.factor * random());
  const fromServer = retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) ? retryAfterSeconds * 1000 : 0;
  return Math.round(Math.min(policy.maxRetryTime, Math.max(jittered, fromServer)));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
