/**
 * The notice socket on AWS (src/notify/): the WebSocket API and its routes,
 * the log table's stream and the notifier's event source, the two functions'
 * grants, environment and alarms, and the auth modes that have no socket.
 *
 * How: synthesized templates with bundling skipped, as in strand.test.ts; the
 * event source's filter is also run against stream records shaped like the
 * ones DynamoDB writes for a head and for a chunk.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NotificationsEnvVar } from '../src/config/env';
import { headSortKey } from '../src/log/PartitionIndex';
import { clientActions } from '../src/notify/protocol';
import { tableSchemas } from '../src/storage/tables';
import { functionAccess, noticeFunctionNames, type StrandFunctionName } from './access';
import { defaultNoticeSocketThrottle } from './concurrency';
import { StrandStack, type StrandStackProps } from './stack';
import { actionsOf, filterMatches, logicalId, roleStatements, streamRecord, synth } from './templateSupport';
import { noticeSocketEnvFunctions, noticeSocketStageName } from './strand';

const jwt = { type: 'jwt' as const, issuer: 'https://issuer.example.com', audience: ['strand'] };
const messageRoutes = [...clientActions, '$default'];

const { stack, template } = synth({ strand: { clusterId: 'prod-1' } });
const resources = template.toJSON().Resources as Record<string, any>;
const socketId = () => logicalId(stack, stack.strand.noticeSocket as never);
const fnId = (fn: StrandFunctionName) => logicalId(stack, stack.strand.functionOf(fn));
/** `wss://` or `https://` + `{apiId}.execute-api.{region}.{suffix}/notices`, as CloudFormation builds it. */
const stageUrl = (scheme: 'wss' | 'https') => ({
  'Fn::Join': ['', [`${scheme}://`, { Ref: socketId() }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, `/${noticeSocketStageName}`]],
});

