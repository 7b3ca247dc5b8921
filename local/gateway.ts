/**
 * The local stand-in for API Gateway: a Node HTTP server that matches requests
 * against the same route table, builds the same payload-v2 events and invokes the
 * same Lambda handlers that run on AWS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createHandler, type LambdaHandler } from '../src/api/lambda';
import { matchRoute, routeKey, type FunctionName } from '../src/api/routes';
import { requestBodyBytesMax } from '../src/api/http';
import type { Runtime } from '../src/runtime';

/**
 * How long close() waits for handlers still running. Long polls end at once on
 * shutdown, so this only bounds a handler stuck on storage (a crash the fault
 * tests inject never settles): it must not hold a stop for long.
 */
const inFlightDrainMsMax = 3_000;

/** Content types API Gateway passes as text; everything else arrives base64-encoded. */
const textMediaType = /^(application\/([a-z0-9.+-]*\+)?json|text\/.*|application\/x-www-form-urlencoded)$/;

export interface Gateway {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** What the gateway reports of each handled request (the bench prices Lambda time from it). */
export interface HandledRequest {
  fn: FunctionName;
  routeKey: string;
  status: number;
  requestBytes: number;
  /** Handler wall time: what Lambda would bill. */
  ms: number;
}

export interface GatewayOptions {
  host?: string;
  port?: number;
  onRequest?: (request: HandledRequest) => void;
}

export async function startGateway(runtime: Runtime, options: GatewayOptions = {}): Promise<Gateway> {
  const handlers = new Map<FunctionName, LambdaHandler>();
  const handlerFor = (fn: FunctionName) => {
    let h = handlers.get(fn);
    if (!h) handlers.set(fn, (h = createHandler(fn, () => runtime)));
    return h;
  };

  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const handling = serve(req, res, handlerFor, runtime, options.onRequest)
      .catch((err: unknown) => {
        runtime.logger.error('gateway failure', { error: String(err) });
        if (!res.headersSent) send(res, 500, { error_code: 50001, message: 'Internal error.' });
        else res.destroy();
      })
      .finally(() => inFlight.delete(handling));
    inFlight.add(handling);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    // Stops accepting requests, drops connections, and waits (bounded) for the
    // handlers still running, so storage is not closed under them.
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => setTimeout(r, inFlightDrainMsMax).unref())]);
    },
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handlerFor: (fn: FunctionName) => LambdaHandler,
  runtime: Runtime,
  onRequest?: (request: HandledRequest) => void,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = (req.method ?? 'GET').toUpperCase();
  let match: ReturnType<typeof matchRoute>;
  try {
    match = matchRoute(method, url.pathname);
  } catch {
    return send(res, 400, { error_code: 40001, message: `Path '${url.pathname}' is not validly percent-encoded.` });
  }
  if (!match) return send(res, 404, { error_code: 404, message: `No route for ${method} ${url.pathname}.` });
  if ('allowedMethods' in match) {
    res.setHeader('allow', match.allowedMethods.join(', '));
    return send(res, 405, { error_code: 405, message: `${method} is not allowed on ${url.pathname}; use ${match.allowedMethods.join(' or ')}.` });
  }

  const body = await readBody(req, requestBodyBytesMax);
  if (body === 'too-large') {
    res.setHeader('connection', 'close');
    return send(res, 413, { error_code: 41301, message: `Request body is larger than the API accepts (${requestBodyBytesMax} bytes).` });
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const asText = body.length === 0 || textMediaType.test(mediaType);
  const now = Date.now();
  const key = routeKey(match.route);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : undefined,
    body: body.length === 0 ? undefined : asText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !asText,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: key,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
  };
  const started = performance.now();
  const result = await handlerFor(match.route.fn)(event);
  onRequest?.({ fn: match.route.fn, routeKey: key, status: result.statusCode ?? 200, requestBytes: body.length, ms: performance.now() - started });
  res.statusCode = result.statusCode ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  const out = result.body === undefined ? undefined : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  if (out) res.setHeader('content-length', out.length);
  res.end(out);
  if (res.statusCode >= 500) runtime.logger.warn('request failed', { method, path: url.pathname, status: res.statusCode });
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      return resolve('too-large');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, json: unknown): void {
  const body = Buffer.from(JSON.stringify(json));
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', body.length);
  res.end(body);
}
