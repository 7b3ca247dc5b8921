/**
 * Small helpers for HTTP tests of the contract (../shared/api.md): error-shape
 * assertions and reads of the state a rejected request must leave unchanged.
 */
import { cluster, partitionPath, topicPath, type HttpClient, type HttpResult } from './localStrand';

/** Asserts the contract's error shape: status = first three digits of error_code, a message, no stack trace. */
export function expectError(res: HttpResult, errorCode: number): void {
  const detail = `${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
  expect({ status: res.status, error_code: res.json?.error_code, detail }).toEqual({
    status: Math.floor(errorCode / 100),
    error_code: errorCode,
    detail,
  });
  expect(typeof res.json.message).toBe('string');
  expect(res.json.message.length).toBeGreaterThan(0);
  expect(res.body.toString('utf8')).not.toMatch(/\n\s+at /);
}

/** Asserts a 2xx status, showing the body when it is not. */
export function expectStatus(res: HttpResult, status: number): void {
  expect({ status: res.status, body: res.status === status ? '' : res.body.toString('utf8').slice(0, 500) }).toEqual({ status, body: '' });
}

export async function topicNames(http: HttpClient): Promise<string[]> {
  const res = await http.get(`${cluster}/topics`);
  expectStatus(res, 200);
  return (res.json.data as { topic_name: string }[]).map((t) => t.topic_name);
}

export async function highWatermark(http: HttpClient, topic: string, partition = 0): Promise<number> {
  const res = await http.get(partitionPath(topic, partition));
  expectStatus(res, 200);
  return res.json.high_watermark as number;
}

/** Every partition's high watermark, in partition order. */
export async function highWatermarks(http: HttpClient, topic: string): Promise<number[]> {
  const res = await http.get(`${topicPath(topic)}/partitions`);
  expectStatus(res, 200);
  return (res.json.data as { high_watermark: number }[]).map((p) => p.high_watermark);
}

export async function configsOf(http: HttpClient, topic: string): Promise<Record<string, { value: string; is_default: boolean }>> {
  const res = await http.get(`${topicPath(topic)}/configs`);
  expectStatus(res, 200);
  const out: Record<string, { value: string; is_default: boolean }> = {};
  for (const c of res.json.data as { name: string; value: string; is_default: boolean }[]) out[c.name] = { value: c.value, is_default: c.is_default };
  return out;
}

export interface FetchedJsonRecord {
  offset: number;
  timestamp: number;
  timestamp_type: string;
  key: { type: string; data: unknown } | null;
  value: { type: string; data: unknown } | null;
  headers: { name: string; value: string | null }[];
}

/** Fetches every record of a partition from `from` to the high watermark, following next_offset. */
export async function fetchAll(http: HttpClient, topic: string, partition: number, from = 0, query = '&embedded_format=string'): Promise<FetchedJsonRecord[]> {
  const records: FetchedJsonRecord[] = [];
  let offset = from;
  for (let round = 0; round < 1000; round++) {
    const res = await http.get(`${partitionPath(topic, partition)}/records?offset=${offset}${query}`);
    expectStatus(res, 200);
    records.push(...res.json.records);
    if (res.json.next_offset >= res.json.high_watermark) return records;
    expect(res.json.next_offset).toBeGreaterThan(offset);
    offset = res.json.next_offset;
  }
  throw new Error('fetchAll did not reach the high watermark in 1000 fetches');
}
