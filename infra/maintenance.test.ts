/**
 * Maintenance on AWS (infra/maintenance.ts): the planner may invoke its own
 * function and no other, its invocations are not retried by Lambda, the
 * workers' count follows the reserved concurrency, and the three alarms read
 * the metric names the code writes. Also: the stack synthesizes with every
 * feature flag cdk.json sets.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { StrandStack } from './stack';
import { actionsOf, logicalId, roleStatements, synth } from './templateSupport';
import { maintenanceMetricNames } from '../src/maintenance/maintenanceMetrics';
import { maintenanceWorkersDefault, maintenanceWorkersEnvVar, workersFor } from '../src/maintenance/workers';

describe('maintenance fan-out', () => {
  const { stack, template } = synth({ strand: { clusterId: 'prod-1' } });
  const fn = stack.strand.functions.maintenance;
  const fnArn = { 'Fn::GetAtt': [logicalId(stack, fn), 'Arn'] };

  test('the planner may invoke its own function, and only that one, from a policy of its own', () => {
    const invokes = roleStatements(stack, template, 'maintenance').filter((s) => actionsOf([s]).includes('lambda:InvokeFunction'));
    expect(invokes).toHaveLength(1);
    expect(invokes[0]!.Resource).toEqual(fnArn);
    // Not the role's default policy, which the function itself depends on.
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Resource: fnArn })]) } } });
    expect(Object.keys(policies)).toHaveLength(1);
    expect(Object.keys(policies)[0]).toMatch(/MaintenanceSelfInvoke/);
  });

  test('Lambda does not retry a maintenance invocation (the ledger hands out what is left next pass)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: logicalId(stack, fn) }, MaximumRetryAttempts: 0 });
  });

  test('workers: the reserved concurrency less the planner (read at run time, no variable of its own)', () => {
    expect(stack.strand.maintenance.workers).toBe(stack.strand.reservedConcurrency.maintenance! - 1);
    expect(workersFor(9, {})).toBe(8);
    expect(workersFor(undefined, {})).toBe(maintenanceWorkersDefault);
    expect(workersFor(9, { [maintenanceWorkersEnvVar]: '3' })).toBe(3);
    const reads = roleStatements(stack, template, 'maintenance').filter((s) => actionsOf([s]).includes('lambda:GetFunctionConcurrency'));
    expect(reads.map((s) => s.Resource)).toEqual([fnArn]);
    expect(() => synth({ strand: { reservedConcurrency: { maintenance: 1 } } })).toThrow(/at least 2/);
  });

  test('a missing "pass completed" heartbeat breaches: no pass in 20 minutes alarms', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Strand',
      MetricName: maintenanceMetricNames.passesCompleted,
      Dimensions: [{ Name: 'ClusterId', Value: 'prod-1' }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 4,
      DatapointsToAlarm: 4,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  test('failed partition turns and turns left past the deadline alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: maintenanceMetricNames.partitionFailures,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      DatapointsToAlarm: 2,
      EvaluationPeriods: 3,
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: maintenanceMetricNames.partitionsLeft, Threshold: 0, EvaluationPeriods: 3 });
    expect(stack.strand.alarms).toEqual(expect.arrayContaining(stack.strand.maintenance.alarms));
  });

  test('the alarms notify the alarm topic when there is one', () => {
    const s = synth({ strand: {} }, undefined);
    expect(s.stack.strand.maintenance.alarms).toHaveLength(3);
  });
});

describe('cdk.json feature flags', () => {
  test('cdk.json sets every recommended flag of the installed aws-cdk-lib', () => {
    const root = path.join(__dirname, '..');
    const context = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8')).context as Record<string, unknown>;
    const recommended = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/aws-cdk-lib/recommended-feature-flags.json'), 'utf8')) as Record<string, unknown>;
    for (const [flag, value] of Object.entries(recommended)) expect({ flag, value: context[flag] }).toEqual({ flag, value });
  });

  test('the stack synthesizes with them, and keeps its maintenance schedule, fan-out and alarms', () => {
    const context = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context as Record<string, unknown>;
    const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const stack = new StrandStack(app, 'Flags', { strand: { clusterId: 'flags' } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: maintenanceMetricNames.passesCompleted, TreatMissingData: 'breaching' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });
});