describe('the WebSocket API', () => {
  const socketRouteEntries = () => Object.entries(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: socketId() } } }));
  const socketRoutes = () => socketRouteEntries().map(([, route]) => route);

  test('a WebSocket API selects routes by the message\'s action', () => {
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' }, 1);
    expect(resources[socketId()].Properties).toMatchObject({ ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
  });

  test('it has $connect, $disconnect, $default and one route per client action, and no other', () => {
    expect(socketRoutes().map((r) => r.Properties.RouteKey).sort()).toEqual(['$connect', '$disconnect', ...messageRoutes].sort());
  });

  test('every route is served by the notices function, which API Gateway may invoke for that route only', () => {
    for (const route of socketRoutes()) {
      const integration = resources[route.Properties.Target['Fn::Join'][1][1].Ref];
      expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain(JSON.stringify({ 'Fn::GetAtt': [fnId('notices'), 'Arn'] }));
    }
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { FunctionName: { 'Fn::GetAtt': [fnId('notices'), 'Arn'] } } }));
    expect(permissions).toHaveLength(socketRoutes().length);
    for (const p of permissions) expect(p.Properties.Principal).toBe('apigateway.amazonaws.com');
  });

  test('the message routes answer the client (two-way); $connect and $disconnect do not', () => {
    const routeKeyById = new Map(socketRouteEntries().map(([id, route]) => [id, route.Properties.RouteKey as string]));
    const responses = Object.values(template.findResources('AWS::ApiGatewayV2::RouteResponse'));
    expect(responses.map((r) => routeKeyById.get(r.Properties.RouteId.Ref)).sort()).toEqual([...messageRoutes].sort());
    for (const r of responses) expect(r.Properties.RouteResponseKey).toBe('$default');
    for (const route of socketRoutes()) {
      const twoWay = messageRoutes.includes(route.Properties.RouteKey);
      expect(route.Properties.RouteResponseSelectionExpression).toBe(twoWay ? '$default' : undefined);
    }
  });

  test('$connect requires SigV4 (IAM) by default; no other route can carry authorization', () => {
    for (const route of socketRoutes()) {
      expect(route.Properties.AuthorizationType).toBe(route.Properties.RouteKey === '$connect' ? 'AWS_IAM' : 'NONE');
    }
  });

  test('with API keys, $connect is open to the notices function\'s own check of the key (STRAND_AUTH=keys)', () => {
    const { stack: s, template: t } = synth({ strand: { auth: { type: 'apiKeys' } } });
    const connect = t.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: '$connect' } });
    expect(Object.values(connect).map((r) => r.Properties.AuthorizationType)).toEqual(['NONE']);
    const notices = t.toJSON().Resources[logicalId(s, s.strand.functionOf('notices'))];
    expect(notices.Properties.Environment.Variables.STRAND_AUTH).toBe('keys');
  });

  test(`one stage, "${noticeSocketStageName}", deploys automatically and is throttled (${defaultNoticeSocketThrottle.rateLimit} messages/s, burst ${defaultNoticeSocketThrottle.burstLimit})`, () => {
    const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { ApiId: { Ref: socketId() } } }));
    expect(stages).toHaveLength(1);
    expect(stages[0]!.Properties).toMatchObject({
      StageName: noticeSocketStageName,
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: defaultNoticeSocketThrottle.rateLimit, ThrottlingBurstLimit: defaultNoticeSocketThrottle.burstLimit },
    });
  });

  test('noticeSocketThrottle sets the socket\'s rate and burst, false removes it, and a bad one is refused at synth time', () => {
    const set = synth({ strand: { noticeSocketThrottle: { rateLimit: 50, burstLimit: 5 } } }).template;
    set.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: noticeSocketStageName, DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 5 } });
    const off = synth({ strand: { noticeSocketThrottle: false } }).template;
    const stage = Object.values(off.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: noticeSocketStageName } }))[0]!;
    expect(stage.Properties.DefaultRouteSettings?.ThrottlingRateLimit).toBeUndefined();
    expect(() => synth({ strand: { noticeSocketThrottle: { rateLimit: 0, burstLimit: 5 } } })).toThrow(/noticeSocketThrottle\.rateLimit/);
  });

  test('the stack outputs the wss:// URL, and the construct exposes it', () => {
    template.hasOutput('NoticeSocketUrl', { Value: stageUrl('wss') });
    expect(stack.resolve(stack.strand.noticeSocketUrl)).toEqual(stageUrl('wss'));
  });

  test('grantInvoke lets a principal connect (execute-api:Invoke on $connect of the stage)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const s = new StrandStack(app, 'Test');
    s.strand.grantInvoke(new iam.Role(s, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    Template.fromStack(s).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
      PolicyDocument: {
        Statement: [Match.objectLike({
          Action: 'execute-api:Invoke',
          Resource: Match.arrayWith([{
            'Fn::Join': ['', Match.arrayWith([{ Ref: logicalId(s, s.strand.noticeSocket as never) }, `/${noticeSocketStageName}/$connect`])],
          }]),
        })],
      },
    });
  });
});

describe('the log table\'s stream and the notifier', () => {
  // The notifier's mapping; the trigger dispatcher has one of its own on the same stream (infra/triggers.test.ts).
  const mapping = () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: fnId('notifier') } } }));
    expect(mappings).toHaveLength(1);
    return mappings[0]!.Properties;
  };

  test('the log table streams new images, and no other table has a stream', () => {
    for (const name of Object.keys(tableSchemas) as (keyof typeof tableSchemas)[]) {
      const table = resources[logicalId(stack, stack.strand.tables[name])];
      expect({ name, stream: table.Properties.StreamSpecification }).toEqual({ name, stream: name === 'log' ? { StreamViewType: 'NEW_IMAGE' } : undefined });
    }
  });

  test('the subscriptions table expires its items on `ttl`', () => {
    expect(resources[logicalId(stack, stack.strand.tables.subscriptions)].Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
  });

  test('the notifier reads it from the latest record, in batches of up to 100 sent at once, two per shard', () => {
    expect(mapping()).toMatchObject({
      FunctionName: { Ref: fnId('notifier') },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, stack.strand.tables.log), 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      ParallelizationFactor: 2,
    });
  });

  test('a failing batch is split, retried 3 times and dropped after an hour at most: one bad record cannot stall a shard', () => {
    expect(mapping()).toMatchObject({ BisectBatchOnFunctionError: true, MaximumRetryAttempts: 3, MaximumRecordAgeInSeconds: 3600 });
  });

  test(`Lambda invokes the notifier only for inserted or modified partition heads (sk = ${headSortKey})`, () => {
    const filters = mapping().FilterCriteria.Filters as { Pattern: string }[];
    expect(filters).toHaveLength(1);
    const pattern = JSON.parse(filters[0]!.Pattern);
    expect(pattern).toEqual({ eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { sk: { N: [String(headSortKey)] } } } });
    expect(filterMatches(pattern, streamRecord('MODIFY', headSortKey))).toBe(true);
    expect(filterMatches(pattern, streamRecord('INSERT', headSortKey))).toBe(true);
    // A spilled index chunk (sk = its base offset), and a head deleted (a tombstone's TTL).
    expect(filterMatches(pattern, streamRecord('INSERT', 0))).toBe(false);
    expect(filterMatches(pattern, streamRecord('MODIFY', 1000))).toBe(false);
    expect(filterMatches(pattern, streamRecord('REMOVE', headSortKey))).toBe(false);
  });
});

