/**
 * The access check, in one place: dispatch (src/api/dispatch.ts) calls
 * `authorize` before every operation and `filterListing` after it; operations
 * whose answers gather topics the route does not name filter them with
 * `topicsVisibleTo`. With
 * STRAND_AUTH=none (the default) both do nothing: IAM or a JWT authorizer at
 * API Gateway, or nothing locally, decides who gets in.
 *
 * With STRAND_AUTH=keys, a request carries `Authorization: Bearer <key>` (or
 * `X-API-Key: <key>`, e.g. behind a gateway that uses Authorization itself):
 *   no key, a malformed, unknown or revoked key  → 401 / 40101
 *   a valid key without the route's permission    → 403 / 40301
 *   GET /health                                    → open
 */
import { ErrorCode, StrandError } from '../errors';
import type { ApiRequest, ApiResponse } from '../api/http';
import type { RouteSpec } from '../api/routes';
import type { Runtime } from '../runtime';
import { ApiKeyStore, bootstrapKeyCharsMin, hashApiKey, sameHash, type ApiKey } from './ApiKeyStore';
import { describe, describeRequirement, grants, type Requirement } from './permissions';
import { routeAccess } from './routeRequirements';

/** One key store (and so one lookup cache) per runtime: per Lambda container, per local server. */
const stores = new WeakMap<Runtime, ApiKeyStore>();
export function apiKeyStore(runtime: Runtime): ApiKeyStore {
  let store = stores.get(runtime);
  if (!store) {
    store = new ApiKeyStore(runtime.clients.ddb, runtime.config.tables.keys, runtime.clock);
    stores.set(runtime, store);
  }
  return store;
}

/** Who made the request, once `authorize` let it through; undefined when auth is off or the route is open. */
export type Caller = ApiKey | undefined;

const bootstrapCaller: ApiKey = { id: 'bootstrap', name: 'STRAND_BOOTSTRAP_ADMIN_KEY', permissions: [{ operation: 'admin', resource: 'cluster', pattern: '*' }], createdAt: 0 };

const unauthenticated = (message: string) =>
  new StrandError(ErrorCode.Unauthenticated, message, { headers: { 'WWW-Authenticate': 'Bearer realm="strand"' } });

/** The key a request presents: a Bearer token, else X-API-Key. */
export function presentedKey(req: Pick<ApiRequest, 'headers'>): string | undefined {
  const authorization = req.headers.authorization?.trim();
  const bearer = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] : undefined;
  return bearer ?? (req.headers['x-api-key']?.trim() || undefined);
}

const warnedShortBootstrap = new WeakSet<Runtime>();

/** The stored (or bootstrap) key a request presents: 401 / 40101 when there is none that is valid. */
export async function authenticate(req: Pick<ApiRequest, 'headers'>, runtime: Runtime): Promise<ApiKey> {
  const key = presentedKey(req);
  if (key === undefined) throw unauthenticated('An API key is required: send Authorization: Bearer <key> or X-API-Key: <key>.');
  const bootstrap = runtime.config.bootstrapAdminKey;
  if (bootstrap !== undefined) {
    if (bootstrap.length < bootstrapKeyCharsMin) {
      if (!warnedShortBootstrap.has(runtime)) runtime.logger.warn(`STRAND_BOOTSTRAP_ADMIN_KEY is shorter than ${bootstrapKeyCharsMin} characters; it is ignored.`);
      warnedShortBootstrap.add(runtime);
    } else if (sameHash(hashApiKey(key), hashApiKey(bootstrap))) {
      return bootstrapCaller;
    }
  }
  const found = await apiKeyStore(runtime).lookup(key);
  if (found.ok) return found.key;
  if (found.reason === 'revoked') throw unauthenticated(`API key '${found.id}' has been revoked.`);
  throw unauthenticated('The API key is not valid.');
}

/**
 * The key a connection authenticated with earlier, read again by its id (the
 * notice socket checks each subscribe against the key as it is now): 40101 if
 * it was revoked or deleted since.
 */
