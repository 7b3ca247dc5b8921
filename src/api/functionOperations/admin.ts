/** The operations of the admin function: its routes in src/api/routes.ts, and no other function's code. */
import type { OperationTable } from '../operations';
import { topicOperations } from '../topics';
import { recordsOperations } from '../records';
import { apiKeyOperations } from '../apiKeys';
import { triggerOperations } from '../triggers';
import { openApiOperations } from '../openapi';

export const adminFunctionOperations: OperationTable = {
  ...topicOperations,
  ...recordsOperations,
  ...apiKeyOperations,
  ...triggerOperations,
  ...openApiOperations,
};
