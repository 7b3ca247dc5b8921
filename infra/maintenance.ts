/**
 * Maintenance's fan-out and alarms on AWS (src/maintenance/lambdaMaintenance.ts):
 *
 *   EventBridge schedule ──▶ maintenance (planner) ──async Invoke ×workers──▶ maintenance (workers)
 *                                   │                                              │
 *                                   └── EMF: PassesCompleted ──┐     EMF: PartitionFailures, PartitionsLeft
 *                                                              ▼                    ▼
 *                                          MaintenanceNotCompletedAlarm   MaintenancePartitionFailuresAlarm,
 *                                          (missing data breaches)        MaintenanceBehindAlarm
 *
 * The planner invokes its own function: the permission is a policy of its own
 * on the function's role, not the role's default policy, which the function
 * depends on (a self-reference there would be a dependency cycle). Lambda does
 * not retry a failed maintenance invocation: the next pass hands out what is
 * left (the ledger keeps it), and retries would only overlap passes.
 */
import { Construct } from 'constructs';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { emfDimensions, metricsNamespace } from '../src/metrics/emf';
import { maintenanceMetricNames } from '../src/maintenance/maintenanceMetrics';
import { maintenanceWorkersDefault } from '../src/maintenance/workers';

/** The default schedule's rate, the period of the alarms' metrics. */
const maintenancePeriod = Duration.minutes(5);

export interface StrandMaintenanceProps {
  /** The maintenance function (planner and workers). */
  readonly fn: lambda.Function;
  readonly clusterId: string;
  /**
   * The function's reserved concurrency: the planner takes one, the workers
   * the rest, so a pass is never throttled. Undefined (no reservation): maintenanceWorkersDefault.
   */
  readonly reservedConcurrency?: number;
  readonly alarmTopic?: sns.ITopic;
  /**
   * Minutes without a completed pass (every topic planned, every worker
   * handed its work) before MaintenanceNotCompletedAlarm fires; a multiple of 5.
   * @default 20
   */
  readonly notCompletedMinutes?: number;
}

export class StrandMaintenance extends Construct {
  /** Worker invocations per pass: what the planner derives from the reservation at run time. */
  readonly workers: number;
  readonly notCompletedAlarm: cloudwatch.Alarm;
  readonly partitionFailuresAlarm: cloudwatch.Alarm;
  readonly behindAlarm: cloudwatch.Alarm;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: StrandMaintenanceProps) {
    super(scope, id);
    const minutes = props.notCompletedMinutes ?? 20;
    if (!Number.isInteger(minutes) || minutes < 10 || minutes % 5 !== 0) {
      throw new Error(`StrandMaintenance: notCompletedMinutes must be a multiple of 5 and at least 10 (two passes), got ${minutes}.`);
    }
    if (props.reservedConcurrency !== undefined && props.reservedConcurrency < 2) {
      throw new Error(`StrandMaintenance: the maintenance function needs a reserved concurrency of at least 2 (a planner and a worker), got ${props.reservedConcurrency}.`);
    }
    this.workers = props.reservedConcurrency === undefined ? maintenanceWorkersDefault : props.reservedConcurrency - 1;
    const fn = props.fn;
    // The planner reads its own reserved concurrency (functions/maintenance.ts), so a
    // reservation changed later in the console or another stack is followed too.
    new iam.Policy(this, 'SelfInvoke', {
      statements: [new iam.PolicyStatement({ actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConcurrency'], resources: [fn.functionArn] })],
      roles: [fn.role!],
    });
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.hours(1) });

    const metric = (name: string) =>
      new cloudwatch.Metric({ namespace: metricsNamespace, metricName: name, dimensionsMap: { [emfDimensions.cluster]: props.clusterId }, statistic: 'Sum', period: maintenancePeriod });
    const periods = minutes / 5;
    this.notCompletedAlarm = this.alarm('NotCompleted', props.alarmTopic, {
      metric: metric(maintenanceMetricNames.passesCompleted),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      // No pass at all writes no datapoint: that is the failure this alarm exists for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `Strand maintenance: no pass completed in ${minutes} minutes (the planner failed, timed out, was not scheduled, or left topics unplanned); retention and compaction are not running.`,
    });
    this.partitionFailuresAlarm = this.alarm('PartitionFailures', props.alarmTopic, {
      metric: metric(maintenanceMetricNames.partitionFailures),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'Strand maintenance: partition turns failed in 2 of the last 3 passes (the maintenance log names the partition and the error); retention on them may have stopped.',
    });
    this.behindAlarm = this.alarm('Behind', props.alarmTopic, {
      metric: metric(maintenanceMetricNames.partitionsLeft),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Strand maintenance: workers ran out of time with turns left in 3 passes in a row; raise the maintenance function's reserved concurrency (${this.workers} workers now).`,
    });
  }

  private alarm(id: string, topic: sns.ITopic | undefined, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, props);
    if (topic) {
      alarm.addAlarmAction(new cwActions.SnsAction(topic));
      alarm.addOkAction(new cwActions.SnsAction(topic));
    }
    this.alarms.push(alarm);
    return alarm;
  }
}
