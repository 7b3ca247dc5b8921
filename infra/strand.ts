/**
 * The `Strand` construct: one Strand cluster on AWS.
 *
 *   client ──SigV4──▶ HTTP API ($default stage, access logs)
 *                        │  one route per entry of src/api/routes.ts
 *                        ▼
 *        Lambda per FunctionName (functions/<name>.ts, arm64, Node.js 22)
 *                        │  exact IAM grants from infra/access.ts
 *            ┌───────────┴────────────┐
 *            ▼                        ▼
 *   S3 bucket (record batches)   DynamoDB tables from src/storage/tables.ts
 *
 * and the notice socket (src/notify/), where waiting consumers wait without
 * holding a Lambda:
 *
 *   client ──▶ WebSocket API ──▶ notices ──arms watches──▶ subscriptions table
 *                  ▲                                               │
 *                  └── PostToConnection ── notifier ◀── log table's stream (heads only)
 *
 * and triggers (src/triggers/), which push a topic's records to functions and
 * webhooks with nothing running while the topic is quiet:
 *
 *   log table's stream (heads only) ──▶ triggers ──Invoke / POST──▶ attached functions, webhooks
 *   Scheduler one-time wake-ups ───────▶    │ commits to trigger-<name> groups, dead letters
 *     (made by the dispatcher only while work is pending; nothing runs while idle)
 *
 * plus log groups with retention, alarms (Lambda errors/throttles, DynamoDB
 * throttles, API 5xx, the stream's iterator age), a dashboard, and
 * `addSchedule` for scheduled work. Two fences bound the load
 * (infra/concurrency.ts): a default stage throttle (one per API) and reserved
 * concurrency per function, each with its alarms.
 *
 * Nothing here lists routes, tables or environment variables: they come from
 * the engine's own modules, so the stack and the local runtime cannot drift.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Construct } from 'constructs';
import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import { HttpIamAuthorizer, HttpJwtAuthorizer, WebSocketIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { functionBundling } from './bundling';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { routes, type FunctionName } from '../src/api/routes';
import { configToEnv, NotificationsEnvVar, type StrandConfig, type TableNames } from '../src/config/env';
import { tableSchemas } from '../src/storage/tables';
import { functionTimeoutSeconds } from '../src/config/functionTimeouts';
import { headSortKey } from '../src/log/PartitionIndex';
import { clientActions } from '../src/notify/protocol';
import { apiUrlEnvVar, triggerMetricNames, triggerMetricsNamespace } from '../src/triggers/lambda';
import { wakeScheduleEnvVars } from '../src/triggers/wakeSchedule';
import { triggerResourceType } from '../src/triggers/customResource';
import { triggerNameCharsMax, triggerNamePattern } from '../src/triggers/triggerSpec';
import {
  defaultSizing,
  dynamoActions,
  functionAccess,
  functionSizing,
  noticeFunctionNames,
  noticeFunctionTimeoutSeconds,
  s3ObjectActions,
  triggerFunctionNames,
  triggerFunctionTimeoutSeconds,
  type NoticeFunctionName,
  type StrandFunctionName,
  type TriggerFunctionName,
} from './access';
import {
  concurrencyNearLimitRatio,
  defaultAccountConcurrencyLimit,
  defaultNoticeSocketThrottle,
  defaultStageThrottle,
  resolveReservedConcurrency,
  validateStageThrottle,
  type ReservedConcurrency,
  type StageThrottle,
} from './concurrency';
import { StrandObservability, type StrandObservabilityOptions } from './observability';
import { StrandConsole } from './console';
import { StrandMaintenance } from './maintenance';

/** The repository root: holds functions/, package-lock.json and node_modules/ (esbuild). */
export const projectRoot = path.resolve(__dirname, '..');

/**
 * Environment variables set on every function besides `configToEnv(...)`'s,
 * read by Powertools for AWS Lambda (the engine's logger):
 * - POWERTOOLS_SERVICE_NAME: the `service` field of every log line.
 * - POWERTOOLS_LOG_LEVEL: DEBUG | INFO | WARN | ERROR (prop `logLevel`).
 */
export const powertoolsEnvVars = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_LOG_LEVEL'] as const;

/**
 * The functions that also get the notice socket's NotificationsEnvVar (its
 * wss:// URL and https:// management endpoint), when there is one: fetch
 * answers GET …/notifications with the URL; notices, notifier and groups (its
 * nudges) post through the endpoint. The others have no use for them.
 */
export const noticeSocketEnvFunctions: readonly StrandFunctionName[] = ['fetch', 'groups', 'notices', 'notifier'];

/** The notice socket's stage: the last segment of its wss:// URL. */
export const noticeSocketStageName = 'notices';

