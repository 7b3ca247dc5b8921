/**
 * Which source topics a mirror copies, and what they are called on the target
 * (MirrorMaker 2's topic filter and ReplicationPolicy), pure.
 *
 * - `include` and `exclude` are regular expressions matched against the whole
 *   topic name (as MM2's `topics` and `topics.exclude`).
 * - Naming: `prefixed` (MM2's DefaultReplicationPolicy) names the copy of
 *   `orders` from cluster `east` `east.orders`; `identity` (MM2's
 *   IdentityReplicationPolicy) keeps `orders`, for one-way disaster recovery.
 * - Loops: a topic whose name starts with `<target cluster id>.` came from the
 *   target (it is the copy of a target topic), so it is never copied back. With
 *   prefixed naming two clusters can therefore mirror each other (active-active):
 *   `east` copies `orders` to `west` as `east.orders`, and `west` → `east`
 *   skips `east.orders`. Identity naming cannot tell a copy from an original,
 *   so it is for one direction only.
 * - Internal topics are never copied: the mirrors' own state topics
 *   (`strand-mirror.*`) and anything starting with `__`.
 */

export type TopicNamePolicy = 'prefixed' | 'identity';

/** Kafka's topic name limit (src/log/topicName.ts). */
export const topicNameCharsMax = 249;
/** Prefix of the mirrors' internal topics (their state, mirrorState.ts). */
export const internalTopicPrefix = 'strand-mirror.';

export interface TopicSelectionConfig {
  /** Source topics to copy (whole-name match). @default '.*' (every topic) */
  include?: RegExp | string;
  /** Source topics never to copy (whole-name match). */
  exclude?: RegExp | string;
  /** @default 'prefixed' */
  naming?: TopicNamePolicy;
  sourceClusterId: string;
  targetClusterId: string;
}

export interface SelectedTopic {
  source: string;
  target: string;
}

export interface Rejected {
  topic: string;
  reason: string;
}

/** A pattern as a whole-name matcher: `orders-.*` matches `orders-eu`, not `my-orders-eu`. */
export function wholeName(pattern: RegExp | string): RegExp {
  const source = typeof pattern === 'string' ? pattern : pattern.source;
  const flags = typeof pattern === 'string' ? '' : pattern.flags.replace(/[gy]/g, '');
  return new RegExp(`^(?:${source})$`, flags);
}

export class TopicSelection {
  readonly naming: TopicNamePolicy;
  private readonly include: RegExp;
  private readonly exclude: RegExp | undefined;

  constructor(readonly config: TopicSelectionConfig) {
    if (!config.sourceClusterId) throw new Error('the source cluster id is required');
    if (!config.targetClusterId) throw new Error('the target cluster id is required');
    this.naming = config.naming ?? 'prefixed';
    if (this.naming !== 'prefixed' && this.naming !== 'identity') throw new Error(`topic naming is 'prefixed' or 'identity', not '${String(this.naming)}'`);
    this.include = wholeName(config.include ?? '.*');
    this.exclude = config.exclude === undefined || config.exclude === '' ? undefined : wholeName(config.exclude);
  }

  /** The target name of a source topic (whether or not it is selected). */
  targetName(topic: string): string {
    return this.naming === 'identity' ? topic : `${this.config.sourceClusterId}.${topic}`;
  }

  /** The source name of a target topic this mirror writes, or undefined when it is not one of its names. */
  sourceName(targetTopic: string): string | undefined {
    if (this.naming === 'identity') return targetTopic;
    const prefix = `${this.config.sourceClusterId}.`;
    return targetTopic.startsWith(prefix) ? targetTopic.slice(prefix.length) : undefined;
  }

  /** Why a source topic is not copied, or undefined when it is. */
  whyNot(topic: string): string | undefined {
    if (topic.startsWith(internalTopicPrefix) || topic.startsWith('__')) return 'internal topic';
    if (topic.startsWith(`${this.config.targetClusterId}.`)) return `came from the target cluster '${this.config.targetClusterId}' (loop prevention)`;
    if (!this.include.test(topic)) return 'not matched by the include pattern';
    if (this.exclude?.test(topic)) return 'matched by the exclude pattern';
    const target = this.targetName(topic);
    if (target.length > topicNameCharsMax) return `its target name would be ${target.length} characters (at most ${topicNameCharsMax})`;
    return undefined;
  }

  /** The topics to copy, in name order, and the ones left out with why (internal ones not listed). */
  select(topics: readonly string[]): { selected: SelectedTopic[]; rejected: Rejected[] } {
    const selected: SelectedTopic[] = [];
    const rejected: Rejected[] = [];
    for (const topic of [...topics].sort()) {
      const reason = this.whyNot(topic);
      if (reason === undefined) selected.push({ source: topic, target: this.targetName(topic) });
      else if (reason !== 'internal topic') rejected.push({ topic, reason });
    }
    return { selected, rejected };
  }
}
