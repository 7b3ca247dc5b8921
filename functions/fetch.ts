/** Lambda entry point for the fetch routes (see src/api/routes.ts). */
import { createHandler } from '../src/api/lambda';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createHandler('fetch', runtimeFromEnvironment);
