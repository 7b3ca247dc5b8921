/**
 * Triggers on AWS (docs/triggers.md, "On AWS"): the dispatcher function, its
 * event source on the log table's stream (filtered to partition heads), its
 * wake-ups on demand (no rescan unless opted in), its least-privilege grants, `lambda:InvokeFunction` only on
 * attached functions, its alarms and dashboard, and `triggers: false`.
 *
 * How: synthesized templates with bundling skipped, as in strand.test.ts; the
 * mapping's filter is run against stream records shaped like DynamoDB's.
 */
import * as s3 from 'aws-cdk-lib/aws-s3';
import { App, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Duration } from 'aws-cdk-lib';
import { headSortKey } from '../src/log/PartitionIndex';
import { apiUrlEnvVar, triggerMetricNames } from '../src/triggers/lambda';
import { triggerLeaseTtlAttribute } from '../src/triggers/triggerLeases';
import { tableSchemas } from '../src/storage/tables';
import { wakeScheduleEnvVars } from '../src/triggers/wakeSchedule';
import { functionAccess, s3ObjectActions, dynamoActions, triggerFunctionTimeoutSeconds, type StrandFunctionName } from './access';
import { defaultReservedConcurrency } from './concurrency';
import { StrandStack } from './stack';
import { actionsOf, filterMatches, logicalId, roleStatements, streamRecord, synth } from './templateSupport';

/** Two functions of the user's, one attached with the prop and one with attachFunction, and one not attached. */
let attached: lambda.IFunction[] = [];
let notAttached: lambda.IFunction;
let archive: s3.Bucket;
const { stack, template } = synth({ strand: { clusterId: 'prod-1' } }, (s) => {
  const code = lambda.Code.fromInline('exports.handler = async () => {}');
  const make = (id: string) => new lambda.Function(s, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code });
  attached = [make('OrdersFn'), make('AuditFn')];
  notAttached = make('OtherFn');
  s.strand.attachFunction(attached[0]!);
  s.strand.attachFunction(attached[1]!);
  s.strand.attachFunction(attached[1]!); // twice: one grant
  archive = new s3.Bucket(s, 'Lake');
  s.strand.attachBucket(archive, 'kafka/');
});
const resources = template.toJSON().Resources as Record<string, any>;
const fnId = (fn: StrandFunctionName) => logicalId(stack, stack.strand.functionOf(fn));
const arnOf = (fn: lambda.IFunction) => ({ 'Fn::GetAtt': [logicalId(stack, fn as never), 'Arn'] });

