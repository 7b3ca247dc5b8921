/**
 * Hostile requests (issue 6, item 3): ≥ 10,000 generated requests against every
 * route of the table (two shards, one per test file).
 * How: fast-check draws a route from src/api/routes.ts and fills it with
 * hostile parts — path parameters (odd unicode, very long, `..`, percent
 * escapes), query values (negative, huge, non-numeric), content types, and
 * bodies (random bytes, arbitrary JSON, and JSON shaped like each endpoint's body
 * with wrong types, huge numbers, long strings and long lists). The Lambda
 * handlers run in-process (./inProcess.ts) against the embedded emulators.
 * Rules shown: never a 5xx and never a throw; every error has the contract's
 * shape; and a run of requests that were all rejected leaves the stored state
 * (topics and partition index tables) exactly as it was (invariants 3 and 6).
 *
 * A second family (issue 14, defect 7), `deepNesting`, sends every route that
 * takes a body JSON nested far past `jsonNestingDepthMax`: as the whole body,
 * as a record value, a batch entry, a field of each endpoint's body, and as
 * schema text inside a string. Its requests are drawn as small recipes and
 * built one at a time (a 500,000-level body is megabytes), and it has shards of
 * its own, so the first family's seeds draw exactly the requests they did.
 */
import fc from 'fast-check';
import { Logger } from '@aws-lambda-powertools/logger';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { routes } from '../../src/api/routes';
import { createTopic, startTestStrand, type TestStrand } from '../support/localStrand';
import { inProcessApi, type InProcessRequest, type InProcessResponse } from './inProcess';

const fixtureTopic = 'fz';

const hostileString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom('', '.', '..', '%', '%zz', '%00', '%2F', 'a/b', 'ü', '\u0000', ' ', 'a'.repeat(250), 'x'.repeat(5000), '-1', '1e9', 'NaN', 'null', '__proto__', 'constructor'),
);

const pathValue = (name: string) => {
  switch (name) {
    case 'cluster_id':
      return fc.oneof(fc.constant('local'), fc.constant('local'), hostileString);
    case 'topic_name':
      return fc.oneof(fc.constant(fixtureTopic), fc.constant(fixtureTopic), hostileString);
    case 'partition_id':
      return fc.oneof(fc.constantFrom('0', '1', '-1', '2147483648', '9007199254740993', '0x1', ' 0', '00'), hostileString);
    default:
      return fc.oneof(fc.constantFrom('g1', 'c1', 'i1'), hostileString);
  }
};

const number = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, 1e300, -0, 0.5), fc.double());
const anyJson = fc.jsonValue({ maxDepth: 3 });
const field = fc.oneof(number, hostileString, fc.constant(null), fc.boolean(), anyJson);
const embedded = fc.oneof(
  fc.record({ type: fc.constantFrom('BINARY', 'JSON', 'STRING', 'binary', 'AVRO', ''), data: field }, { requiredKeys: [] }),
  field,
);
const recordBody = fc.record(
  {
    partition_id: field,
    key: embedded,
    value: embedded,
    headers: fc.oneof(fc.array(fc.record({ name: field, value: field }, { requiredKeys: [] }), { maxLength: 5 }), field),
    timestamp: field,
  },
  { requiredKeys: [] },
);

const shapedBody = fc.oneof(
  recordBody,
  fc.record({ entries: fc.oneof(fc.array(fc.record({ id: field }).chain((e) => recordBody.map((r) => ({ ...r, ...e }))), { maxLength: 20 }), field) }, { requiredKeys: [] }),
  fc.record(
    {
      topic_name: fc.oneof(hostileString, field),
      partitions_count: field,
      replication_factor: field,
      configs: fc.oneof(fc.array(fc.record({ name: fc.oneof(fc.constantFrom('retention.ms', 'cleanup.policy', 'max.message.bytes'), hostileString), value: field }, { requiredKeys: [] }), { maxLength: 5 }), field),
    },
    { requiredKeys: [] },
  ),
  fc.record({ data: fc.array(fc.record({ name: field, value: field, operation: field }, { requiredKeys: [] }), { maxLength: 5 }) }, { requiredKeys: [] }),
  fc.record({ before_offset: field, producer_id: field, producer_epoch: field }, { requiredKeys: [] }),
  fc.record(
    { member_id: field, member_epoch: field, subscribed_topic_names: fc.oneof(fc.array(hostileString, { maxLength: 5 }), field), session_timeout_ms: field, assignor: field, offsets: fc.oneof(fc.array(fc.record({ topic_name: field, partition_id: field, offset: field, metadata: field }, { requiredKeys: [] }), { maxLength: 5 }), field), to: field },
    { requiredKeys: [] },
  ),
  anyJson,
);

const body = fc.oneof(
  fc.constant(undefined),
  shapedBody.map((b) => Buffer.from(JSON.stringify(b) ?? 'null')),
  shapedBody.map((b) => Buffer.from(JSON.stringify(b) ?? 'null').subarray(0, 7)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 50 }).map((s) => Buffer.from(s)),
);

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.kafka.v2+json',
  'application/vnd.kafka.record-batch.v2',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  ';;;',
);

