/**
 * Request parsing shared by every operation: body limits, JSON (with a bound on
 * nesting), zod validation mapped to the contract's codes (a missing field is
 * 40001, a bad value 40002), path and query parameters, cluster and topic lookup.
 */
import type { z } from 'zod';
import { ErrorCode, StrandError, badRequest, invalidValue } from '../errors';
import type { Runtime } from '../runtime';
import type { Topic } from '../log/TopicCatalog';
import { jsonNestsDeeperThan } from '../jsonNesting';
import { requestBodyBytesMax, type ApiRequest } from './http';

export function assertBodySize(req: ApiRequest): void {
  if (req.body.length > requestBodyBytesMax) {
    throw new StrandError(
      ErrorCode.BodyTooLarge,
      `Request body is ${req.body.length} bytes; the API accepts at most ${requestBodyBytesMax}.`,
    );
  }
}

export function mediaType(req: ApiRequest): string | undefined {
  return req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** JSON content types the API accepts (REST Proxy clients send its vendor types). */
export const jsonMediaType = /^application\/(json|vnd\.kafka(\.[a-z0-9]+)?\.v[23]\+json)$/;

export function assertContentType(req: ApiRequest, expected: string | RegExp): void {
  const type = mediaType(req);
  const ok = typeof expected === 'string' ? type === expected : type !== undefined && expected.test(type);
  if (!ok) {
    throw new StrandError(
      ErrorCode.UnsupportedMediaType,
      `Content-Type '${type ?? '(none)'}' is not supported here; send ${typeof expected === 'string' ? expected : 'application/json'}.`,
    );
  }
}

/**
 * Deepest nesting of arrays and objects a JSON body may have. The contract's
 * deepest fixed shape is 4 levels (`entries` → entry → `value` → `data`), so
 * 100 leaves over 90 levels for a record's own JSON: more than real documents
 * use (Confluent REST Proxy, on Jackson, allows 1,000, a bound for a JVM
 * stack). It is low because the parsed body is walked by recursive code
 * (JSON.stringify when a JSON record value is encoded, zod, avsc conversion);
 * at 100 levels those use a few hundred frames at most, far from the
 * roughly 10,000 V8 allows, in any Lambda memory size. Deeper bodies are
 * refused before JSON.parse (400 / 40002; 422 / 42201 on the registry routes).
 */
export const jsonNestingDepthMax = 100;

export interface JsonBodyOptions {
  /** The JSON media types the route takes. @default the REST Proxy's (application/json and application/vnd.kafka…+json) */
  accepted?: RegExp;
  /** The error for a body nested deeper than `jsonNestingDepthMax`. @default 400 / 40002 */
  tooDeep?: (message: string) => Error;
}

/**
 * Parses and validates a JSON body. A request with no Content-Type is taken as
 * JSON (curl -d sends form type; that is refused). `options.accepted` narrows
 * or widens the JSON media types (the schema registry takes its own), and
 * `options.tooDeep` gives the error a too-deep body gets (the registry answers
 * in Confluent's codes).
 */
export function parseJsonBody<S extends z.ZodType>(req: ApiRequest, schema: S, options: JsonBodyOptions = {}): z.infer<S> {
  const text = jsonBodyText(req, options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw notJson(err);
  }
  return validate(schema, parsed);
}

/** The checks every JSON body gets before it is parsed (size, media type, not empty, nesting); its text. */
export function jsonBodyText(req: ApiRequest, options: JsonBodyOptions = {}): string {
  assertBodySize(req);
  if (mediaType(req) !== undefined) assertContentType(req, options.accepted ?? jsonMediaType);
  if (req.body.length === 0) throw badRequest('Request body is empty; a JSON object is required.');
  const text = req.body.toString('utf8');
  // Before JSON.parse, by an iterative scan: what walks the parsed value recurses (src/jsonNesting.ts).
  if (jsonNestsDeeperThan(text, jsonNestingDepthMax)) {
    const message = `Request body nests arrays and objects more than ${jsonNestingDepthMax} levels deep.`;
    throw (options.tooDeep ?? invalidValue)(message);
  }
  return text;
}

/** 400 / 40001 for a body JSON.parse refused. */
export const notJson = (err: unknown) => badRequest(`Request body is not valid JSON: ${(err as Error).message}`);

export function validate<S extends z.ZodType>(schema: S, input: unknown, where = ''): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = where + issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  const field = path.replace(/^\./, '') || 'body';
  const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined;
  if (missing) throw badRequest(`Field '${field}' is required.`);
  throw invalidValue(`Field '${field}' is invalid: ${issue.message}.`);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/**
 * Every name in a path (topic, group, consumer instance, …) is at most Kafka's
 * 249 characters and 1,000 UTF-8 bytes: names become DynamoDB keys, whose sort
 * keys may not exceed 1,024 bytes, and a longer name is never valid anyway.
 */
export const pathParameterCharsMax = 249;
const pathParameterBytesMax = 1000;

export function assertPathParameters(req: ApiRequest): void {
  for (const [name, value] of Object.entries(req.pathParameters)) {
    if (value.length > pathParameterCharsMax || Buffer.byteLength(value, 'utf8') > pathParameterBytesMax) {
      throw invalidValue(`Path parameter '${name}' is ${value.length} characters; at most ${pathParameterCharsMax} are allowed.`);
    }
  }
}

export function pathParam(req: ApiRequest, name: string): string {
  const v = req.pathParameters[name];
  if (v === undefined) throw badRequest(`Path parameter '${name}' is missing.`);
  return v;
}

/** An integer query or path value within [min, max]. */
export function parseInteger(raw: string, name: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw.trim())) throw invalidValue(`'${name}' must be an integer, not '${raw}'.`);
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalidValue(`'${name}' must be from ${min} to ${max}, not ${raw}.`);
  return n;
}

export function queryInteger(req: ApiRequest, name: string, options: { min: number; max: number; default?: number }): number {
  const raw = req.query[name];
  if (raw === undefined || raw === '') {
    if (options.default === undefined) throw badRequest(`Query parameter '${name}' is required.`);
    return options.default;
  }
  return parseInteger(raw, name, options.min, options.max);
}

export function partitionParam(req: ApiRequest): number {
  return parseInteger(pathParam(req, 'partition_id'), 'partition_id', 0, Number.MAX_SAFE_INTEGER);
}

export function assertCluster(req: ApiRequest, runtime: Runtime): string {
  const clusterId = pathParam(req, 'cluster_id');
  if (clusterId !== runtime.config.clusterId) {
    throw new StrandError(ErrorCode.UnknownCluster, `Cluster '${clusterId}' not found; this is cluster '${runtime.config.clusterId}'.`);
  }
  return clusterId;
}

export async function loadTopic(req: ApiRequest, runtime: Runtime): Promise<Topic> {
  assertCluster(req, runtime);
  return runtime.engine.topics.get(pathParam(req, 'topic_name'));
}

/** For the data path (produce, fetch): the topic as read at most a second ago (TopicCatalog.getCached). */
export async function loadTopicCached(req: ApiRequest, runtime: Runtime): Promise<Topic> {
  assertCluster(req, runtime);
  return runtime.engine.topics.getCached(pathParam(req, 'topic_name'));
}
