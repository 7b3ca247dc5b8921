/**
 * Triggers (issue 16; docs/triggers.md): push a topic's records to a function
 * or a webhook, or archive them to S3 (src/triggers/archive.ts). Admin resources under /v3/clusters/{cluster_id}/triggers:
 *
 *   POST   …/triggers                   create (201); the starting position is resolved now
 *                                        (topic_name, or topic_pattern: every matching topic, also later ones)
 *   GET    …/triggers                   list
 *   GET    …/triggers/{trigger_name}    describe (the webhook secret only as `secret_set`)
 *   PATCH  …/triggers/{trigger_name}    pause/resume (`{"state":"PAUSED"|"ACTIVE"}`) and delivery settings
 *   DELETE …/triggers/{trigger_name}    delete, with its consumer group `trigger-<name>`
 *
 * Every request is validated in full before anything is written: a refused one
 * changes nothing.
 */
import { existsSync } from 'node:fs';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { isAbsolute, resolve } from 'node:path';
import { ErrorCode, StrandError, badRequest, invalidValue } from '../errors';
import type { Runtime } from '../runtime';
import { groupsOf } from '../groups/GroupService';
import { commitPartitionsMax, committedPartitionsMax } from '../groups/GroupStore';
import type { Topic } from '../log/TopicCatalog';
import { mapBounded } from '../mapBounded';
import { topicsPrefix } from '../log/ObjectStore';
import { TriggerStore, triggerExists } from '../triggers/TriggerStore';
import { triggerRunnerOf } from '../triggers/TriggerRunner';
import {
  archiveSettingProblems,
  compileTopicPattern,
  createTriggerBody,
  patchTriggerBody,
  patchedTrigger,
  triggerGroupId,
  triggerOf,
  triggerCoversTopic,
  triggerResource,
  type CreateTriggerInput,
  type PatchTriggerInput,
  type Target,
  type Trigger,
} from '../triggers/triggerSpec';
import type { Operation } from './operations';
import { assertCluster, parseJsonBody, pathParam } from './request';

const stores = new WeakMap<Runtime, TriggerStore>();
function storeOf(runtime: Runtime): TriggerStore {
  let s = stores.get(runtime);
  if (!s) stores.set(runtime, (s = new TriggerStore(runtime.clients.ddb, runtime.config.tables.triggers)));
  return s;
}

/**
 * Where a target can be delivered to. With a runner in this process (a local
 * Strand) it says (http and module); without one (the API Lambdas on AWS, where
 * a dispatcher Lambda delivers) http and lambda: a module is a path on the
 * machine running a local Strand.
 */
async function assertDeliverable(runtime: Runtime, target: Target): Promise<void> {
  const runner = triggerRunnerOf(runtime);
  const types = runner?.targetTypes ?? ['http', 'lambda', 's3'];
  if (!types.includes(target.type)) {
    const why =
      target.type === 'lambda'
        ? 'lambda targets deliver only on AWS; locally use a module target (`./path/to/handler.ts#handler`) running the same code'
        : target.type === 'module'
          ? 'module targets deliver only in a local Strand; on AWS use a lambda target'
          : `${target.type} targets are not delivered here`;
    throw invalidValue(`Field 'target.type' is invalid: ${why}.`);
  }
  if (target.type === 'module' && runner) {
    const path = target.handler.slice(0, target.handler.lastIndexOf('#'));
    const file = isAbsolute(path) ? path : resolve(runner.moduleRoot, path);
    if (!existsSync(file)) throw invalidValue(`Field 'target.handler' is invalid: no module at ${file}.`);
  }
  if (target.type === 's3') await assertArchiveTarget(runtime, target, runner !== undefined);
}

/**
 * The archive's bucket and prefix: never Strand's own data (`topics/` in the
 * deployment's bucket, which the orphan sweep deletes from), and, where a
 * runner runs in this process (a local Strand), a bucket that exists. On AWS
 * the API may not read a user's bucket: the dispatcher's grants decide.
 */
