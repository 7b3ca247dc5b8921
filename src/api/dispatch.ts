/**
 * Routes an ApiRequest to its operation and turns every failure into the
 * contract's error body. Unknown failures are 500 / 50001 with no stack trace;
 * storage faults a retry may cure are 503 / 50301. With API keys on, the
 * access check (src/auth/authorize.ts) runs before the operation.
 *
 * The operations come from the caller: a Lambda function passes its own table
 * (src/api/functionOperations/), so this module imports no operation and a
 * function's bundle holds only the code of its routes.
 */
import { ErrorCode, StrandError } from '../errors';
import { asStorageUnavailable } from '../storage/storageErrors';
import type { Runtime } from '../runtime';
import type { ApiRequest, ApiResponse } from './http';
import { routeKey, routes, type FunctionName, type RouteSpec } from './routes';
import type { OperationTable } from './operations';
import { emitTrafficMetrics } from '../metrics/emf';
import { assertPathParameters } from './request';
import { authorize, filterListing } from '../auth/authorize';

export function errorResponse(err: StrandError, route?: Pick<RouteSpec, 'path'>): ApiResponse {
  // REST Proxy v2 answers its errors in its own media type, as its clients expect.
  const v2 = route !== undefined && (route.path.startsWith('/consumers/') || route.path.startsWith('/topics'));
  return { status: err.status, headers: v2 ? { 'content-type': 'application/vnd.kafka.v2+json', ...err.headers } : err.headers, json: err.toBody() };
}

const routeByKey = new Map(routes.map((r) => [routeKey(r), r]));

export async function dispatch(fn: FunctionName, request: ApiRequest, runtime: Runtime, operations: OperationTable): Promise<ApiResponse> {
  const route = routeByKey.get(request.routeKey);
  const operation = route ? operations[request.routeKey] : undefined;
  if (!route || route.fn !== fn || !operation) {
    return { status: 404, json: { error_code: 404, message: `No route ${request.routeKey} in the ${fn} function.` } };
  }
  try {
    assertPathParameters(request);
    // Access control (STRAND_AUTH=keys): the one check, before any operation runs.
    const caller = await authorize(route, request, runtime);
    const response = filterListing(route, request, caller, await operation(request, runtime));
    // On AWS: per-topic records and bytes as CloudWatch metrics (EMF lines, src/metrics/emf.ts).
    emitTrafficMetrics(runtime, request, response);
    return response;
  } catch (err) {
    if (err instanceof StrandError) return errorResponse(err, route);
    const transient = asStorageUnavailable(err);
    if (transient) {
      runtime.logger.warn('storage unavailable', { routeKey: request.routeKey, error: describe(err) });
      return errorResponse(transient, route);
    }
    runtime.logger.error('internal error', { routeKey: request.routeKey, error: describe(err) });
    return errorResponse(new StrandError(ErrorCode.Internal, 'Internal error.'), route);
  }
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { value: String(err) };
}
