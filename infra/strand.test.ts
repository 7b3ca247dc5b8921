/**
 * Assertions on the synthesized CloudFormation template of StrandStack.
 *
 * How: the stacks are synthesized once per describe block with CDK's
 * `aws:cdk:bundling-stacks` context set to none, which skips esbuild (the code
 * asset is not needed to inspect the template) and keeps this file fast. Real
 * bundling is exercised in infra/bundle.test.ts.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import type { CfnResource } from 'aws-cdk-lib';
import { routes, routeKey } from '../src/api/routes';
import { configToEnv, EnvVar, localDefaults, NotificationsEnvVar, type TableNames } from '../src/config/env';
import { tableSchemas } from '../src/storage/tables';
import { dynamoWriteActions, functionAccess, type StrandFunctionName } from './access';
import { wakeScheduleEnvVars } from '../src/triggers/wakeSchedule';
import { concurrencyNearLimitRatio, defaultReservedConcurrency, defaultStageThrottle, lambdaUnreservedConcurrencyMin } from './concurrency';
import { StrandStack, type StrandStackProps } from './stack';
import { noticeSocketEnvFunctions, powertoolsEnvVars } from './strand';
import { apiUrlEnvVar } from '../src/triggers/lambda';

// Every function, the notice socket's included: the default stack deploys them all.
const functionNames = Object.keys(functionAccess) as StrandFunctionName[];
const tableNames = Object.keys(tableSchemas) as (keyof TableNames)[];

function build(props: StrandStackProps = {}): StrandStack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new StrandStack(app, 'Test', props);
}

function synth(props: StrandStackProps = {}): { stack: StrandStack; template: Template } {
  const stack = build(props);
  return { stack, template: Template.fromStack(stack) };
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnResource);
}

// The default stack, synthesized once for the whole file; variants are synthesized where a test needs one.
const clusterId = 'prod-1';
let stack: StrandStack;
let template: Template;
let resources: Record<string, any>;
beforeAll(() => {
  ({ stack, template } = synth({ strand: { clusterId } }));
  resources = template.toJSON().Resources;
});

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** The statements of every inline policy attached to the function's role. */
function roleStatements(stack: StrandStack, template: Template, fn: StrandFunctionName): Statement[] {
  const roleId = logicalId(stack, stack.strand.functionOf(fn).role as never);
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function actionsOf(statements: Statement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

describe('storage', () => {

  test('the bucket blocks public access, is encrypted and has an abort-multipart lifecycle rule', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })]) },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  test('the bucket policy denies every request not made over TLS 1.2+', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  test('the bucket and tables are retained by default', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    for (const resource of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      expect(resource.DeletionPolicy).toBe('Retain');
    }
  });

  test('one on-demand table per tableSchemas entry, with its key schema, PITR and deletion protection', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', tableNames.length);
    for (const name of tableNames) {
      const schema = tableSchemas[name];
      const table = resources[logicalId(stack, stack.strand.tables[name])];
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      });
      const keys = [{ AttributeName: schema.partitionKey.name, KeyType: 'HASH' }];
      const attributes = [{ AttributeName: schema.partitionKey.name, AttributeType: schema.partitionKey.type }];
      if (schema.sortKey) {
        keys.push({ AttributeName: schema.sortKey.name, KeyType: 'RANGE' });
        attributes.push({ AttributeName: schema.sortKey.name, AttributeType: schema.sortKey.type });
      }
      expect(table.Properties.KeySchema).toEqual(keys);
      // A TTL where tableSchemas names one (log: deleted topics' tombstone heads; subscriptions: every item), and nowhere else.
      expect(table.Properties.TimeToLiveSpecification).toEqual(
        schema.timeToLiveAttribute ? { AttributeName: schema.timeToLiveAttribute, Enabled: true } : undefined,
      );
      expect(table.Properties.AttributeDefinitions).toEqual(attributes);
    }
  });
});

