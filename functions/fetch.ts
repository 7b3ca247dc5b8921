/** Lambda entry point for the fetch routes (see src/api/routes.ts). */
import { createFunctionHandler } from '../src/api/functionHandler';
import { fetchFunctionOperations } from '../src/api/functionOperations/fetch';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createFunctionHandler('fetch', runtimeFromEnvironment, fetchFunctionOperations);