export async function reauthenticate(apiKeyId: string, runtime: Runtime): Promise<ApiKey> {
  if (apiKeyId === bootstrapCaller.id) {
    if ((runtime.config.bootstrapAdminKey?.length ?? 0) >= bootstrapKeyCharsMin) return bootstrapCaller;
    throw unauthenticated('STRAND_BOOTSTRAP_ADMIN_KEY is no longer set.');
  }
  const key = await apiKeyStore(runtime).byIdCached(apiKeyId);
  if (!key) throw unauthenticated(`API key '${apiKeyId}' no longer exists.`);
  if (key.revokedAt !== undefined) throw unauthenticated(`API key '${apiKeyId}' has been revoked.`);
  return key;
}

/** 403 / 40301 unless the key may do `operation` on every one of these topics. */
export function assertKeyMay(caller: ApiKey, operation: 'consume' | 'produce', topics: readonly string[]): void {
  for (const name of topics) {
    const requirement: Requirement = { anyOf: [operation], resource: 'topic', name };
    if (!grants(caller.permissions, requirement)) {
      throw new StrandError(ErrorCode.Forbidden, `API key '${caller.id}' (${caller.name}) lacks ${describeRequirement(requirement)}.`);
    }
  }
}

/**
 * The caller `authorize` let through, per request, for operations whose answer
 * depends on who asks (`topicsVisibleTo`). Keyed by the request object dispatch
 * hands to both; weak, so it lives as long as the request does.
 */
const callers = new WeakMap<ApiRequest, ApiKey>();

export async function authorize(route: RouteSpec, req: ApiRequest, runtime: Runtime): Promise<Caller> {
  if (runtime.config.auth !== 'keys') return undefined;
  const access = routeAccess(route, req);
  if (access.kind === 'open') return undefined;
  const caller = await authenticate(req, runtime);
  callers.set(req, caller);
  if (access.kind === 'permissions') {
    for (const requirement of access.requirements) {
      if (!grants(caller.permissions, requirement)) {
        throw new StrandError(ErrorCode.Forbidden, `API key '${caller.id}' (${caller.name}) lacks ${describeRequirement(requirement)}.`);
      }
    }
  }
  return caller;
}

/**
 * Lists (topics, consumer groups) show only what the caller may describe, as
 * Kafka's ListTopics does under ACLs.
 */
export function filterListing(route: RouteSpec, req: ApiRequest, caller: Caller, response: ApiResponse): ApiResponse {
  if (caller === undefined || response.status !== 200) return response;
  const access = routeAccess(route, req);
  if (access.kind !== 'authenticated' || access.filter === undefined) return response;
  const resource = access.filter;
  const body = response.json as { data?: Record<string, unknown>[] } | undefined;
  if (!body || !Array.isArray(body.data)) return response;
  const field = resource === 'topic' ? 'topic_name' : 'consumer_group_id';
  const data = body.data.filter((item) => typeof item[field] === 'string' && grants(caller.permissions, describe(resource, item[field] as string)));
  return { ...response, json: { ...body, data } };
}

/**
 * Which topics an operation may show this caller, for answers that gather
 * topics the route's own check did not name: a group's committed offsets and
 * lags list every topic the group ever committed, and Kafka's OffsetFetch
 * leaves out those the caller may not describe. With keys off, every topic.
 * With keys on and no caller recorded (the operation ran without `authorize`),
 * none: the check fails closed.
 */
export function topicsVisibleTo(req: ApiRequest, runtime: Runtime): (topic: string) => boolean {
  if (runtime.config.auth !== 'keys') return () => true;
  const caller = callers.get(req);
  if (caller === undefined) return () => false;
  return (topic) => grants(caller.permissions, describe('topic', topic));
}

/**
 * The check for topics a request names in its body and the route's own check
 * could not see (the multi-partition fetch names any number of topics): every
 * one needs `operation`, or the whole request is 40301 before anything is
 * read. With keys on and no caller recorded (the operation ran without
 * `authorize`), it refuses: the check fails closed.
 */
export function assertTopicsGranted(req: ApiRequest, runtime: Runtime, topics: readonly string[], operation: 'consume' | 'produce'): void {
  if (runtime.config.auth !== 'keys') return;
  const caller = callers.get(req);
  if (caller === undefined) throw new StrandError(ErrorCode.Forbidden, 'The request names topics, and no caller was authenticated for it.');
  assertKeyMay(caller, operation, topics);
}
