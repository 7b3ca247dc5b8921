/**
 * Topics and consumer groups on CloudWatch (infra/observability.ts): the alarm
 * on consumer lag, its settings and notifications, and the dashboard rows that
 * graph per-topic traffic and per-group lag from the functions' EMF metrics.
 *
 * How: synthesized templates with bundling skipped (infra/templateSupport.ts);
 * the metric names and dimensions asserted are the ones src/metrics/emf.ts
 * writes, so the graphs and the alarm read what the functions emit.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { emfDimensions, emfMetricNames, metricsNamespace } from '../src/metrics/emf';
import { consumerLagAlarmThresholdDefault } from './observability';
import { synth } from './templateSupport';

const lagAlarms = (template: ReturnType<typeof synth>['template']) => template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: emfMetricNames.consumerLag } });

/** The dashboard's body, with CloudFormation's Fn::Join flattened to text. */
function dashboardBody(template: ReturnType<typeof synth>['template']): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard!.Properties.DashboardBody;
  return typeof body === 'string' ? body : (body['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

describe('the consumer lag alarm', () => {
  const { template } = synth({ strand: { clusterId: 'prod-1' } });

  test('fires when the worst group is over 10000 records behind on a topic for three maintenance passes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: metricsNamespace,
      MetricName: emfMetricNames.consumerLag,
      Dimensions: [{ Name: emfDimensions.cluster, Value: 'prod-1' }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: consumerLagAlarmThresholdDefault,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('is one of the cluster\'s alarms', () => {
    const { stack } = synth();
    expect(stack.strand.alarms).toContain(stack.strand.observability.consumerLagAlarm);
  });

  test('takes its threshold and periods from props, and can be turned off', () => {
    const tuned = synth({ strand: { observability: { consumerLagAlarmThreshold: 500, consumerLagEvaluationPeriods: 2 } } });
    tuned.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: emfMetricNames.consumerLag, Threshold: 500, EvaluationPeriods: 2, DatapointsToAlarm: 2 });
    expect(Object.keys(lagAlarms(tuned.template))).toHaveLength(1);
    const off = synth({ strand: { observability: { consumerLagAlarmThreshold: false } } });
    expect(Object.keys(lagAlarms(off.template))).toHaveLength(0);
    expect(off.stack.strand.observability.consumerLagAlarm).toBeUndefined();
  });

  test('notifies the alarm topic when it fires and when it recovers', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:strand-alarms';
    const alarmTopic = sns.Topic.fromTopicArn(new Stack(new App(), 'Topics'), 'Alarms', arn);
    synth({ strand: { alarmTopic } }).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: emfMetricNames.consumerLag,
      AlarmActions: [arn],
      OKActions: [arn],
    });
  });

  test('a threshold that is not a number of records is refused at synth time', () => {
    expect(() => synth({ strand: { observability: { consumerLagAlarmThreshold: -1 } } })).toThrow(/consumerLagAlarmThreshold/);
    expect(() => synth({ strand: { observability: { consumerLagEvaluationPeriods: 0 } } })).toThrow(/consumerLagEvaluationPeriods/);
  });
});

describe('the dashboard', () => {
  const { template } = synth({ strand: { clusterId: 'prod-1' } });
  const body = dashboardBody(template);

  test('graphs records and bytes in and out per topic, found by SEARCH so new topics appear without a deploy', () => {
    for (const name of [emfMetricNames.recordsIn, emfMetricNames.recordsOut, emfMetricNames.bytesIn, emfMetricNames.bytesOut]) {
      expect(body).toContain(`SEARCH('{${metricsNamespace},${emfDimensions.cluster},${emfDimensions.topic}} MetricName=\\"${name}\\" ${emfDimensions.cluster}=\\"prod-1\\"', 'Sum', 300)`);
    }
  });

  test('graphs consumer lag per group and topic, with the alarm\'s threshold drawn on it', () => {
    expect(body).toContain(`SEARCH('{${metricsNamespace},${emfDimensions.cluster},${emfDimensions.group},${emfDimensions.topic}} MetricName=\\"${emfMetricNames.consumerLag}\\"`);
    expect(body).toContain('Consumer lag (records) per group and topic');
    expect(body).toContain(`"value":${consumerLagAlarmThresholdDefault}`);
  });

  test('is the cluster\'s one dashboard, and there is none with `dashboard: false`', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    synth({ strand: { dashboard: false } }).template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });
});