const query = fc.dictionary(
  fc.constantFrom('offset', 'max_bytes', 'max_wait_ms', 'embedded_format', 'timestamp', 'partition_id', 'x'),
  fc.oneof(fc.constantFrom('0', '1', '-1', '', '10', '99999999999999999999', 'abc', 'binary', 'json', 'string', '1.5', '4194305'), hostileString),
  { maxKeys: 4 },
);

export const requestArb: fc.Arbitrary<InProcessRequest> = fc
  .record({
    route: fc.integer({ min: 0, max: routes.length - 1 }),
    otherMethod: fc.option(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), { freq: 10, nil: undefined }),
    params: fc.dictionary(fc.constantFrom('cluster_id', 'topic_name', 'partition_id', 'consumer_group_id', 'group_name', 'instance'), fc.constant(0)),
    seed: fc.integer(),
    query,
    contentType,
    accept: fc.constantFrom(undefined, 'application/json', 'application/vnd.kafka.record-batch.v2'),
    body,
  })
  .chain((r) => {
    const spec = routes[r.route]!;
    const names = [...spec.path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]!);
    return fc.tuple(...names.map((n) => pathValue(n))).map((values) => {
      let path = spec.path;
      names.forEach((n, i) => {
        const v = values[i]!;
        // Mostly percent-encoded, as a client would send; sometimes raw.
        path = path.replace(`{${n}}`, r.seed % 5 === 0 ? v : encodeURIComponent(v));
      });
      // Never long-poll for long: the API bounds it at 20 s, the test at 20 ms.
      const q = { ...r.query };
      if (q.max_wait_ms !== undefined && /^\s*\d+\s*$/.test(q.max_wait_ms) && Number(q.max_wait_ms) > 20 && Number(q.max_wait_ms) <= 20_000) q.max_wait_ms = '20';
      const headers: Record<string, string> = {};
      if (r.contentType !== undefined) headers['content-type'] = r.contentType;
      if (r.accept !== undefined) headers.accept = r.accept;
      return { method: r.otherMethod ?? spec.method, path, query: q, headers, body: r.body };
    });
  });

/** A family of generated requests: small recipes (cheap to sample by the thousand) and how each becomes a request. */
export interface RequestFamily<T> {
  recipes: fc.Arbitrary<T>;
  build(recipe: T): InProcessRequest;
}

/** The first family: hostile parts everywhere, each request whole in its recipe. */
export const hostileRequests: RequestFamily<InProcessRequest> = { recipes: requestArb, build: (r) => r };

/** Routes that take a body: where nesting reaches a parser. */
const bodyRoutes = routes.filter((r) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH');

/** Path values that reach the operation (so the body is parsed), with a few hostile ones still. */
const reachingPathValue = (name: string) =>
  fc.oneof(
    { weight: 9, arbitrary: fc.constant(({ cluster_id: 'local', topic_name: fixtureTopic, partition_id: '0', subject: 'deep-value', version: 'latest', id: '1' } as Record<string, string>)[name] ?? 'g1') },
    { weight: 1, arbitrary: pathValue(name) },
  );

/** Keys of the endpoints' bodies: a deep value under each reaches that endpoint's own schema. */
const bodyKeys = ['value', 'key', 'headers', 'entries', 'topic_name', 'configs', 'data', 'partitions_count', 'offsets', 'subscribed_topic_names', 'owned_partitions', 'member_id', 'to', 'topic_names', 'permissions', 'name', 'topics', 'partitions', 'compatibility', 'schema', 'schemaType', 'references', 'before_offset', 'format'];

interface DeepRecipe {
  route: number;
  params: string[];
  depth: number;
  style: 'arrays' | 'objects' | 'mixed';
  placement: 'body' | 'recordValue' | 'batchEntry' | 'field' | 'schemaText' | 'inlineSchema' | 'besideSchema';
  key: string;
  contentType: string | undefined;
}

/** `depth` containers inside one another, as text. */
function deepJson(depth: number, style: DeepRecipe['style']): string {
  if (style === 'arrays') return '['.repeat(depth) + ']'.repeat(depth);
  if (style === 'objects') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  return '[{"a":'.repeat(Math.ceil(depth / 2)) + 'null' + '}]'.repeat(Math.ceil(depth / 2));
}

const deepRecipe: fc.Arbitrary<DeepRecipe> = fc
  .record({
    route: fc.integer({ min: 0, max: bodyRoutes.length - 1 }),
    // Just past the bound, far past it, and the 500,000 levels of the report; a few just under it.
    depth: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 101, max: 3_000 }) },
      { weight: 2, arbitrary: fc.constantFrom(10_000, 100_000, 500_000) },
      { weight: 1, arbitrary: fc.integer({ min: 90, max: 100 }) },
    ),
    style: fc.constantFrom('arrays', 'objects', 'mixed'),
    placement: fc.constantFrom('body', 'recordValue', 'batchEntry', 'field', 'schemaText', 'inlineSchema', 'besideSchema'),
    key: fc.constantFrom(...bodyKeys),
    contentType: fc.constantFrom(undefined, 'application/json', 'application/vnd.kafka.v2+json', 'application/vnd.schemaregistry.v1+json', 'application/json; charset=utf-8'),
  })
  .chain((r) => {
    const names = [...bodyRoutes[r.route]!.path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]!);
    return fc.tuple(...names.map(reachingPathValue)).map((params) => ({ ...r, params }));
  });