describe('functions', () => {
  const fnProps = (fn: StrandFunctionName) => resources[logicalId(stack, stack.strand.functionOf(fn))].Properties;

  test('one function per FunctionName and per notice function, and no other function', () => {
    template.resourceCountIs('AWS::Lambda::Function', functionNames.length);
    expect(stack.strand.functionNames).toEqual(functionNames);
  });

  const routedNames = functionNames.filter((fn) => routes.some((r) => r.fn === fn));

  test.each(routedNames)('%s runs Node.js 22 on arm64 and ends before the 30 s API Gateway timeout', (fn) => {
    const props = fnProps(fn);
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('index.handler');
    expect(props.Timeout).toBeLessThan(30);
    expect(props.MemorySize).toBeGreaterThanOrEqual(512);
  });

  test('maintenance, which no route calls, runs Node.js 22 on arm64 with minutes to work', () => {
    const props = fnProps('maintenance');
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Timeout).toBeGreaterThanOrEqual(60);
  });

  test('the fetch timeout leaves room for a 20 s long poll', () => {
    expect(fnProps('fetch').Timeout).toBeGreaterThanOrEqual(22);
  });

  test.each(functionNames)('%s gets exactly configToEnv\'s variables plus the documented Powertools ones (and the notice socket\'s where it reads them)', (fn) => {
    const variables = fnProps(fn).Environment.Variables as Record<string, unknown>;
    const notifications = noticeSocketEnvFunctions.includes(fn) ? Object.values(NotificationsEnvVar) : [];
    // The trigger dispatcher also gets the API's URL (its events' bootstrapServers) and where its wake-ups go.
    const apiUrl = fn === 'triggers' ? [apiUrlEnvVar, ...Object.values(wakeScheduleEnvVars)] : [];
    const expected = [...Object.keys(configToEnv(localDefaults)), ...powertoolsEnvVars, ...notifications, ...apiUrl].sort();
    expect(Object.keys(variables).sort()).toEqual(expected);
    expect(variables[EnvVar.clusterId]).toBe(clusterId);
    expect(variables[EnvVar.auth]).toBe('none');
    expect(variables[EnvVar.bucket]).toEqual({ Ref: logicalId(stack, stack.strand.bucket) });
    expect(variables[EnvVar.topicsTable]).toEqual({ Ref: logicalId(stack, stack.strand.tables.topics) });
    expect(variables[EnvVar.logTable]).toEqual({ Ref: logicalId(stack, stack.strand.tables.log) });
    expect(variables[EnvVar.leasesTable]).toEqual({ Ref: logicalId(stack, stack.strand.tables.leases) });
  });

  test.each(functionNames)('%s logs to its own log group with a retention', (fn) => {
    const logGroupId = fnProps(fn).LoggingConfig.LogGroup.Ref as string;
    expect(resources[logGroupId].Type).toBe('AWS::Logs::LogGroup');
    expect(resources[logGroupId].Properties.RetentionInDays).toBe(30);
  });

  test('memorySizes overrides the default memory of one function', () => {
    const { stack: s, template: t } = synth({ strand: { memorySizes: { fetch: 2048, notifier: 1024 } } });
    expect(t.toJSON().Resources[logicalId(s, s.strand.functions.fetch)].Properties.MemorySize).toBe(2048);
    expect(t.toJSON().Resources[logicalId(s, s.strand.functionOf('notifier'))].Properties.MemorySize).toBe(1024);
  });
});

/** The routes of the HTTP API only: the notice socket's WebSocket routes are AWS::ApiGatewayV2::Route resources too (infra/notices.test.ts). */
function httpRoutes(stack: StrandStack, template: Template): any[] {
  const apiId = logicalId(stack, stack.strand.api as never);
  return Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: apiId } } }));
}

describe('api', () => {
  let routeResources: any[];
  beforeAll(() => {
    routeResources = httpRoutes(stack, template);
  });

  test('one route per entry of the route table, and no other', () => {
    expect(routeResources.map((r) => r.Properties.RouteKey).sort()).toEqual(routes.map(routeKey).sort());
  });

  test('every route requires IAM (SigV4) authorization by default', () => {
    for (const route of routeResources) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  test.each(routes.map((r) => [routeKey(r), r.fn] as const))('%s is served by the %s function', (key, fn) => {
    const route = routeResources.find((r) => r.Properties.RouteKey === key)!;
    const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
    const integration = resources[integrationId];
    expect(integration.Type).toBe('AWS::ApiGatewayV2::Integration');
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    expect(integration.Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.strand.functions[fn]), 'Arn'] });
  });

  test('the $default stage deploys automatically and writes access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  test('the stack outputs the API URL and the cluster id', () => {
    template.hasOutput('ApiUrl', {});
    template.hasOutput('ClusterId', { Value: clusterId });
  });

  test('with a JWT authorizer, every route requires a JWT from the configured issuer', () => {
    const { stack: s, template: t } = synth({ strand: { auth: { type: 'jwt', issuer: 'https://issuer.example.com', audience: ['strand'] } } });
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['strand'] },
    });
    const jwtRoutes = httpRoutes(s, t);
    expect(jwtRoutes).toHaveLength(routes.length);
    for (const route of jwtRoutes) expect(route.Properties.AuthorizationType).toBe('JWT');
  });
});

