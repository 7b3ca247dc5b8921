/**
 * Every HTTP route of the contract (../shared/api.md), in API Gateway HTTP API
 * route-key syntax, and the Lambda function that serves it. The CDK stack creates
 * exactly these routes, and the local gateway matches requests against them, so a
 * route exists in one place only.
 */
/** `maintenance` serves no route: an EventBridge schedule invokes it (functions/maintenance.ts). */
export type FunctionName = 'admin' | 'produce' | 'fetch' | 'groups' | 'maintenance' | 'schemas';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** Path with `{param}` segments, as API Gateway writes it. */
  path: string;
  fn: FunctionName;
}

const C = '/v3/clusters/{cluster_id}';
const T = `${C}/topics/{topic_name}`;
const P = `${T}/partitions/{partition_id}`;
const G = `${C}/consumer-groups/{consumer_group_id}`;
const V2 = '/consumers/{group_name}';
const I = `${V2}/instances/{instance}`;
const SV = '/subjects/{subject}/versions';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/health', fn: 'admin' },
  // The OpenAPI 3.1 document of this table (src/api/openapi.ts; docs/openapi.json is the checked-in copy).
  { method: 'GET', path: '/openapi.json', fn: 'admin' },
  { method: 'GET', path: '/v3/clusters', fn: 'admin' },
  { method: 'GET', path: C, fn: 'admin' },
  { method: 'GET', path: `${C}/topics`, fn: 'admin' },
  { method: 'POST', path: `${C}/topics`, fn: 'admin' },
  { method: 'GET', path: T, fn: 'admin' },
  { method: 'PATCH', path: T, fn: 'admin' },
  { method: 'DELETE', path: T, fn: 'admin' },
  { method: 'GET', path: `${T}/configs`, fn: 'admin' },
  { method: 'POST', path: `${T}/configs:alter`, fn: 'admin' },
  { method: 'GET', path: `${T}/configs/{name}`, fn: 'admin' },
  { method: 'PUT', path: `${T}/configs/{name}`, fn: 'admin' },
  { method: 'DELETE', path: `${T}/configs/{name}`, fn: 'admin' },
  { method: 'GET', path: `${T}/partitions`, fn: 'admin' },
  { method: 'GET', path: P, fn: 'admin' },
  { method: 'GET', path: `${P}/offsets`, fn: 'admin' },
  // The API as Kafka's one broker: every partition's leader and only replica (src/api/resources.ts).
  { method: 'GET', path: `${P}/replicas`, fn: 'admin' },
  { method: 'GET', path: `${P}/replicas/{broker_id}`, fn: 'admin' },
  { method: 'GET', path: `${C}/brokers`, fn: 'admin' },
  { method: 'GET', path: `${C}/brokers/{broker_id}`, fn: 'admin' },
  { method: 'POST', path: `${T}/records`, fn: 'produce' },
  { method: 'POST', path: `${T}/records:batch`, fn: 'produce' },
  { method: 'POST', path: `${P}/records:delete`, fn: 'admin' },
  { method: 'POST', path: `${P}/batches`, fn: 'produce' },
  // Direct-to-S3 produce: a presigned PUT, then the commit (src/api/uploads.ts).
  { method: 'POST', path: `${P}/uploads`, fn: 'produce' },
  { method: 'POST', path: `${P}/uploads/{upload_id}/commit`, fn: 'produce' },
  { method: 'GET', path: `${P}/records`, fn: 'fetch' },
  // Many partitions in one request (Kafka's Fetch): POST, as the partitions are a body (src/api/multiFetch.ts).
  { method: 'POST', path: `${C}/records:fetch`, fn: 'fetch' },
  // Where waiting consumers get notices instead of long-polling (src/api/notifications.ts, src/notify/).
  { method: 'GET', path: `${C}/notifications`, fn: 'fetch' },
  // API keys (STRAND_AUTH=keys; src/api/apiKeys.ts). The secret is returned once, by POST.
  { method: 'POST', path: `${C}/api-keys`, fn: 'admin' },
  { method: 'GET', path: `${C}/api-keys`, fn: 'admin' },
  { method: 'GET', path: `${C}/api-keys/{key_id}`, fn: 'admin' },
  { method: 'DELETE', path: `${C}/api-keys/{key_id}`, fn: 'admin' },
  // Triggers: push a topic's records to a function or webhook (src/api/triggers.ts, docs/triggers.md).
  // PATCH pauses and resumes (`state`) and changes delivery settings.
  { method: 'POST', path: `${C}/triggers`, fn: 'admin' },
  { method: 'GET', path: `${C}/triggers`, fn: 'admin' },
  { method: 'GET', path: `${C}/triggers/{trigger_name}`, fn: 'admin' },
  { method: 'PATCH', path: `${C}/triggers/{trigger_name}`, fn: 'admin' },
  { method: 'DELETE', path: `${C}/triggers/{trigger_name}`, fn: 'admin' },
  // Idempotent producers (InitProducerId).
  { method: 'POST', path: `${C}/producers`, fn: 'produce' },
  // Consumer groups (KIP-848 heartbeats, offsets, REST Proxy v3 reads and admin).
  { method: 'GET', path: `${C}/consumer-groups`, fn: 'groups' },
  { method: 'GET', path: G, fn: 'groups' },
  { method: 'DELETE', path: G, fn: 'groups' },
  { method: 'POST', path: `${G}/heartbeat`, fn: 'groups' },
  { method: 'POST', path: `${G}/offsets:commit`, fn: 'groups' },
  { method: 'GET', path: `${G}/offsets`, fn: 'groups' },
  { method: 'POST', path: `${G}/offsets:reset`, fn: 'groups' },
  { method: 'GET', path: `${G}/consumers`, fn: 'groups' },
  { method: 'GET', path: `${G}/consumers/{consumer_id}`, fn: 'groups' },
  { method: 'GET', path: `${G}/consumers/{consumer_id}/assignments`, fn: 'groups' },
  { method: 'GET', path: `${G}/lags`, fn: 'groups' },
  { method: 'GET', path: `${G}/lags/{topic_name}/partitions/{partition_id}`, fn: 'groups' },
  { method: 'GET', path: `${G}/lag-summary`, fn: 'groups' },
  // REST Proxy v2 topics and produce (src/api/topics.ts, produce.ts).
  { method: 'GET', path: '/topics', fn: 'admin' },
  { method: 'GET', path: '/topics/{topic_name}', fn: 'admin' },
  { method: 'POST', path: '/topics/{topic_name}', fn: 'produce' },
  // REST Proxy v2 consumer instances.
  { method: 'POST', path: V2, fn: 'groups' },
  { method: 'DELETE', path: I, fn: 'groups' },
  { method: 'POST', path: `${I}/subscription`, fn: 'groups' },
  { method: 'GET', path: `${I}/subscription`, fn: 'groups' },
  { method: 'DELETE', path: `${I}/subscription`, fn: 'groups' },
  { method: 'POST', path: `${I}/assignments`, fn: 'groups' },
  { method: 'GET', path: `${I}/assignments`, fn: 'groups' },
  { method: 'GET', path: `${I}/records`, fn: 'groups' },
  { method: 'POST', path: `${I}/offsets`, fn: 'groups' },
  { method: 'GET', path: `${I}/offsets`, fn: 'groups' },
  { method: 'POST', path: `${I}/positions`, fn: 'groups' },
  { method: 'POST', path: `${I}/positions/beginning`, fn: 'groups' },
  { method: 'POST', path: `${I}/positions/end`, fn: 'groups' },
  // Schema registry, at the Confluent Schema Registry's paths (src/api/schemas.ts).
  { method: 'GET', path: '/', fn: 'schemas' },
  { method: 'GET', path: '/schemas', fn: 'schemas' },
  { method: 'GET', path: '/schemas/types', fn: 'schemas' },
  { method: 'GET', path: '/schemas/ids/{id}', fn: 'schemas' },
  { method: 'GET', path: '/schemas/ids/{id}/schema', fn: 'schemas' },
  { method: 'GET', path: '/schemas/ids/{id}/versions', fn: 'schemas' },
  { method: 'GET', path: '/schemas/ids/{id}/subjects', fn: 'schemas' },
  { method: 'GET', path: '/subjects', fn: 'schemas' },
  { method: 'POST', path: '/subjects/{subject}', fn: 'schemas' },
  { method: 'DELETE', path: '/subjects/{subject}', fn: 'schemas' },
  { method: 'GET', path: SV, fn: 'schemas' },
  { method: 'POST', path: SV, fn: 'schemas' },
  { method: 'GET', path: `${SV}/{version}`, fn: 'schemas' },
  { method: 'DELETE', path: `${SV}/{version}`, fn: 'schemas' },
  { method: 'GET', path: `${SV}/{version}/schema`, fn: 'schemas' },
  { method: 'GET', path: `${SV}/{version}/referencedby`, fn: 'schemas' },
  { method: 'GET', path: '/mode', fn: 'schemas' },
  { method: 'PUT', path: '/mode', fn: 'schemas' },
  { method: 'DELETE', path: '/mode', fn: 'schemas' },
  { method: 'GET', path: '/mode/{subject}', fn: 'schemas' },
  { method: 'PUT', path: '/mode/{subject}', fn: 'schemas' },
  { method: 'DELETE', path: '/mode/{subject}', fn: 'schemas' },
  { method: 'GET', path: '/config', fn: 'schemas' },
  { method: 'PUT', path: '/config', fn: 'schemas' },
  { method: 'DELETE', path: '/config', fn: 'schemas' },
  { method: 'GET', path: '/config/{subject}', fn: 'schemas' },
  { method: 'PUT', path: '/config/{subject}', fn: 'schemas' },
  { method: 'DELETE', path: '/config/{subject}', fn: 'schemas' },
  { method: 'POST', path: `/compatibility${SV}`, fn: 'schemas' },
  { method: 'POST', path: `/compatibility${SV}/{version}`, fn: 'schemas' },
];

