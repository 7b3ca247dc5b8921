/**
 * `strand groups list | describe | lag | reset-offsets | delete`
 *
 * reset-offsets previews unless --execute, as kafka-consumer-groups does
 * (--dry-run is its default there too): per partition the committed offset,
 * where it would move, and the lag before and after. The preview is computed
 * here from the same rules the server applies (src/groups/GroupService.ts:
 * the named topics, else those the group has offsets for; each target within
 * [log start, high watermark]); --execute then asks the server, which moves
 * the offsets only while the group has no members (40925).
 */
import type { Command } from 'commander';
import type { ResetTarget } from '../client';
import { mapBounded } from '../src/mapBounded';
import { UsageError, parseInteger, table, type Context, type Wrap } from './context';

/** Offset-for-timestamp lookups a preview keeps in flight. */
const offsetLookupsInFlightMax = 8;

interface ResetOptions {
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: string;
  toTimestamp?: string;
  topic?: string[];
  execute?: boolean;
}

export interface ResetRow {
  topic: string;
  partition: number;
  /** The committed offset now; null when the group has none for the partition. */
  currentOffset: number | null;
  newOffset: number;
  logStartOffset: number;
  logEndOffset: number;
  /** Lag now (from the log start when nothing is committed) and after the move. */
  lagBefore: number;
  lagAfter: number;
}

function resetTarget(opts: ResetOptions): ResetTarget {
  const targets: ResetTarget[] = [];
  if (opts.toEarliest) targets.push('earliest');
  if (opts.toLatest) targets.push('latest');
  if (opts.toOffset !== undefined) targets.push({ offset: parseInteger(opts.toOffset, '--to-offset') });
  if (opts.toTimestamp !== undefined) targets.push({ timestamp: parseInteger(opts.toTimestamp, '--to-timestamp') });
  if (targets.length !== 1) throw new UsageError('reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset N, --to-timestamp MS');
  return targets[0]!;
}

/** What a reset would do, partition by partition, and how many members the group has now. */
export async function previewReset(ctx: Context, group: string, to: ResetTarget, topicNames: string[] | undefined): Promise<{ rows: ResetRow[]; members: number }> {
  const admin = ctx.client.admin();
  const [description, committed] = await Promise.all([admin.describeGroup(group), admin.groupOffsets(group)]);
  const current = new Map(committed.map((o) => [`${o.topic}\u0000${o.partition}`, o.offset]));
  let topics = topicNames && topicNames.length > 0 ? [...new Set(topicNames)] : [...new Set(committed.map((o) => o.topic))].sort();
  const partitionsOf = await Promise.all(
    topics.map(async (topic) => {
      try {
        return { topic, partitions: await admin.describePartitions(topic) };
      } catch (err) {
        // As the server: a named topic must exist; one the group merely has offsets for may be gone.
        if (!topicNames?.length && (err as { code?: number }).code === 40403) return { topic, partitions: [] };
        throw err;
      }
    }),
  );
  topics = partitionsOf.map((t) => t.topic);
  const parts = partitionsOf.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, p })));
  const rows = await mapBounded(parts, offsetLookupsInFlightMax, async ({ topic, p }): Promise<ResetRow> => {
    let offset: number;
    if (to === 'earliest') offset = p.logStartOffset;
    else if (to === 'latest') offset = p.highWatermark;
    else if ('timestamp' in to) offset = await admin.offsetForTimestamp(topic, p.partitionId, to.timestamp);
    else offset = to.offset;
    offset = Math.min(Math.max(offset, p.logStartOffset), p.highWatermark);
    const now = current.get(`${topic}\u0000${p.partitionId}`);
    return {
      topic,
      partition: p.partitionId,
      currentOffset: now ?? null,
      newOffset: offset,
      logStartOffset: p.logStartOffset,
      logEndOffset: p.highWatermark,
      lagBefore: Math.max(0, p.highWatermark - Math.max(now ?? p.logStartOffset, p.logStartOffset)),
      lagAfter: Math.max(0, p.highWatermark - offset),
    };
  });
  return { rows, members: description.members.length };
}

function resetTable(rows: ResetRow[]): string {
  if (rows.length === 0) return 'No partitions to reset: the group has no committed offsets (name topics with --topic).';
  const change = (r: ResetRow) => {
    const d = r.lagAfter - r.lagBefore;
    return `${r.lagBefore} -> ${r.lagAfter} (${d > 0 ? '+' : ''}${d})`;
  };
  return table(
    ['TOPIC', 'PARTITION', 'CURRENT', 'NEW', 'LAG CHANGE'],
    rows.map((r) => [r.topic, r.partition, r.currentOffset ?? '-', r.newOffset, change(r)]),
  );
}