/** Who may call the API. */
export type StrandAuth =
  /** AWS SigV4: callers need `execute-api:Invoke` on the API's routes (see `grantInvoke`). */
  | { type: 'iam' }
  /** A JWT from an OIDC issuer (Cognito, Auth0, …) in `Authorization: Bearer …`. */
  | { type: 'jwt'; issuer: string; audience: string[] }
  /**
   * Strand API keys (`Authorization: Bearer strand_…` or `X-API-Key`) with
   * per-key permissions on topic and group patterns, checked by the functions
   * (STRAND_AUTH=keys; docs/security.md). The gateway itself lets every request
   * through; the notice socket's $connect too, whose function checks the key.
   */
  | { type: 'apiKeys' };

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface StrandProps {
  /**
   * The cluster id of this deployment: every v3 path is `/v3/clusters/{clusterId}/…`.
   * 1–64 characters of `[A-Za-z0-9._-]`.
   * @default 'strand'
   */
  readonly clusterId?: string;
  /**
   * What happens to the bucket, the tables and the log groups when they leave
   * the stack. DESTROY also empties the bucket on deletion (a custom resource).
   * @default RemovalPolicy.RETAIN — the log is data; deleting the stack keeps it.
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * DynamoDB deletion protection on every table.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * DynamoDB point-in-time recovery (35 days of continuous backups) on every table.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * Authorization on every route.
   * @default { type: 'iam' } — SigV4-signed requests only.
   */
  readonly auth?: StrandAuth;
  /**
   * Memory per function, in MiB (CPU scales with it).
   * @default admin 512, produce 1024, fetch 1024, notices 256, notifier 512, others 1024 (see infra/access.ts)
   */
  readonly memorySizes?: Partial<Record<StrandFunctionName, number>>;
  /**
   * Retention of the functions' and the API's access log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Powertools log level of the functions.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * The stage's default route throttle: steady requests per second and burst,
   * across every route. Past it clients get 429 (and retry). `false` leaves only
   * the account's API Gateway limits, shared with every API of the account.
   * Sizing: docs/deploy.md, "Throttles and concurrency".
   * @default { rateLimit: 1000, burstLimit: 350 } (infra/concurrency.ts)
   */
  readonly throttle?: StageThrottle | false;
  /**
   * Reserved concurrency per function, taken from the account's pool: the most
   * executions the function may run at once, and guaranteed to it. A function
   * set to `false`, or every function with `reservedConcurrency: false`, shares
   * the account's unreserved pool instead (needed in new accounts, whose
   * quota is too low to reserve anything). Validated against
   * `accountConcurrencyLimit`: Lambda keeps 100 unreserved.
   * @default produce 100, fetch 200, groups 50, admin 20, schemas 20, maintenance 2, notices 40, notifier 10, triggers 8 (450 in all; infra/concurrency.ts)
   */
  readonly reservedConcurrency?: ReservedConcurrency | false;
  /**
   * The account's Lambda concurrency quota in this Region (Service Quotas,
   * "Concurrent executions"). Used only to check the reservations at synth time,
   * and for the alarm on the account's concurrency.
   * @default 1000, the default quota
   */
  readonly accountConcurrencyLimit?: number;
  /**
   * The notice socket (src/notify/): a WebSocket API where consumers at the end
   * of a partition arm watches and are told when it moves, instead of holding a
   * long poll (a fetch execution) each; the `notices` function behind it; a
   * stream on the log table; and the `notifier` it invokes. Without it
   * GET …/notifications answers 404 and consumers long-poll.
   *
   * Its $connect takes the API's own authentication: SigV4 (IAM) or, with
   * API keys, the key, checked by the function. A WebSocket API cannot check
   * a JWT (it takes IAM or a Lambda authorizer on $connect), so with
   * `auth: { type: 'jwt' }` the socket is left out, and asking for it is
   * refused at synth time: an open socket would let anyone watch any topic.
   * @default true, except with `auth: { type: 'jwt' }`
   */
  readonly noticeSocket?: boolean;
  /**
   * The notice socket stage's default route throttle: messages per second
   * (connects, subscribes, pings, …) and burst. `false` leaves only the
   * account's API Gateway limits.
   * @default { rateLimit: 500, burstLimit: 40 } (infra/concurrency.ts)
   */
  readonly noticeSocketThrottle?: StageThrottle | false;
  /**
   * SNS topic notified when an alarm fires or recovers.
   * @default no notification; alarms are visible in CloudWatch only.
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Create a CloudWatch dashboard.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * Functions to invoke on a schedule (EventBridge), merged over the default:
   * the maintenance function (retention, compaction, merging, object sweep)
   * every 5 minutes. Same as calling `addSchedule` for each entry.
   * @default { maintenance: Schedule.rate(Duration.minutes(5)) }
   */
  readonly schedules?: Partial<Record<FunctionName, events.Schedule>>;
  /**
   * Triggers' delivery on AWS (docs/triggers.md, "On AWS"): the `triggers`
   * dispatcher function, a stream on the log table feeding it (heads only), its
   * one-time wake-ups (a Scheduler group and role), and its alarms. Without it, triggers can still be
   * created through the API, but nothing delivers them.
   * @default true
   */
  readonly triggers?: boolean;
  /**
   * An opt-in safety net: how often the dispatcher looks at every trigger for
   * lag whatever happened (a lost wake-up), and measures the "oldest
   * undelivered record" metric for partitions nothing else woke. Delivery does
   * not need it: commits start it (the log table's stream), and retries,
   * backoffs and batching windows past an invocation schedule a one-time wake-up
   * of their own, only while pending. Costs about $0.12 a month at one minute
   * for one idle 12-partition trigger (docs/triggers.md, "Costs").
   * @default none: $0 while idle
   */
  readonly triggerRescan?: events.Schedule | false;
  /**
   * Functions triggers may invoke: the dispatcher gets `lambda:InvokeFunction`
   * on these (and their versions and aliases) and on nothing else. Same as
   * calling `attachFunction` for each. The trigger itself is created with the
   * API or CLI (`strand triggers create … --lambda`) after the deploy.
   * @default none
   */
  readonly triggerFunctions?: lambda.IFunction[];
  /**
   * Topics and consumer groups on CloudWatch (infra/observability.ts,
   * docs/observability.md): per-topic traffic and consumer lag rows on the
   * dashboard, and the alarm on consumer lag.
   * @default an alarm at 10000 records of lag for 3 maintenance passes
   */
  readonly observability?: StrandObservabilityOptions;
  /**
   * The web console (infra/console.ts, docs/console.md) at `<api url>/console`:
   * its static files from a function of their own on two routes without an
   * authorizer; every API call the page makes carries the API key or JWT
   * pasted into it. Opt-in, as it adds two routes that need no credentials
   * (with JWT, the only ones). With IAM a browser cannot sign requests: use
   * it through a SigV4-signing proxy.
   * @default false
   */
  readonly console?: boolean;
}

/**
 * A trigger declared in CDK (`Strand.addTrigger`): created by `cdk deploy`
 * through the API's own validation (docs/triggers.md, "Declared in CDK").
 * Exactly one of `topic` and `topicPattern`, and exactly one target.
 */
export interface TriggerOptions {
  /** The topic delivered; it must exist when the stack deploys. */
  readonly topic?: string;
  /** A regular expression over whole topic names: every matching topic, topics created later too. */
  readonly topicPattern?: string;
  /** Target: a Lambda function. The dispatcher is granted `lambda:InvokeFunction` on it (attachFunction) and on nothing else. */
  readonly function?: lambda.IFunction;
  /** Target: a webhook (POST, JSON). Unsigned: a signing secret would sit in the template in clear; create signed webhooks with the API. */
  readonly webhookUrl?: string;
  /** Target: the S3 archive. `bucket` is granted with attachBucket (default: the deployment's own bucket). */
  readonly archive?: { readonly bucket?: s3.IBucket; readonly prefix?: string };
  /** @default 100 */
  readonly batchSize?: number;
  /** @default no window */
  readonly maxBatchingWindow?: Duration;
  /** @default 'LATEST' */
  readonly startingPosition?: 'EARLIEST' | 'LATEST' | { readonly timestamp: number };
  /** @default 3 with a dead-letter topic, else -1 (forever) */
  readonly maxRetryAttempts?: number;
  /** @default no limit */
  readonly maxRecordAge?: Duration;
  /** @default false */
  readonly bisectBatchOnError?: boolean;
  /** @default none */
  readonly deadLetterTopic?: string;
  /** Deployed paused (the position is kept; set false to resume). @default false */
  readonly paused?: boolean;
}

export interface ScheduleOptions {
  /** @default the function's name */
  readonly description?: string;
  /** The event the function receives. @default EventBridge's scheduled event */
  readonly input?: Record<string, unknown>;
}

const clusterIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const memoryMiBMin = 128;
const memoryMiBMax = 10240;

/** Alarm thresholds, per 5-minute period. Any Lambda error is a crash or a timeout (the API's own errors are responses), so one is worth a look. */
const alarmPeriod = Duration.minutes(5);
const lambdaErrorsMax = 0;
const lambdaThrottlesMax = 0;
const dynamoThrottleEventsMax = 0;
/** 503/50301 (storage busy, retry) is a normal answer under load; a sustained stream of 5xx is not. */
const api5xxMax = 10;
/** 429s from the stage throttle: clients retry a few, but a steady stream means a flood or a throttle set too low. */
const apiThrottledMax = 10;
/** Concurrency near its limit: sustained (3 of 5 one-minute maxima), so a spike of one minute does not page anyone. */
const concurrencyPeriod = Duration.minutes(1);
const concurrencyEvaluationPeriods = 5;
const concurrencyDatapointsToAlarm = 3;
/**
 * The notifier's stream lag (IteratorAge: how old the newest record of a batch
 * was when the notifier got it). Notices are meant to arrive within a second
 * of a commit; a minute, sustained as above, means the notifier cannot keep up
 * (errors and retries, throttles, too small a reservation) and waiting
 * consumers wait that much longer.
 */
const notifierIteratorAgeMsMax = 60_000;

/**
 * The notifier's event source. Latency over batching: no batching window, so
 * a commit wakes its watchers as soon as the stream has it. A failing batch is
 * split in halves to isolate a bad record, tried a bounded number of times,
 * and dropped at the latest after an hour: a lost notice costs a consumer a
 * late wake-up (the SDK fetches anyway after a while without one,
 * client/noticeWaiter.ts), while a stuck shard would delay every later notice
 * of its partitions.
 */
