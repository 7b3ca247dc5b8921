/**
 * `StrandMirror`: runs a mirror (src/mirror/, docs/mirroring.md) serverlessly,
 * from a source Strand to a target Strand, in any regions or accounts.
 *
 *   const mirror = new StrandMirror(this, 'EastToWest', {
 *     source: { url: 'https://abc.execute-api.us-east-1.amazonaws.com', clusterId: 'east',
 *               auth: { type: 'apiKey', secret: eastKeySecret } },
 *     target: westStrand,                       // a Strand construct in this app
 *     topics: 'orders.*', syncGroupOffsets: true,
 *   });
 *
 * What it creates:
 * - one function (functions/mirror.ts), arm64, invoked by an EventBridge
 *   schedule (every minute by default); each invocation copies for
 *   `runSeconds` (a bounded run, inside its timeout) and leaves the rest to the
 *   next; reserved concurrency 1, so runs never overlap;
 * - its state: the state topic on the target (`strand-mirror.<name>.state`),
 *   so no table: the function needs the target's API and nothing else of it;
 * - least privilege: `execute-api:Invoke` on a Strand construct's API (IAM), or
 *   read of the one secret holding a side's API key, or `sts:AssumeRole` on the
 *   one role of another account that may invoke that side's API;
 * - metrics from the run (EMF, namespace Strand, dimension Mirror) and alarms:
 *   replication lag in seconds above `lagAlarmSeconds`, a run that published no
 *   lag (the mirror is not running: missing data breaches), function errors.
 */
import * as path from 'node:path';
import { Construct } from 'constructs';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { mirrorConfigEnvVar, mirrorMetricNames, mirrorMetricsNamespace, type MirrorFunctionConfig, type MirrorSideConfig } from '../src/mirror/lambda';
import { projectRoot, Strand } from './strand';

/** How the mirror authenticates to one side. */
export type MirrorSideAuth =
  /** SigV4 with the function's own role: grant it `execute-api:Invoke` on `executeApiArn` (e.g. `arn:aws:execute-api:us-east-1:123456789012:abcde12345/*`). */
  | { type: 'iam'; region: string; executeApiArn: string }
  /** SigV4 with a role of the side's account, assumed with STS (cross-account); that role must allow invoking the side's API and trust this function's role. */
  | { type: 'assumeRole'; region: string; roleArn: string }
  /** A Strand API key kept in Secrets Manager (its SecretString, or an `apiKey` field of JSON). */
  | { type: 'apiKey'; secret: secretsmanager.ISecret };

/** A side given by URL (another stack, region or account). */
export interface MirrorEndpoint {
  /** The HTTP API's URL. */
  readonly url: string;
  readonly clusterId: string;
  readonly auth: MirrorSideAuth;
}

/** A Strand construct of this app (IAM: the function is granted invoke; with API keys, say where the key is). */
export interface MirrorStrandSide {
  readonly strand: Strand;
  /** Required when the Strand uses API keys. */
  readonly apiKeySecret?: secretsmanager.ISecret;
}

export type MirrorSide = MirrorEndpoint | MirrorStrandSide | Strand;

export interface StrandMirrorProps {
  readonly source: MirrorSide;
  readonly target: MirrorSide;
  /** Source topics to copy (regex, whole name). @default '.*' */
  readonly topics?: string;
  /** Source topics never to copy (regex, whole name). */
  readonly exclude?: string;
  /** @default 'prefixed' (`<source cluster id>.<topic>`) */
  readonly topicNaming?: 'prefixed' | 'identity';
  /** Commit translated group offsets on the target for groups with no live members there. @default false */
  readonly syncGroupOffsets?: boolean;
  /** Groups whose offsets are synced (regex). @default '.*' */
  readonly groups?: string;
  readonly groupsExclude?: string;
  /** The mirror's name (its state topic and metric dimension). @default the source cluster id */
  readonly name?: string;
  /** When the function runs. @default every minute */
  readonly schedule?: events.Schedule;
  /** Seconds each invocation copies for; the timeout is this plus 60. 10–840. @default 50 */
  readonly runSeconds?: number;
  /** Alarm when the oldest record not yet copied is older than this many seconds. @default 300 */
  readonly lagAlarmSeconds?: number;
  /** Where alarms notify. */
  readonly alarmTopic?: sns.ITopic;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

const isStrand = (s: MirrorSide): s is Strand => s instanceof Strand;
const isStrandSide = (s: MirrorSide): s is MirrorStrandSide => !isStrand(s) && 'strand' in s;

export class StrandMirror extends Construct {
  readonly function: NodejsFunction;
  readonly rule: events.Rule;
  readonly name: string;
  readonly lagAlarm: cloudwatch.Alarm;
  readonly notRunningAlarm: cloudwatch.Alarm;
  readonly errorsAlarm: cloudwatch.Alarm;
  /** Replication lag in seconds, the maximum over partitions, per run. */
  readonly lagSeconds: cloudwatch.Metric;
  readonly lagRecords: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: StrandMirrorProps) {
    super(scope, id);
    const runSeconds = props.runSeconds ?? 50;
    if (!(Number.isInteger(runSeconds) && runSeconds >= 10 && runSeconds <= 840)) throw new Error(`StrandMirror: runSeconds must be an integer from 10 to 840, not ${runSeconds}`);
    for (const [what, pattern] of [['topics', props.topics], ['exclude', props.exclude], ['groups', props.groups], ['groupsExclude', props.groupsExclude]] as const) {
      if (pattern === undefined) continue;
      try {
        new RegExp(pattern);
      } catch (err) {
        throw new Error(`StrandMirror: ${what} is not a regular expression: ${(err as Error).message}`);
      }
    }
    if (props.topicNaming !== undefined && props.topicNaming !== 'prefixed' && props.topicNaming !== 'identity') throw new Error(`StrandMirror: topicNaming is 'prefixed' or 'identity'`);
    const lagAlarmSeconds = props.lagAlarmSeconds ?? 300;
    if (!(lagAlarmSeconds > 0)) throw new Error('StrandMirror: lagAlarmSeconds must be positive');

    const grants: ((fn: lambda.IFunction) => void)[] = [];
    const source = this.sideConfig(props.source, 'source', grants);
    const target = this.sideConfig(props.target, 'target', grants);
    if (source.url === target.url && source.clusterId === target.clusterId) throw new Error('StrandMirror: the source and the target are the same cluster');
    this.name = props.name ?? source.clusterId;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(this.name) && !this.name.startsWith('${Token')) throw new Error(`StrandMirror: name must be 1–64 of [A-Za-z0-9._-], not '${this.name}'`);

