/**
 * The local stand-in for API Gateway: a Node HTTP server that matches requests
 * against the same route table, builds the same payload-v2 events and invokes the
 * same Lambda handlers that run on AWS.
 *
 * It also enforces what API Gateway and Lambda enforce, and answers as they do,
 * so a request that fails on AWS fails the same way here:
 *
 *   request body over 10 MiB        413 {"message":"Request Entity Too Large"}   (API Gateway)
 *   event JSON over 6 MiB           500 {"message":"Internal Server Error"}      (Lambda refuses the invoke)
 *   function error or timeout       500 {"message":"Internal Server Error"}      (Lambda error)
 *   response JSON over 6 MiB + 100  500 {"message":"Internal Server Error"}      (Lambda refuses the response)
 *   no answer after 30 s            503 {"message":"Service Unavailable"}        (integration timeout)
 *
 * Sources: HTTP API quotas (payload 10 MB, integration timeout 30 s)
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html;
 * Lambda quotas (6 MB synchronous request and response)
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html; an HTTP
 * API answers every Lambda integration error with {"message":"Internal Server Error"}
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { jsonPayloadBytes } from './payloadSize';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createHandler, type LambdaHandler } from '../src/api/lambda';
import { matchRoute, routeKey, routes as routeTable, type FunctionName, type RouteSpec } from '../src/api/routes';
import { apiGatewayIntegrationTimeoutMs, functionTimeoutSeconds } from '../src/config/functionTimeouts';
import type { Runtime } from '../src/runtime';
import type { StrandMetrics } from '../src/metrics/strandMetrics';
import { unmatchedRoute } from '../src/metrics/strandMetrics';
import { prometheusContentType } from '../src/metrics/registry';
import { trafficRouteKeys } from '../src/metrics/traffic';
import type { RequestLog } from '../src/metrics/requestLog';
import { consolePath, isConsolePath, serveConsole } from './consoleAssets';

/**
 * API Gateway HTTP API's payload quota, 10 MB, not adjustable. Measured in
 * bytes of body as it arrives; the bound is 10 MiB, the size AWS reports
 * refusing ("HTTP content length exceeded 10485760 bytes").
 */
export const apiGatewayPayloadBytesMax = 10 * 1024 * 1024;

/**
 * Lambda's synchronous invocation payload, "6 MB": the event as JSON, binary
 * bodies base64-encoded inside it. Lambda refuses a larger invoke with
 * "Request must be smaller than 6291456 bytes for the InvokeFunction operation".
 */
export const lambdaRequestPayloadBytesMax = 6 * 1024 * 1024;

/**
 * Lambda's synchronous response payload, "6 MB": the handler's result as JSON.
 * The runtime refuses a larger one with "Exceeded maximum allowed payload size
 * (6291556 bytes)", 100 bytes more than the request's bound.
 */
export const lambdaResponsePayloadBytesMax = 6 * 1024 * 1024 + 100;

/**
 * How much of a body over apiGatewayPayloadBytesMax is still read (and thrown
 * away) so the client gets its 413 rather than a reset; past it the connection
 * is closed. Local only: it bounds the work a runaway client can cause.
 */
const oversizedBodyDrainBytesMax = 4 * apiGatewayPayloadBytesMax;

/**
 * How long close() waits for handlers still running. Long polls end at once on
 * shutdown, so this only bounds a handler stuck on storage (a crash the fault
 * tests inject never settles): it must not hold a stop for long.
 */
const inFlightDrainMsMax = 3_000;

/** Content types API Gateway passes as text; everything else arrives base64-encoded. */
const textMediaType = /^(application\/([a-z0-9.+-]*\+)?json|text\/.*|application\/x-www-form-urlencoded)$/;

