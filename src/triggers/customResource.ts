/**
 * Triggers declared in CDK (`strand.addTrigger(...)`, infra/strand.ts) exist
 * after `cdk deploy` with no API call: a CloudFormation custom resource
 * (`Custom::StrandTrigger`) whose provider is a small Lambda
 * (functions/triggerResources.ts) running this handler. It creates, changes
 * and deletes the trigger through the API's own code (src/api/triggers.ts:
 * createTrigger, patchTrigger, deleteTrigger), so a declared trigger is
 * validated exactly as a POST body is.
 *
 *   ResourceProperties => { Trigger: "<a create body as JSON, plus an optional state>" }
 *   PhysicalResourceId => the trigger's name
 *
 * CloudFormation may send a request more than once (a lost response, a retry
 * of the stack operation), so every request is idempotent:
 *
 * - Create: a trigger of that name with the same definition (topic or pattern,
 *   target, starting position) is taken as this one (a repeated Create), its
 *   delivery settings and state brought to the declared ones; one with another
 *   definition fails the request (it belongs to someone else: rename it).
 * - Update: a new name is a new trigger (CloudFormation then sends Delete for
 *   the old name); a changed definition deletes the trigger and creates it again
 *   (its progress starts over at the declared starting position, as a delete
 *   and create through the API would); changed settings or state are a PATCH.
 * - Delete: deletes the trigger and its group; one already gone is fine. A
 *   Create that failed answers a physical id that is not a trigger name, so the
 *   rollback's Delete touches nothing (never a trigger of that name made
 *   through the API).
 */
import type { Runtime } from '../runtime';
import { ErrorCode, StrandError, invalidValue } from '../errors';
import { validate } from '../api/request';
import { createTrigger, deleteTrigger, findTrigger, patchTrigger } from '../api/triggers';
import { createTriggerBody, triggerNamePattern, triggerOf, type CreateTriggerInput, type PatchTriggerInput, type Trigger, type TriggerState } from './triggerSpec';

export const triggerResourceType = 'Custom::StrandTrigger';
/** Characters of a failure's reason CloudFormation shows (its response must stay under 4 KB). */
const reasonCharsMax = 1_000;
/** Bound on sending the response to CloudFormation's presigned URL. */
const responseTimeoutMs = 10_000;

export interface TriggerResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  ResourceType?: string;
  PhysicalResourceId?: string;
  ResourceProperties: { Trigger?: string; [key: string]: unknown };
  OldResourceProperties?: { Trigger?: string; [key: string]: unknown };
}

export interface TriggerResourceResult {
  PhysicalResourceId: string;
  Data: { TriggerName: string; ConsumerGroupId: string };
}

/** A declared trigger: the create body, and the state it should be in. */
interface Declared {
  body: CreateTriggerInput;
  state: TriggerState;
}

