/** The operations of the schemas function (the schema registry): its routes in src/api/routes.ts, and no other function's code. */
import type { OperationTable } from '../operations';
import { schemaOperations } from '../schemas';

export const schemasFunctionOperations: OperationTable = { ...schemaOperations };
