/** Lambda entry point for the schema registry routes (see src/api/routes.ts). */
import { createHandler } from '../src/api/lambda';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createHandler('schemas', runtimeFromEnvironment);
