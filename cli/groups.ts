/** `strand groups list | describe | lag | reset-offsets | delete` */
import type { Command } from 'commander';
import type { ResetTarget } from '../client';
import { UsageError, parseInteger, table, type Context, type Wrap } from './context';

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
    .description('move the committed offsets of an empty group')
    .option('--to-earliest', 'to the log start')
    .option('--to-latest', 'to the log end')
    .option('--to-offset <n>', 'to this offset')
    .option('--to-timestamp <ms>', 'to the first offset at or after this time (epoch ms)')
    .option('--topic <topic>', 'only this topic (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .action(
      wrap(async (ctx: Context, group: string, opts: { toEarliest?: boolean; toLatest?: boolean; toOffset?: string; toTimestamp?: string; topic?: string[] }) => {
        const targets: ResetTarget[] = [];
        if (opts.toEarliest) targets.push('earliest');
        if (opts.toLatest) targets.push('latest');
        if (opts.toOffset !== undefined) targets.push({ offset: parseInteger(opts.toOffset, '--to-offset') });
        if (opts.toTimestamp !== undefined) targets.push({ timestamp: parseInteger(opts.toTimestamp, '--to-timestamp') });
        if (targets.length !== 1) throw new UsageError('reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset N, --to-timestamp MS');
        const offsets = await ctx.client.admin().resetOffsets(group, targets[0]!, opts.topic);
        if (ctx.json) return ctx.printJson(offsets);
        ctx.say(table(['TOPIC', 'PARTITION', 'NEW OFFSET'], offsets.map((o) => [o.topic, o.partition, o.offset])));
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