describe('least privilege of the notice functions', () => {
  const connectionsArn = () => ({
    'Fn::Join': ['', [
      'arn:', { Ref: 'AWS::Partition' }, ':execute-api:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':',
      { Ref: socketId() }, `/${noticeSocketStageName}/POST/@connections/*`,
    ]],
  });

  test.each([...noticeFunctionNames, 'groups' as const])('%s may post to the connections of the socket\'s stage, and nothing else of it', (fn) => {
    const manage = roleStatements(stack, template, fn).filter((s) => actionsOf([s]).some((a) => a === 'execute-api:ManageConnections'));
    expect(manage).toEqual([{ Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: connectionsArn() }]);
  });

  const connectArn = () => ({
    'Fn::Join': ['', [
      'arn:', { Ref: 'AWS::Partition' }, ':execute-api:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':',
      { Ref: socketId() }, `/${noticeSocketStageName}/$connect`,
    ]],
  });

  test.each(['fetch', 'groups'] as const)("behind IAM, %s may open the socket's $connect (its long polls wait on a doorbell), and invoke nothing else of it", (fn) => {
    const invoke = roleStatements(stack, template, fn).filter((s) => actionsOf([s]).includes('execute-api:Invoke'));
    expect(invoke).toEqual([{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: connectArn() }]);
  });

  test('with API keys no function is granted $connect: the doorbell connects with the caller\'s key', () => {
    const keyed = synth({ strand: { auth: { type: 'apiKeys' } } });
    for (const fn of ['fetch', 'groups'] as const) {
      expect(actionsOf(roleStatements(keyed.stack, keyed.template, fn))).not.toContain('execute-api:Invoke');
    }
  });

  test('no other function may manage connections', () => {
    for (const fn of Object.keys(functionAccess) as StrandFunctionName[]) {
      if ((noticeFunctionNames as readonly string[]).includes(fn) || fn === 'groups') continue;
      expect({ fn, actions: actionsOf(roleStatements(stack, template, fn)).filter((a) => a === 'execute-api:ManageConnections') }).toEqual({ fn, actions: [] });
    }
  });

  test.each([...noticeFunctionNames])('%s has no S3 access at all', (fn) => {
    expect(actionsOf(roleStatements(stack, template, fn)).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  test('the notifier reads the log table\'s stream, on that stream only, and writes no table but subscriptions', () => {
    const statements = roleStatements(stack, template, 'notifier');
    const stream = statements.filter((s) => actionsOf([s]).includes('dynamodb:GetRecords'));
    expect(stream).toEqual([{
      Effect: 'Allow',
      Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
      Resource: { 'Fn::GetAtt': [logicalId(stack, stack.strand.tables.log), 'StreamArn'] },
    }]);
    const tables = statements.filter((s) => actionsOf([s]).includes('dynamodb:GetItem')).map((s) => s.Resource);
    expect(tables).toEqual([{ 'Fn::GetAtt': [logicalId(stack, stack.strand.tables.subscriptions), 'Arn'] }]);
  });

  test('notices writes only the subscriptions and groups tables (a closed member connection ends its session) and reads topics, log and keys', () => {
    const arn = (t: keyof typeof tableSchemas) => JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, stack.strand.tables[t]), 'Arn'] });
    const statements = roleStatements(stack, template, 'notices');
    const written = statements.filter((s) => actionsOf([s]).includes('dynamodb:PutItem')).map((s) => JSON.stringify(s.Resource));
    const read = statements.filter((s) => actionsOf([s]).includes('dynamodb:GetItem')).map((s) => JSON.stringify(s.Resource));
    expect(written.sort()).toEqual([arn('subscriptions'), arn('groups')].sort());
    expect(read.sort()).toEqual(['subscriptions', 'topics', 'log', 'keys', 'groups'].map((t) => arn(t as keyof typeof tableSchemas)).sort());
    // No stream read: only the notifier has the stream as its event source.
    expect(actionsOf(statements)).not.toContain('dynamodb:GetRecords');
  });
});