describe('the dispatcher function', () => {
  test('runs Node.js 22 on arm64 with two minutes, its reservation and the API URL for the events\' bootstrapServers', () => {
    const props = resources[fnId('triggers')].Properties;
    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: triggerFunctionTimeoutSeconds, MemorySize: 512 });
    expect(props.ReservedConcurrentExecutions).toBe(defaultReservedConcurrency.triggers);
    expect(props.Environment.Variables[apiUrlEnvVar]).toBeDefined();
  });

  test("trigger lease items expire: the leases table's TTL attribute is the one they set", () => {
    expect(tableSchemas.leases.timeToLiveAttribute).toBe(triggerLeaseTtlAttribute);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: triggerLeaseTtlAttribute, Enabled: true },
    });
  });

  test('its own event source on the log table\'s stream: latest, no batching window, split on error, bounded retries and age', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: fnId('triggers') } } }));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, stack.strand.tables.log), 'StreamArn'] },
      StartingPosition: 'LATEST',
      MaximumBatchingWindowInSeconds: 0,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
    });
  });

  test(`Lambda invokes it only for inserted or modified partition heads (sk = ${headSortKey})`, () => {
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: fnId('triggers') } } }))[0]!;
    const filters = mapping.Properties.FilterCriteria.Filters as { Pattern: string }[];
    expect(filters).toHaveLength(1);
    const pattern = JSON.parse(filters[0]!.Pattern);
    expect(filterMatches(pattern, streamRecord('MODIFY', headSortKey))).toBe(true);
    expect(filterMatches(pattern, streamRecord('INSERT', headSortKey))).toBe(true);
    expect(filterMatches(pattern, streamRecord('INSERT', 0))).toBe(false);
    expect(filterMatches(pattern, streamRecord('REMOVE', headSortKey))).toBe(false);
  });

  test('no rescan by default ($0 idle); triggerRescan opts in to one, retried twice', () => {
    expect(stack.strand.triggerRescanRule).toBeUndefined();
    expect(Object.values(template.findResources('AWS::Events::Rule')).map((r) => r.Properties.Description)).not.toContainEqual(expect.stringMatching(/triggers/));
    const { stack: s, template: slow } = synth({ strand: { triggerRescan: events.Schedule.rate(Duration.minutes(5)) } });
    expect(s.strand.triggerRescanRule).toBeDefined();
    slow.hasResourceProperties('AWS::Events::Rule', {
      Description: Match.stringLikeRegexp('triggers rescan'),
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(s, s.strand.functionOf('triggers')), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 600 } })],
    });
    const { stack: off } = synth({ strand: { triggerRescan: false } });
    expect(off.strand.triggerRescanRule).toBeUndefined();
  });

  test('wake-ups on demand: a schedule group of its own, a role only Scheduler (of this account) assumes, which may invoke the dispatcher and nothing else', () => {
    const groups = Object.keys(template.findResources('AWS::Scheduler::ScheduleGroup'));
    expect(groups).toHaveLength(1);
    expect(template.findResources('AWS::Scheduler::Schedule')).toEqual({}); // none exists while idle
    const roleId = logicalId(stack, stack.strand.triggerWakeRole! as never);
    expect(resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } },
    ]);
    const rolePolicies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
    expect(rolePolicies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [fnId('triggers'), 'Arn'] } },
    ]);
    const env = resources[fnId('triggers')].Properties.Environment.Variables;
    expect(env[wakeScheduleEnvVars.group]).toEqual({ Ref: groups[0] });
    expect(env[wakeScheduleEnvVars.roleArn]).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });
});

