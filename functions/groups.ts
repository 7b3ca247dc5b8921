/** Lambda entry point for the consumer group routes (see src/api/routes.ts). */
import { createHandler } from '../src/api/lambda';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createHandler('groups', runtimeFromEnvironment);
