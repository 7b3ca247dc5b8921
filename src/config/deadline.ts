/**
 * Every request has a deadline: the time its function has left (Lambda's
 * `context.getRemainingTimeInMillis()`, or the local gateway's same clock) less
 * a margin to answer. Work under it reads it from AsyncLocalStorage, so no
 * signature between the handler and the SDK clients has to carry it: storage
 * attempts stop at it (src/storage/clients.ts) and long polls end before it.
 *
 * Why: storage may take 10 s × 3 attempts, more than produce's 15 s. Without a
 * deadline Lambda kills the function first and the client sees the gateway's
 * 500 instead of the retriable 503/50301 the request deserved.
 */
import { setMaxListeners } from 'node:events';
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Time kept back from the function's remaining time to turn a failure into an
 * answer and hand it to Lambda (serializing up to 6 MB of response included).
 */
export const answerMarginMs = 1_000;

/**
 * Time a long poll leaves for the read after it (up to 4 MiB from S3): the wait
 * ends this long before the deadline, whatever `max_wait_ms` asked.
 */
export const longPollReadReserveMs = 3_000;

export interface Deadline {
  /** Wall-clock ms (Date.now()) by which the request must have its answer. */
  readonly at: number;
  /** Aborted at `at`. */
  readonly signal: AbortSignal;
}

/** The error a deadline aborts with: named AbortError, as the SDK's own aborts, so storage classifies it as transient (503). */
export class DeadlineExceededError extends Error {
  override readonly name = 'AbortError';
  constructor(message = 'The request reached its deadline.') {
    super(message);
  }
}

const current = new AsyncLocalStorage<Deadline>();

/** Storage attempts of one request that may wait on its deadline at once: above every fan-out's bound added together. */
const deadlineListenersMax = 256;

/**
 * Runs `work` with a deadline `remainingMs - answerMarginMs` from now (at least
 * zero: a request with no time left fails its first storage call at once).
 */
export function withDeadline<T>(remainingMs: number, work: () => Promise<T>): Promise<T> {
  const budgetMs = Math.max(0, remainingMs - answerMarginMs);
  const controller = new AbortController();
  // Every storage attempt of the request listens on this one signal, many at
  // once in a fan-out (bounded by mapBounded's limits, each removed when its
  // attempt ends): Node's default warning at 11 listeners is noise here.
  setMaxListeners(deadlineListenersMax, controller.signal);
  const timer = setTimeout(() => controller.abort(new DeadlineExceededError()), budgetMs);
  timer.unref();
  return current.run({ at: Date.now() + budgetMs, signal: controller.signal }, work).finally(() => clearTimeout(timer));
}

/** The deadline of the request being served, if it has one (maintenance passes and tests may not). */
export function currentDeadline(): Deadline | undefined {
  return current.getStore();
}

/** Ms left before the deadline; Infinity without one. */
export function remainingMs(): number {
  const deadline = current.getStore();
  return deadline === undefined ? Infinity : Math.max(0, deadline.at - Date.now());
}

/** A long poll's wait, shortened so that it and the read after it end before the deadline. */
export function longPollWithinDeadline(maxWaitMs: number): number {
  return Math.max(0, Math.min(maxWaitMs, remainingMs() - longPollReadReserveMs));
}
