/**
 * Test harness: a real local Strand (embedded emulators, the HTTP gateway, the
 * Lambda handlers) on free ports with a fresh data directory, and a small HTTP
 * client for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStrand, type LocalStrand, type LocalStrandOptions } from '../../local/startLocalStrand';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface TestStrand extends LocalStrand {
  dataDir: string;
  http: HttpClient;
  /** Stops the server and removes its data directory. */
  dispose(): Promise<void>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'strand-test-'));
}

export async function startTestStrand(options: LocalStrandOptions = {}): Promise<TestStrand> {
  const dataDir = options.dataDir ?? tempDataDir();
  const strand = await startLocalStrand({ port: 0, maintenanceIntervalMs: 0, ...options, dataDir });
  return {
    ...strand,
    dataDir,
    http: new HttpClient(strand.url),
    async dispose() {
      await strand.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request(
    method: string,
    path: string,
    options: { json?: unknown; body?: Buffer | string; headers?: Record<string, string> } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { ...options.headers };
    let body: Buffer | string | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + path, { method, headers, body });
    const bytes = Buffer.from(await res.arrayBuffer());
    let json: unknown;
    if ((res.headers.get('content-type') ?? '').includes('json') && bytes.length > 0) {
      // A stream of JSON values (streamed produce's reports) is not one value: read it from `body`.
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    return { status: res.status, headers: res.headers, body: bytes, json };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, { headers });
  }
  post(path: string, json?: unknown) {
    return this.request('POST', path, { json });
  }
  patch(path: string, json?: unknown) {
    return this.request('PATCH', path, { json });
  }
  delete(path: string) {
    return this.request('DELETE', path);
  }
}

/** Paths under the local cluster. */
export const cluster = '/v3/clusters/local';
export const topicPath = (topic: string) => `${cluster}/topics/${topic}`;
export const partitionPath = (topic: string, p: number) => `${topicPath(topic)}/partitions/${p}`;

export async function createTopic(http: HttpClient, name: string, partitions = 1, configs: Record<string, string> = {}) {
  const res = await http.post(`${cluster}/topics`, {
    topic_name: name,
    partitions_count: partitions,
    configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
  });
  if (res.status !== 201) throw new Error(`create topic ${name}: ${res.status} ${res.body.toString()}`);
  return res.json;
}

export async function produceString(http: HttpClient, topic: string, value: string, extra: Record<string, unknown> = {}) {
  const res = await http.post(`${topicPath(topic)}/records`, { value: { type: 'STRING', data: value }, ...extra });
  if (res.status !== 200) throw new Error(`produce: ${res.status} ${res.body.toString()}`);
  return res.json as { partition_id: number; offset: number; timestamp: string };
}

export async function fetchJson(http: HttpClient, topic: string, partition: number, offset: number, query = '') {
  return http.get(`${partitionPath(topic, partition)}/records?offset=${offset}&embedded_format=string${query}`);
}
