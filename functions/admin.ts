/** Lambda entry point for the admin routes (see src/api/routes.ts). */
import { createFunctionHandler } from '../src/api/functionHandler';
import { adminFunctionOperations } from '../src/api/functionOperations/admin';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createFunctionHandler('admin', runtimeFromEnvironment, adminFunctionOperations);
