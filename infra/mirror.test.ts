/**
 * `StrandMirror` (infra/mirror.ts): the scheduled function with one run at a
 * time, its configuration, least-privilege grants for each kind of side, the
 * lag metric's alarms, and props validated first.
 *
 * How: synthesized templates with bundling skipped (templateSupport.ts); the
 * function's IAM statements are read from the policies attached to its role.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { mirrorConfigEnvVar, mirrorMetricNames, type MirrorFunctionConfig } from '../src/mirror/lambda';
import { StrandMirror, type StrandMirrorProps } from './mirror';
import { Strand } from './strand';
import { actionsOf, logicalId, synth, type Statement } from './templateSupport';

function mirrorStack(props: (stack: Stack) => StrandMirrorProps): { stack: Stack; template: Template; mirror: StrandMirror } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Mirror', { env: { account: '111111111111', region: 'eu-west-1' } });
  const mirror = new StrandMirror(stack, 'EastToWest', props(stack));
  return { stack, template: Template.fromStack(stack), mirror };
}

function functionStatements(stack: Stack, template: Template, mirror: StrandMirror): Statement[] {
  const roleId = logicalId(stack, mirror.function.role as never);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function functionConfig(template: Template): MirrorFunctionConfig {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.[mirrorConfigEnvVar]);
  expect(fns).toHaveLength(1);
  const raw = fns[0]!.Properties.Environment.Variables[mirrorConfigEnvVar];
  // Tokens (the target's URL) make it an Fn::Join: put placeholders in for them.
  const text = typeof raw === 'string' ? raw : (raw['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text) as MirrorFunctionConfig;
}

describe('StrandMirror', () => {
  const cross = mirrorStack((stack) => ({
    source: { url: 'https://east.example.com', clusterId: 'east', auth: { type: 'assumeRole', region: 'us-east-1', roleArn: 'arn:aws:iam::222222222222:role/strand-east-reader' } },
    target: { url: 'https://west.example.com', clusterId: 'west', auth: { type: 'apiKey', secret: new secretsmanager.Secret(stack, 'WestKey') } },
    topics: 'orders.*',
    exclude: '.*-audit',
    syncGroupOffsets: true,
    alarmTopic: new sns.Topic(stack, 'Alarms'),
  }));

  test('one function, arm64 Node.js 22, reserved concurrency 1 (runs never overlap), a timeout past its bounded run, no async retries', () => {
    cross.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      Timeout: 110,
      Environment: { Variables: { [mirrorConfigEnvVar]: Match.anyValue() } },
    });
    cross.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
    expect(functionConfig(cross.template)).toEqual({
      name: 'east',
      source: { url: 'https://east.example.com', clusterId: 'east', region: 'us-east-1', roleArn: 'arn:aws:iam::222222222222:role/strand-east-reader' },
      target: { url: 'https://west.example.com', clusterId: 'west', apiKeySecretArn: 'TOKEN' },
      runSeconds: 50,
      topics: 'orders.*',
      exclude: '.*-audit',
      syncGroupOffsets: true,
    });
  });

  test('an EventBridge schedule runs it every minute', () => {
    cross.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
  });

  test('least privilege: assume the one cross-account role, read the one secret, and nothing else beyond logs', () => {
    const statements = functionStatements(cross.stack, cross.template, cross.mirror);
    expect(actionsOf(statements).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'sts:AssumeRole']);
    expect(statements.find((s) => actionsOf([s]).includes('sts:AssumeRole'))!.Resource).toBe('arn:aws:iam::222222222222:role/strand-east-reader');
    const secretId = Object.keys(cross.template.findResources('AWS::SecretsManager::Secret'))[0]!;
    expect(statements.find((s) => actionsOf([s]).includes('secretsmanager:GetSecretValue'))!.Resource).toEqual({ Ref: secretId });
  });

  test('alarms: lag in seconds above 300, no run reporting (missing data breaches), failing runs; all to the alarm topic', () => {
    cross.template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    cross.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Strand',
      MetricName: mirrorMetricNames.maxLagSeconds,
      Dimensions: [{ Name: 'Mirror', Value: 'east' }],
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [Match.anyValue()],
    });
    cross.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: mirrorMetricNames.maxLagSeconds, Statistic: 'SampleCount', TreatMissingData: 'breaching' });
    cross.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
  });

  test('a Strand of this app with IAM auth as the target: execute-api:Invoke on its API only', () => {
    const { stack, template, mirror } = mirrorStack((s) => ({
      source: { url: 'https://east.example.com', clusterId: 'east', auth: { type: 'iam', region: 'us-east-1', executeApiArn: 'arn:aws:execute-api:us-east-1:111111111111:abc123/*' } },
      target: new Strand(s, 'West', { clusterId: 'west' }),
      topicNaming: 'identity',
      runSeconds: 120,
    }));
    const statements = functionStatements(stack, template, mirror);
    expect([...new Set(actionsOf(statements))]).toEqual(['execute-api:Invoke']);
    expect(JSON.stringify(statements)).toContain('arn:aws:execute-api:us-east-1:111111111111:abc123/*');
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1, Timeout: 180 });
    const config = functionConfig(template);
    expect(config).toEqual(expect.objectContaining({ topicNaming: 'identity', runSeconds: 120, target: expect.objectContaining({ clusterId: 'west', region: 'eu-west-1' }) }));
  });

  test('props are validated first', () => {
    const endpoint = (clusterId: string) => ({ url: `https://${clusterId}.example.com`, clusterId, auth: { type: 'iam' as const, region: 'us-east-1', executeApiArn: '*' } });
    expect(() => mirrorStack(() => ({ source: endpoint('a'), target: endpoint('b'), runSeconds: 5 }))).toThrow(/runSeconds/);
    expect(() => mirrorStack(() => ({ source: endpoint('a'), target: endpoint('b'), topics: '(' }))).toThrow(/topics is not a regular expression/);
    expect(() => mirrorStack(() => ({ source: endpoint('a'), target: endpoint('a') }))).toThrow(/same cluster/);
    expect(() => mirrorStack((s) => ({ source: endpoint('a'), target: new Strand(s, 'Keys', { clusterId: 'k', auth: { type: 'apiKeys' } }) }))).toThrow(/apiKeySecret/);
  });

  test('beside a StrandStack: its Strand as the source', () => {
    const { stack, template } = synth({ strand: { clusterId: 'east' } }, (s) => {
      new StrandMirror(s, 'ToWest', { source: s.strand, target: { url: 'https://west.example.com', clusterId: 'west', auth: { type: 'iam', region: 'us-west-2', executeApiArn: 'arn:aws:execute-api:us-west-2:111111111111:xyz/*' } } });
    });
    expect(stack.node.tryFindChild('ToWest')).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('Strand mirror east: east → west'), ReservedConcurrentExecutions: 1 });
  });
});
