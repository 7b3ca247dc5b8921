/**
 * The operations of the API, by route key. Each routed function has a table of
 * its own (src/api/functionOperations/<fn>.ts) that imports only the modules
 * its routes use, so its Lambda bundle carries no other function's code
 * (functions/<fn>.ts hands its table to the handler). `operations` is every
 * table at once, for the local gateway and tests, which serve all functions
 * in one process. src/api/routes.ts stays the one table of routes and which
 * function serves each: infra/bundle.test.ts checks that each function's
 * table holds exactly the operations of its routes.
 */
import type { Runtime } from '../runtime';
import type { ApiRequest, ApiResponse } from './http';
import type { FunctionName } from './routes';
import { adminFunctionOperations } from './functionOperations/admin';
import { produceFunctionOperations } from './functionOperations/produce';
import { fetchFunctionOperations } from './functionOperations/fetch';
import { groupsFunctionOperations } from './functionOperations/groups';
import { schemasFunctionOperations } from './functionOperations/schemas';

export type Operation = (req: ApiRequest, runtime: Runtime) => Promise<ApiResponse>;

/** A function's operations by route key ("METHOD /path"). */
export type OperationTable = Readonly<Record<string, Operation>>;

/** Each routed function's table (maintenance serves no route). */
export const functionOperations: Readonly<Record<Exclude<FunctionName, 'maintenance'>, OperationTable>> = {
  admin: adminFunctionOperations,
  produce: produceFunctionOperations,
  fetch: fetchFunctionOperations,
  groups: groupsFunctionOperations,
  schemas: schemasFunctionOperations,
};

/** Every operation of the API: all functions' tables together. */
export const operations: OperationTable = Object.assign({}, ...Object.values(functionOperations)) as OperationTable;