describe('least privilege', () => {
  const s3DataActions = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket'];

  test.each(functionNames)('%s has no wildcard action and no data action on "*"', (fn) => {
    const statements = roleStatements(stack, template, fn);
    expect(statements.length).toBeGreaterThan(0);
    for (const action of actionsOf(statements)) expect(action).not.toContain('*');
    for (const statement of statements) {
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      expect(resources).not.toContain('*');
    }
  });

  test.each(functionNames)('%s gets exactly the grants infra/access.ts lists', (fn) => {
    const actions = new Set(actionsOf(roleStatements(stack, template, fn)));
    const access = functionAccess[fn];
    expect(actions.has('s3:GetObject')).toBe(access.objects.includes('get'));
    expect(actions.has('s3:PutObject')).toBe(access.objects.includes('put'));
    expect(actions.has('s3:DeleteObject')).toBe(access.objects.includes('delete'));
    expect(actions.has('s3:ListBucket')).toBe(access.list === true);
  });

  test('the fetch role can neither write nor delete objects, nor write DynamoDB items', () => {
    const actions = actionsOf(roleStatements(stack, template, 'fetch'));
    expect(actions).not.toContain('s3:PutObject');
    expect(actions).not.toContain('s3:DeleteObject');
    for (const write of dynamoWriteActions) expect(actions).not.toContain(write);
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
  });

  test('the fetch role reaches only the tables infra/access.ts lists for it (topics, log, schemas, keys), all read-only', () => {
    const tableResources = roleStatements(stack, template, 'fetch')
      .filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')))
      .map((s) => JSON.stringify(s.Resource));
    const arn = (t: keyof TableNames) => JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, stack.strand.tables[t]), 'Arn'] });
    const listed = Object.keys(functionAccess.fetch.tables) as (keyof TableNames)[];
    expect(listed.every((t) => functionAccess.fetch.tables[t] === 'read')).toBe(true);
    expect(listed).toEqual(expect.arrayContaining(['topics', 'log']));
    expect(tableResources.sort()).toEqual(listed.map(arn).sort());
  });

  test('only admin (and, once it exists, maintenance) may delete objects', () => {
    const deleters = functionNames.filter((fn) => actionsOf(roleStatements(stack, template, fn)).includes('s3:DeleteObject'));
    expect(deleters.every((fn) => fn === 'admin' || (fn as string) === 'maintenance')).toBe(true);
  });

  test('produce writes new objects and reads them (to validate direct uploads) but cannot delete them', () => {
    const actions = actionsOf(roleStatements(stack, template, 'produce')).filter((a) => s3DataActions.includes(a));
    expect(actions.sort()).toEqual(['s3:GetObject', 's3:PutObject']);
  });

  test('object actions are scoped to the data bucket', () => {
    const bucketArn = { 'Fn::GetAtt': [logicalId(stack, stack.strand.bucket), 'Arn'] };
    for (const fn of functionNames) {
      for (const statement of roleStatements(stack, template, fn)) {
        const actions = actionsOf([statement]);
        if (actions.some((a) => a.startsWith('s3:') && a !== 's3:ListBucket')) {
          expect(statement.Resource).toEqual({ 'Fn::Join': ['', [bucketArn, '/*']] });
        }
      }
    }
  });
});

