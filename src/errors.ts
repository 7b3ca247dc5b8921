/**
 * Every failure Strand reports to a client is a StrandError carrying one of the
 * contract's error codes (../shared/api.md). The HTTP status is the first three
 * digits of the code, so the table below is the single place that maps domain
 * failures to the wire.
 */
export const ErrorCode = {
  BadRequest: 40001,
  InvalidValue: 40002,
  Unauthenticated: 40101,
  Forbidden: 40301,
  UnknownCluster: 40401,
  UnknownPartition: 40402,
  UnknownTopic: 40403,
  UnknownGroup: 40404,
  /** REST Proxy v2: Confluent answers an unknown consumer instance with 40403 (its "consumer instance not found"). */
  UnknownConsumerInstance: 40403,
  /** Not in the contract's table: an unknown API key id on the api-keys endpoint (docs/security.md). */
  UnknownApiKey: 40406,
  /** Not in the contract's table: an unknown trigger name (src/triggers/). */
  UnknownTrigger: 40407,
  /** Not in the contract's table: a config name no topic has (GET …/configs/{name}). */
  UnknownTopicConfig: 40408,
  /** REST Proxy v3: a broker id other than the API's own (src/api/resources.ts apiBrokerId). */
  UnknownBroker: 40409,
  MethodNotAllowed: 40501,
  TopicExists: 40902,
  /** REST Proxy v2: Confluent's "consumer instance already exists" is 40902. */
  ConsumerInstanceExists: 40902,
  /** REST Proxy v2: assign while subscribed, or subscribe while assigned ("mutually exclusive", Kafka's IllegalStateException). */
  SubscriptionConflict: 40903,
  /** Not in the contract's table: a trigger created under a name already taken. */
  TriggerExists: 40904,
  FencedMember: 40922,
  PartitionNotOwned: 40923,
  UnknownMember: 40924,
  GroupNotEmpty: 40925,
  ProducerFenced: 40926,
  BodyTooLarge: 41301,
  RecordTooLarge: 41302,
  UnsupportedMediaType: 41501,
  /** REST Proxy v2: the Accept header asks for another embedded format than the instance's (406 / 40601). */
  ConsumerFormatMismatch: 40601,
  /** REST Proxy v2: a key or value the instance's format cannot decode (kafka-rest answers Kafka's SerializationException with 408 / 40801). */
  DeserializationFailed: 40801,
  OffsetOutOfRange: 41601,
  CorruptBatch: 42201,
  /** Confluent's records:batch refusal: no entries, or two entries with one id (kafka-rest answers 422 / 42208). */
  InvalidProduceBatch: 42208,
  Throttled: 42901,
  Internal: 50001,
  StorageUnavailable: 50301,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function httpStatusOf(code: number): number {
  return Math.floor(code / 100);
}

export interface StrandErrorOptions {
  /** Extra fields merged into the JSON error body (e.g. log_start_offset). */
  details?: Record<string, unknown>;
  /** Response headers to send with the error (e.g. Retry-After). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class StrandError extends Error {
  override name = 'StrandError';
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: StrandErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return httpStatusOf(this.code);
  }

  /** A client may safely send the same request again. */
  get retriable(): boolean {
    return this.code === ErrorCode.Throttled || this.code === ErrorCode.StorageUnavailable;
  }

  toBody(): Record<string, unknown> {
    return { error_code: this.code, message: this.message, ...this.details };
  }
}

export const badRequest = (message: string) => new StrandError(ErrorCode.BadRequest, message);
export const invalidValue = (message: string) => new StrandError(ErrorCode.InvalidValue, message);
export const unknownTopic = (topic: string) =>
  new StrandError(ErrorCode.UnknownTopic, `Topic '${topic}' not found.`);
export const unknownPartition = (topic: string, partition: number) =>
  new StrandError(ErrorCode.UnknownPartition, `Partition ${partition} of topic '${topic}' not found.`);

/** Raised by the RecordBatch codec for bad magic, lengths, CRC-32C or varints. */
export class CorruptBatchError extends StrandError {
  override name = 'CorruptBatchError';
  constructor(message: string) {
    super(ErrorCode.CorruptBatch, message);
  }
}

/**
 * A codec stopped at its output bound: the records section inflates past it (or,
 * uncompressed, is longer). Corrupt for a batch alone; a DecompressionBudget
 * (src/codec/compression.ts) answers 41301 instead when the request's budget,
 * not the per-batch ceiling, was the tighter bound.
 */
export class DecompressedTooLargeError extends CorruptBatchError {
  override name = 'DecompressedTooLargeError';
}

export class OffsetOutOfRangeError extends StrandError {
  override name = 'OffsetOutOfRangeError';
  constructor(offset: number, logStartOffset: number, highWatermark: number) {
    super(
      ErrorCode.OffsetOutOfRange,
      `Offset ${offset} is out of range: the log starts at ${logStartOffset} and ends at ${highWatermark}.`,
      { details: { log_start_offset: logStartOffset, high_watermark: highWatermark } },
    );
  }
}

/**
 * A failure of S3 or DynamoDB that a retry may cure (throttling, 5xx, timeouts,
 * resets). Clients see 503 / 50301, never a 500, for these.
 */
export class StorageUnavailableError extends StrandError {
  override name = 'StorageUnavailableError';
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.StorageUnavailable, message, { cause, headers: { 'Retry-After': '1' } });
  }
}
