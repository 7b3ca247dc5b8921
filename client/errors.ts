/**
 * Typed errors for the SDK. Every HTTP failure the server reports carries one
 * of the contract's error codes (shared/api.md); the SDK turns it into a
 * `StrandApiError`, or the subclass for codes a caller is likely to handle
 * (`UnknownTopicError`, `OffsetOutOfRangeError`, …). A request that never got a
 * response is a `StrandConnectionError`.
 *
 * The code table is the server's own (`src/errors.ts`), so the two cannot drift.
 */
import { ErrorCode } from '../src/errors';

export { ErrorCode };

export interface StrandApiErrorOptions {
  /** The whole JSON error body (extra fields such as log_start_offset live here). */
  body?: Record<string, unknown>;
  /** Seconds from a Retry-After header, when the server sent one. */
  retryAfterSeconds?: number;
  method?: string;
  path?: string;
  cause?: unknown;
}

/** Base class of every error the SDK throws. */
export class StrandClientError extends Error {
  override name = 'StrandClientError';
  /** Sending the same request again may succeed. */
  readonly retriable: boolean = false;
}

/** The server answered with an error status and (usually) a contract error body. */
export class StrandApiError extends StrandClientError {
  override name = 'StrandApiError';
  override readonly retriable: boolean;
  readonly body: Record<string, unknown>;
  readonly retryAfterSeconds: number | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(
    /** The contract's error code (e.g. 40403), or the bare HTTP status when the body had none. */
    readonly code: number,
    /** HTTP status. */
    readonly status: number,
    message: string,
    options: StrandApiErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.body = options.body ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.method = options.method;
    this.path = options.path;
    this.retriable = isRetriableStatus(status);
  }
}

export class UnknownClusterError extends StrandApiError {
  override name = 'UnknownClusterError';
}
export class UnknownTopicError extends StrandApiError {
  override name = 'UnknownTopicError';
}
export class UnknownPartitionError extends StrandApiError {
  override name = 'UnknownPartitionError';
}
export class UnknownGroupError extends StrandApiError {
  override name = 'UnknownGroupError';
}
export class TopicExistsError extends StrandApiError {
  override name = 'TopicExistsError';
}
export class InvalidRequestError extends StrandApiError {
  override name = 'InvalidRequestError';
}
export class AuthenticationError extends StrandApiError {
  override name = 'AuthenticationError';
}
export class AuthorizationError extends StrandApiError {
  override name = 'AuthorizationError';
}
/** 40922 (stale member epoch, member gone), 40924 (unknown member): rejoin the group. */
export class FencedMemberError extends StrandApiError {
  override name = 'FencedMemberError';
}
export class PartitionNotOwnedError extends StrandApiError {
  override name = 'PartitionNotOwnedError';
}
export class GroupNotEmptyError extends StrandApiError {
  override name = 'GroupNotEmptyError';
}
/** 40926: the producer id was fenced or a sequence arrived out of order. */
export class ProducerFencedError extends StrandApiError {
  override name = 'ProducerFencedError';
}
export class RecordTooLargeError extends StrandApiError {
  override name = 'RecordTooLargeError';
}
export class CorruptBatchError extends StrandApiError {
  override name = 'CorruptBatchError';
}
export class ThrottledError extends StrandApiError {
  override name = 'ThrottledError';
}
export class StorageUnavailableError extends StrandApiError {
  override name = 'StorageUnavailableError';
}

/** 41601: the offset is below the log start or above the high watermark. */
export class OffsetOutOfRangeError extends StrandApiError {
  override name = 'OffsetOutOfRangeError';
  get logStartOffset(): number {
    return Number(this.body.log_start_offset);
  }
  get highWatermark(): number {
    return Number(this.body.high_watermark);
  }
}

type ApiErrorClass = new (code: number, status: number, message: string, options?: StrandApiErrorOptions) => StrandApiError;

/** Contract error code → the class the SDK throws for it. Codes not listed are plain StrandApiError. */
export const errorClassByCode: Readonly<Record<number, ApiErrorClass>> = {
  [ErrorCode.BadRequest]: InvalidRequestError,
  [ErrorCode.InvalidValue]: InvalidRequestError,
  [ErrorCode.Unauthenticated]: AuthenticationError,
  [ErrorCode.Forbidden]: AuthorizationError,
  [ErrorCode.UnknownCluster]: UnknownClusterError,
  [ErrorCode.UnknownPartition]: UnknownPartitionError,
  [ErrorCode.UnknownTopic]: UnknownTopicError,
  [ErrorCode.UnknownGroup]: UnknownGroupError,
  [ErrorCode.TopicExists]: TopicExistsError,
  [ErrorCode.FencedMember]: FencedMemberError,
  [ErrorCode.UnknownMember]: FencedMemberError,
  [ErrorCode.PartitionNotOwned]: PartitionNotOwnedError,
  [ErrorCode.GroupNotEmpty]: GroupNotEmptyError,
  [ErrorCode.ProducerFenced]: ProducerFencedError,
  [ErrorCode.RecordTooLarge]: RecordTooLargeError,
  [ErrorCode.OffsetOutOfRange]: OffsetOutOfRangeError,
  [ErrorCode.CorruptBatch]: CorruptBatchError,
  [ErrorCode.Throttled]: ThrottledError,
  [ErrorCode.StorageUnavailable]: StorageUnavailableError,
};

/** 429 and 503 are safe to send again (the contract says so for 42901 and 50301). */
export function isRetriableStatus(status: number): boolean {
  return status === 429 || status === 503;
}

/** Builds the typed error for an HTTP error response. */
export function apiErrorFrom(
  status: number,
  body: unknown,
  context: { method?: string; path?: string; retryAfterSeconds?: number } = {},
): StrandApiError {
  const obj = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const code = typeof obj.error_code === 'number' ? obj.error_code : status;
  const serverMessage = typeof obj.message === 'string' ? obj.message : undefined;
  const message = serverMessage ?? `${context.method ?? 'request'} ${context.path ?? ''} failed with HTTP ${status}`.trim();
  const Cls = errorClassByCode[code] ?? StrandApiError;
  return new Cls(code, status, message, { body: obj, ...context });
}

/** The request never got an HTTP response: refused, reset, DNS, timeout. */
export class StrandConnectionError extends StrandClientError {
  override name = 'StrandConnectionError';
  override readonly retriable = true;
  constructor(
    readonly url: string,
    /** Node's error code when known (ECONNREFUSED, ECONNRESET, ENOTFOUND, …). */
    readonly errno: string | undefined,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }

  get refused(): boolean {
    return this.errno === 'ECONNREFUSED';
  }
}

/** The client was used after close(), or given options it cannot honour. */
export class StrandUsageError extends StrandClientError {
  override name = 'StrandUsageError';
}
