/** `strand groups …`: added once the SDK speaks the consumer-group endpoints. */
import type { Command } from 'commander';
import type { Context } from './context';

type Wrap = (action: (ctx: Context, ...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

export function groupsCommand(_program: Command, _wrap: Wrap): void {}
