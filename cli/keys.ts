/** `strand keys create | list | revoke`: API keys (docs/security.md). Needs an admin key when auth is on. */
import type { Command } from 'commander';
import { UsageError, collect, table, type Context, type Wrap } from './context';

export function keysCommand(program: Command, wrap: Wrap): void {
  const keys = program.command('keys').description('create, list and revoke API keys (STRAND_AUTH=keys)');

  keys
    .command('create')
    .description('create a key; its secret is printed once')
    .requiredOption('-n, --name <name>', 'a label for people')
    .option('-a, --allow <permission>', 'operation:pattern, e.g. produce:orders-*, consume:*, consume:group:billing, admin:cluster (repeatable)', collect)
    .action(
      wrap(async (ctx: Context, opts: { name: string; allow?: string[] }) => {
        if (!opts.allow || opts.allow.length === 0) throw new UsageError('give at least one --allow, e.g. --allow produce:orders-* --allow consume:*');
        const key = await ctx.client.admin().createApiKey(opts.name, opts.allow);
        if (ctx.json) return ctx.printJson(key);
        ctx.say(`Created API key ${key.keyId} (${key.name}): ${key.permissions.join(', ')}`);
        ctx.say(`Secret (shown only now; send it as Authorization: Bearer <key> or set STRAND_API_KEY):`);
        ctx.say(key.apiKey);
      }),
    );

  keys
    .command('list')
    .description('list keys (never their secrets)')
    .action(
      wrap(async (ctx: Context) => {
        const list = await ctx.client.admin().listApiKeys();
        if (ctx.json) return ctx.printJson(list);
        if (list.length === 0) return ctx.say('No API keys.');
        ctx.say(table(['KEY ID', 'NAME', 'STATE', 'CREATED', 'PERMISSIONS'], list.map((k) => [k.keyId, k.name, k.revokedAt ? 'revoked' : 'active', k.createdAt, k.permissions.join(',')])));
      }),
    );

  keys
    .command('revoke <key-id>')
    .description('revoke a key: refused from then on')
    .action(
      wrap(async (ctx: Context, keyId: string) => {
        await ctx.client.admin().revokeApiKey(keyId);
        if (ctx.json) return ctx.printJson({ keyId, revoked: true });
        ctx.say(`Revoked API key ${keyId}.`);
      }),
    );
}
