/**
 * The permission each route needs, derived from the route table
 * (src/api/routes.ts): the serving function says what kind of work it is, the
 * path parameters say on what. A route added to the table is covered at once;
 * anything not recognised needs admin on the cluster (fail closed).
 *
 *   produce function         produce on {topic_name}; POST /producers: produce on any topic
 *   fetch function           consume on {topic_name}; records:fetch (topics in the body): consume on some
 *                            topic here, and on every named topic in the operation (assertTopicsGranted)
 *   groups function          consume on the group (+ consume on every topic named in the body);
 *                            DELETE group, offsets:reset: admin on the group; the group list: any key, filtered
 *   admin function, topic    GET: any permission on the topic; anything else: admin on it
 *                            POST topics: admin on the body's topic_name; the topic list: any key, filtered
 *   admin function, other    /health, /openapi.json: open; clusters: any key; api-keys, triggers: admin on the cluster
 *   schemas function         reads and lookups: any key; registering, deleting, config: admin on the cluster
 */
import type { ApiRequest } from '../api/http';
import type { RouteSpec } from '../api/routes';
import { describe, type Requirement } from './permissions';

export type RouteAccess =
  | { kind: 'open' }
  /** Any valid key; `filter` narrows a list response to the names the key may describe. */
  | { kind: 'authenticated'; filter?: 'topic' | 'group' }
  | { kind: 'permissions'; requirements: Requirement[] };

const adminOnCluster: Requirement = { anyOf: ['admin'], resource: 'cluster' };
const required = (...requirements: Requirement[]): RouteAccess => ({ kind: 'permissions', requirements });

/** Names in a body the check looks at; a body is walked at most this deep and this wide. */
const bodyDepthMax = 4;
const bodyNamesMax = 10_000;
const topicNameKeys = new Set(['topic_name', 'topic']);
const topicListKeys = new Set(['topics', 'topic_names', 'subscribed_topic_names']);

/**
 * Every topic a group request names in its body (heartbeat subscriptions, commits,
 * v2 subscriptions, assignments, positions). A body that is not JSON names none:
 * the operation refuses it with 400 and nothing changes.
 */
export function topicsInBody(body: Buffer): string[] {
  if (body.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return [];
  }
  const out = new Set<string>();
  const walk = (v: unknown, depth: number) => {
    if (depth > bodyDepthMax || out.size >= bodyNamesMax || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const item of v.slice(0, bodyNamesMax)) walk(item, depth + 1);
      return;
    }
    for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
      if (topicNameKeys.has(key) && typeof value === 'string') out.add(value);
      else if (topicListKeys.has(key) && Array.isArray(value)) {
        for (const t of value.slice(0, bodyNamesMax)) if (typeof t === 'string') out.add(t);
      } else walk(value, depth + 1);
    }
  };
  walk(parsed, 0);
  return [...out];
}

function bodyField(body: Buffer, field: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[field] : undefined;
  } catch {
    return undefined;
  }
}

export function routeAccess(route: RouteSpec, req: Pick<ApiRequest, 'pathParameters' | 'body'>): RouteAccess {
  const params = req.pathParameters;
  const topic = params.topic_name;
  const group = params.consumer_group_id ?? params.group_name;
  const { method, path } = route;

  switch (route.fn) {
    case 'produce':
      return topic !== undefined
        ? required({ anyOf: ['produce'], resource: 'topic', name: topic })
        : required({ anyOf: ['produce'], resource: 'topic' });
    case 'fetch':
      if (topic !== undefined) return required({ anyOf: ['consume'], resource: 'topic', name: topic });
      // The multi-partition fetch names its topics in a body this check does not
      // validate; the operation checks each one after validating it, before any read.
      if (path.endsWith('/records:fetch')) return required({ anyOf: ['consume'], resource: 'topic' });
      // Only says where the notice socket is; each subscribe checks its topics (src/notify/socketHandlers.ts).
      if (path.endsWith('/notifications')) return { kind: 'authenticated' };
      return required(adminOnCluster);
    case 'groups': {
      if (group === undefined) return { kind: 'authenticated', filter: 'group' };
      if (params.consumer_group_id !== undefined && ((method === 'DELETE' && path.endsWith('}')) || path.endsWith('/offsets:reset'))) {
        return required({ anyOf: ['admin'], resource: 'group', name: group });
      }
      const topics = topicsInBody(req.body).map((t): Requirement => ({ anyOf: ['consume'], resource: 'topic', name: t }));
      return required({ anyOf: ['consume'], resource: 'group', name: group }, ...topics);
    }
    case 'admin': {
      // The contract holds nothing secret (it is docs/openapi.json in the repository): clients generate from it before they have a key.
      if (path === '/health' || path === '/openapi.json') return { kind: 'open' };
      if (path.includes('/api-keys')) return required(adminOnCluster);
      // A trigger reads a topic and writes to its target and dead-letter topic as Strand itself: cluster admins only.
      if (path.includes('/triggers')) return required(adminOnCluster);
      if (topic !== undefined) {
        return method === 'GET' ? required(describe('topic', topic)) : required({ anyOf: ['admin'], resource: 'topic', name: topic });
      }
      if (path.endsWith('/topics')) {
        if (method === 'GET') return { kind: 'authenticated', filter: 'topic' };
        const name = bodyField(req.body, 'topic_name');
        return required({ anyOf: ['admin'], resource: 'topic', ...(typeof name === 'string' ? { name } : {}) });
      }
      if (method === 'GET' && (path === '/v3/clusters' || path === '/v3/clusters/{cluster_id}')) return { kind: 'authenticated' };
      return required(adminOnCluster);
    }
    case 'schemas': {
      // Reads, lookups (POST /subjects/{s}) and compatibility checks change nothing.
      const lookup = method === 'POST' && (path === '/subjects/{subject}' || path.startsWith('/compatibility/'));
      return method === 'GET' || lookup ? { kind: 'authenticated' } : required(adminOnCluster);
    }
    default:
      return required(adminOnCluster);
  }
}
