/** The operations of the produce function: its routes in src/api/routes.ts, and no other function's code. */
import type { OperationTable } from '../operations';
import { produceOperations } from '../produce';
import { uploadOperations } from '../uploads';
import { producerOperations } from '../producers';

export const produceFunctionOperations: OperationTable = {
  ...produceOperations,
  ...uploadOperations,
  ...producerOperations,
};
