/**
 * The console on AWS (infra/console.ts): where the stack serves it, that its
 * routes take no authorizer while the API's keep theirs, that its function
 * may do nothing but log, and that the synthesized handler serves the files
 * the local runtime serves.
 *
 * How: synth with bundling skipped (templateSupport), then the handler file
 * written at synth is loaded in this process and called with payload-v2 events.
 */
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { consoleFileOf, consoleHeaders, type ConsoleAssets } from '../console/build';
import { consoleHandlerSource, consoleMemoryMiB } from './console';
import type { StrandAuth } from './strand';
import { logicalId, synth } from './templateSupport';

const consoleRouteKeys = ['GET /console', 'GET /console/{file}'];

function routesByKey(template: ReturnType<typeof synth>['template']) {
  return Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as { RouteKey: string; AuthorizationType?: string });
}

describe('console on AWS', () => {
  test('is served when asked for, on GET /console and /console/{file} with no authorizer, while API routes keep the deployment\'s', () => {
    const { stack, template } = synth({ strand: { auth: { type: 'apiKeys' }, console: true } });
    expect(stack.strand.console).toBeDefined();
    const routes = routesByKey(template);
    for (const key of consoleRouteKeys) {
      expect(routes.filter((r) => r.RouteKey === key)).toEqual([expect.objectContaining({ AuthorizationType: 'NONE' })]);
    }
    template.hasOutput('*', { Description: 'The Strand web console (docs/console.md)' });
  });

  test('with JWT auth it is opt-in, and then the API routes keep the JWT authorizer and only the console\'s files are open', () => {
    const jwt: StrandAuth = { type: 'jwt', issuer: 'https://issuer.example.com', audience: ['strand'] };
    expect(synth({ strand: { auth: jwt } }).stack.strand.console).toBeUndefined();
    const { template } = synth({ strand: { auth: jwt, console: true } });
    const routes = routesByKey(template);
    for (const r of routes) {
      expect({ key: r.RouteKey, auth: r.AuthorizationType }).toEqual({ key: r.RouteKey, auth: consoleRouteKeys.includes(r.RouteKey) ? 'NONE' : 'JWT' });
    }
  });

  test('is opt-in whatever the auth: it adds routes that need no credentials', () => {
    expect(synth().stack.strand.console).toBeUndefined();
    expect(synth({ strand: { auth: { type: 'apiKeys' } } }).stack.strand.console).toBeUndefined();
    // IAM: a browser cannot sign SigV4, so the console is used through a signing proxy (docs/console.md).
    const { stack, template } = synth({ strand: { console: true } });
    expect(stack.strand.console).toBeDefined();
    expect(routesByKey(template).filter((r) => r.RouteKey === 'GET /console')).toHaveLength(1);
  });

  test('its function is small and its role may only write its logs', () => {
    const { stack, template } = synth({ strand: { auth: { type: 'apiKeys' }, console: true } });
    const fn = stack.strand.console!.function;
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('web console'), MemorySize: consoleMemoryMiB, Architectures: ['arm64'] });
    const roleId = logicalId(stack, fn.role as never);
    // No inline or attached policy names the role: only the basic execution managed policy (CloudWatch Logs).
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
    );
    expect(policies).toEqual([]);
    const role = template.findResources('AWS::IAM::Role')[roleId]!;
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AWSLambdaBasicExecutionRole');
    expect(role.Properties.ManagedPolicyArns).toHaveLength(1);
  });

  test('the synthesized handler serves the page and its files with the console\'s headers, and 404 for anything else', async () => {
    const { stack } = synth({ strand: { auth: { type: 'apiKeys' }, console: true } });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(path.join(stack.strand.console!.codeDir, 'index.js')) as {
      handler: (e: { rawPath: string }) => Promise<{ statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded?: boolean }>;
    };
    for (const rawPath of ['/console', '/console/']) {
      const page = await handler({ rawPath });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(Buffer.from(page.body, 'base64').toString()).toContain('/console/app.js');
      expect(page.headers['content-security-policy']).toBe(consoleHeaders['content-security-policy']);
    }
    const js = await handler({ rawPath: '/console/app.js' });
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(Buffer.from(js.body, 'base64').length).toBeGreaterThan(10_000);
    expect((await handler({ rawPath: '/console/../strand.ts' })).statusCode).toBe(404);
  });

  test('the handler names files as the local runtime does', async () => {
    const paths = ['/console', '/console/', '/console/app.js', '/console/app.css', '/console/x/y', '/console//app.js'];
    const assets: ConsoleAssets = new Map(paths.map((p) => [consoleFileOf(p), { contentType: 'text/plain', body: Buffer.from(consoleFileOf(p)) }]));
    const module = { exports: {} as { handler: (e: { rawPath: string }) => Promise<{ body: string }> } };
    new Function('exports', 'module', consoleHandlerSource(assets))(module.exports, module);
    for (const p of paths) {
      expect(Buffer.from((await module.exports.handler({ rawPath: p })).body, 'base64').toString()).toBe(consoleFileOf(p));
    }
  });
});