describe('least privilege', () => {
  const statements = () => roleStatements(stack, template, 'triggers');
  const tableArn = (t: keyof typeof functionAccess.triggers.tables) => JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, stack.strand.tables[t]), 'Arn'] });

  test('no wildcard action and no "*" resource', () => {
    for (const action of actionsOf(statements())) expect(action).not.toContain('*');
    for (const s of statements()) expect(Array.isArray(s.Resource) ? s.Resource : [s.Resource]).not.toContain('*');
  });

  test('reads the triggers, topics tables; writes log, leases, groups (commits, leases, dead letters); no other table', () => {
    const byTable = new Map<string, string[]>();
    // The stream's statement is the next test's.
    for (const s of statements().filter((st) => actionsOf([st]).some((a) => a.startsWith('dynamodb:')) && !actionsOf([st]).includes('dynamodb:GetRecords'))) {
      byTable.set(JSON.stringify(s.Resource), actionsOf([s]));
    }
    expect([...byTable.keys()].sort()).toEqual((['triggers', 'topics', 'log', 'leases', 'groups'] as const).map(tableArn).sort());
    expect(byTable.get(tableArn('triggers'))).toEqual([...dynamoActions.read]);
    expect(byTable.get(tableArn('topics'))).toEqual([...dynamoActions.read]);
    for (const t of ['log', 'leases', 'groups'] as const) expect(byTable.get(tableArn(t))).toEqual([...dynamoActions.readWrite]);
  });

  test("an attached archive bucket may be written under its prefix only (S3 sink), and read or deleted not at all", () => {
    const lakeId = logicalId(stack, archive as never);
    const onLake = statements().filter((st) => JSON.stringify(st.Resource).includes(lakeId));
    expect(onLake).toEqual([
      { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [lakeId, 'Arn'] }, '/kafka/*']] } },
    ]);
  });

  test('gets and puts objects (reads batches, appends dead letters as produce does), never deletes or lists', () => {
    const lakeId = logicalId(stack, archive as never);
    const s3 = actionsOf(statements().filter((st) => !JSON.stringify(st.Resource).includes(lakeId))).filter((a) => a.startsWith('s3:'));
    expect(s3.sort()).toEqual([...s3ObjectActions.get, ...s3ObjectActions.put].sort());
    // The produce function's object access covers the same append path.
    expect(functionAccess.produce.objects).toEqual(expect.arrayContaining(['get', 'put']));
  });

  test('creates schedules in its own group only, and passes the wake role to Scheduler only', () => {
    const groupId = Object.keys(template.findResources('AWS::Scheduler::ScheduleGroup'))[0]!;
    const create = statements().filter((st) => actionsOf([st]).includes('scheduler:CreateSchedule'));
    expect(create).toHaveLength(1);
    expect(actionsOf(create)).toEqual(['scheduler:CreateSchedule']);
    expect(JSON.stringify(create[0]!.Resource)).toContain(`{"Ref":"${groupId}"},"/*"`);
    const pass = statements().filter((st) => actionsOf([st]).includes('iam:PassRole'));
    expect(pass).toEqual([{
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [logicalId(stack, stack.strand.triggerWakeRole! as never), 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }]);
  });

  test('reads the log table\'s stream, on that stream only', () => {
    const stream = statements().filter((s) => actionsOf([s]).includes('dynamodb:GetRecords'));
    expect(stream).toEqual([{
      Effect: 'Allow',
      Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
      Resource: { 'Fn::GetAtt': [logicalId(stack, stack.strand.tables.log), 'StreamArn'] },
    }]);
  });

  test('lambda:InvokeFunction only on the attached functions (and their versions and aliases), once each', () => {
    const invoke = statements().filter((s) => actionsOf([s]).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(2);
    const granted = invoke.map((s) => JSON.stringify(s.Resource));
    for (const fn of attached) {
      expect(granted).toContain(JSON.stringify([arnOf(fn), { 'Fn::Join': ['', [arnOf(fn), ':*']] }]));
    }
    expect(JSON.stringify(invoke)).not.toContain(JSON.stringify(arnOf(notAttached)));
    expect(stack.strand.attachedFunctions).toEqual(attached);
    // No other Strand function may invoke an attached function (maintenance's own fan-out invokes maintenance only).
    for (const fn of stack.strand.functionNames.filter((n) => n !== 'triggers')) {
      const invokes = roleStatements(stack, template, fn).filter((st) => actionsOf([st]).includes('lambda:InvokeFunction'));
      for (const user of [...attached, notAttached]) expect(JSON.stringify(invokes)).not.toContain(JSON.stringify(arnOf(user)));
    }
  });

  test('the triggerFunctions prop is the same seam', () => {
    const { stack: s, template: t } = synth({}, () => {});
    expect(actionsOf(roleStatements(s, t, 'triggers'))).not.toContain('lambda:InvokeFunction');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const host = new Stack(app, 'Host');
    new CfnWaitConditionHandle(host, 'Placeholder'); // a stack must hold a resource
    const fn = lambda.Function.fromFunctionArn(host, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:orders');
    const withProp = new StrandStack(app, 'WithProp', { env: {}, strand: { triggerFunctions: [fn] } });
    const tp = Template.fromStack(withProp);
    const granted = roleStatements(withProp, tp, 'triggers').filter((st) => actionsOf([st]).includes('lambda:InvokeFunction'));
    expect(granted.map((st) => st.Resource)).toEqual([[
      'arn:aws:lambda:eu-west-1:123456789012:function:orders',
      'arn:aws:lambda:eu-west-1:123456789012:function:orders:*',
    ]]);
  });
});

describe('alarms and dashboard', () => {
  test('errors, throttles, concurrency and iterator age of the dispatcher', () => {
    for (const metric of ['Errors', 'Throttles', 'ConcurrentExecutions', 'IteratorAge']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('triggers') } }] });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('triggers') } }], Threshold: 300_000, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
  });

  test('the age of the oldest undelivered record and the dead-letter and skipped counts, from the dispatcher\'s EMF metrics, per cluster', () => {
    const custom = (name: string) => ({ Namespace: 'Strand', MetricName: name, Dimensions: [{ Name: 'ClusterId', Value: 'prod-1' }] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...custom(triggerMetricNames.oldestUndeliveredAge), Statistic: 'Maximum', Threshold: 900_000, TreatMissingData: 'notBreaching' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...custom(triggerMetricNames.deadLettered), Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...custom(triggerMetricNames.skipped), Statistic: 'Sum', Threshold: 0 });
  });

  test('the dashboard shows them', () => {
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    for (const name of Object.values(triggerMetricNames)) expect(body).toContain(name);
  });
});

