/** Lambda entry point for the notifier: the log table's stream fires armed watches (src/notify/notifier.ts). */
import { createNotifierHandler } from '../src/notify/lambda';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createNotifierHandler(runtimeFromEnvironment);
