/** The operations of the fetch function: its routes in src/api/routes.ts, and no other function's code. */
import type { OperationTable } from '../operations';
import { fetchOperations } from '../fetch';
import { multiFetchOperations } from '../multiFetch';
import { notificationOperations } from '../notifications';

export const fetchFunctionOperations: OperationTable = {
  ...fetchOperations,
  ...multiFetchOperations,
  ...notificationOperations,
};
