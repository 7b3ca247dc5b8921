/**
 * API key permissions, after Kafka's ACLs: an operation on a resource type and
 * a name pattern. Pure: no I/O.
 *
 *   Permission  => operation ":" [resource_type ":"] pattern | "admin:cluster"
 *   operation   => "produce" | "consume" | "admin"
 *   resource    => "topic" (the default) | "group" | "cluster"
 *   pattern     => "*" | literal name | prefix "*"     (Kafka's LITERAL and PREFIXED pattern types)
 *
 * What each grants (the route → requirement table is src/auth/routeRequirements.ts):
 * - produce on a topic: append records and batches; describe the topic;
 *   InitProducerId (Kafka: IdempotentWrite, implied by Write on any topic).
 * - consume on a topic: fetch records, commit offsets for it, subscribe a group
 *   member to it; describe the topic.
 * - consume on a group: join, heartbeat, commit, read offsets and lag, v2 consumer instances.
 * - admin on a topic: create, grow, alter configs, delete records, delete the
 *   topic; describe it. Not produce or consume (as Kafka's Alter/Delete do not imply Read/Write).
 * - admin on a group: delete it, reset its offsets.
 * - admin on the cluster: everything, including API keys and schema registry writes.
 */
import { invalidValue } from '../errors';

export const aclOperations = ['produce', 'consume', 'admin'] as const;
export type AclOperation = (typeof aclOperations)[number];
export const aclResources = ['topic', 'group', 'cluster'] as const;
export type AclResource = (typeof aclResources)[number];

export interface Permission {
  operation: AclOperation;
  resource: AclResource;
  /** `*`, a literal name, or a prefix ending in `*`. Always `*` for the cluster. */
  pattern: string;
}

/** Longest pattern: Kafka's topic name limit, plus the `*`. */
export const patternCharsMax = 250;
/** Permissions one key may hold. */
export const permissionsPerKeyMax = 100;

/** Why a pattern is not valid, or undefined. `*` may only end it; no control characters. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'a pattern may not be empty';
  if (pattern.length > patternCharsMax) return `a pattern has at most ${patternCharsMax} characters, not ${pattern.length}`;
  if (pattern.indexOf('*') !== -1 && pattern.indexOf('*') !== pattern.length - 1) return `'*' may only end a pattern ('${pattern}')`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return 'a pattern may not hold control characters';
  return undefined;
}

export function makePermission(operation: string, resource: string, pattern: string): Permission {
  if (!(aclOperations as readonly string[]).includes(operation)) {
    throw invalidValue(`Permission operation must be one of ${aclOperations.join(', ')}, not '${operation}'.`);
  }
  if (!(aclResources as readonly string[]).includes(resource)) {
    throw invalidValue(`Permission resource_type must be one of ${aclResources.join(', ')}, not '${resource}'.`);
  }
  if (resource === 'cluster') {
    if (operation !== 'admin') throw invalidValue(`On the cluster only 'admin' can be granted, not '${operation}'.`);
    if (pattern !== '*' && pattern !== '') throw invalidValue(`A cluster permission takes no pattern, not '${pattern}'.`);
    return { operation: 'admin', resource: 'cluster', pattern: '*' };
  }
  const problem = patternProblem(pattern);
  if (problem) throw invalidValue(`Permission pattern is invalid: ${problem}.`);
  return { operation: operation as AclOperation, resource: resource as AclResource, pattern };
}

/** `produce:orders-*`, `consume:group:billing`, `admin:topic:*`, `admin:cluster`. */
export function parsePermission(text: string): Permission {
  const first = text.indexOf(':');
  if (first <= 0) throw invalidValue(`Permission '${text}' must look like operation:pattern, e.g. 'produce:orders-*', 'consume:group:billing' or 'admin:cluster'.`);
  const operation = text.slice(0, first);
  const rest = text.slice(first + 1);
  if (rest === 'cluster') return makePermission(operation, 'cluster', '*');
  const second = rest.indexOf(':');
  const head = second === -1 ? '' : rest.slice(0, second);
  if (head === 'topic' || head === 'group' || head === 'cluster') return makePermission(operation, head, rest.slice(second + 1));
  return makePermission(operation, 'topic', rest);
}

export function formatPermission(p: Permission): string {
  if (p.resource === 'cluster') return 'admin:cluster';
  return p.resource === 'topic' ? `${p.operation}:${p.pattern}` : `${p.operation}:${p.resource}:${p.pattern}`;
}

export function patternMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/** What one request needs: one of `anyOf` on the resource; with no name, on any name of that type. */
export interface Requirement {
  anyOf: readonly AclOperation[];
  resource: AclResource;
  name?: string;
}

export function isSuperuser(permissions: readonly Permission[]): boolean {
  return permissions.some((p) => p.resource === 'cluster' && p.operation === 'admin');
}

export function grants(permissions: readonly Permission[], req: Requirement): boolean {
  if (isSuperuser(permissions)) return true;
  return permissions.some(
    (p) => p.resource === req.resource && req.anyOf.includes(p.operation) && (req.name === undefined || patternMatches(p.pattern, req.name)),
  );
}

/** Describing a topic or group (reading its metadata) is implied by any permission on it, as in Kafka. */
export const describe = (resource: 'topic' | 'group', name: string): Requirement => ({ anyOf: aclOperations, resource, name });

export function describeRequirement(req: Requirement): string {
  const ops = req.anyOf.length === aclOperations.length ? 'any permission' : req.anyOf.join(' or ');
  if (req.resource === 'cluster') return 'admin on the cluster';
  return req.name === undefined ? `${ops} on some ${req.resource}` : `${ops} on ${req.resource} '${req.name}'`;
}
