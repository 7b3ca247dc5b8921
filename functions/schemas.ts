/** Lambda entry point for the schema registry routes (see src/api/routes.ts). */
import { createFunctionHandler } from '../src/api/functionHandler';
import { schemasFunctionOperations } from '../src/api/functionOperations/schemas';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createFunctionHandler('schemas', runtimeFromEnvironment, schemasFunctionOperations);
