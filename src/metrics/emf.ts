/**
 * Strand's metrics on AWS: CloudWatch Embedded Metric Format lines
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
 * written to the function's stdout, which Lambda ships to CloudWatch Logs,
 * which turns them into metrics: no PutMetricData call, no client, no IAM.
 * The same JSON-line approach as the triggers' metrics (src/triggers/lambda.ts),
 * in the same namespace.
 *
 *   RecordsIn, BytesIn        per request that appended records   dimensions [ClusterId, Topic], [ClusterId]
 *   RecordsOut, BytesOut      per fetch that answered records      dimensions [ClusterId, Topic], [ClusterId]
 *   ConsumerLag               per maintenance pass, per group and topic: the sum of its partitions' lags
 *   MaxPartitionLag           … and the largest one partition's
 *                             dimensions [ClusterId, ConsumerGroup, Topic], [ClusterId, ConsumerGroup], [ClusterId]
 *
 * This module is pure formatting (and the dispatch's traffic hook), so every
 * function's bundle can carry it; the lag measurement that reads groups is
 * src/metrics/lagMetrics.ts, used by maintenance only.
 *
 * Request counts and latency per route are API Gateway's own metrics (Count,
 * Latency, 4xx, 5xx), not repeated here. Per-partition lag is the local
 * /metrics' and the lags endpoint's: as a CloudWatch dimension it would be one
 * paid metric per partition.
 */
import type { Runtime } from '../runtime';
import { sizedByResponseRouteKey, topicTraffic, trafficRouteKeys, type TopicTraffic } from './traffic';
import type { LagSnapshot } from './lag';
import type { ApiRequest, ApiResponse } from '../api/http';

export const metricsNamespace = 'Strand';

export const emfMetricNames = {
  recordsIn: 'RecordsIn',
  bytesIn: 'BytesIn',
  recordsOut: 'RecordsOut',
  bytesOut: 'BytesOut',
  consumerLag: 'ConsumerLag',
  maxPartitionLag: 'MaxPartitionLag',
} as const;

export const emfDimensions = {
  cluster: 'ClusterId',
  topic: 'Topic',
  group: 'ConsumerGroup',
} as const;

export type LineWriter = (line: string) => void;

/** One line each; process.stdout, not console.log, whose prefix would hide the JSON from CloudWatch. */
export const stdoutLines: LineWriter = (line) => void process.stdout.write(`${line}\n`);

/** Running in Lambda, with metrics not turned off (STRAND_METRICS=off). */
export function emfEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AWS_LAMBDA_FUNCTION_NAME) && (env.STRAND_METRICS ?? '').toLowerCase() !== 'off';
}

function emfLine(timestamp: number, dimensions: string[][], metrics: Record<string, { value: number; unit: 'Count' | 'Bytes' }>, fields: Record<string, string>): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{ Namespace: metricsNamespace, Dimensions: dimensions, Metrics: Object.entries(metrics).map(([Name, m]) => ({ Name, Unit: m.unit })) }],
    },
    ...fields,
    ...Object.fromEntries(Object.entries(metrics).map(([name, m]) => [name, m.value])),
  });
}

/** One line per topic of a request's traffic. */
export function trafficEmfLines(clusterId: string, traffic: readonly TopicTraffic[], timestamp: number): string[] {
  const dims = [[emfDimensions.cluster, emfDimensions.topic], [emfDimensions.cluster]];
  return traffic.map((t) =>
    emfLine(
      timestamp,
      dims,
      t.direction === 'in'
        ? { [emfMetricNames.recordsIn]: { value: t.records, unit: 'Count' }, [emfMetricNames.bytesIn]: { value: t.bytes, unit: 'Bytes' } }
        : { [emfMetricNames.recordsOut]: { value: t.records, unit: 'Count' }, [emfMetricNames.bytesOut]: { value: t.bytes, unit: 'Bytes' } },
      { [emfDimensions.cluster]: clusterId, [emfDimensions.topic]: t.topic },
    ),
  );
}

/** One line per group and topic with a committed offset. */
export function lagEmfLines(clusterId: string, snapshot: Pick<LagSnapshot, 'groups'>, timestamp: number): string[] {
  const dims = [[emfDimensions.cluster, emfDimensions.group, emfDimensions.topic], [emfDimensions.cluster, emfDimensions.group], [emfDimensions.cluster]];
  const lines: string[] = [];
  for (const g of snapshot.groups) {
    const byTopic = new Map<string, { sum: number; max: number }>();
    for (const p of g.partitions) {
      const t = byTopic.get(p.topic) ?? { sum: 0, max: 0 };
      t.sum += p.lag;
      t.max = Math.max(t.max, p.lag);
      byTopic.set(p.topic, t);
    }
    for (const [topic, t] of byTopic) {
      lines.push(
        emfLine(
          timestamp,
          dims,
          { [emfMetricNames.consumerLag]: { value: t.sum, unit: 'Count' }, [emfMetricNames.maxPartitionLag]: { value: t.max, unit: 'Count' } },
          { [emfDimensions.cluster]: clusterId, [emfDimensions.group]: g.group, [emfDimensions.topic]: topic },
        ),
      );
    }
  }
  return lines;
}

/**
 * Called by the dispatch with every answer: in Lambda, the per-topic traffic of
 * a produce or fetch as EMF lines; elsewhere nothing (the local gateway counts
 * for /metrics itself). Never throws: metrics must not fail a request.
 */
export function emitTrafficMetrics(runtime: Runtime, request: ApiRequest, response: ApiResponse, write: LineWriter = stdoutLines): void {
  if (!trafficRouteKeys.has(request.routeKey) || response.status < 200 || response.status >= 300 || !emfEnabled()) return;
  try {
    // A JSON answer is serialised once more only where its size is the measure (one partition's records):
    // a multi-partition fetch's answer can be megabytes, and it counts its partitions' own bytes.
    const responseBytes =
      response.binary?.length ??
      (response.text !== undefined
        ? Buffer.byteLength(response.text)
        : response.json === undefined || request.routeKey !== sizedByResponseRouteKey
          ? 0
          : Buffer.byteLength(JSON.stringify(response.json)));
    const traffic = topicTraffic({
      routeKey: request.routeKey,
      pathParameters: request.pathParameters,
      query: request.query,
      requestBody: request.body,
      requestBytes: request.body.length,
      status: response.status,
      ...(response.json !== undefined ? { json: response.json } : {}),
      ...(response.text !== undefined ? { text: response.text } : {}),
      ...(response.binary !== undefined ? { binary: response.binary } : {}),
      headers: response.headers ?? {},
      responseBytes,
    });
    for (const line of trafficEmfLines(runtime.config.clusterId, traffic, runtime.clock.now())) write(line);
  } catch (err) {
    runtime.logger.warn('metrics: traffic not recorded', { error: String(err) });
  }
}
