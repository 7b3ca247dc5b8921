/**
 * A trigger: what it delivers (a topic), where (a target) and how (batching,
 * retries, dead letters). Pure: the request schemas, their defaults and bounds,
 * and the resource a GET answers. docs/triggers.md describes every field.
 *
 *   Trigger => name, topicName | topicPattern, target, batchSize, maxBatchingWindowMs,
 *              startingPosition, maxRetryAttempts, maxRecordAgeMs,
 *              bisectBatchOnError, deadLetterTopic?, state, createdAt, updatedAt
 *   Target  => http { url, secret? } | module { handler } | lambda { functionArn }
 *            | s3 { bucket, prefix } (the archive: src/triggers/archive.ts)
 */
import { z } from 'zod';
import { compileTopicPattern as compileGroupTopicPattern, topicPatternCharsMax } from '../groups/topicPattern';

/** Records one delivery carries at most, as Lambda's Kafka event source mappings allow (1–10,000). */
export const batchSizeMax = 10_000;
export const batchSizeDefault = 100;
/** How long a partition may wait to fill a batch (Lambda's MaximumBatchingWindowInSeconds: up to 300 s). */
export const batchingWindowMsMax = 300_000;
/** Retries of a failing batch before its records go to the dead-letter topic (Lambda allows up to 10,000). */
export const retryAttemptsMax = 10_000;
/** With a dead-letter topic: retries before dead-lettering. Without one the default is forever (-1), so no default drops a record. */
export const retryAttemptsWithDeadLetterDefault = 3;
/** Records older than this are never delivered (Lambda's MaximumRecordAgeInSeconds: up to 7 days). */
export const recordAgeMsMax = 7 * 24 * 3_600_000;
/** A trigger's name becomes part of its group id (`trigger-<name>`), which must stay a valid name (249 characters). */
export const triggerNameCharsMax = 200;
/** Webhook secrets: long enough to be a key, short enough for a header-sized HMAC key. */
const secretCharsMin = 16;
const secretCharsMax = 256;
const urlCharsMax = 2_048;
const handlerCharsMax = 1_024;

export const triggerNamePattern = /^[a-zA-Z0-9._-]+$/;

/**
 * Topic patterns are the v2 consumer subscriptions' (src/groups/topicPattern.ts):
 * JavaScript regular expressions matched against the whole name
 * (`^(?:<pattern>)$`, as Kafka's `subscribe(Pattern)`), at most 255
 * characters, and refused (40002) when matching could backtrack
 * exponentially or worse than cubically (nested repetitions, more than three
 * repetitions, backreferences, lookarounds): the runner matches them against
 * every topic name.
 */
export { topicPatternCharsMax };

/** The pattern as the runner matches it: anchored to the whole topic name. Throws 40002 naming why a pattern is refused. */
export function compileTopicPattern(pattern: string): RegExp {
  let re = compiledPatterns.get(pattern);
  if (!re) {
    re = compileGroupTopicPattern(pattern);
    if (compiledPatterns.size >= compiledPatternsMax) compiledPatterns.clear();
    compiledPatterns.set(pattern, re);
  }
  return re;
}
/** Compiled patterns kept (a cluster has at most 1,000 triggers). */
const compiledPatternsMax = 1_000;
const compiledPatterns = new Map<string, RegExp>();

/** Does the trigger deliver this topic's records (its topic, or a name its pattern matches)? */
export function triggerCoversTopic(t: Pick<Trigger, 'topicName' | 'topicPattern'>, topicName: string): boolean {
  if (t.topicName !== undefined) return t.topicName === topicName;
  return t.topicPattern !== undefined && compileTopicPattern(t.topicPattern).test(topicName);
}

/** The consumer group that holds a trigger's progress: lag shows in the usual group APIs. */
export function triggerGroupId(name: string): string {
  return `trigger-${name}`;
}

