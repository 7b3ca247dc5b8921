/**
 * A topic partition as one string, "<topic>:<partition>". Topic names are
 * `[a-zA-Z0-9._-]` (never ':'), so the encoding is unambiguous, sorts by topic
 * then partition text, and can be a DynamoDB list element or map key — GroupStore
 * keeps committed offsets in a map keyed by it (`offsets.<tp>`). A member commit's
 * write is conditioned on the member's epoch, not on the key: ownership is
 * checked on the state read before it (see GroupStore).
 */
export type TopicPartitionKey = string;

export interface TopicPartitions {
  topic_name: string;
  partition_ids: number[];
}

export function tpKey(topic: string, partition: number): TopicPartitionKey {
  return `${topic}:${partition}`;
}

export function parseTpKey(key: TopicPartitionKey): { topic: string; partition: number } {
  const i = key.lastIndexOf(':');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

/** Orders by topic name, then partition number. */
export function compareTp(a: TopicPartitionKey, b: TopicPartitionKey): number {
  const x = parseTpKey(a);
  const y = parseTpKey(b);
  if (x.topic !== y.topic) return x.topic < y.topic ? -1 : 1;
  return x.partition - y.partition;
}

export function sortTps(keys: Iterable<TopicPartitionKey>): TopicPartitionKey[] {
  return [...keys].sort(compareTp);
}

/** The contract's `[{"topic_name","partition_ids"}]` shape, topics and partitions in order. */
export function groupByTopic(keys: Iterable<TopicPartitionKey>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const key of sortTps(keys)) {
    const { topic, partition } = parseTpKey(key);
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic].map(([topic_name, partition_ids]) => ({ topic_name, partition_ids }));
}

export function flattenTopicPartitions(list: readonly TopicPartitions[]): TopicPartitionKey[] {
  return list.flatMap((t) => t.partition_ids.map((p) => tpKey(t.topic_name, p)));
}

/** Every partition of the given topics, from their partition counts. */
export function partitionsOf(topics: Iterable<string>, partitionCounts: Readonly<Record<string, number>>): TopicPartitionKey[] {
  const out: TopicPartitionKey[] = [];
  for (const topic of new Set(topics)) {
    const count = partitionCounts[topic] ?? 0;
    for (let p = 0; p < count; p++) out.push(tpKey(topic, p));
  }
  return out;
}
