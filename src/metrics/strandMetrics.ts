/**
 * Strand's metrics on the local runtime, as Prometheus scrapes them from
 * `GET /metrics` (docs/observability.md lists each one):
 *
 *   strand_topic_records_in_total{topic}       records appended by produce requests
 *   strand_topic_bytes_in_total{topic}         produce request body bytes
 *   strand_topic_records_out_total{topic}      records answered by fetches
 *   strand_topic_bytes_out_total{topic}        fetch answer body bytes
 *   strand_http_requests_total{method,route,status_class}
 *   strand_http_request_duration_seconds{method,route,status_class}   histogram
 *   strand_consumer_group_lag{group,topic,partition}             at scrape time
 *   strand_consumer_group_committed_offset{group,topic,partition}  at scrape time
 *   strand_consumer_groups_truncated           1 when more groups exist than a scrape reads
 *
 * `route` is the route table's path (`/v3/clusters/{cluster_id}/topics/{topic_name}/records`),
 * never the concrete path, so label sets stay bounded by the route table.
 */
import type { Runtime } from '../runtime';
import { Registry, latencyBucketsSeconds, type Counter, type Gauge, type Histogram } from './registry';
import { topicTraffic, type Exchange } from './traffic';
import { consumerLags, lagGroupsMaxDefault } from './lag';

export const metricNames = {
  recordsIn: 'strand_topic_records_in_total',
  bytesIn: 'strand_topic_bytes_in_total',
  recordsOut: 'strand_topic_records_out_total',
  bytesOut: 'strand_topic_bytes_out_total',
  requests: 'strand_http_requests_total',
  requestDuration: 'strand_http_request_duration_seconds',
  lag: 'strand_consumer_group_lag',
  committedOffset: 'strand_consumer_group_committed_offset',
  groupsTruncated: 'strand_consumer_groups_truncated',
} as const;

/** What a request that matched no route is labelled with (404, 405, 413 before routing). */
export const unmatchedRoute = '(unmatched)';

export interface RequestObservation {
  method: string;
  /** The route table's path, or unmatchedRoute. */
  route: string;
  status: number;
  seconds: number;
}

export class StrandMetrics {
  readonly registry = new Registry();
  readonly recordsIn: Counter;
  readonly bytesIn: Counter;
  readonly recordsOut: Counter;
  readonly bytesOut: Counter;
  readonly requests: Counter;
  readonly requestDuration: Histogram;
  readonly lag: Gauge;
  readonly committedOffset: Gauge;
  readonly groupsTruncated: Gauge;

  constructor(readonly options: { lagGroupsMax?: number } = {}) {
    const r = this.registry;
    this.recordsIn = r.counter(metricNames.recordsIn, 'Records appended to the topic by produce requests.', ['topic']);
    this.bytesIn = r.counter(metricNames.bytesIn, 'Body bytes of produce requests that appended records to the topic.', ['topic']);
    this.recordsOut = r.counter(metricNames.recordsOut, "Records of the topic answered by fetches.", ['topic']);
    this.bytesOut = r.counter(metricNames.bytesOut, "Answer bytes of fetches that returned the topic's records.", ['topic']);
    this.requests = r.counter(metricNames.requests, 'HTTP requests answered, by route and status class.', ['method', 'route', 'status_class']);
    this.requestDuration = r.histogram(metricNames.requestDuration, "Time from a request's arrival to its answer, by route and status class.", ['method', 'route', 'status_class'], latencyBucketsSeconds);
    this.lag = r.gauge(metricNames.lag, "High watermark minus the group's committed offset, computed at scrape time.", ['group', 'topic', 'partition']);
    this.committedOffset = r.gauge(metricNames.committedOffset, "The group's committed offset (the next record it will read).", ['group', 'topic', 'partition']);
    this.groupsTruncated = r.gauge(metricNames.groupsTruncated, `1 when more consumer groups exist than a scrape reads (${options.lagGroupsMax ?? lagGroupsMaxDefault}; STRAND_METRICS_GROUPS_MAX).`);
  }

  observeRequest(o: RequestObservation): void {
    const labels = { method: o.method, route: o.route, status_class: statusClass(o.status) };
    this.requests.inc(labels);
    this.requestDuration.observe(labels, o.seconds);
  }

  observeExchange(x: Exchange): void {
    for (const t of topicTraffic(x)) {
      const labels = { topic: t.topic };
      if (t.direction === 'in') {
        this.recordsIn.inc(labels, t.records);
        this.bytesIn.inc(labels, t.bytes);
      } else {
        this.recordsOut.inc(labels, t.records);
        this.bytesOut.inc(labels, t.bytes);
      }
    }
  }

  /** Reads every group's lag (bounded) into the gauges, then renders the registry. */
  async scrape(runtime: Runtime): Promise<string> {
    const snapshot = await consumerLags(runtime, this.options.lagGroupsMax ?? lagGroupsMaxDefault);
    this.lag.clear();
    this.committedOffset.clear();
    for (const g of snapshot.groups) {
      for (const p of g.partitions) {
        const labels = { group: g.group, topic: p.topic, partition: String(p.partition) };
        this.lag.set(labels, p.lag);
        this.committedOffset.set(labels, p.currentOffset);
      }
    }
    this.groupsTruncated.set({}, snapshot.truncated ? 1 : 0);
    for (const e of snapshot.errors) runtime.logger.warn('metrics: a group lag read failed', { error: e });
    return this.registry.render();
  }
}

export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