/** API Gateway's own answers (its bodies, not the contract's error codes: the function never answered). */
const gatewayAnswers = {
  payloadTooLarge: { status: 413, message: 'Request Entity Too Large' },
  integrationError: { status: 500, message: 'Internal Server Error' },
  integrationTimeout: { status: 503, message: 'Service Unavailable' },
} as const;

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
  /** The routes to serve. @default src/api/routes.ts — tests add routes of their own. */
  routes?: readonly RouteSpec[];
  /** The handler of each function. @default createHandler(fn, runtime) — tests inject stubs. */
  handlerFor?: (fn: FunctionName) => LambdaHandler;
  /** Each function's timeout in ms. @default functionTimeoutSeconds (src/config/functionTimeouts.ts), as the CDK stack sets */
  functionTimeoutsMs?: Partial<Record<FunctionName, number>>;
  /** API Gateway's integration timeout. @default 30 s; tests shorten it rather than wait. */
  integrationTimeoutMs?: number;
  /**
   * Counts every answer (per route and status class, per topic for produce and
   * fetch) and serves them at `GET /metrics` in Prometheus' text format, with
   * consumer lag read at scrape time. Local only: on AWS the same numbers are
   * CloudWatch metrics (docs/observability.md). @default none: no /metrics
   */
  metrics?: StrandMetrics;
  /** Told of every answer, for the one-line request log (src/metrics/requestLog.ts). @default none */
  requestLog?: RequestLog;
}

/** Where the local runtime serves its metrics (not a route of the API: AWS has CloudWatch instead). */
export const metricsPath = '/metrics';