/** The `Trigger` property: JSON of a create body (validated as a POST's) with an optional `state`. */
export function declaredTrigger(property: unknown): Declared {
  if (typeof property !== 'string') throw invalidValue("Property 'Trigger' must be the trigger's create body as a JSON string.");
  let parsed: unknown;
  try {
    parsed = JSON.parse(property);
  } catch (err) {
    throw invalidValue(`Property 'Trigger' is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidValue("Property 'Trigger' must be a JSON object.");
  const { state, ...body } = parsed as Record<string, unknown>;
  if (state !== undefined && state !== 'ACTIVE' && state !== 'PAUSED') throw invalidValue("Field 'state' must be 'ACTIVE' or 'PAUSED'.");
  return { body: validate(createTriggerBody, body), state: (state as TriggerState | undefined) ?? 'ACTIVE' };
}

/** What cannot change in place: topic or pattern, target, starting position. */
function sameDefinition(a: Trigger, b: Trigger): boolean {
  return (
    a.topicName === b.topicName &&
    a.topicPattern === b.topicPattern &&
    JSON.stringify(a.target) === JSON.stringify(b.target) &&
    JSON.stringify(a.startingPosition) === JSON.stringify(b.startingPosition)
  );
}

/** The PATCH that brings `current` to the declared settings and state (defaults for what the declaration leaves out); undefined when nothing differs. */
function patchTo(current: Trigger, wanted: Trigger, state: TriggerState): PatchTriggerInput | undefined {
  const patch: PatchTriggerInput = {};
  if (current.batchSize !== wanted.batchSize) patch.batch_size = wanted.batchSize;
  if (current.maxBatchingWindowMs !== wanted.maxBatchingWindowMs) patch.max_batching_window_ms = wanted.maxBatchingWindowMs;
  if (current.maxRetryAttempts !== wanted.maxRetryAttempts) patch.max_retry_attempts = wanted.maxRetryAttempts;
  if (current.maxRecordAgeMs !== wanted.maxRecordAgeMs) patch.max_record_age_ms = wanted.maxRecordAgeMs;
  if (current.bisectBatchOnError !== wanted.bisectBatchOnError) patch.bisect_batch_on_error = wanted.bisectBatchOnError;
  if (current.deadLetterTopic !== wanted.deadLetterTopic) patch.dead_letter_topic = wanted.deadLetterTopic ?? null;
  if (current.state !== state) patch.state = state;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Makes the declared trigger exist as declared (Create, and Update under a new name or after a lost trigger). */
async function ensure(runtime: Runtime, declared: Declared): Promise<Trigger> {
  const wanted = triggerOf(declared.body, runtime.clock.now(), runtime.config.bucket);
  const existing = await findTrigger(runtime, wanted.name);
  if (!existing) {
    const created = await createTrigger(runtime, declared.body);
    return declared.state === 'ACTIVE' ? created : patchTrigger(runtime, created, { state: declared.state });
  }
  if (!sameDefinition(existing, wanted)) {
    throw invalidValue(`Trigger '${wanted.name}' already exists with another topic, target or starting position; it was not made by this resource. Delete it, or declare another name.`);
  }
  const patch = patchTo(existing, wanted, declared.state);
  return patch ? patchTrigger(runtime, existing, patch) : existing;
}

function result(trigger: Pick<Trigger, 'name'>): TriggerResourceResult {
  return { PhysicalResourceId: trigger.name, Data: { TriggerName: trigger.name, ConsumerGroupId: `trigger-${trigger.name}` } };
}

/** Applies one CloudFormation request; throws when it failed (the wrapper answers FAILED). */
export async function applyTriggerResource(runtime: Runtime, event: TriggerResourceEvent): Promise<TriggerResourceResult> {
  switch (event.RequestType) {
    case 'Create':
      return result(await ensure(runtime, declaredTrigger(event.ResourceProperties.Trigger)));
    case 'Update': {
      const declared = declaredTrigger(event.ResourceProperties.Trigger);
      const name = declared.body.trigger_name;
      if (name !== event.PhysicalResourceId) return result(await ensure(runtime, declared)); // a new trigger; CloudFormation deletes the old one
      const existing = await findTrigger(runtime, name);
      const wanted = triggerOf(declared.body, runtime.clock.now(), runtime.config.bucket);
      if (existing && !sameDefinition(existing, wanted)) {
        // Topic, target or starting position changed: as the API would have it, delete and create
        // (gone already when CloudFormation re-sends the Update after the delete ran).
        await deleteIfPresent(runtime, name);
      }
      return result(await ensure(runtime, declared));
    }
    case 'Delete': {
      const name = event.PhysicalResourceId ?? '';
      if (!triggerNamePattern.test(name)) return { PhysicalResourceId: name, Data: { TriggerName: '', ConsumerGroupId: '' } }; // a Create that failed
      await deleteIfPresent(runtime, name);
      return result({ name });
    }
  }
}

/** The physical id a failed request answers: the one it had, or, for a failed Create, one that is no trigger name. */
function failedPhysicalId(event: TriggerResourceEvent): string {
  return event.PhysicalResourceId ?? `not-created:${event.RequestId}`;
}

export interface TriggerResourceHandlerOptions {
  /** Sends the response document. @default a PUT to the event's ResponseURL (CloudFormation's presigned S3 URL) */
  respond?: (url: string, body: string) => Promise<void>;
}

/** Sends CloudFormation's response: a PUT of the JSON document, with no content type (the presigned URL signs none). */
export async function putResponse(url: string, body: string): Promise<void> {
  const bytes = Buffer.from(body, 'utf8');
  const res = await fetch(url, { method: 'PUT', body: bytes, headers: { 'content-type': '', 'content-length': String(bytes.length) }, signal: AbortSignal.timeout(responseTimeoutMs) });
  if (!res.ok) throw new Error(`CloudFormation response PUT answered ${res.status}: ${(await res.text().catch(() => '')).slice(0, 200)}`);
}

/** The provider Lambda's handler: applies the request and always answers CloudFormation (SUCCESS or FAILED with why). */
export function createTriggerResourceHandler(runtime: () => Runtime, options: TriggerResourceHandlerOptions = {}) {
  const respond = options.respond ?? putResponse;
  return async (event: TriggerResourceEvent): Promise<void> => {
    let rt: Runtime | undefined;
    let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
    let reason = '';
    let outcome: TriggerResourceResult | undefined;
    try {
      // Inside the try: a runtime that cannot be built still answers (FAILED), or CloudFormation waits an hour.
      rt = runtime();
      outcome = await applyTriggerResource(rt, event);
    } catch (err) {
      status = 'FAILED';
      reason = (err instanceof Error ? err.message : String(err)).slice(0, reasonCharsMax);
      if (rt) rt.logger.warn('trigger resource request failed', { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, reason });
      else console.error('trigger resource request failed', reason);
    }
    const body = JSON.stringify({
      Status: status,
      Reason: reason || `See the log stream of the trigger resource provider.`,
      PhysicalResourceId: outcome?.PhysicalResourceId ?? failedPhysicalId(event),
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: false,
      ...(outcome ? { Data: outcome.Data } : {}),
    });
    rt?.logger.info('trigger resource', { requestType: event.RequestType, status, physicalResourceId: outcome?.PhysicalResourceId });
    await respond(event.ResponseURL, body);
  };
}

/** Deletes a trigger; one already gone (a re-sent event, a retried delete) is not an error. */
async function deleteIfPresent(runtime: Runtime, name: string): Promise<void> {
  try {
    await deleteTrigger(runtime, name);
  } catch (err) {
    if (!(err instanceof StrandError && err.code === ErrorCode.UnknownTrigger)) throw err;
  }
}