export function routeKey(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

export interface RouteMatch {
  route: RouteSpec;
  pathParameters: Record<string, string>;
}

/**
 * Matches a concrete request path against the route table the way API Gateway
 * does: literal segments win over `{param}` segments, and a parameter matches one
 * whole, non-empty segment. Returns the matched route, or the list of methods the
 * path allows (for 405) when only the method is wrong.
 */
export function matchRoute(
  method: string,
  path: string,
  table: readonly RouteSpec[] = routes,
): RouteMatch | { allowedMethods: string[] } | undefined {
  const segments = path.split('/').slice(1);
  let best: { match: RouteMatch; literals: number } | undefined;
  const allowed = new Set<string>();
  for (const route of table) {
    const pattern = route.path.split('/').slice(1);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i]!;
      const s = segments[i]!;
      const param = /^\{([a-z_]+)\}$/.exec(p);
      if (param) {
        if (s.length === 0) ok = false;
        else params[param[1]!] = decodeURIComponent(s);
      } else if (p === s) {
        literals++;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    if (route.method !== method) {
      allowed.add(route.method);
      continue;
    }
    if (!best || literals > best.literals) best = { match: { route, pathParameters: params }, literals };
  }
  if (best) return best.match;
  if (allowed.size > 0) return { allowedMethods: [...allowed] };
  return undefined;
}
