/**
 * The CDK side of API keys (docs/security.md): the keys table, who may read and
 * write it, and `auth: { type: 'apiKeys' }` (no gateway authorizer, STRAND_AUTH=keys
 * on every function). How: synthesized templates, bundling skipped as in strand.test.ts.
 */
import { App, Stack, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { routes } from '../src/api/routes';
import { EnvVar, configToEnv, localDefaults } from '../src/config/env';
import { dynamoWriteActions, functionAccess, type StrandFunctionName } from './access';
import { StrandStack, type StrandStackProps } from './stack';

function synth(props: StrandStackProps = {}): { stack: StrandStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new StrandStack(app, 'Test', props);
  return { stack, template: Template.fromStack(stack) };
}

const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnResource);
const routed = [...new Set(routes.map((r) => r.fn))];

function keysTableActions(stack: StrandStack, template: Template, fn: StrandFunctionName): string[] {
  const roleId = logicalId(stack, stack.strand.functionOf(fn).role as never);
  const keysArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, stack.strand.tables.keys), 'Arn'] });
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
    .filter((s) => JSON.stringify(s.Resource) === keysArn)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

describe('API keys in the CDK construct', () => {
  // One synthesis: grants do not depend on the auth mode, and the default's env is asserted in strand.test.ts.
  const withKeys = synth({ strand: { auth: { type: 'apiKeys' } } });

  test('every routed function reads the keys table; only admin writes it; maintenance does not touch it', () => {
    const { stack, template } = withKeys;
    for (const fn of routed) {
      const actions = keysTableActions(stack, template, fn);
      expect({ fn, reads: actions.includes('dynamodb:GetItem') }).toEqual({ fn, reads: true });
      expect({ fn, writes: dynamoWriteActions.some((a) => actions.includes(a)) }).toEqual({ fn, writes: fn === 'admin' });
    }
    expect(keysTableActions(stack, template, 'maintenance')).toEqual([]);
    // The notice socket checks the key at $connect and on each subscribe; the notifier never sees one.
    expect(keysTableActions(stack, template, 'notices')).toEqual(expect.arrayContaining(['dynamodb:GetItem']));
    expect(dynamoWriteActions.some((a) => keysTableActions(stack, template, 'notices').includes(a))).toBe(false);
    expect(keysTableActions(stack, template, 'notifier')).toEqual([]);
    expect(functionAccess.admin.tables.keys).toBe('readWrite');
  });

  test('by default functions get STRAND_AUTH=none; each gets the keys table name', () => {
    expect(configToEnv(localDefaults)[EnvVar.auth]).toBe('none');
    const { stack, template } = withKeys;
    const fn = template.toJSON().Resources[logicalId(stack, stack.strand.functions.produce)];
    expect(fn.Properties.Environment.Variables[EnvVar.keysTable]).toEqual({ Ref: logicalId(stack, stack.strand.tables.keys) });
  });

  test("auth: { type: 'apiKeys' } sets STRAND_AUTH=keys on every function and leaves the gateway open for the functions to check", () => {
    const { stack, template } = withKeys;
    const resources = template.toJSON().Resources;
    for (const fn of Object.keys(functionAccess) as StrandFunctionName[]) {
      expect(resources[logicalId(stack, stack.strand.functionOf(fn))].Properties.Environment.Variables[EnvVar.auth]).toBe('keys');
    }
    const apiId = logicalId(stack, stack.strand.api as never);
    expect(Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: apiId } } }))).toHaveLength(routes.length);
    // Every route, the notice socket's $connect included: its function checks the key (infra/notices.test.ts).
    for (const route of Object.values(template.findResources('AWS::ApiGatewayV2::Route'))) expect(route.Properties.AuthorizationType).toBe('NONE');
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    expect(stack.strand.config.auth).toBe('keys');
  });

  test('no bootstrap key is ever put into the template', () => {
    expect(JSON.stringify(withKeys.template.toJSON())).not.toContain('STRAND_BOOTSTRAP_ADMIN_KEY');
  });
});