describe('functions and operations', () => {
  const fnProps = (fn: StrandFunctionName) => resources[fnId(fn)].Properties;

  test.each([...noticeFunctionNames])('%s runs Node.js 22 on arm64, small, with its own log group', (fn) => {
    const props = fnProps(fn);
    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
    expect(props.MemorySize).toBeLessThanOrEqual(512);
    expect(resources[props.LoggingConfig.LogGroup.Ref].Properties.RetentionInDays).toBe(30);
  });

  test('notices answers well inside API Gateway\'s 29 s WebSocket integration timeout', () => {
    expect(fnProps('notices').Timeout).toBeLessThanOrEqual(10);
  });

  test.each([...noticeSocketEnvFunctions])('%s gets the socket\'s wss:// URL and https:// management endpoint', (fn) => {
    expect(fnProps(fn).Environment.Variables).toMatchObject({
      [NotificationsEnvVar.url]: stageUrl('wss'),
      [NotificationsEnvVar.endpoint]: stageUrl('https'),
    });
  });

  test.each([...noticeFunctionNames])('%s alarms on its errors and throttles', (fn) => {
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(fn) } }] });
    }
  });

  test('an alarm on the notifier\'s stream lag: iterator age above 60 s for 3 of 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('notifier') } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 60_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
    });
  });

  test('the dashboard shows the socket\'s traffic and errors and the notifier\'s lag', () => {
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    for (const metric of ['ConnectCount', 'MessageCount', 'ExecutionError', 'IteratorAge']) expect(body).toContain(metric);
  });
});

describe('deployments without a notice socket', () => {
  // Without triggers too: they keep the log table's stream (infra/triggers.test.ts).
  const without = (props: StrandStackProps) => {
    const { stack: s, template: t } = synth({ ...props, strand: { triggers: false, ...props.strand } });
    expect(s.strand.noticeSocket).toBeUndefined();
    expect(s.strand.functions.notices).toBeUndefined();
    expect(s.strand.functions.notifier).toBeUndefined();
    t.resourcePropertiesCountIs('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' }, 0);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    t.resourceCountIs('AWS::Lambda::Function', Object.keys(functionAccess).length - noticeFunctionNames.length - 1);
    for (const table of Object.values(t.findResources('AWS::DynamoDB::Table'))) expect(table.Properties.StreamSpecification).toBeUndefined();
    // GET …/notifications answers 404 there, and consumers long-poll.
    const fetchEnv = t.toJSON().Resources[logicalId(s, s.strand.functions.fetch)].Properties.Environment.Variables;
    expect(fetchEnv[NotificationsEnvVar.url]).toBeUndefined();
    expect(t.findOutputs('NoticeSocketUrl')).toEqual({});
    expect(() => s.strand.functionOf('notifier')).toThrow(/notice socket is off/);
    return t;
  };

  test('JWT auth has none: a WebSocket API cannot check a JWT at $connect', () => {
    const t = without({ strand: { auth: jwt } });
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'JWT' });
  });

  test('asking for one with JWT auth is refused at synth time rather than left open', () => {
    expect(() => synth({ strand: { auth: jwt, noticeSocket: true } })).toThrow(/noticeSocket needs auth 'iam' or 'apiKeys'/);
  });

  test('noticeSocket: false leaves it out with IAM auth too, and reservations for its functions are then unused', () => {
    without({ strand: { noticeSocket: false, reservedConcurrency: { notifier: 5 } } });
  });

  test('the template has no IAM statement naming execute-api:ManageConnections without the socket', () => {
    const { template: t } = synth({ strand: { noticeSocket: false } });
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toContain('ManageConnections');
  });
});
