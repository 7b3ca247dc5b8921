/** The operations of the groups function: its routes in src/api/routes.ts, and no other function's code. */
import type { OperationTable } from '../operations';
import { groupOperations } from '../groups';
import { consumerOperations } from '../consumers';

export const groupsFunctionOperations: OperationTable = {
  ...groupOperations,
  ...consumerOperations,
};