describe('triggers: false', () => {
  test('no dispatcher, no mapping, schedule or alarms of its own; attachFunction is refused', () => {
    const { stack: s, template: t } = synth({ strand: { triggers: false } });
    expect(s.strand.functions.triggers).toBeUndefined();
    expect(s.strand.functionNames).not.toContain('triggers');
    expect(() => s.strand.functionOf('triggers')).toThrow(/triggers are off/);
    expect(Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))).toHaveLength(1); // the notifier's
    expect(JSON.stringify(t.findResources('AWS::CloudWatch::Alarm'))).not.toContain(triggerMetricNames.deadLettered);
    const fn = lambda.Function.fromFunctionArn(s, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:orders');
    expect(() => s.strand.attachFunction(fn)).toThrow(/needs triggers/);
  });

  test('without the notice socket, triggers still get the log table\'s stream', () => {
    const { stack: s, template: t } = synth({ strand: { noticeSocket: false } });
    expect(resources[logicalId(stack, stack.strand.tables.log)].Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    expect(t.toJSON().Resources[logicalId(s, s.strand.tables.log)].Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    const mappings = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings.map((m) => m.Properties.FunctionName)).toEqual([{ Ref: logicalId(s, s.strand.functionOf('triggers')) }]);
  });
});

describe('triggers declared in CDK (addTrigger)', () => {
  let fn: lambda.IFunction;
  let lake: s3.Bucket;
  const declared = synth({ strand: { clusterId: 'prod-1' } }, (s) => {
    fn = new lambda.Function(s, 'OrdersFn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}') });
    lake = new s3.Bucket(s, 'Lake');
    s.strand.addTrigger('orders-to-fn', { topic: 'orders', function: fn, batchSize: 100, maxBatchingWindow: Duration.seconds(5), startingPosition: 'EARLIEST', bisectBatchOnError: true, deadLetterTopic: 'orders-dlq' });
    s.strand.addTrigger('all-orders-archive', { topicPattern: 'orders\\..*', archive: { bucket: lake, prefix: 'kafka/' }, paused: true });
  });
  const dStack = declared.stack;
  const dTemplate = declared.template;
  const dResources = dTemplate.toJSON().Resources as Record<string, any>;
  const providerId = () => logicalId(dStack, dStack.strand.node.findChild('TriggerResourcesFunction') as never);

  test('one Custom::StrandTrigger per trigger, served by one provider function, holding the API\'s create body', () => {
    const custom = dTemplate.findResources('Custom::StrandTrigger');
    expect(Object.keys(custom)).toHaveLength(2);
    for (const r of Object.values(custom)) expect(r.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [providerId(), 'Arn'] });
    const byName = (name: string) => logicalId(dStack, dStack.strand.declaredTriggers[name]! as never);
    // The body is JSON with the function's ARN resolved at deploy (Fn::Join of the template's tokens).
    const fnBody = JSON.stringify(dResources[byName('orders-to-fn')].Properties.Trigger);
    expect(fnBody).toContain('\\"trigger_name\\":\\"orders-to-fn\\"');
    expect(fnBody).toContain('\\"topic_name\\":\\"orders\\"');
    expect(fnBody).toContain('\\"type\\":\\"lambda\\",\\"function_arn\\":\\"');
    expect(fnBody).toContain(JSON.stringify({ 'Fn::GetAtt': [logicalId(dStack, fn as never), 'Arn'] }));
    expect(fnBody).toContain('\\"max_batching_window_ms\\":5000');
    expect(fnBody).toContain('\\"state\\":\\"ACTIVE\\"');
    const archiveBody = JSON.stringify(dResources[byName('all-orders-archive')].Properties.Trigger);
    expect(archiveBody).toContain('\\"topic_pattern\\":\\"orders\\\\\\\\..*\\"');
    expect(archiveBody).toContain('\\"state\\":\\"PAUSED\\"');
    // Created after the dispatcher and its grants.
    expect(dResources[byName('orders-to-fn')].DependsOn).toEqual(expect.arrayContaining([logicalId(dStack, dStack.strand.functionOf('triggers'))]));
  });

  test('the target is attached with least privilege: invoke on that function only, put under the archive prefix only', () => {
    const stmts = roleStatements(dStack, dTemplate, 'triggers');
    const invoke = stmts.filter((st) => actionsOf([st]).includes('lambda:InvokeFunction'));
    expect(invoke.map((st) => st.Resource)).toEqual([[{ 'Fn::GetAtt': [logicalId(dStack, fn as never), 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(dStack, fn as never), 'Arn'] }, ':*']] }]]);
    expect(stmts.filter((st) => JSON.stringify(st.Resource).includes(logicalId(dStack, lake as never)))).toEqual([
      { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(dStack, lake as never), 'Arn'] }, '/kafka/*']] } },
    ]);
  });

  test('the provider reads topics, log and objects, writes triggers and groups, and nothing else', () => {
    const roleId = dResources[providerId()].Properties.Role['Fn::GetAtt'][0];
    const stmts = Object.values(dTemplate.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const tableArn = (t: 'triggers' | 'topics' | 'log' | 'groups') => JSON.stringify({ 'Fn::GetAtt': [logicalId(dStack, dStack.strand.tables[t]), 'Arn'] });
    const dynamo = new Map(stmts.filter((st) => actionsOf([st as never]).some((a) => a.startsWith('dynamodb:'))).map((st) => [JSON.stringify(st.Resource), actionsOf([st as never])]));
    expect([...dynamo.keys()].sort()).toEqual((['triggers', 'topics', 'log', 'groups'] as const).map(tableArn).sort());
    expect(dynamo.get(tableArn('triggers'))).toEqual([...dynamoActions.readWrite]);
    expect(dynamo.get(tableArn('groups'))).toEqual([...dynamoActions.readWrite]);
    expect(dynamo.get(tableArn('topics'))).toEqual([...dynamoActions.read]);
    expect(dynamo.get(tableArn('log'))).toEqual([...dynamoActions.read]);
    const others = actionsOf(stmts as never).filter((a) => !a.startsWith('dynamodb:'));
    expect(others).toEqual([...s3ObjectActions.get]);
  });

  test('no provider without declared triggers; bad declarations fail the synth', () => {
    expect(stack.strand.node.tryFindChild('TriggerResourcesFunction')).toBeUndefined();
    expect(template.findResources('Custom::StrandTrigger')).toEqual({});
    const s = dStack.strand;
    expect(() => s.addTrigger('bad name', { topic: 'orders', webhookUrl: 'https://x.example/' })).toThrow(/trigger name/);
    expect(() => s.addTrigger('no-topic', { webhookUrl: 'https://x.example/' })).toThrow(/exactly one of topic and topicPattern/);
    expect(() => s.addTrigger('two-targets', { topic: 'orders', webhookUrl: 'https://x.example/', function: fn })).toThrow(/exactly one target/);
    expect(() => s.addTrigger('orders-to-fn', { topic: 'orders', webhookUrl: 'https://x.example/' })).toThrow(/declared twice/);
  });
});