export const deepNesting: RequestFamily<DeepRecipe> = {
  recipes: deepRecipe,
  build(r) {
    const spec = bodyRoutes[r.route]!;
    let i = 0;
    const path = spec.path.replace(/\{[a-z_]+\}/g, () => encodeURIComponent(r.params[i++]!));
    const deep = deepJson(r.depth, r.style);
    const text = {
      body: () => deep,
      recordValue: () => `{"value":{"type":"JSON","data":${deep}}}`,
      batchEntry: () => `{"entries":[{"id":"0","value":{"type":"STRING","data":"ok"}},{"id":"1","value":{"type":"JSON","data":${deep}}}]}`,
      field: () => `{${JSON.stringify(r.key)}:${deep}}`,
      schemaText: () => JSON.stringify({ schema: deep }),
      inlineSchema: () => JSON.stringify({ value: { type: 'AVRO', schema: deep, data: 1 } }),
      besideSchema: () => `{"schema":"\\"int\\"",${JSON.stringify(r.key)}:${deep}}`,
    }[r.placement]();
    const headers: Record<string, string> = r.contentType === undefined ? {} : { 'content-type': r.contentType };
    return { method: spec.method, path, query: {}, headers, body: Buffer.from(text) };
  },
};

/** The visible state: every item of the tables a rejection must not change (sorted, so scan order does not matter). */
async function fingerprint(strand: TestStrand): Promise<string> {
  const tables = Object.values(strand.runtime.config.tables);
  const parts: string[] = [];
  for (const table of tables) {
    let lastKey: Record<string, unknown> | undefined;
    do {
      const out = await strand.runtime.clients.ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: lastKey, ConsistentRead: true }));
      for (const item of out.Items ?? []) parts.push(`${table} ${JSON.stringify(item, Object.keys(item).sort())}`);
      lastKey = out.LastEvaluatedKey;
    } while (lastKey);
  }
  return parts.sort().join('\n');
}

export function generatedRequestsShard<T>(seed: number, runs: number, family: RequestFamily<T> = hostileRequests as unknown as RequestFamily<T>): void {
  let strand: TestStrand;
  let api: (req: InProcessRequest) => Promise<InProcessResponse>;
  beforeAll(async () => {
    strand = await startTestStrand({ logger: new Logger({ serviceName: 'strand', logLevel: 'ERROR' }) });
    api = inProcessApi(strand.runtime);
  });
  afterAll(() => strand.dispose());

  test(`${runs} generated requests (seed ${seed}): never a 5xx, errors in the contract's shape, rejections change nothing`, async () => {
    await createTopic(strand.http, fixtureTopic, 2);
    await strand.http.post(`/v3/clusters/local/topics/${fixtureTopic}/records`, { value: { type: 'STRING', data: 'seed' } });
    const inputs = fc.sample(family.recipes, { numRuns: runs, seed });
    const chunk = 25;
    let compared = 0;
    const statuses = new Map<number, number>();
    let before = await fingerprint(strand);
    for (let i = 0; i < inputs.length; i += chunk) {
      let changed = false;
      for (const recipe of inputs.slice(i, i + chunk)) {
        const req = family.build(recipe);
        let res: InProcessResponse;
        try {
          res = await api(req);
        } catch (err) {
          throw new Error(`the handler threw for ${req.method} ${req.path}: ${String(err)}`);
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const show = () => `${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.query)} ${JSON.stringify(req.headers)} ${req.body?.toString('utf8').slice(0, 300)} → ${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
        if (res.status >= 500) throw new Error(`5xx: ${show()}`);
        if (res.status >= 400) {
          // Route misses (404/405) come from the gateway's matching and carry the bare status, as API Gateway's do.
          const code = res.json?.error_code;
          if (typeof code !== 'number' || (Math.floor(code / 100) !== res.status && code !== res.status) || typeof res.json.message !== 'string') {
            throw new Error(`error not in the contract's shape: ${show()}`);
          }
          if (/\n\s+at /.test(res.body.toString('utf8'))) throw new Error(`a stack trace leaked: ${show()}`);
        } else if (req.method !== 'GET') {
          changed = true;
        }
      }
      const after = await fingerprint(strand);
      if (!changed) {
        expect(after).toBe(before);
        compared++;
      }
      before = after;
    }
    // Most chunks were rejections only, so the no-change check really ran.
    expect(compared).toBeGreaterThan(inputs.length / chunk / 4);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
  });
}
