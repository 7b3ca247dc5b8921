/**
 * The api-keys endpoint (admin function; admin on the cluster when auth is on):
 *   POST   /v3/clusters/{c}/api-keys           {"name","permissions":[…]} → 201 with "api_key", the secret, shown this once
 *   GET    /v3/clusters/{c}/api-keys           → 200 list, never a secret or its hash
 *   GET    /v3/clusters/{c}/api-keys/{key_id}  → 200 one key
 *   DELETE /v3/clusters/{c}/api-keys/{key_id}  → 204; the key is refused from then on (other containers within 10 s)
 * A permission is an object {"operation","resource_type","pattern"} or its text
 * form ("produce:orders-*", "consume:group:billing", "admin:cluster"); see src/auth/permissions.ts.
 */
import { z } from 'zod';
import { apiKeyStore } from '../auth/authorize';
import type { ApiKey } from '../auth/ApiKeyStore';
import { makePermission, parsePermission, permissionsPerKeyMax, type Permission } from '../auth/permissions';
import type { Operation } from './operations';
import { assertCluster, parseJsonBody, pathParam } from './request';

const C = '/v3/clusters/{cluster_id}';
/** Longest key name (a label for people). */
export const keyNameCharsMax = 128;

const permissionSchema = z.union([
  z.string().max(300),
  z.object({ operation: z.string().max(16), resource_type: z.string().max(16).optional(), pattern: z.string().max(300).optional() }).strict(),
]);
export const createBody = z
  .object({
    name: z.string().min(1).max(keyNameCharsMax),
    permissions: z.array(permissionSchema).min(1).max(permissionsPerKeyMax),
  })
  .strict();

function toPermission(p: z.infer<typeof permissionSchema>): Permission {
  if (typeof p === 'string') return parsePermission(p);
  return makePermission(p.operation, p.resource_type ?? 'topic', p.pattern ?? '*');
}

function keyResource(clusterId: string, key: ApiKey) {
  return {
    kind: 'ApiKey',
    metadata: { self: `/v3/clusters/${clusterId}/api-keys/${key.id}` },
    key_id: key.id,
    name: key.name,
    permissions: key.permissions.map((p) => ({ operation: p.operation, resource_type: p.resource, pattern: p.pattern })),
    created_at: new Date(key.createdAt).toISOString(),
    revoked_at: key.revokedAt === undefined ? null : new Date(key.revokedAt).toISOString(),
  };
}

function keyIdParam(req: Parameters<Operation>[0]): string {
  return pathParam(req, 'key_id');
}

export const apiKeyOperations: Record<string, Operation> = {
  [`POST ${C}/api-keys`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const body = parseJsonBody(req, createBody);
    const permissions = body.permissions.map(toPermission);
    const { apiKey, key } = await apiKeyStore(runtime).create(body.name, permissions);
    return { status: 201, json: { ...keyResource(clusterId, apiKey), api_key: key } };
  },

  [`GET ${C}/api-keys`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const keys = await apiKeyStore(runtime).list();
    return { status: 200, json: { kind: 'ApiKeyList', metadata: { self: `/v3/clusters/${clusterId}/api-keys` }, data: keys.map((k) => keyResource(clusterId, k)) } };
  },

  [`GET ${C}/api-keys/{key_id}`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    return { status: 200, json: keyResource(clusterId, await apiKeyStore(runtime).get(keyIdParam(req))) };
  },

  [`DELETE ${C}/api-keys/{key_id}`]: async (req, runtime) => {
    assertCluster(req, runtime);
    await apiKeyStore(runtime).revoke(keyIdParam(req));
    return { status: 204 };
  },
};
