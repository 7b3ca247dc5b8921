/**
 * API Gateway HTTP API (payload format 2.0) adapter: translates the event into an
 * ApiRequest, dispatches it to one function's operations, and translates the
 * ApiResponse back. Lambda entry points in functions/ are one call each on top
 * of this, with their own operation table (src/api/functionOperations/), so a
 * bundle loads only its routes' code; the local gateway builds the same events
 * and calls the same handler with every table (src/api/lambda.ts), so both run
 * the very same code.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiRequest, ApiResponse } from './http';
import type { FunctionName } from './routes';
import type { OperationTable } from './operations';
import type { Runtime } from '../runtime';
import { dispatch } from './dispatch';
import { withDeadline } from '../config/deadline';

/** What a handler reads of Lambda's context object; the local gateway supplies the same. */
export interface InvocationContext {
  /** Ms until Lambda stops the function (its configured timeout, counted from the invocation). */
  getRemainingTimeInMillis(): number;
}

/** Lambda calls it with a context; a caller without one (a test calling the handler directly) gets no deadline. */
export type LambdaHandler = (event: APIGatewayProxyEventV2, context?: InvocationContext) => Promise<APIGatewayProxyStructuredResultV2>;

export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): ApiRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  // Decoded once, into a Buffer of its own: operations may rewrite it in place
  // (a produce's maxTimestamp fix and LogAppendTime stamp) without copying it again.
  const body = event.body === undefined || event.body === null
    ? Buffer.alloc(0)
    : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  return {
    routeKey: event.routeKey,
    pathParameters: { ...(event.pathParameters as Record<string, string> | undefined) },
    query,
    headers,
    body,
  };
}

export function toApiGatewayResult(response: ApiResponse): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { ...response.headers };
  if (response.binary !== undefined) {
    headers['content-type'] ??= 'application/octet-stream';
    return { statusCode: response.status, headers, body: response.binary.toString('base64'), isBase64Encoded: true };
  }
  if (response.text !== undefined) {
    headers['content-type'] ??= 'application/json';
    return { statusCode: response.status, headers, body: response.text, isBase64Encoded: false };
  }
  if (response.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    return { statusCode: response.status, headers, body: JSON.stringify(response.json), isBase64Encoded: false };
  }
  return { statusCode: response.status, headers, isBase64Encoded: false };
}

/**
 * A Lambda handler for one function, serving the operations of `operations`.
 * The runtime (clients, config) is created on first use and kept for the life
 * of the execution environment. The request runs under a deadline taken from
 * the function's remaining time (src/config/deadline.ts), so it answers before
 * Lambda would stop it.
 */
export function createFunctionHandler(fn: FunctionName, runtime: () => Runtime, operations: OperationTable): LambdaHandler {
  return async (event, context) => {
    const run = () => dispatch(fn, fromApiGatewayEvent(event), runtime(), operations);
    return toApiGatewayResult(context ? await withDeadline(context.getRemainingTimeInMillis(), run) : await run());
  };
}