describe('operations', () => {

  test('alarms on errors and throttles of every function, throttles of every table, API 5xx, the notifier\'s stream lag, and the fences (see "throttles and concurrency")', () => {
    // Errors and Throttles per function, one per table, API 5xx, the notifier's iterator age, the trigger
    // dispatcher's four (iterator age, oldest undelivered, dead-lettered, skipped; infra/triggers.test.ts);
    // then 429s, concurrency per reserved function, the account's concurrency; consumer lag (infra/observability.test.ts);
    // maintenance's three (not completed, partition failures, behind; infra/maintenance.test.ts).
    template.resourceCountIs('AWS::CloudWatch::Alarm', functionNames.length * 2 + tableNames.length + 1 + 1 + 4 + 1 + functionNames.length + 1 + 1 + 3);
    for (const fn of functionNames) {
      const fnId = logicalId(stack, stack.strand.functionOf(fn));
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: metric,
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
        });
      }
    }
    const tableAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .filter((a) => JSON.stringify(a.Properties.Metrics ?? []).includes('ThrottleEvents'));
    expect(tableAlarms).toHaveLength(tableNames.length);
  });

  test('a dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('maintenance runs every 5 minutes by default, and nothing else is scheduled unless asked for (the triggers rescan is opt-in)', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack, stack.strand.functions.maintenance), 'Arn'] } })],
    });
  });

  test('addSchedule invokes a function from an EventBridge rule', () => {
    const s = build();
    s.strand.addSchedule('admin', events.Schedule.rate(Duration.minutes(5)));
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(s, s.strand.functions.admin), 'Arn'] } })],
    });
    t.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com' });
  });

  test('the schedules prop is the same seam', () => {
    const { template: t } = synth({ strand: { schedules: { admin: events.Schedule.cron({ minute: '0' }) } } });
    t.resourceCountIs('AWS::Events::Rule', 2);
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 * * * ? *)' });
  });
});

describe('props', () => {
  test('removalPolicy DESTROY deletes tables and bucket, emptying the bucket first', () => {
    const { template } = synth({ strand: { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false } });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('Custom::S3AutoDeleteObjects', {});
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
  });

  test('pointInTimeRecovery false turns PITR off', () => {
    const { template } = synth({ strand: { pointInTimeRecovery: false } });
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: false });
    }
  });

  test('an invalid cluster id is rejected at synth time', () => {
    expect(() => synth({ strand: { clusterId: 'no spaces/allowed' } })).toThrow(/clusterId/);
  });

  test('an out-of-range memory size is rejected at synth time', () => {
    expect(() => synth({ strand: { memorySizes: { admin: 64 } } })).toThrow(/memorySizes\.admin/);
  });

  test('a JWT issuer must be https', () => {
    expect(() => synth({ strand: { auth: { type: 'jwt', issuer: 'http://x', audience: ['a'] } } })).toThrow(/issuer/);
  });
});

