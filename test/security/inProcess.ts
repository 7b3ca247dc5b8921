/**
 * Calls the Lambda handlers in-process with API Gateway payload-v2 events, the
 * way local/gateway.ts does (same route matching, same body limit before
 * parsing), minus the socket: fast enough for tens of thousands of requests.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createHandler, type LambdaHandler } from '../../src/api/lambda';
import { matchRoute, routeKey, type FunctionName } from '../../src/api/routes';
import { requestBodyBytesMax } from '../../src/api/http';
import type { Runtime } from '../../src/runtime';

export interface InProcessRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface InProcessResponse {
  status: number;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  body: Buffer;
}

const textMediaType = /^(application\/([a-z0-9.+-]*\+)?json|text\/.*|application\/x-www-form-urlencoded)$/;

export function inProcessApi(runtime: Runtime): (req: InProcessRequest) => Promise<InProcessResponse> {
  const handlers = new Map<FunctionName, LambdaHandler>();
  const handlerFor = (fn: FunctionName) => {
    let h = handlers.get(fn);
    if (!h) handlers.set(fn, (h = createHandler(fn, () => runtime)));
    return h;
  };
  return async (req) => {
    let match: ReturnType<typeof matchRoute>;
    try {
      match = matchRoute(req.method, req.path);
    } catch {
      return reply(400, { error_code: 40001, message: 'bad path' });
    }
    if (!match) return reply(404, { error_code: 404, message: 'no route' });
    if ('allowedMethods' in match) return reply(405, { error_code: 405, message: 'method' });
    const body = req.body ?? Buffer.alloc(0);
    if (body.length > requestBodyBytesMax) return reply(413, { error_code: 41301, message: 'too large' });
    const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const asText = body.length === 0 || textMediaType.test(mediaType);
    const key = routeKey(match.route);
    const event = {
      version: '2.0',
      routeKey: key,
      rawPath: req.path,
      rawQueryString: new URLSearchParams(req.query ?? {}).toString(),
      headers,
      queryStringParameters: req.query && Object.keys(req.query).length > 0 ? req.query : undefined,
      pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : undefined,
      body: body.length === 0 ? undefined : asText ? body.toString('utf8') : body.toString('base64'),
      isBase64Encoded: !asText,
      requestContext: { http: { method: req.method, path: req.path }, routeKey: key, stage: '$default', timeEpoch: Date.now() },
    } as unknown as APIGatewayProxyEventV2;
    const result = await handlerFor(match.route.fn)(event);
    const out = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
    const outHeaders = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    let json: unknown;
    if ((outHeaders['content-type'] ?? '').includes('json') && out.length > 0) json = JSON.parse(out.toString('utf8'));
    return { status: result.statusCode ?? 200, headers: outHeaders, json, body: out };
  };
}

function reply(status: number, json: unknown): InProcessResponse {
  return { status, headers: { 'content-type': 'application/json' }, json, body: Buffer.from(JSON.stringify(json)) };
}
