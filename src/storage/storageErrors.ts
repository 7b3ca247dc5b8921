/**
 * Classifies failures of the AWS SDK clients. A storage fault a retry may cure
 * (throttling, 5xx, timeouts, connection resets) becomes StorageUnavailableError,
 * which clients see as 503 / 50301 — never a 500.
 */
import { StorageUnavailableError } from '../errors';

const throttlingNames = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'RequestThrottled',
  'RequestThrottledException',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
  'InternalError',
]);

const networkCodes = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

const sdkWrapperOfNetworkError = new RegExp(`^AWS SDK error wrapper for .*\\b(${[...networkCodes].join('|')})\\b`);

interface SdkLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** How deep `cause` and AggregateError `errors` are followed. */
const causeDepthMax = 3;

export function isTransientStorageError(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as SdkLikeError;
  if (e.name && throttlingNames.has(e.name)) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.name === 'RequestTimeout') return true;
  if (e.code && networkCodes.has(e.code)) return true;
  // The SDK's retry middleware wraps a non-Error rejection (e.g. an error from another
  // realm, as under Jest's VM) as `AWS SDK error wrapper for <text>`: only the text survives.
  if (typeof (err as Error).message === 'string' && sdkWrapperOfNetworkError.test((err as Error).message)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  // Wrapped network failures: an Error whose cause is ECONNREFUSED, or Node's
  // AggregateError from trying several addresses (happy eyeballs).
  if (depth >= causeDepthMax) return false;
  // Array.isArray, not instanceof: an error from another realm (Jest's VM) carries another realm's Array.
  const errors = (err as { errors?: unknown }).errors;
  const nested = [(err as { cause?: unknown }).cause, ...(Array.isArray(errors) ? (errors as unknown[]) : [])];
  return nested.some((n) => n !== undefined && isTransientStorageError(n, depth + 1));
}

export function asStorageUnavailable(err: unknown): StorageUnavailableError | undefined {
  if (!isTransientStorageError(err)) return undefined;
  const name = (err as SdkLikeError).name ?? 'error';
  return new StorageUnavailableError(`Storage is temporarily unavailable (${name}); the request is safe to retry.`, err);
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as SdkLikeError).name === 'ConditionalCheckFailedException';
}

/**
 * Runs a conditional write: true when it was applied, false when its condition
 * failed (someone else got there first); any other failure is thrown.
 */
export async function conditionally(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}
