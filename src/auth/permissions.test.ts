/**
 * Permissions and the route → requirement table (pure). How: the text grammar
 * round-trips, patterns match as Kafka's LITERAL/PREFIXED/`*`, and every route of
 * src/api/routes.ts gets a requirement of the right kind.
 */
import { routeKey, routes } from '../api/routes';
import { formatPermission, grants, parsePermission, patternMatches, type Permission } from './permissions';
import { routeAccess, topicsInBody } from './routeRequirements';

describe('permission text', () => {
  test.each([
    ['produce:orders-*', { operation: 'produce', resource: 'topic', pattern: 'orders-*' }],
    ['consume:*', { operation: 'consume', resource: 'topic', pattern: '*' }],
    ['consume:topic:payments', { operation: 'consume', resource: 'topic', pattern: 'payments' }],
    ['consume:group:billing-*', { operation: 'consume', resource: 'group', pattern: 'billing-*' }],
    ['admin:group:*', { operation: 'admin', resource: 'group', pattern: '*' }],
    ['admin:cluster', { operation: 'admin', resource: 'cluster', pattern: '*' }],
  ])('%s parses and formats back', (text, permission) => {
    expect(parsePermission(text)).toEqual(permission);
    expect(parsePermission(formatPermission(parsePermission(text)))).toEqual(permission);
  });

  test.each(['produce', ':x', 'read:orders', 'produce:', 'produce:a*b', 'consume:cluster', 'admin:cluster:x', `produce:${'a'.repeat(251)}`, 'produce:a\nb'])(
    '%j is refused with 40002',
    (text) => {
      expect(() => parsePermission(text)).toThrow(expect.objectContaining({ code: 40002 }));
    },
  );
});

describe('patterns', () => {
  test('literal, prefix and *', () => {
    expect(patternMatches('orders', 'orders')).toBe(true);
    expect(patternMatches('orders', 'orders-1')).toBe(false);
    expect(patternMatches('orders-*', 'orders-1')).toBe(true);
    expect(patternMatches('orders-*', 'orders-')).toBe(true);
    expect(patternMatches('orders-*', 'orders')).toBe(false);
    expect(patternMatches('*', 'anything')).toBe(true);
  });

  test('an operation grants only itself, on its own resource type; admin on the cluster grants everything', () => {
    const p: Permission[] = [parsePermission('produce:orders-*'), parsePermission('consume:group:g')];
    expect(grants(p, { anyOf: ['produce'], resource: 'topic', name: 'orders-1' })).toBe(true);
    expect(grants(p, { anyOf: ['consume'], resource: 'topic', name: 'orders-1' })).toBe(false);
    expect(grants(p, { anyOf: ['produce'], resource: 'group', name: 'orders-1' })).toBe(false);
    expect(grants(p, { anyOf: ['consume'], resource: 'group', name: 'g' })).toBe(true);
    expect(grants(p, { anyOf: ['produce'], resource: 'topic' })).toBe(true);
    expect(grants(p, { anyOf: ['admin'], resource: 'cluster' })).toBe(false);
    expect(grants([parsePermission('admin:orders-*')], { anyOf: ['produce'], resource: 'topic', name: 'orders-1' })).toBe(false);
    expect(grants([parsePermission('admin:cluster')], { anyOf: ['consume'], resource: 'group', name: 'x' })).toBe(true);
  });
});

describe('every route has a requirement derived from the route table', () => {
  const empty = { pathParameters: {} as Record<string, string>, body: Buffer.alloc(0) };
  const params = (path: string) => Object.fromEntries([...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => [m[1], `n-${m[1]}`]));

  test.each(routes.map((r) => [routeKey(r), r] as const))('%s', (_key, route) => {
    const access = routeAccess(route, { ...empty, pathParameters: params(route.path) });
    if (route.path === '/health' || route.path === '/openapi.json') return expect(access.kind).toBe('open');
    expect(access.kind).not.toBe('open');
    if (access.kind !== 'permissions') return;
    const [first] = access.requirements;
    if (route.fn === 'produce') expect(first).toMatchObject({ anyOf: ['produce'], resource: 'topic' });
    if (route.fn === 'fetch') expect(first).toEqual({ anyOf: ['consume'], resource: 'topic', ...(route.path.includes('{topic_name}') ? { name: 'n-topic_name' } : {}) });
    if (route.fn === 'groups') expect(first!.resource).toBe('group');
    if (route.fn === 'admin' && route.path.includes('{topic_name}') && route.method !== 'GET') expect(first).toEqual({ anyOf: ['admin'], resource: 'topic', name: 'n-topic_name' });
    if (route.path.includes('api-keys')) expect(first).toEqual({ anyOf: ['admin'], resource: 'cluster' });
  });

  test('the multi-partition fetch needs consume on some topic here; the operation checks each named one (assertTopicsGranted)', () => {
    const multi = routes.find((r) => r.path.endsWith('/records:fetch'))!;
    expect(multi.fn).toBe('fetch');
    const access = routeAccess(multi, { pathParameters: { cluster_id: 'c' }, body: Buffer.from(JSON.stringify({ partitions: [{ topic_name: 't' }] })) });
    expect(access).toEqual({ kind: 'permissions', requirements: [{ anyOf: ['consume'], resource: 'topic' }] });
  });

  test('group routes add consume on every topic their body names', () => {
    expect(topicsInBody(Buffer.from(JSON.stringify({ subscribed_topic_names: ['a', 'b'], offsets: [{ topic_name: 'c' }], partitions: [{ topic: 'd' }], topics: ['e'] })))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(topicsInBody(Buffer.from('not json'))).toEqual([]);
    const commit = routes.find((r) => r.path.endsWith('/offsets:commit'))!;
    const access = routeAccess(commit, { pathParameters: { consumer_group_id: 'g' }, body: Buffer.from(JSON.stringify({ offsets: [{ topic_name: 't' }] })) });
    expect(access).toEqual({ kind: 'permissions', requirements: [{ anyOf: ['consume'], resource: 'group', name: 'g' }, { anyOf: ['consume'], resource: 'topic', name: 't' }] });
  });
});