    const config: MirrorFunctionConfig = {
      name: this.name,
      source,
      target,
      runSeconds,
      ...(props.topics !== undefined ? { topics: props.topics } : {}),
      ...(props.exclude !== undefined ? { exclude: props.exclude } : {}),
      ...(props.topicNaming !== undefined ? { topicNaming: props.topicNaming } : {}),
      ...(props.syncGroupOffsets ? { syncGroupOffsets: true } : {}),
      ...(props.groups !== undefined ? { groups: props.groups } : {}),
      ...(props.groupsExclude !== undefined ? { groupsExclude: props.groupsExclude } : {}),
    };

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    this.function = new NodejsFunction(this, 'Function', {
      description: `Strand mirror ${this.name}: ${source.clusterId} → ${target.clusterId}`,
      entry: path.join(projectRoot, 'functions', 'mirror.ts'),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      // One run at a time: a schedule firing while a run is still going is throttled, not run beside it.
      reservedConcurrentExecutions: 1,
      timeout: Duration.seconds(runSeconds + 60),
      // The schedule's invocation is asynchronous: no retry of a failed run (the next one, a minute later, continues it).
      retryAttempts: 0,
      // A scheduled event throttled by the reservation (a run still going) is dropped after a minute, not queued for hours.
      maxEventAge: Duration.minutes(1),
      environment: { [mirrorConfigEnvVar]: Stack.of(this).toJsonString(config) },
      logGroup,
      bundling: { forceDockerBundling: false, target: 'node22', format: OutputFormat.CJS, minify: true, externalModules: [] },
    });
    for (const grant of grants) grant(this.function);

    this.rule = new events.Rule(this, 'Schedule', {
      description: `Runs the Strand mirror ${this.name}`,
      schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });

    const metric = (name: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: mirrorMetricsNamespace, metricName: name, dimensionsMap: { Mirror: this.name }, statistic, period: Duration.minutes(1) });
    this.lagSeconds = metric(mirrorMetricNames.maxLagSeconds, 'Maximum');
    this.lagRecords = metric(mirrorMetricNames.maxLagRecords, 'Maximum');
    this.lagAlarm = new cloudwatch.Alarm(this, 'LagAlarm', {
      alarmDescription: `Strand mirror ${this.name}: the oldest record not yet copied is more than ${lagAlarmSeconds} s old`,
      metric: this.lagSeconds,
      threshold: lagAlarmSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    this.notRunningAlarm = new cloudwatch.Alarm(this, 'NotRunningAlarm', {
      alarmDescription: `Strand mirror ${this.name}: no run reported its lag for 10 minutes`,
      metric: metric(mirrorMetricNames.maxLagSeconds, 'SampleCount').with({ period: Duration.minutes(10) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: `Strand mirror ${this.name}: runs failing`,
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      for (const alarm of [this.lagAlarm, this.notRunningAlarm, this.errorsAlarm]) alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    }
  }

  /** A side's function config, and the grant it needs (added once the function exists). */
  private sideConfig(side: MirrorSide, which: 'source' | 'target', grants: ((fn: lambda.IFunction) => void)[]): MirrorSideConfig {
    if (isStrand(side) || isStrandSide(side)) {
      const strand = isStrand(side) ? side : side.strand;
      const secret = isStrand(side) ? undefined : side.apiKeySecret;
      const base = { url: strand.url, clusterId: strand.clusterId };
      if (strand.config.auth === 'keys') {
        if (!secret) throw new Error(`StrandMirror: the ${which} Strand uses API keys: give { strand, apiKeySecret }`);
        grants.push((fn) => secret.grantRead(fn));
        return { ...base, apiKeySecretArn: secret.secretArn };
      }
      grants.push((fn) => strand.grantInvoke(fn));
      return { ...base, region: Stack.of(strand).region };
    }
    const auth = side.auth;
    if (auth.type === 'apiKey') {
      grants.push((fn) => auth.secret.grantRead(fn));
      return { url: side.url, clusterId: side.clusterId, apiKeySecretArn: auth.secret.secretArn };
    }
    if (auth.type === 'assumeRole') {
      grants.push((fn) => fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [auth.roleArn] })));
      return { url: side.url, clusterId: side.clusterId, region: auth.region, roleArn: auth.roleArn };
    }
    grants.push((fn) => fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: [auth.executeApiArn] })));
    return { url: side.url, clusterId: side.clusterId, region: auth.region };
  }
}