export async function startGateway(runtime: Runtime, options: GatewayOptions = {}): Promise<Gateway> {
  const handlers = new Map<FunctionName, LambdaHandler>();
  const handlerFor = options.handlerFor ?? ((fn: FunctionName) => {
    let h = handlers.get(fn);
    if (!h) handlers.set(fn, (h = createHandler(fn, () => runtime)));
    return h;
  });
  const timeoutMsOf = (fn: FunctionName) => options.functionTimeoutsMs?.[fn] ?? functionTimeoutSeconds[fn] * 1000;
  const invoker: Invoker = {
    routes: options.routes ?? routeTable,
    handlerFor,
    timeoutMsOf,
    integrationTimeoutMs: options.integrationTimeoutMs ?? apiGatewayIntegrationTimeoutMs,
    logger: runtime.logger,
    onRequest: options.onRequest,
    metrics: options.metrics,
    runtime,
    // Invocations the gateway stopped waiting for run on, as a function Lambda has
    // not killed yet would; close() waits for them like any other.
    track: (running) => {
      const settled = running.then(() => {}, () => {}).finally(() => inFlight.delete(settled));
      inFlight.add(settled);
    },
  };

  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    // Observed when the answer is sent: the request log and the per-route metrics.
    const started = performance.now();
    const seen: Seen = { route: unmatchedRoute, requestBytes: 0 };
    if (options.metrics || options.requestLog) {
      res.once('finish', () => {
        const ms = performance.now() - started;
        const method = (req.method ?? 'GET').toUpperCase();
        const responseBytes = Number(res.getHeader('content-length') ?? 0) || 0;
        options.metrics?.observeRequest({ method, route: seen.route, status: res.statusCode, seconds: ms / 1000 });
        options.requestLog?.({ method, path: (req.url ?? '/').split('?')[0]!, status: res.statusCode, ms, requestBytes: seen.requestBytes, responseBytes });
      });
    }
    const handling = serve(req, res, invoker, seen)
      .catch((err: unknown) => {
        runtime.logger.error('gateway failure', { error: String(err) });
        if (!res.headersSent) sendGatewayAnswer(res, gatewayAnswers.integrationError);
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

interface Invoker {
  routes: readonly RouteSpec[];
  handlerFor: (fn: FunctionName) => LambdaHandler;
  timeoutMsOf: (fn: FunctionName) => number;
  integrationTimeoutMs: number;
  logger: Runtime['logger'];
  onRequest?: (request: HandledRequest) => void;
  metrics?: StrandMetrics;
  runtime: Runtime;
  track: (running: Promise<unknown>) => void;
}

/** What serve learned of a request, for the observers of its answer. */
interface Seen {
  /** The route table's path, once matched. */
  route: string;
  requestBytes: number;
}

async function serve(req: IncomingMessage, res: ServerResponse, invoker: Invoker, seen: Seen): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = (req.method ?? 'GET').toUpperCase();

  // The whole body is read before any answer, as API Gateway does: a client still
  // writing when the server answers and closes gets EPIPE instead of the answer.
  const read = await readBody(req, apiGatewayPayloadBytesMax, oversizedBodyDrainBytesMax);
  if ('tooLarge' in read) {
    // Unread bytes would be taken for the next request: the connection ends with the answer.
    if (!read.drained) res.setHeader('connection', 'close');
    return sendGatewayAnswer(res, gatewayAnswers.payloadTooLarge);
  }
  const body = read.body;
  seen.requestBytes = body.length;

  if (invoker.metrics && method === 'GET' && url.pathname === metricsPath) {
    seen.route = metricsPath;
    const text = Buffer.from(await invoker.metrics.scrape(invoker.runtime), 'utf8');
    res.statusCode = 200;
    res.setHeader('content-type', prometheusContentType);
    res.setHeader('content-length', text.length);
    res.end(text);
    return;
  }

  // The web console's static files (local/consoleAssets.ts): served here, not a route of the API.
  if (isConsolePath(url.pathname)) {
    seen.route = consolePath;
    return serveConsole(req, res, url.pathname);
  }

  let match: ReturnType<typeof matchRoute>;
  try {
    match = matchRoute(method, url.pathname, invoker.routes);
  } catch {
    return send(res, 400, { error_code: 40001, message: `Path '${url.pathname}' is not validly percent-encoded.` });
  }
  if (!match) return send(res, 404, { error_code: 404, message: `No route for ${method} ${url.pathname}.` });
  if ('allowedMethods' in match) {
    res.setHeader('allow', match.allowedMethods.join(', '));
    return send(res, 405, { error_code: 405, message: `${method} is not allowed on ${url.pathname}; use ${match.allowedMethods.join(' or ')}.` });
  }

  seen.route = match.route.path;
  const event = buildEvent(req, url, method, match.route, match.pathParameters, body);
  const fn = match.route.fn;
  const report = (status: number, ms: number) => {
    invoker.onRequest?.({ fn, routeKey: event.routeKey, status, requestBytes: body.length, ms });
    if (status >= 500) invoker.logger.warn('request failed', { method, path: url.pathname, status });
  };

  // Lambda refuses an invocation whose event, as JSON, is over its payload bound:
  // the function never runs, and API Gateway answers as for any integration error.
  const eventBytes = jsonPayloadBytes(event);
  if (eventBytes > lambdaRequestPayloadBytesMax) {
    invoker.logger.warn('invocation refused: request payload too large', { eventBytes, max: lambdaRequestPayloadBytesMax });
    report(gatewayAnswers.integrationError.status, 0);
    return sendGatewayAnswer(res, gatewayAnswers.integrationError);
  }

  const started = performance.now();
  const outcome = await invoke(invoker, fn, event);
  const ms = performance.now() - started;
  if (outcome.kind !== 'result') {
    invoker.logger.warn(`invocation ${outcome.kind}`, { fn, routeKey: event.routeKey, ms: Math.round(ms), ...(outcome.kind === 'error' ? { error: String(outcome.error) } : {}) });
    const answer = outcome.kind === 'integration-timeout' ? gatewayAnswers.integrationTimeout : gatewayAnswers.integrationError;
    report(answer.status, ms);
    return sendGatewayAnswer(res, answer);
  }
  const result = outcome.result;
  // Lambda refuses a response over its payload bound ("Response payload size exceeded").
  const resultBytes = jsonPayloadBytes(result);
  if (resultBytes > lambdaResponsePayloadBytesMax) {
    invoker.logger.warn('response refused: payload too large', { fn, resultBytes, max: lambdaResponsePayloadBytesMax });
    report(gatewayAnswers.integrationError.status, ms);
    return sendGatewayAnswer(res, gatewayAnswers.integrationError);
  }
  report(result.statusCode ?? 200, ms);
  res.statusCode = result.statusCode ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  const out = result.body === undefined ? undefined : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  if (out) res.setHeader('content-length', out.length);
  if (invoker.metrics && trafficRouteKeys.has(event.routeKey)) observeTraffic(invoker.metrics, event, body, result, out);
  res.end(out);
}

type Outcome =
  | { kind: 'result'; result: APIGatewayProxyStructuredResultV2 }
  /** The handler threw: Lambda reports a function error. */
  | { kind: 'error'; error: unknown }
  /** Still running at the function's timeout: Lambda stops it ("Task timed out"). */
  | { kind: 'function-timeout' }
  /** Still running when API Gateway stopped waiting (a function timeout over 30 s). */
  | { kind: 'integration-timeout' };

/**
 * Invokes the function as Lambda would: with a context whose remaining time
 * counts down from the function's timeout, and no answer past that timeout or
 * API Gateway's integration timeout, whichever comes first. The handler cannot
 * be killed here; it runs on unobserved, as it would until Lambda stopped it.
 */
async function invoke(invoker: Invoker, fn: FunctionName, event: APIGatewayProxyEventV2): Promise<Outcome> {
  const timeoutMs = invoker.timeoutMsOf(fn);
  const endsAt = Date.now() + timeoutMs;
  const context = { getRemainingTimeInMillis: () => Math.max(0, endsAt - Date.now()) };
  const running = Promise.resolve().then(() => invoker.handlerFor(fn)(event, context));
  invoker.track(running);
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number, outcome: Outcome) =>
    new Promise<Outcome>((resolve) => timers.push(setTimeout(() => resolve(outcome), ms)));
  try {
    return await Promise.race<Outcome>([
      running.then((result) => ({ kind: 'result', result }), (error: unknown) => ({ kind: 'error', error })),
      // Ties go to the function's timeout: Lambda's own clock stops it first.
      after(timeoutMs, { kind: 'function-timeout' }),
      after(invoker.integrationTimeoutMs, { kind: 'integration-timeout' }),
    ]);
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}

function buildEvent(
  req: IncomingMessage,
  url: URL,
  method: string,
  route: RouteSpec,
  pathParameters: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const asText = body.length === 0 || textMediaType.test(mediaType);
  const now = Date.now();
  const key = routeKey(route);
  return {
    version: '2.0',
    routeKey: key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : undefined,
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
}

type ReadBody = { body: Buffer } | { tooLarge: true; drained: boolean };

/**
 * Reads the body whole, up to `limit` bytes. Past the limit the rest is read and
 * discarded, so the client, done writing, reads the 413 (a client still writing
 * when the server answers and closes gets EPIPE instead) — up to `drainMax`
 * bytes; a body declared or found larger than that is left unread and the
 * connection is closed after the answer.
 */
function readBody(req: IncomingMessage, limit: number, drainMax: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > drainMax) return resolve({ tooLarge: true, drained: false });
    let chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      chunks = [];
      if (size <= drainMax) return;
      req.off('data', onData);
      req.pause();
      resolve({ tooLarge: true, drained: false });
    };
    req.on('data', onData);
    req.on('end', () => resolve(size > limit ? { tooLarge: true, drained: true } : { body: Buffer.concat(chunks) }));
    req.on('error', reject);
  });
}

