/**
 * Per-topic traffic read off one request and its answer, for the metrics: how
 * many records a produce appended and a fetch returned, and how many bytes
 * carried them. Pure, and fed from outside the operations (the local gateway,
 * the Lambda dispatch), so produce and fetch code stays free of metrics.
 *
 *   records in   records a produce appended: one per reported offset (v3 single,
 *                streamed, records:batch successes, v2 offsets), or a batch's
 *                offset span (binary batches, upload commits; 0 for a duplicate)
 *   bytes in     the produce request's body bytes (0 for an upload commit: its
 *                bytes went to S3 directly)
 *   records out  records a fetch answered: the JSON records, or the offsets a
 *                binary or batch-URL answer covers (next_offset − offset)
 *   bytes out    the fetch answer's body bytes; for an answer holding several
 *                topics (records:fetch, v2 records), each topic's part of it
 *
 * Only 2xx answers count. Anything this does not recognise counts nothing.
 */

export type Direction = 'in' | 'out';

export interface TopicTraffic {
  topic: string;
  direction: Direction;
  records: number;
  bytes: number;
}

/** A request and its answer, in the shape both the gateway and the dispatch can give. */
export interface Exchange {
  /** "METHOD /path/{param}", as in the route table. */
  routeKey: string;
  pathParameters: Record<string, string>;
  query: Record<string, string>;
  /** The request body (for record counts of binary multi-partition fetches, the requested offsets). */
  requestBody?: Buffer;
  requestBytes: number;
  status: number;
  /** The parsed JSON answer, when it was JSON. */
  json?: unknown;
  /** A text answer (streamed produce's reports: one JSON value per line). */
  text?: string;
  /** A binary answer. */
  binary?: Buffer;
  headers?: Record<string, string>;
  responseBytes: number;
}

const P = '/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}';
const T = '/v3/clusters/{cluster_id}/topics/{topic_name}';

/** Route keys whose answers say something about records; the gateway parses only these answers. */
/** The one route whose traffic is measured by its response's size (the others count their records' own bytes or the request's). */
export const sizedByResponseRouteKey = `GET ${P}/records`;

