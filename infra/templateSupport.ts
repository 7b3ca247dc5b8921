/**
 * What the synth tests of the notice socket and of triggers share: a stack
 * synthesized with bundling skipped, logical ids, a function role's IAM
 * statements, and Lambda's event filter run against stream records shaped
 * like DynamoDB's. (Not a test file itself: jest matches `*.test.ts` only.)
 */
import { App, type CfnResource, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { StrandFunctionName } from './access';
import { StrandStack, type StrandStackProps } from './stack';

export function synth(props: StrandStackProps = {}, extra?: (stack: StrandStack) => void): { stack: StrandStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new StrandStack(app, 'Test', props);
  extra?.(stack);
  return { stack, template: Template.fromStack(stack) };
}

export const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnResource);

export type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
export const actionsOf = (statements: Statement[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

/** Every IAM statement attached to a Strand function's role. */
export function roleStatements(stack: StrandStack, template: Template, fn: StrandFunctionName): Statement[] {
  const roleId = logicalId(stack, stack.strand.functionOf(fn).role as never);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** The subset of Lambda's filter rules Strand's patterns use: every key must match, and a leaf lists the accepted values. */
export function filterMatches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.includes(event);
  if (typeof pattern !== 'object' || pattern === null || typeof event !== 'object' || event === null) return false;
  return Object.entries(pattern).every(([key, sub]) => filterMatches(sub, (event as Record<string, unknown>)[key]));
}

/** A stream record as DynamoDB writes it for a log table item (numbers are strings). */
export function streamRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', sk: number) {
  const keys = { pk: { S: 't1#0' }, sk: { N: String(sk) } };
  return {
    eventName,
    dynamodb: { Keys: keys, ...(eventName === 'REMOVE' ? {} : { NewImage: { ...keys, hw: { N: '42' } } }), StreamViewType: 'NEW_IMAGE' },
  };
}