/** Per-topic records and bytes of a produce or fetch, read off its answer (src/metrics/traffic.ts). */
function observeTraffic(metrics: StrandMetrics, event: APIGatewayProxyEventV2, body: Buffer, result: APIGatewayProxyStructuredResultV2, out: Buffer | undefined): void {
  const status = result.statusCode ?? 200;
  if (status < 200 || status >= 300) return;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const contentType = headers['content-type'] ?? '';
  const answer: { json?: unknown; text?: string; binary?: Buffer } = {};
  if (out && (result.isBase64Encoded || !/json/.test(contentType))) answer.binary = out;
  else if (out) {
    const text = out.toString('utf8');
    try {
      answer.json = JSON.parse(text);
    } catch {
      answer.text = text; // a stream of JSON values (streamed produce's reports)
    }
  }
  metrics.observeExchange({
    routeKey: event.routeKey,
    pathParameters: (event.pathParameters ?? {}) as Record<string, string>,
    query: (event.queryStringParameters ?? {}) as Record<string, string>,
    requestBody: body,
    requestBytes: body.length,
    status,
    headers,
    responseBytes: out?.length ?? 0,
    ...answer,
  });
}

function sendGatewayAnswer(res: ServerResponse, answer: { status: number; message: string }): void {
  send(res, answer.status, { message: answer.message });
}

function send(res: ServerResponse, status: number, json: unknown): void {
  const body = Buffer.from(JSON.stringify(json));
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', body.length);
  res.end(body);
}