export function groupsCommand(program: Command, wrap: Wrap): void {
  const groups = program.command('groups').description('list, describe, show lag of, reset and delete consumer groups');

  groups
    .command('list')
    .description('list consumer groups')
    .action(
      wrap(async (ctx: Context) => {
        const list = await ctx.client.admin().listGroups();
        if (ctx.json) return ctx.printJson(list);
        if (list.length === 0) return ctx.say('No consumer groups.');
        ctx.say(table(['GROUP', 'STATE', 'MEMBERS', 'ASSIGNOR'], list.map((g) => [g.groupId, g.state, g.membersCount, g.assignor])));
      }),
    );

  groups
    .command('describe <group>')
    .description('state and members of a group, with their partitions')
    .action(
      wrap(async (ctx: Context, group: string) => {
        const g = await ctx.client.admin().describeGroup(group);
        if (ctx.json) return ctx.printJson(g);
        ctx.say(`Group: ${g.groupId}  state: ${g.state}  assignor: ${g.assignor}  members: ${g.members.length}`);
        if (g.members.length > 0) {
          ctx.say(
            table(
              ['MEMBER', 'EPOCH', 'CLIENT', 'PARTITIONS'],
              g.members.map((m) => [m.memberId, m.memberEpoch, m.clientId || '-', m.assignment.map((a) => `${a.topic}/${a.partition}`).join(',') || '-']),
            ),
          );
        }
      }),
    );

  groups
    .command('lag <group>')
    .description('committed offset, log end and lag per partition')
    .action(
      wrap(async (ctx: Context, group: string) => {
        const lag = await ctx.client.admin().groupLag(group);
        if (ctx.json) return ctx.printJson(lag);
        ctx.say(table(['TOPIC', 'PARTITION', 'CURRENT', 'LOG END', 'LAG', 'MEMBER'], lag.map((l) => [l.topic, l.partition, l.currentOffset, l.logEndOffset, l.lag, l.memberId || '-'])));
        ctx.say(`Total lag: ${lag.reduce((s, l) => s + l.lag, 0)}`);
      }),
    );

  groups
    .command('reset-offsets <group>')
    .description('show where the committed offsets of an empty group would move; --execute moves them')
    .option('--to-earliest', 'to the log start')
    .option('--to-latest', 'to the log end')
    .option('--to-offset <n>', 'to this offset (within each log\'s bounds)')
    .option('--to-timestamp <ms>', 'to the first offset at or after this time (epoch ms)')
    .option('--topic <topic>', 'only this topic (repeatable; default: the topics the group has offsets for)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--execute', 'move the offsets (without it, only the preview: kafka-consumer-groups\' --dry-run)')
    .action(
      wrap(async (ctx: Context, group: string, opts: ResetOptions) => {
        const target = resetTarget(opts);
        const preview = await previewReset(ctx, group, target, opts.topic);
        if (!opts.execute) {
          if (ctx.json) return ctx.printJson({ group, executed: false, members: preview.members, partitions: preview.rows });
          ctx.say(resetTable(preview.rows));
          const busy = preview.members > 0 ? ` The group has ${preview.members} member${preview.members === 1 ? '' : 's'}: stop ${preview.members === 1 ? 'it' : 'them'} first, or --execute is refused.` : '';
          ctx.say(`Preview only: nothing moved.${busy} Run again with --execute to move ${preview.rows.length === 1 ? 'this offset' : 'these offsets'}.`);
          return;
        }
        const moved = await ctx.client.admin().resetOffsets(group, target, opts.topic);
        const at = new Map(moved.map((o) => [`${o.topic}\u0000${o.partition}`, o.offset]));
        // What the server did wins over the preview (the log may have moved in between).
        const rows = preview.rows.map((r) => {
          const newOffset = at.get(`${r.topic}\u0000${r.partition}`) ?? r.newOffset;
          return { ...r, newOffset, lagAfter: Math.max(0, r.logEndOffset - newOffset) };
        });
        if (ctx.json) return ctx.printJson({ group, executed: true, members: 0, partitions: rows });
        ctx.say(resetTable(rows));
        ctx.say(`Moved ${rows.length} offset${rows.length === 1 ? '' : 's'} of group '${group}'.`);
      }),
    );

  groups
    .command('delete <group>')
    .description('delete an empty group and its offsets')
    .action(
      wrap(async (ctx: Context, group: string) => {
        await ctx.client.admin().deleteGroup(group);
        if (ctx.json) ctx.printJson({ deleted: group });
        else ctx.say(`Deleted consumer group '${group}'.`);
      }),
    );
}
