/**
 * Target topics follow their source topics (MM2's topic and config sync):
 * created with the same partition count and the source's configs, partition
 * growth followed (partitions never shrink, on either side), configs kept in
 * sync — every pass, so a change on the source reaches the target within one.
 *
 * Configs not synced, with why (MM2 leaves out the same kind):
 * - `message.timestamp.type`: the target stays CreateTime so that each copy
 *   keeps its source record's timestamp (a LogAppendTime source's timestamps
 *   are the source's append times, carried in the records).
 * - `message.timestamp.after.max.ms`, `message.timestamp.before.max.ms`: copies
 *   of old records are old by design; a bound would refuse them.
 * - `confluent.key.schema.validation`, `confluent.value.schema.validation`: the
 *   records carry the source registry's schema ids, which the target's registry
 *   need not have.
 */
import { TopicExistsError } from '../../client/errors';
import type { StrandClient } from '../../client/StrandClient';
import type { SelectedTopic } from './topicSelection';

export const configsNotSynced: ReadonlySet<string> = new Set([
  'message.timestamp.type',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'confluent.key.schema.validation',
  'confluent.value.schema.validation',
]);

export interface TopicSyncResult {
  source: string;
  target: string;
  partitions: number;
  created: boolean;
  /** Partitions added on the target in this sync. */
  grownFrom?: number;
  /** Configs set (or reset, value null) on the target in this sync. */
  configsChanged: Record<string, string | null>;
}

/** The configs a source topic overrides (non-default), less those never synced. */
export async function syncedConfigs(client: StrandClient, topic: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of await client.admin().describeTopicConfigs(topic)) {
    if (!c.isDefault && c.value !== null && !configsNotSynced.has(c.name)) out[c.name] = c.value;
  }
  return out;
}

/** Pure: the config changes that make `target` (its overrides) match `source` (its overrides). */
export function configChanges(source: Record<string, string>, target: Record<string, string>): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(source)) if (target[name] !== value) changes[name] = value;
  for (const name of Object.keys(target)) if (!(name in source) && !configsNotSynced.has(name)) changes[name] = null;
  return changes;
}

/**
 * Makes the target topic match the source: create it, grow it, align configs.
 * `existing`: the target's topic names (one list per pass, not a describe per topic).
 */
export async function syncTopic(source: StrandClient, target: StrandClient, topic: SelectedTopic, existing: ReadonlySet<string>): Promise<TopicSyncResult> {
  const [described, sourceConfigs] = await Promise.all([source.admin().describeTopic(topic.source), syncedConfigs(source, topic.source)]);
  const result: TopicSyncResult = { source: topic.source, target: topic.target, partitions: described.partitions, created: false, configsChanged: {} };
  if (!existing.has(topic.target)) {
    try {
      await target.admin().createTopic(topic.target, { partitions: described.partitions, configs: sourceConfigs });
      result.created = true;
      result.configsChanged = { ...sourceConfigs };
      return result;
    } catch (err) {
      if (!(err instanceof TopicExistsError)) throw err;
      // Created meanwhile (another pass, or another mirror): align it below.
    }
  }
  const current = await target.admin().describeTopic(topic.target);
  if (current.partitions < described.partitions) {
    await target.admin().growPartitions(topic.target, described.partitions);
    result.grownFrom = current.partitions;
  }
  const targetConfigs: Record<string, string> = {};
  for (const c of await target.admin().describeTopicConfigs(topic.target)) if (!c.isDefault && c.value !== null) targetConfigs[c.name] = c.value;
  const changes = configChanges(sourceConfigs, targetConfigs);
  if (Object.keys(changes).length > 0) await target.admin().alterTopicConfigs(topic.target, changes);
  result.configsChanged = changes;
  return result;
}
