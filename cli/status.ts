/**
 * `strand status`: the deployment at a glance, one row per topic:
 *
 *   TOPIC   PARTITIONS  RECORDS  LAST MIN  GROUPS (LAG)           LAG
 *   orders  3           1,204    37        billing (12), audit (0) 12
 *
 * RECORDS is what the log holds (high watermark − log start, summed over
 * partitions); LAST MIN the records appended in the last minute (the high
 * watermark minus the first offset at or after a minute ago: Kafka's
 * ListOffsets), i.e. the throughput; GROUPS the consumer groups with committed
 * offsets on the topic, with their lag; LAG their total. A summary line
 * follows: topics, partitions, records, groups, members and the total lag.
 *
 * Bytes: the API reports no stored size per partition (Kafka's
 * DescribeLogDirs has no counterpart yet), so status shows none rather than a
 * guess.
 *
 * Cost: per topic one partitions read and, per partition, one offsets-for-
 * timestamp read; per group one lag read. Reads are bounded in flight.
 */
import type { Command } from 'commander';
import type { PartitionLag } from '../client';
import { mapBounded } from '../src/mapBounded';
import { table, type Context, type Wrap } from './context';
import { formatCount } from './progress';

/** Reads status keeps in flight. */
const readsInFlightMax = 8;
/** The window of LAST MIN. */
export const throughputWindowMs = 60_000;

export interface TopicStatus {
  topic: string;
  partitions: number;
  records: number;
  /** Records appended in the last `throughputWindowMs`. */
  recordsLastMinute: number;
  groups: { group: string; lag: number }[];
  lag: number;
}

export interface GroupStatus {
  group: string;
  state: string;
  members: number;
  lag: number;
}

export interface Status {
  topics: TopicStatus[];
  groups: GroupStatus[];
  totals: { topics: number; partitions: number; records: number; recordsLastMinute: number; groups: number; members: number; lag: number };
}

export async function readStatus(ctx: Context, now = Date.now()): Promise<Status> {
  const admin = ctx.client.admin();
  const [names, groupList] = await Promise.all([admin.listTopics(), admin.listGroups()]);
  const topicParts = await mapBounded(names, readsInFlightMax, async (topic) => ({ topic, partitions: await admin.describePartitions(topic) }));
  const parts = topicParts.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, p })));
  const since = now - throughputWindowMs;
  const recent = await mapBounded(parts, readsInFlightMax, async ({ topic, p }) => {
    if (p.highWatermark === p.logStartOffset) return 0;
    const from = await admin.offsetForTimestamp(topic, p.partitionId, since);
    return Math.max(0, p.highWatermark - Math.max(from, p.logStartOffset));
  });
  // A group deleted between the list and its lag read has no lag; any other failure is the command's.
  const lags = await mapBounded(groupList, readsInFlightMax, async (g) => ({
    group: g.groupId,
    lag: await admin.groupLag(g.groupId).catch((err: unknown) => {
      if ((err as { code?: number }).code === 40404) return [] as PartitionLag[];
      throw err;
    }),
  }));

  const recentByTopic = new Map<string, number>();
  parts.forEach(({ topic }, i) => recentByTopic.set(topic, (recentByTopic.get(topic) ?? 0) + recent[i]!));
  const groupsByTopic = new Map<string, Map<string, number>>();
  for (const { group, lag } of lags) {
    for (const l of lag) {
      const m = groupsByTopic.get(l.topic) ?? new Map<string, number>();
      m.set(group, (m.get(group) ?? 0) + l.lag);
      groupsByTopic.set(l.topic, m);
    }
  }
  const topics: TopicStatus[] = topicParts.map(({ topic, partitions }) => {
    const groups = [...(groupsByTopic.get(topic) ?? new Map<string, number>())].map(([group, lag]) => ({ group, lag })).sort((a, b) => (a.group < b.group ? -1 : 1));
    return {
      topic,
      partitions: partitions.length,
      records: partitions.reduce((s, p) => s + (p.highWatermark - p.logStartOffset), 0),
      recordsLastMinute: recentByTopic.get(topic) ?? 0,
      groups,
      lag: groups.reduce((s, g) => s + g.lag, 0),
    };
  });
  const groups: GroupStatus[] = groupList.map((g, i) => ({ group: g.groupId, state: g.state, members: g.membersCount, lag: lags[i]!.lag.reduce((s, l) => s + l.lag, 0) }));
  return {
    topics,
    groups,
    totals: {
      topics: topics.length,
      partitions: parts.length,
      records: topics.reduce((s, t) => s + t.records, 0),
      recordsLastMinute: topics.reduce((s, t) => s + t.recordsLastMinute, 0),
      groups: groups.length,
      members: groups.reduce((s, g) => s + g.members, 0),
      lag: groups.reduce((s, g) => s + g.lag, 0),
    },
  };
}

export function statusCommand(program: Command, wrap: Wrap): void {
  program
    .command('status')
    .description('topics, partitions, records, last minute\'s throughput, groups and their lag, at a glance')
    .action(
      wrap(async (ctx: Context) => {
        const status = await readStatus(ctx);
        if (ctx.json) return ctx.printJson(status);
        const t = status.totals;
        if (status.topics.length > 0) {
          ctx.say(
            table(
              ['TOPIC', 'PARTITIONS', 'RECORDS', 'LAST MIN', 'GROUPS (LAG)', 'LAG'],
              status.topics.map((s) => [
                s.topic,
                s.partitions,
                formatCount(s.records),
                formatCount(s.recordsLastMinute),
                s.groups.map((g) => `${g.group} (${formatCount(g.lag)})`).join(', ') || '-',
                formatCount(s.lag),
              ]),
            ),
          );
        } else ctx.say('No topics.');
        ctx.say(
          `${t.topics} topic${t.topics === 1 ? '' : 's'}, ${t.partitions} partition${t.partitions === 1 ? '' : 's'}, ${formatCount(t.records)} records ` +
            `(${formatCount(t.recordsLastMinute)} in the last minute); ${t.groups} group${t.groups === 1 ? '' : 's'}, ` +
            `${t.members} member${t.members === 1 ? '' : 's'}, total lag ${formatCount(t.lag)} at ${ctx.settings.url}`,
        );
      }),
    );
}