export const trafficRouteKeys = new Set([
  `POST ${T}/records`,
  `POST ${T}/records:batch`,
  `POST ${P}/batches`,
  `POST ${P}/uploads/{upload_id}/commit`,
  'POST /topics/{topic_name}',
  `GET ${P}/records`,
  'POST /v3/clusters/{cluster_id}/records:fetch',
  'GET /consumers/{group_name}/instances/{instance}/records',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');

export function topicTraffic(x: Exchange): TopicTraffic[] {
  if (x.status < 200 || x.status >= 300 || !trafficRouteKeys.has(x.routeKey)) return [];
  const topic = x.pathParameters.topic_name;
  const json = x.json;
  const produced = (records: number, bytes = x.requestBytes): TopicTraffic[] =>
    topic === undefined || records <= 0 ? [] : [{ topic, direction: 'in', records, bytes }];
  const path = x.routeKey.slice(x.routeKey.indexOf(' ') + 1);

  switch (x.routeKey) {
    case `POST ${T}/records`: {
      if (x.text !== undefined) return produced(x.text.split('\n').filter((line) => /"error_code"\s*:\s*200\b/.test(line)).length);
      return produced(isObj(json) && num(json.offset) !== undefined ? 1 : 0);
    }
    case `POST ${T}/records:batch`:
      return produced(isObj(json) && Array.isArray(json.successes) ? json.successes.length : 0);
    case `POST ${P}/batches`:
    case `POST ${P}/uploads/{upload_id}/commit`: {
      if (!isObj(json) || json.duplicate === true) return [];
      const base = num(json.base_offset);
      const last = num(json.last_offset);
      const span = base !== undefined && last !== undefined ? last - base + 1 : 0;
      return produced(span, path.endsWith('/commit') ? 0 : x.requestBytes);
    }
    case 'POST /topics/{topic_name}':
      return produced(isObj(json) && Array.isArray(json.offsets) ? json.offsets.filter((o) => isObj(o) && num(o.offset) !== undefined).length : 0);
    case sizedByResponseRouteKey: {
      if (topic === undefined) return [];
      let records = 0;
      if (isObj(json) && Array.isArray(json.records)) records = json.records.length;
      else {
        const next = num(isObj(json) ? json.next_offset : Number(x.headers?.['kafka-next-offset']));
        const from = Number(x.query.offset);
        if (next !== undefined && Number.isFinite(from)) records = Math.max(0, next - from);
      }
      return records > 0 || x.responseBytes > 0 ? [{ topic, direction: 'out', records, bytes: records > 0 ? x.responseBytes : 0 }] : [];
    }
    case 'POST /v3/clusters/{cluster_id}/records:fetch':
      return multiFetchTraffic(x);
    case 'GET /consumers/{group_name}/instances/{instance}/records': {
      if (!Array.isArray(json)) return [];
      const by = new Map<string, TopicTraffic>();
      for (const r of json) {
        if (!isObj(r) || typeof r.topic !== 'string') continue;
        const t = by.get(r.topic) ?? { topic: r.topic, direction: 'out' as const, records: 0, bytes: 0 };
        t.records++;
        t.bytes += jsonBytes(r);
        by.set(r.topic, t);
      }
      return [...by.values()];
    }
    default:
      return [];
  }
}

/** records:fetch: per topic, in any of its three forms (JSON, partition-batches frame, batch URLs). */
function multiFetchTraffic(x: Exchange): TopicTraffic[] {
  const by = new Map<string, TopicTraffic>();
  const add = (topic: unknown, records: number, bytes: number) => {
    if (typeof topic !== 'string' || records <= 0) return;
    const t = by.get(topic) ?? { topic, direction: 'out' as const, records: 0, bytes: 0 };
    t.records += records;
    t.bytes += bytes;
    by.set(topic, t);
  };
  const requested = requestedOffsets(x.requestBody);
  const spanOf = (p: Obj) => {
    const next = num(p.next_offset);
    const from = requested.get(`${String(p.topic_name)}\u0000${String(p.partition_id)}`);
    return next !== undefined && from !== undefined ? Math.max(0, next - from) : 0;
  };
  if (x.binary !== undefined) {
    const index = frameIndex(x.binary);
    for (const p of index) add(p.topic_name, spanOf(p), num(p.size) ?? 0);
  } else if (isObj(x.json) && Array.isArray(x.json.partitions)) {
    for (const p of x.json.partitions) {
      if (!isObj(p)) continue;
      if (Array.isArray(p.records)) add(p.topic_name, p.records.length, jsonBytes(p));
      else add(p.topic_name, spanOf(p), 0);
    }
  }
  return [...by.values()];
}

/** The index of a partition-batches frame (uint32 length, JSON index); [] when it is not one. */
function frameIndex(body: Buffer): Obj[] {
  if (body.length < 4) return [];
  const n = body.readUInt32BE(0);
  if (4 + n > body.length) return [];
  try {
    const index: unknown = JSON.parse(body.subarray(4, 4 + n).toString('utf8'));
    return isObj(index) && Array.isArray(index.partitions) ? index.partitions.filter(isObj) : [];
  } catch {
    return [];
  }
}

/** "topic\0partition" → the offset a multi-partition fetch asked for. */
function requestedOffsets(body: Buffer | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!body || body.length === 0) return out;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (!isObj(parsed) || !Array.isArray(parsed.partitions)) return out;
    for (const p of parsed.partitions) {
      if (isObj(p) && num(p.offset) !== undefined) out.set(`${String(p.topic_name)}\u0000${String(p.partition_id)}`, p.offset as number);
    }
  } catch {
    // Not JSON: the operation refused it; nothing was fetched.
  }
  return out;
}
