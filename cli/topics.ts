/** `strand topics list | create | describe | alter | delete` */
import type { Command } from 'commander';
import { UsageError, collect, parseConfigPairs, parseInteger, table, type Context, type Wrap } from './context';

export function topicsCommand(program: Command, wrap: Wrap): void {
  const topics = program.command('topics').description('list, create, describe, alter and delete topics');

  topics
    .command('list')
    .description('list topic names')
    .action(
      wrap(async (ctx: Context) => {
        const admin = ctx.client.admin();
        if (ctx.json) {
          const names = await admin.listTopics();
          ctx.printJson(await Promise.all(names.map((n) => admin.describeTopic(n))));
          return;
        }
        for (const name of await admin.listTopics()) ctx.out(`${name}\n`);
      }),
    );

  topics
    .command('create <topic>')
    .description('create a topic')
    .option('-p, --partitions <n>', 'number of partitions', '1')
    .option('-c, --config <name=value>', 'a topic config (repeatable)', collect)
    .action(
      wrap(async (ctx: Context, topic: string, opts: { partitions: string; config?: string[] }) => {
        const created = await ctx.client.admin().createTopic(topic, { partitions: parseInteger(opts.partitions, '--partitions', 1), configs: parseConfigPairs(opts.config) });
        if (ctx.json) ctx.printJson(created);
        else ctx.say(`Created topic '${created.name}' with ${created.partitions} partition${created.partitions === 1 ? '' : 's'}.`);
      }),
    );

  topics
    .command('describe <topic>')
    .description('partitions, offsets and configs of a topic')
    .action(
      wrap(async (ctx: Context, topic: string) => {
        const admin = ctx.client.admin();
        const [description, partitions, configs] = await Promise.all([admin.describeTopic(topic), admin.describePartitions(topic), admin.describeTopicConfigs(topic)]);
        if (ctx.json) {
          ctx.printJson({ ...description, partitionOffsets: partitions, configs });
          return;
        }
        ctx.say(`Topic: ${description.name}  partitions: ${description.partitions}  replication factor: ${description.replicationFactor}`);
        ctx.say(table(['PARTITION', 'LOG START', 'HIGH WATERMARK', 'RECORDS'], partitions.map((p) => [p.partitionId, p.logStartOffset, p.highWatermark, p.highWatermark - p.logStartOffset])));
        ctx.say('Configs:');
        ctx.say(table(['NAME', 'VALUE', 'SOURCE'], configs.map((c) => [c.name, c.value ?? '', c.isDefault ? 'default' : 'topic'])));
      }),
    );

  topics
    .command('alter <topic>')
    .description('set topic configs (an empty value resets one to its default), or grow partitions')
    .option('-c, --config <name=value>', 'a topic config (repeatable)', collect)
    .option('-p, --partitions <n>', 'grow the topic to this many partitions')
    .action(
      wrap(async (ctx: Context, topic: string, opts: { config?: string[]; partitions?: string }) => {
        const admin = ctx.client.admin();
        const configs: Record<string, string | null> = parseConfigPairs(opts.config);
        for (const [k, v] of Object.entries(configs)) if (v === '') configs[k] = null;
        if (Object.keys(configs).length === 0 && opts.partitions === undefined) throw new UsageError('alter needs --config name=value or --partitions N');
        if (Object.keys(configs).length > 0) await admin.alterTopicConfigs(topic, configs);
        if (opts.partitions !== undefined) await admin.growPartitions(topic, parseInteger(opts.partitions, '--partitions', 1));
        if (ctx.json) ctx.printJson({ ...(await admin.describeTopic(topic)), configs: await admin.describeTopicConfigs(topic) });
        else ctx.say(`Altered topic '${topic}'.`);
      }),
    );

  topics
    .command('delete <topic>')
    .description('delete a topic and its data')
    .action(
      wrap(async (ctx: Context, topic: string) => {
        await ctx.client.admin().deleteTopic(topic);
        if (ctx.json) ctx.printJson({ deleted: topic });
        else ctx.say(`Deleted topic '${topic}'.`);
      }),
    );
}