async function assertArchiveTarget(runtime: Runtime, target: Extract<Target, { type: 's3' }>, local: boolean): Promise<void> {
  if (target.bucket === runtime.config.bucket && target.prefix.startsWith(topicsPrefix)) {
    throw invalidValue(`Field 'target.prefix' is invalid: '${topicsPrefix}' in Strand's own bucket holds the topics' data.`);
  }
  if (!local || target.bucket === runtime.config.bucket) return;
  try {
    await runtime.clients.s3.send(new HeadBucketCommand({ Bucket: target.bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || status === 403 || (err as { name?: string }).name === 'NotFound') {
      throw invalidValue(`Field 'target.bucket' is invalid: no bucket '${target.bucket}' (create it first).`);
    }
    throw err;
  }
}

/** An archive's settings (archiveSettingProblems): 40002 naming each one that breaks exactly-once. */
function assertArchiveSettings(trigger: Trigger): void {
  const problems = archiveSettingProblems(trigger);
  if (problems.length > 0) throw invalidValue(`An s3 target archives every record exactly once: ${problems.join(', ')}.`);
}

async function assertDeadLetterTopic(runtime: Runtime, trigger: Pick<Trigger, 'topicName' | 'topicPattern'>, deadLetterTopic: string | undefined): Promise<void> {
  if (deadLetterTopic === undefined) return;
  if (triggerCoversTopic(trigger, deadLetterTopic)) {
    throw invalidValue(`Field 'dead_letter_topic' is invalid: it must not be ${trigger.topicName !== undefined ? "the trigger's own topic" : "a topic the trigger's topic_pattern matches"}.`);
  }
  await runtime.engine.topics.get(deadLetterTopic);
}

/**
 * Partitions whose starting offsets one create resolves at once. Eight, under
 * Node's default of ten listeners on the request's deadline signal, which each
 * storage attempt in flight holds (src/storage/clients.ts).
 */
const boundsReadsInFlightMax = 8;

/**
 * Commits the starting position as the trigger group's offsets, every partition
 * of the topics (in commits of at most commitPartitionsMax). A group left by a
 * deleted trigger of the same name is overwritten; one with live members
 * (someone consuming as `trigger-<name>`) refuses the commit.
 */
async function commitStartingOffsets(runtime: Runtime, trigger: Trigger, topics: readonly Topic[]): Promise<void> {
  const partitions = topics.flatMap((topic) => Array.from({ length: topic.partitionsCount }, (_, partition) => ({ topic, partition })));
  const position = trigger.startingPosition;
  const entries = await mapBounded(partitions, boundsReadsInFlightMax, async ({ topic, partition }) => {
    const bounds = await runtime.engine.bounds(topic, partition);
    const offset =
      position === 'EARLIEST'
        ? bounds.logStartOffset
        : position === 'LATEST'
          ? bounds.highWatermark
          : (await runtime.engine.offsetForTimestamp(topic, partition, position.timestamp)).offset;
    return { topic: topic.name, partition, offset, metadata: 'strand-trigger' };
  });
  for (let i = 0; i < entries.length; i += commitPartitionsMax) {
    await groupsOf(runtime).commit(triggerGroupId(trigger.name), { memberId: undefined }, entries.slice(i, i + commitPartitionsMax));
  }
}

/** Exactly one of topic_name and topic_pattern: 40001 for neither (a missing field), 40002 for both. */
function assertOneTopicField(body: CreateTriggerInput): void {
  if (body.topic_name === undefined && body.topic_pattern === undefined) {
    throw badRequest("Field 'topic_name' is required (or 'topic_pattern', a regular expression over topic names).");
  }
  if (body.topic_name !== undefined && body.topic_pattern !== undefined) {
    throw invalidValue("Fields 'topic_name' and 'topic_pattern' are exclusive: name one topic, or a pattern.");
  }
  // Syntax, and patterns whose matching could backtrack badly: 40002 saying why.
  if (body.topic_pattern !== undefined) compileTopicPattern(body.topic_pattern);
}

/** The topics a trigger delivers now: its topic (40403 when missing), or every topic its pattern matches (maybe none yet). */
async function topicsOf(runtime: Runtime, trigger: Trigger): Promise<Topic[]> {
  if (trigger.topicName !== undefined) return [await runtime.engine.topics.get(trigger.topicName)];
  return (await runtime.engine.topics.list()).filter((t) => t.name !== trigger.deadLetterTopic && triggerCoversTopic(trigger, t.name));
}

/**
 * Validates and creates a trigger: the API's POST and the CloudFormation custom
 * resource (src/triggers/customResource.ts) both come here. Everything is
 * checked before anything is written: a refused request changes nothing.
 */
export async function createTrigger(runtime: Runtime, body: CreateTriggerInput): Promise<Trigger> {
  assertOneTopicField(body);
  const trigger = triggerOf(body, runtime.clock.now(), runtime.config.bucket);
  assertArchiveSettings(trigger);
  await assertDeliverable(runtime, trigger.target);
  const topics = await topicsOf(runtime, trigger);
  const partitions = topics.reduce((n, t) => n + t.partitionsCount, 0);
  if (partitions > committedPartitionsMax) {
    const what = trigger.topicName !== undefined ? `Topic '${trigger.topicName}' has` : `The topics matching '${trigger.topicPattern}' have`;
    throw invalidValue(`${what} ${partitions} partitions; a trigger's group holds offsets for at most ${committedPartitionsMax}.`);
  }
  await assertDeadLetterTopic(runtime, trigger, trigger.deadLetterTopic);
  const store = storeOf(runtime);
  if (await store.find(trigger.name)) throw triggerExists(trigger.name);
  // The starting position becomes the group's committed offsets before the trigger
  // exists, so a runner never sees the trigger without a position (and never starts
  // a LATEST trigger at the log start). Topics a pattern matches later have no
  // commit and are delivered from their start.
  await commitStartingOffsets(runtime, trigger, topics);
  await store.create(trigger);
  triggerRunnerOf(runtime)?.poke();
  return trigger;
}

/** A PATCH: pause/resume and delivery settings, conditioned on the trigger not having changed since it was read. */
export async function patchTrigger(runtime: Runtime, trigger: Trigger, body: PatchTriggerInput): Promise<Trigger> {
  const next = patchedTrigger(trigger, body, Math.max(runtime.clock.now(), trigger.updatedAt + 1));
  assertArchiveSettings(next);
  if (body.dead_letter_topic !== undefined) await assertDeadLetterTopic(runtime, next, next.deadLetterTopic);
  await storeOf(runtime).replace(trigger, next);
  triggerRunnerOf(runtime)?.poke();
  return next;
}

/** Deletes a trigger (40407 when there is none) and then its consumer group. */
export async function deleteTrigger(runtime: Runtime, name: string): Promise<void> {
  await storeOf(runtime).delete(name);
  triggerRunnerOf(runtime)?.poke();
  try {
    await groupsOf(runtime).delete(triggerGroupId(name));
  } catch (err) {
    // No group (nothing was ever committed) is fine; anything else is logged: the trigger is gone either way.
    if (!(err instanceof StrandError && err.code === ErrorCode.UnknownGroup)) {
      runtime.logger.warn('trigger group not deleted', { trigger: name, error: String(err) });
    }
  }
}

/** The trigger of that name, if any (the custom resource's idempotence checks). */
export function findTrigger(runtime: Runtime, name: string): Promise<Trigger | undefined> {
  return storeOf(runtime).find(name);
}

async function loadTrigger(req: Parameters<Operation>[0], runtime: Runtime): Promise<Trigger> {
  assertCluster(req, runtime);
  return storeOf(runtime).get(pathParam(req, 'trigger_name'));
}

const T = '/v3/clusters/{cluster_id}/triggers';

export const triggerOperations: Record<string, Operation> = {
  [`POST ${T}`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const trigger = await createTrigger(runtime, parseJsonBody(req, createTriggerBody));
    return { status: 201, json: triggerResource(clusterId, trigger) };
  },

  [`GET ${T}`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const triggers = await storeOf(runtime).list();
    return {
      status: 200,
      json: { kind: 'StrandTriggerList', metadata: { self: `/v3/clusters/${clusterId}/triggers` }, data: triggers.map((t) => triggerResource(clusterId, t)) },
    };
  },

  [`GET ${T}/{trigger_name}`]: async (req, runtime) => {
    const trigger = await loadTrigger(req, runtime);
    return { status: 200, json: triggerResource(runtime.config.clusterId, trigger) };
  },

  [`PATCH ${T}/{trigger_name}`]: async (req, runtime) => {
    const trigger = await loadTrigger(req, runtime);
    const next = await patchTrigger(runtime, trigger, parseJsonBody(req, patchTriggerBody));
    return { status: 200, json: triggerResource(runtime.config.clusterId, next) };
  },

  [`DELETE ${T}/{trigger_name}`]: async (req, runtime) => {
    assertCluster(req, runtime);
    await deleteTrigger(runtime, pathParam(req, 'trigger_name'));
    return { status: 204 };
  },
};