describe('throttles and concurrency', () => {
  const alarmsOn = (t: Template, metricName: string) =>
    Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.MetricName === metricName);
  const defaultTotal = Object.values(defaultReservedConcurrency).reduce((a, b) => a + b, 0);
  const reservations = (t: Template) =>
    Object.values(t.findResources('AWS::Lambda::Function')).map((f) => f.Properties.ReservedConcurrentExecutions as number | undefined);

  test(`the stage throttles every route by default (${defaultStageThrottle.rateLimit} requests/s, burst ${defaultStageThrottle.burstLimit})`, () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: defaultStageThrottle.rateLimit, ThrottlingBurstLimit: defaultStageThrottle.burstLimit },
    });
  });

  test('the throttle prop sets the rate and burst; false leaves only the account limits', () => {
    const set = synth({ strand: { throttle: { rateLimit: 50, burstLimit: 20 } } }).template;
    set.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 20 } });
    const off = synth({ strand: { throttle: false } }).template;
    const stage = Object.values(off.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: '$default' } }))[0]!;
    expect(stage.Properties.DefaultRouteSettings?.ThrottlingRateLimit).toBeUndefined();
  });

  test('a throttle that is not positive, or a burst that is not an integer, is refused at synth time', () => {
    expect(() => synth({ strand: { throttle: { rateLimit: 0, burstLimit: 10 } } })).toThrow(/throttle\.rateLimit/);
    expect(() => synth({ strand: { throttle: { rateLimit: 10, burstLimit: 2.5 } } })).toThrow(/throttle\.burstLimit/);
  });

  test('every function has its default reserved concurrency, and together they leave 100 of the default 1,000 unreserved, twice over', () => {
    for (const fn of functionNames) {
      expect(resources[logicalId(stack, stack.strand.functionOf(fn))].Properties.ReservedConcurrentExecutions).toBe(defaultReservedConcurrency[fn]);
    }
    // Two clusters in one account with the default quota still deploy.
    expect(2 * defaultTotal).toBeLessThanOrEqual(1_000 - lambdaUnreservedConcurrencyMin);
  });

  test('reservedConcurrency overrides one function, false turns one off, and false for all reserves nothing', () => {
    const { stack: s, template: t } = synth({ strand: { reservedConcurrency: { fetch: 500, maintenance: false } } });
    const props = (fn: StrandFunctionName) => t.toJSON().Resources[logicalId(s, s.strand.functionOf(fn))].Properties;
    expect(props('fetch').ReservedConcurrentExecutions).toBe(500);
    expect(props('maintenance').ReservedConcurrentExecutions).toBeUndefined();
    expect(props('produce').ReservedConcurrentExecutions).toBe(defaultReservedConcurrency.produce);
    const none = synth({ strand: { reservedConcurrency: false } }).template;
    expect(reservations(none).every((r) => r === undefined)).toBe(true);
  });

  test('reservations that would leave Lambda less than 100 unreserved are refused at synth time, naming the way out', () => {
    // 900 of the default 1,000 may be reserved: fetch may take what the other defaults leave of it, and not one more.
    const fetchMax = 900 - (defaultTotal - defaultReservedConcurrency.fetch);
    expect(() => synth({ strand: { reservedConcurrency: { fetch: fetchMax + 1 } } })).toThrow(/at most 900.*reservedConcurrency: false/);
    expect(() => synth({ strand: { reservedConcurrency: { fetch: fetchMax } } })).not.toThrow();
    // A new account (quota 10) can reserve nothing: the defaults are refused, and false deploys.
    expect(() => synth({ strand: { accountConcurrencyLimit: 10 } })).toThrow(/quota of 10 can reserve at most 0/);
    expect(() => synth({ strand: { accountConcurrencyLimit: 10, reservedConcurrency: false } })).not.toThrow();
    // A raised quota allows more.
    expect(() => synth({ strand: { accountConcurrencyLimit: 5_000, reservedConcurrency: { fetch: 4_000 } } })).not.toThrow();
  });

  test('a reservation that is not a positive integer, or names no function, is refused at synth time', () => {
    expect(() => synth({ strand: { reservedConcurrency: { produce: 0 } } })).toThrow(/reservedConcurrency\.produce/);
    expect(() => synth({ strand: { reservedConcurrency: { produce: 1.5 } } })).toThrow(/reservedConcurrency\.produce/);
    expect(() => synth({ strand: { reservedConcurrency: { nope: 1 } as never } })).toThrow(/unknown function 'nope'/);
  });

  test('an alarm on Lambda throttles (refused invocations, a 500 for the client) of every function', () => {
    const throttles = alarmsOn(template, 'Throttles');
    expect(throttles).toHaveLength(functionNames.length);
    for (const a of throttles) expect(a.Properties).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test(`an alarm on each reserved function's concurrency at ${concurrencyNearLimitRatio * 100}% of its reservation, sustained for 3 of 5 minutes`, () => {
    for (const fn of functionNames) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'ConcurrentExecutions',
        Statistic: 'Maximum',
        Period: 60,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, stack.strand.functionOf(fn)) } }],
        Threshold: Math.ceil(defaultReservedConcurrency[fn] * concurrencyNearLimitRatio),
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
      });
    }
    // A function without a reservation has no limit of its own to approach.
    const { template: t } = synth({ strand: { reservedConcurrency: { fetch: false } } });
    expect(alarmsOn(t, 'ConcurrentExecutions').filter((a) => a.Properties.Dimensions)).toHaveLength(functionNames.length - 1);
  });

  test('an alarm on the whole account\'s concurrency near accountConcurrencyLimit (what unreserved functions share)', () => {
    const account = alarmsOn(template, 'ConcurrentExecutions').filter((a) => a.Properties.Dimensions === undefined);
    expect(account).toHaveLength(1);
    expect(account[0]!.Properties).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 800, Statistic: 'Maximum' });
    const raised = synth({ strand: { accountConcurrencyLimit: 3_000 } }).template;
    expect(alarmsOn(raised, 'ConcurrentExecutions').find((a) => a.Properties.Dimensions === undefined)!.Properties.Threshold).toBe(2_400);
  });

  test('the stage\'s 429s are counted from the access logs per API and alarmed on (HTTP APIs publish no 429 metric)', () => {
    const apiId = logicalId(stack, stack.strand.api as never);
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.status = "429" }',
      LogGroupName: { Ref: Match.stringLikeRegexp('ApiAccessLogs') },
      MetricTransformations: [Match.objectLike({ MetricNamespace: 'Strand', MetricName: 'ThrottledRequests', MetricValue: '1', Dimensions: [{ Key: 'ApiId', Value: '$.apiId' }] })],
    });
    // The access log carries the API id the filter reads.
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { AccessLogSettings: { Format: Match.stringLikeRegexp('"apiId":"\\$context.apiId"') } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Strand',
      MetricName: 'ThrottledRequests',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }],
      Statistic: 'Sum',
    });
  });
});
