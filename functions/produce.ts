/** Lambda entry point for the produce routes (see src/api/routes.ts). */
import { createFunctionHandler } from '../src/api/functionHandler';
import { produceFunctionOperations } from '../src/api/functionOperations/produce';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createFunctionHandler('produce', runtimeFromEnvironment, produceFunctionOperations);