const httpTarget = z.object({
  type: z.literal('http'),
  url: z
    .string()
    .max(urlCharsMax)
    .refine((u) => /^https?:\/\/[^\s]+$/i.test(u) && URL.canParse(u), { message: 'must be an http:// or https:// URL' }),
  secret: z.string().min(secretCharsMin).max(secretCharsMax).optional(),
});
/** `./handlers/orders.ts#handler`: a module path (relative to the local Strand's working directory) and an export. */
const moduleTarget = z.object({
  type: z.literal('module'),
  handler: z
    .string()
    .max(handlerCharsMax)
    .regex(/^[^#]+#[A-Za-z_$][\w$]*$/, { message: "must be '<module path>#<export name>'" }),
});
const lambdaTarget = z.object({
  type: z.literal('lambda'),
  function_arn: z
    .string()
    .max(handlerCharsMax)
    .regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/, { message: 'must be a Lambda function ARN' }),
});
/** The archive's default key prefix in the bucket. */
export const archivePrefixDefault = 'archive/';
const prefixCharsMax = 512;
/**
 * The S3 sink ("the archive", src/triggers/archive.ts): gzip NDJSON objects under
 * `<prefix>topic=<topic>/dt=…/hour=…/`. No bucket: the deployment's own (resolved
 * at create). A prefix is empty or ends with '/', and never starts with '/'.
 */
const s3Target = z.object({
  type: z.literal('s3'),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)' })
    .optional(),
  prefix: z
    .string()
    .max(prefixCharsMax)
    .regex(/^([A-Za-z0-9!_.*'()=+-]+\/)*$/, { message: "must be empty or end with '/', without a leading '/' or empty segments (letters, digits and !_.*'()=+-)" })
    .optional(),
});
export const targetSchema = z.discriminatedUnion('type', [httpTarget, moduleTarget, lambdaTarget, s3Target]);
export type TargetInput = z.infer<typeof targetSchema>;

export const startingPositionSchema = z.union([
  z.enum(['EARLIEST', 'LATEST']),
  z.object({ timestamp: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict(),
]);
export type StartingPosition = z.infer<typeof startingPositionSchema>;

/** The settings a PATCH may change besides `state` (topic, target and starting position are fixed: delete and create instead). */
const deliverySettings = {
  batch_size: z.number().int().min(1).max(batchSizeMax),
  max_batching_window_ms: z.number().int().min(0).max(batchingWindowMsMax),
  max_retry_attempts: z.number().int().min(-1).max(retryAttemptsMax),
  max_record_age_ms: z.number().int().refine((n) => n === -1 || (n >= 1 && n <= recordAgeMsMax), { message: `must be -1 or from 1 to ${recordAgeMsMax}` }),
  bisect_batch_on_error: z.boolean(),
  dead_letter_topic: z.string().max(249).nullable(),
};

/** Every setting is optional in a request; a create fills in defaults (triggerOf), a PATCH keeps what it does not name. */
const optionalSettings = z.object(deliverySettings).partial();

export const createTriggerBody = optionalSettings
  .extend({
    trigger_name: z.string().min(1).max(triggerNameCharsMax).regex(triggerNamePattern, { message: 'may contain only letters, digits, dots, underscores and hyphens' }),
    /** Exactly one of topic_name and topic_pattern (checked by the API, to answer 40001 for neither and 40002 for both). */
    topic_name: z.string().min(1).max(249).optional(),
    /** Checked in full (syntax, backtracking) by compileTopicPattern when the API creates the trigger. */
    topic_pattern: z.string().min(1).max(topicPatternCharsMax).optional(),
    target: targetSchema,
    starting_position: startingPositionSchema.optional(),
  })
  .strict();
export type CreateTriggerInput = z.infer<typeof createTriggerBody>;

export const patchTriggerBody = optionalSettings.extend({ state: z.enum(['ACTIVE', 'PAUSED']).optional() }).strict();
export type PatchTriggerInput = z.infer<typeof patchTriggerBody>;

export type TriggerState = 'ACTIVE' | 'PAUSED';

export type Target =
  | { type: 'http'; url: string; secret?: string }
  | { type: 'module'; handler: string }
  | { type: 'lambda'; functionArn: string }
  | { type: 's3'; bucket: string; prefix: string };

export interface Trigger {
  name: string;
  /** The topic delivered; absent when `topicPattern` names the topics instead. */
  topicName?: string;
  /** A regular expression over whole topic names: every matching topic is delivered, including topics created later. */
  topicPattern?: string;
  target: Target;
  startingPosition: StartingPosition;
  batchSize: number;
  maxBatchingWindowMs: number;
  /** -1: forever. */
  maxRetryAttempts: number;
  /** -1: no limit. */
  maxRecordAgeMs: number;
  bisectBatchOnError: boolean;
  deadLetterTopic?: string;
  state: TriggerState;
  createdAt: number;
  updatedAt: number;
}

/** `defaultBucket`: where an s3 target without a bucket writes (the deployment's bucket, config.bucket). */
export function targetOf(input: TargetInput, defaultBucket = ''): Target {
  switch (input.type) {
    case 'http':
      return { type: 'http', url: input.url, ...(input.secret !== undefined ? { secret: input.secret } : {}) };
    case 'module':
      return { type: 'module', handler: input.handler };
    case 'lambda':
      return { type: 'lambda', functionArn: input.function_arn };
    case 's3':
      return { type: 's3', bucket: input.bucket ?? defaultBucket, prefix: input.prefix ?? archivePrefixDefault };
  }
}

/** A validated create request with every default filled in (`defaultBucket`: an s3 target's bucket when it names none). */
export function triggerOf(input: CreateTriggerInput, now: number, defaultBucket = ''): Trigger {
  const deadLetterTopic = input.dead_letter_topic ?? undefined;
  return {
    name: input.trigger_name,
    ...(input.topic_name !== undefined ? { topicName: input.topic_name } : {}),
    ...(input.topic_pattern !== undefined ? { topicPattern: input.topic_pattern } : {}),
    target: targetOf(input.target, defaultBucket),
    startingPosition: input.starting_position ?? 'LATEST',
    batchSize: input.batch_size ?? batchSizeDefault,
    maxBatchingWindowMs: input.max_batching_window_ms ?? 0,
    maxRetryAttempts: input.max_retry_attempts ?? (deadLetterTopic !== undefined ? retryAttemptsWithDeadLetterDefault : -1),
    maxRecordAgeMs: input.max_record_age_ms ?? -1,
    bisectBatchOnError: input.bisect_batch_on_error ?? false,
    ...(deadLetterTopic !== undefined ? { deadLetterTopic } : {}),
    state: 'ACTIVE',
    createdAt: now,
    updatedAt: now,
  };
}

/** The trigger after a PATCH (fields not named keep their values; `dead_letter_topic: null` removes it). */
export function patchedTrigger(trigger: Trigger, patch: PatchTriggerInput, now: number): Trigger {
  const next: Trigger = {
    ...trigger,
    ...(patch.state !== undefined ? { state: patch.state } : {}),
    ...(patch.batch_size !== undefined ? { batchSize: patch.batch_size } : {}),
    ...(patch.max_batching_window_ms !== undefined ? { maxBatchingWindowMs: patch.max_batching_window_ms } : {}),
    ...(patch.max_retry_attempts !== undefined ? { maxRetryAttempts: patch.max_retry_attempts } : {}),
    ...(patch.max_record_age_ms !== undefined ? { maxRecordAgeMs: patch.max_record_age_ms } : {}),
    ...(patch.bisect_batch_on_error !== undefined ? { bisectBatchOnError: patch.bisect_batch_on_error } : {}),
    updatedAt: now,
  };
  if (patch.dead_letter_topic === null) delete next.deadLetterTopic;
  else if (patch.dead_letter_topic !== undefined) next.deadLetterTopic = patch.dead_letter_topic;
  return next;
}

/** The target as a GET shows it: never the webhook secret, only whether one is set. */
function targetResource(target: Target) {
  switch (target.type) {
    case 'http':
      return { type: 'http', url: target.url, secret_set: target.secret !== undefined };
    case 'module':
      return { type: 'module', handler: target.handler };
    case 'lambda':
      return { type: 'lambda', function_arn: target.functionArn };
    case 's3':
      return { type: 's3', bucket: target.bucket, prefix: target.prefix };
  }
}

/**
 * Settings an archive (s3 target) refuses: it holds every record exactly once,
 * so it never skips, expires or dead-letters a record, and never bisects (its
 * failures are S3's, not a record's). It retries until S3 takes the batch;
 * docs/triggers.md says why each would break exactly-once. Empty when fine.
 */
export function archiveSettingProblems(t: Pick<Trigger, 'target' | 'maxRetryAttempts' | 'maxRecordAgeMs' | 'bisectBatchOnError' | 'deadLetterTopic'>): string[] {
  if (t.target.type !== 's3') return [];
  const problems: string[] = [];
  if (t.bisectBatchOnError) problems.push("'bisect_batch_on_error' must be false");
  if (t.maxRecordAgeMs !== -1) problems.push("'max_record_age_ms' must be -1");
  if (t.maxRetryAttempts !== -1) problems.push("'max_retry_attempts' must be -1 (retry until S3 takes the batch)");
  if (t.deadLetterTopic !== undefined) problems.push("'dead_letter_topic' must be null");
  return problems;
}

export function triggerResource(clusterId: string, t: Trigger) {
  const self = `/v3/clusters/${clusterId}/triggers/${t.name}`;
  const group = triggerGroupId(t.name);
  return {
    kind: 'StrandTrigger',
    metadata: { self, resource_name: `crn:///kafka=${clusterId}/trigger=${t.name}` },
    cluster_id: clusterId,
    trigger_name: t.name,
    topic_name: t.topicName ?? null,
    topic_pattern: t.topicPattern ?? null,
    target: targetResource(t.target),
    state: t.state,
    batch_size: t.batchSize,
    max_batching_window_ms: t.maxBatchingWindowMs,
    starting_position: t.startingPosition,
    max_retry_attempts: t.maxRetryAttempts,
    max_record_age_ms: t.maxRecordAgeMs,
    bisect_batch_on_error: t.bisectBatchOnError,
    dead_letter_topic: t.deadLetterTopic ?? null,
    consumer_group_id: group,
    consumer_group: { related: `/v3/clusters/${clusterId}/consumer-groups/${group}` },
    created_at: new Date(t.createdAt).toISOString(),
    updated_at: new Date(t.updatedAt).toISOString(),
  };
}