const notifierBatchSize = 100;
const notifierRetryAttempts = 3;
const notifierMaxRecordAge = Duration.hours(1);
/** Concurrent batches per stream shard; records of one partition head (one item key) stay in order. */
const notifierParallelizationFactor = 2;

/**
 * The dispatcher's event source. A stream batch only says which partitions
 * moved (the records are read from the log), so a batch may be large. A
 * failing batch (the dispatcher crashed, timed out, or could not schedule its
 * wake-up) is split and retried twice; one dropped after that leaves its
 * partitions' records to the next commit to them (or the opt-in rescan): the
 * records are never lost, only late, and the iterator-age alarm says so.
 * Two batches per shard at once: the leases keep each partition in order.
 */
const triggersBatchSize = 1_000;
/** The trigger resource provider: a create resolves starting offsets for up to 2,000 partitions (eight reads at a time). */
const triggerResourceTimeoutSeconds = 120;
const triggerResourceMemoryMiB = 256;
const triggersRetryAttempts = 2;
const triggersMaxRecordAge = Duration.hours(1);
const triggersParallelizationFactor = 2;
/** The dispatcher's stream lag: a run drains for up to ~110 s, so batches may wait that long; 5 minutes sustained is a dispatcher that cannot keep up. */
const triggersIteratorAgeMsMax = 5 * 60_000;
/** Records left undelivered for 15 minutes (a failing target retried, a paused trigger is not measured: it is not active). */
const triggersOldestUndeliveredMsMax = 15 * 60_000;

export class Strand extends Construct {
  readonly clusterId: string;
  readonly bucket: s3.Bucket;
  readonly tables: Record<keyof TableNames, dynamodb.Table>;
  /** Every deployed function: one per FunctionName of the route table, plus notices and notifier with the notice socket, and triggers. */
  readonly functions: Record<FunctionName, NodejsFunction> & Partial<Record<NoticeFunctionName | TriggerFunctionName, NodejsFunction>>;
  /** The names of the deployed functions, in `functions`' order. */
  readonly functionNames: readonly StrandFunctionName[];
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  /** The notice socket's WebSocket API; absent without a notice socket (see `StrandProps.noticeSocket`). */
  readonly noticeSocket?: apigw.WebSocketApi;
  readonly noticeSocketStage?: apigw.WebSocketStage;
  /** The wss:// URL consumers connect to, e.g. `wss://abc123.execute-api.eu-west-1.amazonaws.com/notices`. */
  readonly noticeSocketUrl?: string;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard?: cloudwatch.Dashboard;
  /** The configuration the functions receive, as `configToEnv` turns it into environment variables. */
  readonly config: StrandConfig;
  /** Each function's reserved concurrency; a function missing here has none. */
  readonly reservedConcurrency: Partial<Record<StrandFunctionName, number>>;
  /** 429 responses of the stage throttle, counted from the access logs (HTTP APIs publish no 429 metric of their own). */
  readonly throttledRequests: cloudwatch.Metric;
  /** The dispatcher's opt-in rescan schedule; absent unless `triggerRescan` names one. */
  readonly triggerRescanRule?: events.Rule;
  /** The role EventBridge Scheduler invokes the dispatcher with for its one-time wake-ups; absent without triggers. */
  readonly triggerWakeRole?: iam.Role;
  /** Functions attached to triggers (`attachFunction`): the dispatcher may invoke these and no other. */
  readonly attachedFunctions: lambda.IFunction[] = [];
  /** Per-topic and per-group metrics on the dashboard, and the consumer lag alarm. */
  readonly observability: StrandObservability;
  /** The web console; absent unless `StrandProps.console` (see its default). */
  readonly console?: StrandConsole;
  /** Maintenance's fan-out (the planner invokes workers) and its alarms (infra/maintenance.ts). */
  readonly maintenance: StrandMaintenance;
  private readonly alarmTopic?: sns.ITopic;
  /** What the trigger resource provider is built with (made on the first addTrigger). */
  private readonly triggerProviderBase: { environment: Record<string, string>; logRetention: logs.RetentionDays; removalPolicy: RemovalPolicy };
  private triggerProvider?: NodejsFunction;
  /** Triggers declared with addTrigger: their custom resources, by trigger name. */
  readonly declaredTriggers: Record<string, CustomResource> = {};

