/**
 * Topics and consumer groups on CloudWatch: what the functions write as EMF
 * lines (src/metrics/emf.ts) — per-topic records and bytes in and out from
 * every produce and fetch, consumer lag per group and topic from every
 * maintenance pass — shown on the cluster's dashboard, with an alarm on lag.
 *
 *   functions ──EMF lines──▶ CloudWatch Logs ──▶ metrics (namespace Strand)
 *                                                  │
 *              dashboard rows (SEARCH per topic, per group) ◀┤
 *              ConsumerLagAlarm (worst group on a topic) ◀───┘
 *
 * Nothing here creates or grants anything the functions use: EMF needs only
 * the log groups they already write to.
 */
import { Construct } from 'constructs';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { emfDimensions, emfMetricNames, metricsNamespace } from '../src/metrics/emf';

/** How often the maintenance pass (hence the lag metric) runs by default: the period of lag's graphs and alarm. */
const lagPeriod = Duration.minutes(5);
const trafficPeriod = Duration.minutes(5);

export interface StrandObservabilityOptions {
  /**
   * The consumer lag, in records, past which the alarm fires: one group's lag
   * on one topic (summed over its partitions), the worst in the cluster, as the
   * maintenance pass measures it. What is too much depends on the traffic; set
   * it to a few minutes of your busiest topic's records. `false`: no alarm.
   * @default 10000
   */
  readonly consumerLagAlarmThreshold?: number | false;
  /**
   * Consecutive lag periods (maintenance passes, 5 minutes by default) over
   * the threshold before the alarm fires: a consumer briefly behind after a
   * deploy or a burst does not page anyone.
   * @default 3
   */
  readonly consumerLagEvaluationPeriods?: number;
}

export interface StrandObservabilityProps extends StrandObservabilityOptions {
  /** The cluster whose metrics these are (the ClusterId dimension). */
  readonly clusterId: string;
  /** The dashboard to add the topic and group rows to. @default none: no widgets */
  readonly dashboard?: cloudwatch.Dashboard;
  /** Notified when the alarm fires or recovers. @default none */
  readonly alarmTopic?: sns.ITopic;
}

export const consumerLagAlarmThresholdDefault = 10_000;
export const consumerLagEvaluationPeriodsDefault = 3;

export class StrandObservability extends Construct {
  readonly clusterId: string;
  /** The alarm on consumer lag; absent with `consumerLagAlarmThreshold: false`. */
  readonly consumerLagAlarm?: cloudwatch.Alarm;
  /** Every alarm this construct made. */
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: StrandObservabilityProps) {
    super(scope, id);
    const threshold = props.consumerLagAlarmThreshold ?? consumerLagAlarmThresholdDefault;
    const periods = props.consumerLagEvaluationPeriods ?? consumerLagEvaluationPeriodsDefault;
    if (threshold !== false && !(Number.isFinite(threshold) && threshold >= 0)) throw new Error(`StrandObservability: consumerLagAlarmThreshold must be a number ≥ 0 or false, not ${threshold}.`);
    if (!Number.isInteger(periods) || periods < 1) throw new Error(`StrandObservability: consumerLagEvaluationPeriods must be a whole number ≥ 1, not ${periods}.`);
    this.clusterId = props.clusterId;

    if (threshold !== false) {
      this.consumerLagAlarm = new cloudwatch.Alarm(this, 'ConsumerLagAlarm', {
        metric: this.clusterMetric(emfMetricNames.consumerLag, 'Maximum', lagPeriod),
        threshold,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // No data: no groups, or maintenance not run; the lag alarm says nothing then.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `Strand consumer lag: a consumer group is more than ${threshold} records behind on a topic for ${periods} maintenance passes in a row. The dashboard's "Consumer lag" graph names the group; GET …/consumer-groups/{group}/lags names the partitions.`,
      });
      if (props.alarmTopic) {
        this.consumerLagAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
        this.consumerLagAlarm.addOkAction(new cwActions.SnsAction(props.alarmTopic));
      }
      this.alarms.push(this.consumerLagAlarm);
    }
    if (props.dashboard) this.addWidgets(props.dashboard);
  }

  /** A metric over the whole cluster (the EMF lines' [ClusterId] dimension set). */
  clusterMetric(name: (typeof emfMetricNames)[keyof typeof emfMetricNames], statistic: string, period: Duration = trafficPeriod): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: metricsNamespace, metricName: name, dimensionsMap: { [emfDimensions.cluster]: this.clusterId }, statistic, period });
  }

  /** One line per topic (or per group and topic): a SEARCH over the dimension set, so new topics appear without a deploy. */
  search(name: string, dimensions: readonly string[], statistic: string, period: Duration): cloudwatch.MathExpression {
    const schema = [metricsNamespace, ...dimensions].join(',');
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${schema}} MetricName="${name}" ${emfDimensions.cluster}="${this.clusterId}"', '${statistic}', ${period.toSeconds()})`,
      usingMetrics: {},
      period,
      label: '',
    });
  }

  private addWidgets(dashboard: cloudwatch.Dashboard): void {
    const width = 8;
    const perTopic = [emfDimensions.cluster, emfDimensions.topic];
    const perGroupTopic = [emfDimensions.cluster, emfDimensions.group, emfDimensions.topic];
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Records in (solid) and out (right axis) per topic',
        width,
        left: [this.search(emfMetricNames.recordsIn, perTopic, 'Sum', trafficPeriod)],
        right: [this.search(emfMetricNames.recordsOut, perTopic, 'Sum', trafficPeriod)],
      }),
      new cloudwatch.GraphWidget({
        title: 'Bytes in and out (right axis) per topic',
        width,
        left: [this.search(emfMetricNames.bytesIn, perTopic, 'Sum', trafficPeriod)],
        right: [this.search(emfMetricNames.bytesOut, perTopic, 'Sum', trafficPeriod)],
      }),
      new cloudwatch.GraphWidget({
        title: 'Consumer lag (records) per group and topic',
        width,
        left: [this.search(emfMetricNames.consumerLag, perGroupTopic, 'Maximum', lagPeriod)],
        ...(this.consumerLagAlarm ? { leftAnnotations: [this.consumerLagAlarm.toAnnotation()] } : {}),
      }),
    );
  }
}
