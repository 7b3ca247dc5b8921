/**
 * The OpenAPI document agrees with the route table (src/api/routes.ts), is
 * structurally valid OpenAPI 3.1, and the checked-in docs/openapi.json is the
 * generated one (so a route added without regenerating fails CI:
 * `npm run openapi`, or `npx tsx src/api/openapiBuild.ts`). How: the document is
 * built in process and compared route by route; the served copy is read over
 * HTTP from a real local Strand.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { routeKey, routes } from '../../src/api/routes';
import { buildOpenApi, openApiDocPath, operationIdOf, pathParamsOf, renderOpenApi, routeDocs } from '../../src/api/openapiBuild';
import { startTestStrand, type TestStrand } from '../support/localStrand';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const doc: Json = buildOpenApi();
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const operations = (): { path: string; method: string; op: Json }[] =>
  Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([m]) => methods.includes(m))
      .map(([method, op]) => ({ path, method, op })),
  );

describe('the document agrees with the route table', () => {
  test('every route is an operation of the document, and every operation is a route', () => {
    const inRoutes = routes.map((r) => `${r.method} ${r.path}`).sort();
    const inDoc = operations().map((o) => `${o.method.toUpperCase()} ${o.path}`).sort();
    expect(inDoc).toEqual(inRoutes);
  });

  test('every route has its documentation entry and no entry names a route that does not exist', () => {
    expect(Object.keys(routeDocs).sort()).toEqual(routes.map(routeKey).sort());
  });

  test("an operation's path parameters are exactly its path's {params}, required, in the path", () => {
    for (const { path, method, op } of operations()) {
      const declared = ((op.parameters ?? []) as Json[]).filter((p) => p.in === 'path');
      expect({ route: `${method} ${path}`, names: declared.map((p) => p.name) }).toEqual({ route: `${method} ${path}`, names: pathParamsOf(path) });
      for (const p of declared) expect(p.required).toBe(true);
    }
  });

  test('/openapi.json itself is a route, served by the admin function', () => {
    expect(routes.find((r) => r.path === '/openapi.json')).toEqual({ method: 'GET', path: '/openapi.json', fn: 'admin' });
  });

  test('docs/api.md, the prose reference, names every route', () => {
    const page = readFileSync(resolve(__dirname, '../../docs/api.md'), 'utf8');
    const missing = routes.map((r) => `\`${r.method} ${r.path.replace('/v3/clusters/{cluster_id}', '{C}')}`).filter((row) => !page.includes(row));
    expect(missing).toEqual([]);
  });

  test('the checked-in docs/openapi.json is the generated document (regenerate with `npm run openapi`)', () => {
    expect(readFileSync(openApiDocPath, 'utf8')).toBe(renderOpenApi());
  });
});

describe('the document is valid OpenAPI 3.1 in structure', () => {
  test('version, info and paths are present; every path starts with /', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    for (const path of Object.keys(doc.paths)) expect(path.startsWith('/')).toBe(true);
  });

  test('operationIds are unique and derived from the route key', () => {
    const ids = operations().map((o) => o.op.operationId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations()) expect(op.operationId).toBe(operationIdOf({ method: method.toUpperCase() as 'GET', path }));
  });

  test('every operation has a success response and error responses; every $ref resolves', () => {
    const resolve = (ref: string): unknown => ref.replace(/^#\//, '').split('/').reduce<Json>((node, key) => node?.[key], doc);
    for (const { op } of operations()) {
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => /^2\d\d$/.test(s))).toBe(true);
      expect(statuses.some((s) => /^[45]\d\d$/.test(s))).toBe(true);
      for (const s of statuses) expect(s).toMatch(/^[1-5]\d\d$/);
      for (const r of Object.values(op.responses) as Json[]) expect(r.$ref !== undefined || typeof r.description === 'string').toBe(true);
    }
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const r of new Set(refs)) expect({ ref: r, found: resolve(JSON.parse(`{${r}}`).$ref) !== undefined }).toEqual({ ref: r, found: true });
  });

  test('parameters have a name, a location, and a schema; a request body has content with a schema', () => {
    for (const { op } of operations()) {
      for (const p of (op.parameters ?? []) as Json[]) {
        expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
        expect(typeof p.name).toBe('string');
        expect(p.schema).toBeDefined();
      }
      if (op.requestBody) {
        const content = Object.values(op.requestBody.content) as Json[];
        expect(content.length).toBeGreaterThan(0);
        for (const c of content) expect(c.schema).toBeDefined();
      }
    }
  });

  test("request bodies come from the operations' zod schemas: a create-topic body names topic_name, required", () => {
    const create = doc.paths['/v3/clusters/{cluster_id}/topics'].post.requestBody.content['application/json'].schema;
    expect(create.properties.topic_name).toBeDefined();
    expect(create.required).toContain('topic_name');
    const heartbeat = doc.paths['/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/heartbeat'].post.requestBody.content['application/json'].schema;
    expect(heartbeat.required).toEqual(['member_epoch']);
  });

  test('error responses carry the error table: status is the first three digits of each code', () => {
    const codes = doc['x-error-codes'] as Record<string, string[]>;
    expect(codes['40403']).toEqual(expect.arrayContaining(['UnknownTopic']));
    const get = doc.paths['/v3/clusters/{cluster_id}/topics/{topic_name}'].get;
    expect(get.responses['404'].description).toContain('40403');
    expect(get.responses['503'].$ref).toBe('#/components/responses/Error503');
  });
});

describe('GET /openapi.json', () => {
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand();
  });
  afterAll(() => strand.dispose());

  test('serves the same document as the checked-in file', async () => {
    const res = await strand.http.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json).toEqual(JSON.parse(readFileSync(openApiDocPath, 'utf8')));
  });
});
