/**
 * The console's HTTP client: same origin as the page, the deployment's
 * credentials (an API key or a JWT, pasted into Settings) from
 * sessionStorage, and the contract's errors as ApiError.
 */

const tokenKey = 'strand.console.token';

export function savedToken(): string {
  try {
    return sessionStorage.getItem(tokenKey) ?? '';
  } catch {
    return '';
  }
}

export function saveToken(token: string): void {
  if (token) sessionStorage.setItem(tokenKey, token);
  else sessionStorage.removeItem(tokenKey);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The API's base: where the console is served from, less `/console…`. */
const base = location.pathname.replace(/\/console(\/.*)?$/, '');

export async function call<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = savedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const message = json?.message ?? (text || res.statusText);
    throw new ApiError(res.status, json?.error_code, `${res.status}${json?.error_code ? ` / ${json.error_code}` : ''}: ${message}`);
  }
  return json as T;
}

export const get = <T = any>(path: string) => call<T>('GET', path);
export const enc = encodeURIComponent;

let clusterPath: Promise<string> | undefined;

/** `/v3/clusters/{id}`: the one cluster of the deployment. */
export function cluster(): Promise<string> {
  clusterPath ??= get<{ data: { cluster_id: string }[] }>('/v3/clusters').then(
    (r) => `/v3/clusters/${enc(r.data[0]!.cluster_id)}`,
    (err: unknown) => {
      clusterPath = undefined;
      throw err;
    },
  );
  return clusterPath;
}

export function forgetCluster(): void {
  clusterPath = undefined;
}

export async function v3<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  return call<T>(method, (await cluster()) + path, body);
}

export const registry = <T = any>(method: string, path: string, body?: unknown) =>
  call<T>(method, path, body, 'application/vnd.schemaregistry.v1+json');

/* Shapes the console reads (docs/api.md, "Shapes"). */

export interface Topic {
  topic_name: string;
  partitions_count: number;
}
export interface Partition {
  partition_id: number;
  log_start_offset: number;
  high_watermark: number;
}
export interface Config {
  name: string;
  value: string | null;
  is_default: boolean;
  is_read_only?: boolean;
  is_sensitive?: boolean;
  source?: string;
}
export interface Group {
  consumer_group_id: string;
  state: string;
  members_count: number;
  partition_assignor: string;
  group_epoch: number;
}
export interface Lag {
  topic_name: string;
  partition_id: number;
  current_offset: number;
  log_end_offset: number;
  lag: number;
  consumer_id: string;
  client_id: string;
}
export interface Embedded {
  type: string;
  data: unknown;
  schema_id?: number;
}
export interface FetchedRecord {
  offset: number;
  timestamp: number | string;
  timestamp_type: string;
  key: Embedded | null;
  value: Embedded | null;
  headers: { name: string; value: string | null }[];
}
export interface FetchAnswer {
  high_watermark: number;
  log_start_offset: number;
  next_offset: number;
  records: FetchedRecord[];
}