  constructor(scope: Construct, id: string, props: StrandProps = {}) {
    super(scope, id);
    const withNoticeSocket = props.noticeSocket ?? props.auth?.type !== 'jwt';
    const withTriggers = props.triggers ?? true;
    const names = (Object.keys(functionAccess) as StrandFunctionName[])
      .filter((name) => withNoticeSocket || !isNoticeFunction(name))
      .filter((name) => withTriggers || !isTriggerFunction(name));
    validateProps(props, names);
    this.functionNames = names;
    this.reservedConcurrency = resolveReservedConcurrency(names, props.reservedConcurrency, props.accountConcurrencyLimit);

    this.clusterId = props.clusterId ?? 'strand';
    this.alarmTopic = props.alarmTopic;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    // Record batches. Objects are written once under fresh keys and never
    // overwritten, so versioning would only keep data past its retention.
    this.bucket = new s3.Bucket(this, 'Data', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // SSE-S3: encrypted at rest with no KMS request charge on every produce and fetch.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });

    // One table per entry of tableSchemas. DynamoDB encrypts every table at rest
    // (AWS owned key by default).
    const tables = {} as Record<keyof TableNames, dynamodb.Table>;
    for (const [name, schema] of Object.entries(tableSchemas) as [keyof TableNames, (typeof tableSchemas)[keyof TableNames]][]) {
      tables[name] = new dynamodb.Table(this, `${capitalize(name)}Table`, {
        partitionKey: { name: schema.partitionKey.name, type: attributeType(schema.partitionKey.type) },
        ...(schema.sortKey ? { sortKey: { name: schema.sortKey.name, type: attributeType(schema.sortKey.type) } } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: schema.timeToLiveAttribute,
        // The notifier's and the trigger dispatcher's event source: every commit
        // changes a partition head, and the new image carries what a notice says
        // (hw, lso, gone). Only the log table moves partitions, so no other table has a stream.
        ...(name === 'log' && (withNoticeSocket || withTriggers) ? { stream: dynamodb.StreamViewType.NEW_IMAGE } : {}),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
        deletionProtection: props.deletionProtection ?? true,
        removalPolicy,
      });
    }
    this.tables = tables;

    this.config = {
      clusterId: this.clusterId,
      bucket: this.bucket.bucketName,
      tables: {
        topics: tables.topics.tableName,
        log: tables.log.tableName,
        leases: tables.leases.tableName,
        groups: tables.groups.tableName,
        consumers: tables.consumers.tableName,
        schemas: tables.schemas.tableName,
        keys: tables.keys.tableName,
        subscriptions: tables.subscriptions.tableName,
        triggers: tables.triggers.tableName,
      },
      // API keys are checked by the functions themselves (src/auth/); IAM and JWT at the gateway.
      auth: props.auth?.type === 'apiKeys' ? 'keys' : 'none',
    };
    const environment: Record<string, string> = {
      ...configToEnv(this.config),
      POWERTOOLS_SERVICE_NAME: 'strand',
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
    } satisfies Record<(typeof powertoolsEnvVars)[number], string>;

    // The socket's API and stage come before the functions, whose environment
    // names them; its routes, which name the functions, come after. The URLs
    // are built from the API id and the stage name only, so no function
    // depends on the stage and nothing depends on itself.
    let noticeSocketEnv: Record<string, string> = {};
    if (withNoticeSocket) {
      this.noticeSocket = new apigw.WebSocketApi(this, 'NoticeSocket', {
        apiName: `strand-${this.clusterId}-notices`,
        description: `Strand notice socket (cluster ${this.clusterId})`,
        // The protocol's messages are {"action": "subscribe" | "unsubscribe" | "ping", …} (src/notify/protocol.ts).
        routeSelectionExpression: '$request.body.action',
      });
      this.noticeSocketStage = new apigw.WebSocketStage(this, 'NoticeSocketStage', {
        webSocketApi: this.noticeSocket,
        stageName: noticeSocketStageName,
        autoDeploy: true,
        throttle: props.noticeSocketThrottle === false ? undefined : (props.noticeSocketThrottle ?? defaultNoticeSocketThrottle),
        // No access logs: a WebSocket stage can write them only through the
        // account-wide API Gateway CloudWatch role, which a stack should not
        // set for the whole account, and a deploy fails where it is missing.
        // The functions log every connection and message themselves.
      });
      this.noticeSocketUrl = this.noticeSocketStage.url;
      noticeSocketEnv = {
        [NotificationsEnvVar.url]: this.noticeSocketStage.url,
        [NotificationsEnvVar.endpoint]: this.noticeSocketStage.callbackUrl,
      } satisfies Record<(typeof NotificationsEnvVar)[keyof typeof NotificationsEnvVar], string>;
    }

    const routedNames = new Set<StrandFunctionName>(routes.map((r) => r.fn));
    const functions = {} as Record<StrandFunctionName, NodejsFunction>;
    for (const name of names) {
      const sizing = functionSizing[name] ?? (routedNames.has(name) ? defaultSizing.routed : defaultSizing.unrouted);
      const logGroup = new logs.LogGroup(this, `${capitalize(name)}Logs`, { retention: logRetention, removalPolicy });
      const fn = new NodejsFunction(this, `${capitalize(name)}Function`, {
        description: `Strand ${name} (cluster ${this.clusterId})`,
        entry: path.join(projectRoot, 'functions', `${name}.ts`),
        handler: 'handler',
        projectRoot,
        depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        // Graviton: about 20% cheaper per GB-second than x86, and the code is plain JS.
        architecture: lambda.Architecture.ARM_64,
        memorySize: props.memorySizes?.[name] ?? sizing.memoryMiB,
        // A fence: this function never takes more of the account's concurrency, and always has this much (infra/concurrency.ts).
        reservedConcurrentExecutions: this.reservedConcurrency[name],
        // The route table's functions: the one table of timeouts, which the local
        // gateway enforces too. The notice functions': infra/access.ts.
        timeout: Duration.seconds(
          isNoticeFunction(name) ? noticeFunctionTimeoutSeconds[name] : isTriggerFunction(name) ? triggerFunctionTimeoutSeconds : functionTimeoutSeconds[name],
        ),
        environment: noticeSocketEnvFunctions.includes(name) ? { ...environment, ...noticeSocketEnv } : environment,
        logGroup,
        // One set of esbuild settings for every function, the tests and the cold-start bench (infra/bundling.ts).
        bundling: { ...functionBundling, externalModules: [...functionBundling.externalModules], mainFields: [...functionBundling.mainFields] },
      });
      this.grantData(fn, name);
      functions[name] = fn;
    }
    this.functions = functions;

    // The API: every route of the route table, SigV4 (or JWT) on each.
    const authorizer =
      props.auth?.type === 'jwt'
        ? new HttpJwtAuthorizer('JwtAuthorizer', props.auth.issuer, { jwtAudience: props.auth.audience })
        : props.auth?.type === 'apiKeys'
          ? new apigw.HttpNoneAuthorizer()
          : new HttpIamAuthorizer();
    this.api = new apigw.HttpApi(this, 'Api', {
      description: `Strand HTTP API (cluster ${this.clusterId})`,
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // Every route, unless a route setting overrides it; unauthenticated requests (auth: apiKeys) included.
      throttle: props.throttle === false ? undefined : (props.throttle ?? defaultStageThrottle),
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: apigwv1.AccessLogFormat.custom(JSON.stringify({
          requestId: '$context.requestId',
          // The 429 metric filter's dimension: tells this API's throttles from another cluster's in the same account.
          apiId: '$context.apiId',
          ip: '$context.identity.sourceIp',
          caller: '$context.identity.caller',
          userArn: '$context.identity.userArn',
          requestTime: '$context.requestTime',
          routeKey: '$context.routeKey',
          status: '$context.status',
          responseLength: '$context.responseLength',
          integrationLatency: '$context.integrationLatency',
          integrationError: '$context.integrationErrorMessage',
          authorizerError: '$context.authorizer.error',
        })),
      },
    });

    // HTTP APIs publish 4xx but no 429 metric; the access log has every status.
    const throttledFilter = new logs.MetricFilter(this, 'ApiThrottledFilter', {
      logGroup: accessLogs,
      filterPattern: logs.FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: throttledNamespace,
      metricName: throttledMetricName,
      metricValue: '1',
      dimensions: { ApiId: '$.apiId' },
      unit: cloudwatch.Unit.COUNT,
    });
    this.throttledRequests = throttledFilter.metric({ statistic: 'Sum', period: alarmPeriod, dimensionsMap: { ApiId: this.api.apiId } });

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of routes) {
      let integration = integrations.get(route.fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${capitalize(route.fn)}Integration`, functions[route.fn], {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
          // One invoke permission per function for the whole API, not one per
          // route: keeps each function's resource policy small as routes grow.
          scopePermissionToRoute: false,
        });
        integrations.set(route.fn, integration);
      }
      // Route keys may hold ':' (`…/records:batch`, `…/configs:alter`): HTTP API
      // route paths accept it in a literal segment.
      new apigw.HttpRoute(this, `Route ${route.method} ${route.path.replace(/\//g, '|')}`, {
        httpApi: this.api,
        routeKey: apigw.HttpRouteKey.with(route.path, apigw.HttpMethod[route.method]),
        integration,
      });
    }

    if (this.noticeSocket) this.createNoticeSocketRoutes(this.noticeSocket, functions.notices, props.auth);
    if (functions.notifier) this.subscribeToLogStream(functions.notifier);
    if (functions.triggers) {
      // The events' bootstrapServers: the API's URL (no cycle: no route reaches the dispatcher).
      functions.triggers.addEnvironment(apiUrlEnvVar, this.stage.url);
      this.subscribeTriggersToLogStream(functions.triggers);
      this.triggerWakeRole = this.enableTriggerWakeUps(functions.triggers);
      if (props.triggerRescan) this.triggerRescanRule = this.scheduleTriggerRescan(functions.triggers, props.triggerRescan);
      for (const fn of props.triggerFunctions ?? []) this.attachFunction(fn);
    }

    this.triggerProviderBase = { environment, logRetention, removalPolicy };
    this.createAlarms(names);
    this.createConcurrencyAlarms(names, props.accountConcurrencyLimit ?? defaultAccountConcurrencyLimit);
    if (props.dashboard ?? true) this.dashboard = this.createDashboard(names);
    this.observability = new StrandObservability(this, 'Observability', { clusterId: this.clusterId, dashboard: this.dashboard, alarmTopic: props.alarmTopic, ...props.observability });
    this.alarms.push(...this.observability.alarms);
    if (props.console) {
      this.console = new StrandConsole(this, 'Console', { api: this.api, apiUrl: this.stage.url, logRetention, removalPolicy });
    }
    // Maintenance (retention, compaction, merging, object sweep) runs every 5 minutes unless told otherwise.
    const schedules = { maintenance: events.Schedule.rate(Duration.minutes(5)), ...props.schedules };
    for (const [name, schedule] of Object.entries(schedules) as [FunctionName, events.Schedule][]) {
      this.addSchedule(name, schedule);
    }
    this.maintenance = new StrandMaintenance(this, 'Maintenance', {
      fn: functions.maintenance,
      clusterId: this.clusterId,
      reservedConcurrency: this.reservedConcurrency.maintenance,
      alarmTopic: props.alarmTopic,
    });
    this.alarms.push(...this.maintenance.alarms);
  }

  /** The API's base URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/`. */
  get url(): string {
    return this.stage.url;
  }

  /**
   * Lets a principal call every route (IAM auth): `execute-api:Invoke` on this
   * API's ARN, and on the notice socket's $connect (the one route of a
   * WebSocket API that is authorized). For finer control, grant on single route ARNs.
   */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [
        this.api.arnForExecuteApi('*', '/*', this.stage.stageName),
        ...(this.noticeSocket ? [this.noticeSocket.arnForExecuteApiV2('$connect', noticeSocketStageName)] : []),
      ],
    });
  }

  /** A deployed function by name; throws for one this construct did not deploy (a notice function without the notice socket, triggers without triggers). */
  functionOf(name: StrandFunctionName): NodejsFunction {
    const fn = this.functions[name];
    if (!fn) throw new Error(`Strand: no function '${name}' in this cluster (${isTriggerFunction(name) ? 'triggers are off' : 'the notice socket is off'}).`);
    return fn;
  }

  /**
   * Lets triggers invoke `fn`: `lambda:InvokeFunction` for the dispatcher on
   * the function's ARN and its qualified ARNs (versions, aliases), and on no
   * other function. The trigger itself is created after the deploy with the
   * API, the SDK (`admin.createTrigger`) or the CLI, with a `lambda` target
   * naming the function's ARN (an output of your stack):
   *
   *   strand triggers create orders-to-fn --topic orders --lambda <arn>
   */
  attachFunction(fn: lambda.IFunction): void {
    const dispatcher = this.functions.triggers;
    if (!dispatcher) throw new Error('Strand: attachFunction needs triggers (StrandProps.triggers is false).');
    if (this.attachedFunctions.includes(fn)) return;
    dispatcher.addToRolePolicy(new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [fn.functionArn, `${fn.functionArn}:*`],
    }));
    this.attachedFunctions.push(fn);
  }

  /**
   * Lets triggers archive to `bucket` under `prefix` (an `s3` target,
   * docs/triggers.md "S3 sink"): the dispatcher may put objects there and
   * nowhere else of it. Archives into the deployment's own bucket need no
   * call. The trigger is created with the API or CLI (`--s3 bucket/prefix/`).
   */
  attachBucket(bucket: s3.IBucket, prefix = 'archive/'): void {
    const dispatcher = this.functions.triggers;
    if (!dispatcher) throw new Error('Strand: attachBucket needs triggers (StrandProps.triggers is false).');
    dispatcher.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${prefix}*`)] }));
    // A bucket encrypted with a customer key needs the key too.
    bucket.encryptionKey?.grantEncrypt(dispatcher);
  }

  /**
   * The dispatcher reads the log table's stream with a mapping of its own,
   * filtered as the notifier's (inserted or modified heads only). The stream
   * only says which partitions moved; the records are read from the log.
   */
  private subscribeTriggersToLogStream(dispatcher: NodejsFunction): void {
    dispatcher.addEventSourceMapping('LogStreamTriggers', {
      eventSourceArn: this.tables.log.tableStreamArn!,
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: triggersBatchSize,
      maxBatchingWindow: Duration.seconds(0),
      parallelizationFactor: triggersParallelizationFactor,
      retryAttempts: triggersRetryAttempts,
      bisectBatchOnError: true,
      maxRecordAge: triggersMaxRecordAge,
      filters: [headChangesFilter()],
    });
  }

  /**
   * The dispatcher's wake-ups on demand (src/triggers/wakeSchedule.ts): a
   * schedule group of its own, where it may create schedules and nowhere else,
   * and a role Scheduler assumes (from this account only) to invoke the
   * dispatcher and nothing else. One-time schedules delete themselves once
   * fired; while no trigger has work pending there are none, and nothing is billed.
   */
  private enableTriggerWakeUps(dispatcher: NodejsFunction): iam.Role {
    const stack = Stack.of(this);
    const group = new scheduler.CfnScheduleGroup(this, 'TriggersWakeGroup', {});
    const role = new iam.Role(this, 'TriggersWakeRole', {
      description: `Strand triggers: EventBridge Scheduler invokes the dispatcher (cluster ${this.clusterId})`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [dispatcher.functionArn] }));
    dispatcher.addToRolePolicy(new iam.PolicyStatement({
      actions: ['scheduler:CreateSchedule'],
      resources: [stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${group.ref}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
    }));
    dispatcher.addToRolePolicy(new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }));
    dispatcher.addEnvironment(wakeScheduleEnvVars.group, group.ref);
    dispatcher.addEnvironment(wakeScheduleEnvVars.roleArn, role.roleArn);
    return role;
  }

  /**
   * Declares a trigger that `cdk deploy` creates, changes and deletes (a
   * `Custom::StrandTrigger` resource, src/triggers/customResource.ts): no API
   * call after the deploy. The provider validates it as the API validates a
   * POST (a refused trigger fails the deploy with the API's reason). A
   * `function` target is attached (the dispatcher may invoke it and no other),
   * an `archive` bucket too.
   *
   *   strand.addTrigger('orders-to-fn', { topic: 'orders', function: fn, batchSize: 100, startingPosition: 'EARLIEST' });
   *
   * Changing topic, target or starting position deletes and re-creates the
   * trigger (its progress starts over); other settings change in place;
   * renaming creates the new trigger and deletes the old.
   */
  addTrigger(name: string, options: TriggerOptions): CustomResource {
    const dispatcher = this.functions.triggers;
    if (!dispatcher) throw new Error('Strand: addTrigger needs triggers (StrandProps.triggers is false).');
    if (!triggerNamePattern.test(name) || name.length > triggerNameCharsMax) throw new Error(`Strand: trigger name '${name}' must be 1-${triggerNameCharsMax} letters, digits, '.', '_' or '-'.`);
    if (this.declaredTriggers[name]) throw new Error(`Strand: trigger '${name}' is declared twice.`);
    if ((options.topic === undefined) === (options.topicPattern === undefined)) throw new Error(`Strand: trigger '${name}' needs exactly one of topic and topicPattern.`);
    const targetsNamed = [options.function, options.webhookUrl, options.archive].filter((t) => t !== undefined);
    if (targetsNamed.length !== 1) throw new Error(`Strand: trigger '${name}' needs exactly one target: function, webhookUrl or archive.`);
    let target: Record<string, unknown>;
    if (options.function) {
      this.attachFunction(options.function);
      target = { type: 'lambda', function_arn: options.function.functionArn };
    } else if (options.webhookUrl !== undefined) {
      target = { type: 'http', url: options.webhookUrl };
    } else {
      const prefix = options.archive!.prefix ?? 'archive/';
      if (options.archive!.bucket) this.attachBucket(options.archive!.bucket, prefix);
      target = { type: 's3', ...(options.archive!.bucket ? { bucket: options.archive!.bucket.bucketName } : {}), prefix };
    }
    // The create body of POST …/triggers, as the API takes it (docs/triggers.md), plus the state.
    const body: Record<string, unknown> = {
      trigger_name: name,
      ...(options.topic !== undefined ? { topic_name: options.topic } : { topic_pattern: options.topicPattern }),
      target,
      ...(options.batchSize !== undefined ? { batch_size: options.batchSize } : {}),
      ...(options.maxBatchingWindow !== undefined ? { max_batching_window_ms: options.maxBatchingWindow.toMilliseconds() } : {}),
      ...(options.startingPosition !== undefined ? { starting_position: options.startingPosition } : {}),
      ...(options.maxRetryAttempts !== undefined ? { max_retry_attempts: options.maxRetryAttempts } : {}),
      ...(options.maxRecordAge !== undefined ? { max_record_age_ms: options.maxRecordAge.toMilliseconds() } : {}),
      ...(options.bisectBatchOnError !== undefined ? { bisect_batch_on_error: options.bisectBatchOnError } : {}),
      ...(options.deadLetterTopic !== undefined ? { dead_letter_topic: options.deadLetterTopic } : {}),
      state: options.paused ? 'PAUSED' : 'ACTIVE',
    };
    const resource = new CustomResource(this, `Trigger-${name}`, {
      serviceToken: this.triggerResourceProvider().functionArn,
      resourceType: triggerResourceType,
      properties: { Trigger: Stack.of(this).toJsonString(body) },
    });
    // After the dispatcher and its grants (an attached function's invoke permission among them).
    resource.node.addDependency(dispatcher);
    this.declaredTriggers[name] = resource;
    return resource;
  }

  /**
   * The provider of `Custom::StrandTrigger` (functions/triggerResources.ts),
   * made once: it reads topics and the log (starting offsets), writes the
   * triggers table and the trigger groups (the starting position, deletion),
   * and reads objects (a starting position by timestamp). Nothing else.
   */
  private triggerResourceProvider(): NodejsFunction {
    if (this.triggerProvider) return this.triggerProvider;
    const base = this.triggerProviderBase;
    const fn = new NodejsFunction(this, 'TriggerResourcesFunction', {
      description: `Strand trigger resources: triggers declared in CDK (cluster ${this.clusterId})`,
      entry: path.join(projectRoot, 'functions', 'triggerResources.ts'),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: triggerResourceMemoryMiB,
      timeout: Duration.seconds(triggerResourceTimeoutSeconds),
      environment: base.environment,
      logGroup: new logs.LogGroup(this, 'TriggerResourcesLogs', { retention: base.logRetention, removalPolicy: base.removalPolicy }),
      bundling: { ...functionBundling, externalModules: [...functionBundling.externalModules], mainFields: [...functionBundling.mainFields] },
    });
    const tableAccess: [keyof TableNames, 'read' | 'readWrite'][] = [['triggers', 'readWrite'], ['topics', 'read'], ['log', 'read'], ['groups', 'readWrite']];
    for (const [table, level] of tableAccess) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...dynamoActions[level]], resources: [this.tables[table].tableArn] }));
    }
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...s3ObjectActions.get], resources: [this.bucket.arnForObjects('*')] }));
    this.triggerProvider = fn;
    return fn;
  }

  /** The dispatcher's opt-in rescan: EventBridge's scheduled event, retried twice within 10 minutes (a later rescan comes anyway). */
  private scheduleTriggerRescan(dispatcher: NodejsFunction, schedule: events.Schedule): events.Rule {
    const rule = new events.Rule(this, 'TriggersSchedule', {
      description: `Strand triggers rescan (cluster ${this.clusterId})`,
      schedule,
    });
    rule.addTarget(new targets.LambdaFunction(dispatcher, { retryAttempts: 2, maxEventAge: Duration.minutes(10) }));
    return rule;
  }

  /** A metric the dispatcher writes (EMF, src/triggers/lambda.ts), over the whole cluster. */
  triggerMetric(name: (typeof triggerMetricNames)[keyof typeof triggerMetricNames], statistic: string, period: Duration = alarmPeriod): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: triggerMetricsNamespace, metricName: name, dimensionsMap: { ClusterId: this.clusterId }, statistic, period });
  }

  /**
   * Every route of the notice socket, all served by the notices function
   * (src/notify/socketHandlers.ts switches on the route key). $connect carries
   * the authentication: a WebSocket API authorizes $connect only, and every
   * later message rides the connection it admitted.
   */
  private createNoticeSocketRoutes(socket: apigw.WebSocketApi, notices: NodejsFunction, auth: StrandAuth | undefined): void {
    // One integration for every route; CDK adds an invoke permission per route, each scoped to its route key.
    const integration = new WebSocketLambdaIntegration('NoticesIntegration', notices);
    socket.addRoute('$connect', {
      integration,
      // IAM: the upgrade request is SigV4-signed. API keys: the function reads
      // the key from the upgrade request's headers and refuses the connection
      // itself (STRAND_AUTH=keys). JWT never gets here (see `noticeSocket`).
      ...(auth?.type === 'apiKeys' ? {} : { authorizer: new WebSocketIamAuthorizer() }),
    });
    socket.addRoute('$disconnect', { integration });
    // Two-way routes: the function's answer ({"type": "subscribed" | "pong" | "error", …}) goes back to the client.
    for (const action of [...clientActions, '$default']) {
      socket.addRoute(action, { integration, returnResponse: true });
    }
  }

  /**
   * The notifier reads the log table's stream. Lambda filters the records
   * before invoking it: only inserted or modified partition heads (sk = -1)
   * can move a watch; spilled index chunks and deletions (a TTL expiring a
   * tombstone head) never cost an invocation.
   */
  private subscribeToLogStream(notifier: NodejsFunction): void {
    notifier.addEventSourceMapping('LogStream', {
      eventSourceArn: this.tables.log.tableStreamArn!,
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: notifierBatchSize,
      maxBatchingWindow: Duration.seconds(0),
      parallelizationFactor: notifierParallelizationFactor,
      retryAttempts: notifierRetryAttempts,
      bisectBatchOnError: true,
      maxRecordAge: notifierMaxRecordAge,
      filters: [headChangesFilter()],
    });
  }

  /**
   * Invokes one of Strand's functions on an EventBridge schedule: the seam for
   * the maintenance function (retention, compaction, orphan-object cleanup).
   * The function receives EventBridge's scheduled event (or `options.input`);
   * a failed invocation is retried twice within an hour. Give the function its
   * grants in infra/access.ts like any other.
   */
  addSchedule(name: FunctionName, schedule: events.Schedule, options: ScheduleOptions = {}): events.Rule {
    const fn = this.functions[name];
    const rule = new events.Rule(this, `${capitalize(name)}Schedule`, {
      description: options.description ?? `Strand ${name} schedule (cluster ${this.clusterId})`,
      schedule,
    });
    rule.addTarget(new targets.LambdaFunction(fn, {
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      ...(options.input ? { event: events.RuleTargetInput.fromObject(options.input) } : {}),
    }));
    return rule;
  }

  /** Adds exactly the actions infra/access.ts lists for this function, on Strand's own resources only. */
  private grantData(fn: NodejsFunction, name: StrandFunctionName): void {
    const access = functionAccess[name];
    const objectActions = access.objects.flatMap((o) => s3ObjectActions[o]);
    if (objectActions.length > 0) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: objectActions, resources: [this.bucket.arnForObjects('*')] }));
    }
    if (access.list) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    }
    for (const [table, level] of Object.entries(access.tables) as [keyof TableNames, 'read' | 'readWrite'][]) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: [...dynamoActions[level]],
        resources: [this.tables[table].tableArn],
      }));
    }
    // Without a socket (JWT, noticeSocket: false) nothing is posted: the notice
    // functions do not exist, and groups has no one to nudge.
    if (access.postToConnections && this.noticeSocket) {
      // Not WebSocketStage.grantManagementApiAccess, which allows every method:
      // notices are only ever posted (PostToConnection), never read or closed.
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['execute-api:ManageConnections'],
        resources: [this.noticeSocket.arnForExecuteApiV2('POST/@connections/*', noticeSocketStageName)],
      }));
    }
    // With API keys the doorbell connects with the caller's key; behind IAM, as the function.
    if (access.connectsToNoticeSocket && this.noticeSocket && this.config.auth !== 'keys') {
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [this.noticeSocket.arnForExecuteApiV2('$connect', noticeSocketStageName)],
      }));
    }
    if (access.logStream) {
      const streamArn = this.tables.log.tableStreamArn;
      if (!streamArn) throw new Error(`Strand: function '${name}' reads the log table's stream, but the log table has none.`);
      // Written here, not left to Table.grantStreamRead, which also allows
      // dynamodb:ListStreams on "*" (every stream of the account). Lambda's
      // event source mapping asks for these four on the stream it reads.
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        resources: [streamArn],
      }));
    }
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
    options: Partial<Pick<cloudwatch.AlarmProps, 'evaluationPeriods' | 'datapointsToAlarm' | 'comparisonOperator'>> = {},
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...options,
      alarmDescription: description,
    });
    if (this.alarmTopic) {
      alarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      alarm.addOkAction(new cwActions.SnsAction(this.alarmTopic));
    }
    this.alarms.push(alarm);
  }

  private createAlarms(names: readonly StrandFunctionName[]): void {
    for (const name of names) {
      const fn = this.functionOf(name);
      this.alarm(`${capitalize(name)}ErrorsAlarm`, fn.metricErrors({ period: alarmPeriod, statistic: 'Sum' }), lambdaErrorsMax,
        `Strand ${name}: the function crashed or timed out (Lambda Errors > ${lambdaErrorsMax} in 5 min).`);
      this.alarm(`${capitalize(name)}ThrottlesAlarm`, fn.metricThrottles({ period: alarmPeriod, statistic: 'Sum' }), lambdaThrottlesMax,
        `Strand ${name}: invocations throttled by Lambda concurrency limits (Throttles > ${lambdaThrottlesMax} in 5 min).`);
    }
    for (const [name, table] of Object.entries(this.tables)) {
      this.alarm(`${capitalize(name)}TableThrottlesAlarm`, dynamoThrottles(table), dynamoThrottleEventsMax,
        `Strand ${name} table: DynamoDB throttled reads or writes (hot partition or account limit).`);
    }
    this.alarm('Api5xxAlarm', this.api.metricServerError({ period: alarmPeriod, statistic: 'Sum' }), api5xxMax,
      `Strand API: more than ${api5xxMax} 5xx responses in 5 min.`);
    if (this.functions.notifier) {
      this.alarm('NotifierIteratorAgeAlarm', this.notifierIteratorAge(concurrencyPeriod), notifierIteratorAgeMsMax,
        `Strand notifier: the log table's stream reached it more than ${notifierIteratorAgeMsMax / 1000} s late for ${concurrencyDatapointsToAlarm} of ${concurrencyEvaluationPeriods} minutes; waiting consumers are woken that much later (see its Errors and Throttles).`,
        { evaluationPeriods: concurrencyEvaluationPeriods, datapointsToAlarm: concurrencyDatapointsToAlarm });
    }
    if (this.functions.triggers) {
      this.alarm('TriggersIteratorAgeAlarm', this.functionOf('triggers').metric('IteratorAge', { statistic: 'Maximum', period: concurrencyPeriod }), triggersIteratorAgeMsMax,
        `Strand triggers: the log table's stream reached the dispatcher more than ${triggersIteratorAgeMsMax / 60_000} min late for ${concurrencyDatapointsToAlarm} of ${concurrencyEvaluationPeriods} minutes; deliveries start that much later (see its Errors, Throttles and concurrency).`,
        { evaluationPeriods: concurrencyEvaluationPeriods, datapointsToAlarm: concurrencyDatapointsToAlarm });
      this.alarm('TriggersOldestUndeliveredAlarm', this.triggerMetric(triggerMetricNames.oldestUndeliveredAge, 'Maximum'), triggersOldestUndeliveredMsMax,
        `Strand triggers: a record has waited more than ${triggersOldestUndeliveredMsMax / 60_000} min for delivery (a failing or slow target, retries with backoff; the dispatcher's log names the trigger, as does the metric's Trigger dimension).`);
      this.alarm('TriggersDeadLetteredAlarm', this.triggerMetric(triggerMetricNames.deadLettered, 'Sum'), 0,
        'Strand triggers: records were produced to a dead-letter topic (retries used up, or older than max_record_age_ms); the dead letters\' strand.error header says why.');
      this.alarm('TriggersSkippedAlarm', this.triggerMetric(triggerMetricNames.skipped, 'Sum'), 0,
        'Strand triggers: records were given up on and skipped (no dead-letter topic): they were never delivered.');
    }
  }

  /** The notifier's IteratorAge (ms): the age of the last record of each batch when Lambda read it. */
  private notifierIteratorAge(period: Duration): cloudwatch.Metric {
    return this.functionOf('notifier').metric('IteratorAge', { statistic: 'Maximum', period });
  }

  /**
   * The fences' alarms: 429s of the stage throttle, each reserved function near
   * its reservation, and the account's concurrency near its quota (what
   * unreserved functions share). Lambda's own refusals are the Throttles alarms
   * of createAlarms: a client saw a 500 for each.
   */
  private createConcurrencyAlarms(names: readonly StrandFunctionName[], accountConcurrencyLimit: number): void {
    this.alarm('ApiThrottledAlarm', this.throttledRequests, apiThrottledMax,
      `Strand API: more than ${apiThrottledMax} requests refused with 429 by the stage throttle in 5 min (a flood, or a throttle set too low).`);
    const sustained = {
      evaluationPeriods: concurrencyEvaluationPeriods,
      datapointsToAlarm: concurrencyDatapointsToAlarm,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    };
    for (const name of names) {
      const reserved = this.reservedConcurrency[name];
      if (reserved === undefined) continue;
      const threshold = Math.max(1, Math.ceil(reserved * concurrencyNearLimitRatio));
      this.alarm(
        `${capitalize(name)}ConcurrencyAlarm`,
        this.functionOf(name).metric('ConcurrentExecutions', { statistic: 'Maximum', period: concurrencyPeriod }),
        threshold,
        `Strand ${name}: concurrency at ${threshold} or more of its ${reserved} reserved for ${concurrencyDatapointsToAlarm} of ${concurrencyEvaluationPeriods} minutes; past ${reserved} Lambda refuses invocations (clients get 500).`,
        sustained,
      );
    }
    const accountThreshold = Math.max(1, Math.ceil(accountConcurrencyLimit * concurrencyNearLimitRatio));
    this.alarm(
      'AccountConcurrencyAlarm',
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'ConcurrentExecutions', statistic: 'Maximum', period: concurrencyPeriod }),
      accountThreshold,
      `Lambda concurrency of the whole account in this Region at ${accountThreshold} or more of its quota of ${accountConcurrencyLimit} (accountConcurrencyLimit) for ${concurrencyDatapointsToAlarm} of ${concurrencyEvaluationPeriods} minutes.`,
      sustained,
    );
  }

  private createDashboard(names: readonly StrandFunctionName[]): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const width = 8;
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests',
        width,
        left: [
          this.api.metricCount({ statistic: 'Sum' }),
          this.api.metricClientError({ statistic: 'Sum' }),
          this.api.metricServerError({ statistic: 'Sum' }),
          this.throttledRequests.with({ label: '429 (stage throttle)', period: Duration.minutes(5) }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency',
        width,
        left: [this.api.metricLatency({ statistic: 'p50' }), this.api.metricLatency({ statistic: 'p99' }), this.api.metricIntegrationLatency({ statistic: 'p99' })],
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width, alarms: this.alarms }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda invocations and errors',
        width,
        left: names.map((n) => this.functionOf(n).metricInvocations({ statistic: 'Sum', label: `${n} invocations` })),
        right: names.map((n) => this.functionOf(n).metricErrors({ statistic: 'Sum', label: `${n} errors` })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration p99 (ms)',
        width,
        left: names.map((n) => this.functionOf(n).metricDuration({ statistic: 'p99', label: n })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda throttles and concurrency',
        width,
        left: names.map((n) => this.functionOf(n).metricThrottles({ statistic: 'Sum', label: `${n} throttles` })),
        right: names.map((n) => this.functionOf(n).metric('ConcurrentExecutions', { statistic: 'Maximum', label: `${n} concurrency` })),
      }),
    );
    const tables = Object.entries(this.tables);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'DynamoDB consumed capacity',
        width,
        left: tables.map(([n, t]) => t.metricConsumedReadCapacityUnits({ statistic: 'Sum', label: `${n} read` })),
        right: tables.map(([n, t]) => t.metricConsumedWriteCapacityUnits({ statistic: 'Sum', label: `${n} write` })),
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB throttle events',
        width,
        left: tables.map(([n, t]) => dynamoThrottles(t, n)),
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB latency p99 (ms)',
        width,
        left: tables.map(([n, t]) => t.metric('SuccessfulRequestLatency', { statistic: 'p99', label: n, dimensionsMap: { TableName: t.tableName, Operation: 'UpdateItem' } })),
      }),
    );
    if (this.noticeSocket) {
      // WebSocket APIs publish per API id (and per stage and route); the stage is the only one.
      const socket = (metricName: string, label: string) => this.noticeSocket!.metric(metricName, { statistic: 'Sum', label });
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Notice socket: connects and messages',
          width,
          left: [socket('ConnectCount', 'connects'), socket('MessageCount', 'messages')],
        }),
        new cloudwatch.GraphWidget({
          title: 'Notice socket: errors',
          width,
          left: [socket('ClientError', '4xx'), socket('ExecutionError', 'execution errors'), socket('IntegrationError', 'integration errors')],
        }),
        new cloudwatch.GraphWidget({
          title: 'Notifier stream lag (ms)',
          width,
          left: [this.notifierIteratorAge(Duration.minutes(1)).with({ label: 'iterator age, max' })],
          leftAnnotations: [{ value: notifierIteratorAgeMsMax, label: 'alarm' }],
        }),
      );
    }
    if (this.functions.triggers) {
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Triggers: oldest undelivered record (ms)',
          width,
          left: [this.triggerMetric(triggerMetricNames.oldestUndeliveredAge, 'Maximum', Duration.minutes(1)).with({ label: 'age, max' })],
          leftAnnotations: [{ value: triggersOldestUndeliveredMsMax, label: 'alarm' }],
        }),
        new cloudwatch.GraphWidget({
          title: 'Triggers: records given up on',
          width,
          left: [
            this.triggerMetric(triggerMetricNames.deadLettered, 'Sum').with({ label: 'dead-lettered' }),
            this.triggerMetric(triggerMetricNames.skipped, 'Sum').with({ label: 'skipped' }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: 'Triggers: dispatcher stream lag (ms)',
          width,
          left: [this.functionOf('triggers').metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1), label: 'iterator age, max' })],
          leftAnnotations: [{ value: triggersIteratorAgeMsMax, label: 'alarm' }],
        }),
      );
    }
    return dashboard;
  }
}

