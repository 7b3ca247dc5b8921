/** Lambda entry point for the consumer group routes (see src/api/routes.ts). */
import { createFunctionHandler } from '../src/api/functionHandler';
import { groupsFunctionOperations } from '../src/api/functionOperations/groups';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createFunctionHandler('groups', runtimeFromEnvironment, groupsFunctionOperations);
