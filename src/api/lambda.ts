/**
 * The Lambda adapter with every operation (src/api/functionHandler.ts holds the
 * adapter itself): what the local gateway and in-process tests use, serving all
 * functions in one process. Lambda entry points in functions/ call
 * createFunctionHandler with their own function's table instead, so a bundle
 * does not load every other function's code.
 */
import type { FunctionName } from './routes';
import type { Runtime } from '../runtime';
import { operations, type OperationTable } from './operations';
import { createFunctionHandler, type LambdaHandler } from './functionHandler';

export { createFunctionHandler, fromApiGatewayEvent, toApiGatewayResult, type InvocationContext, type LambdaHandler } from './functionHandler';

/** A handler for one function; it serves `table` (@default every operation: dispatch still answers 404 for another function's route). */
export function createHandler(fn: FunctionName, runtime: () => Runtime, table: OperationTable = operations): LambdaHandler {
  return createFunctionHandler(fn, runtime, table);
}