/** Inserted or modified partition heads (sk = -1): spilled index chunks and deletions never cost an invocation. */
function headChangesFilter(): Record<string, unknown> {
  return lambda.FilterCriteria.filter({
    eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
    // A stream record's numbers are strings ({"N": "-1"}), so the key is matched as one.
    dynamodb: { Keys: { sk: { N: lambda.FilterRule.isEqual(String(headSortKey)) } } },
  });
}

/** Read plus write throttle events of one table (also reported for on-demand tables: hot partitions, table limits). */
function dynamoThrottles(table: dynamodb.Table, label?: string): cloudwatch.IMetric {
  // Metric ids must be unique within one graph, so they carry the table's label.
  const r = `r${label ?? ''}`;
  const w = `w${label ?? ''}`;
  return new cloudwatch.MathExpression({
    expression: `FILL(${r}, 0) + FILL(${w}, 0)`,
    usingMetrics: {
      [r]: table.metric('ReadThrottleEvents', { statistic: 'Sum' }),
      [w]: table.metric('WriteThrottleEvents', { statistic: 'Sum' }),
    },
    period: alarmPeriod,
    ...(label ? { label: `${label} throttles` } : {}),
  });
}

function validateProps(props: StrandProps, names: readonly StrandFunctionName[]): void {
  if (props.clusterId !== undefined && !Token.isUnresolved(props.clusterId) && !clusterIdPattern.test(props.clusterId)) {
    throw new Error(`Strand: clusterId must be 1–64 characters of [A-Za-z0-9._-], not '${props.clusterId}'.`);
  }
  for (const [name, memory] of Object.entries(props.memorySizes ?? {})) {
    if (!(name in functionAccess)) throw new Error(`Strand: memorySizes names an unknown function '${name}'.`);
    if (!Number.isInteger(memory) || memory < memoryMiBMin || memory > memoryMiBMax) {
      throw new Error(`Strand: memorySizes.${name} must be an integer from ${memoryMiBMin} to ${memoryMiBMax} MiB, not ${memory}.`);
    }
  }
  if (props.auth?.type === 'jwt') {
    if (!props.auth.issuer.startsWith('https://')) throw new Error(`Strand: auth.issuer must be an https URL, not '${props.auth.issuer}'.`);
    if (props.auth.audience.length === 0) throw new Error('Strand: auth.audience must name at least one audience.');
  }
  if (props.noticeSocket === true && props.auth?.type === 'jwt') {
    throw new Error("Strand: noticeSocket needs auth 'iam' or 'apiKeys': a WebSocket API cannot check a JWT at $connect, and an open socket would let anyone watch any topic. Leave noticeSocket unset (consumers long-poll).");
  }
  if (props.throttle) validateStageThrottle(props.throttle);
  if (props.noticeSocketThrottle) validateStageThrottle(props.noticeSocketThrottle, 'noticeSocketThrottle');
  for (const route of routes) {
    if (!names.includes(route.fn)) throw new Error(`Strand: route ${route.method} ${route.path} names function '${route.fn}', which has no grants in infra/access.ts.`);
  }
  for (const name of names) {
    const entry = path.join(projectRoot, 'functions', `${name}.ts`);
    if (!fs.existsSync(entry)) throw new Error(`Strand: function '${name}' has no entry file ${path.relative(projectRoot, entry)}.`);
  }
}

/** Where the access-log metric filter publishes the stage's 429s (dimension ApiId). */
const throttledNamespace = 'Strand';
const throttledMetricName = 'ThrottledRequests';

function attributeType(type: 'S' | 'N'): dynamodb.AttributeType {
  return type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
}

function isNoticeFunction(name: StrandFunctionName): name is NoticeFunctionName {
  return (noticeFunctionNames as readonly string[]).includes(name);
}

function isTriggerFunction(name: StrandFunctionName): name is TriggerFunctionName {
  return (triggerFunctionNames as readonly string[]).includes(name);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
