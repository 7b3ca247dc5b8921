/**
 * A small metrics registry: counters, gauges and histograms with labels, and
 * their rendering in Prometheus' text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/):
 *
 *   # HELP <name> <help, \ and newline escaped>
 *   # TYPE <name> counter|gauge|histogram
 *   <name>{<label>="<value, \ " and newline escaped>",…} <value>
 *   <name>_bucket{…,le="<bound>"} <cumulative count>   (histograms; le="+Inf" last)
 *   <name>_sum{…} <sum>   <name>_count{…} <count>
 *
 * Pure: no I/O, no timers. Each metric holds at most `seriesMax` label sets;
 * past it new label sets are dropped (counted in `dropped`) rather than letting
 * a stream of topic names grow memory without bound.
 */

/** Label sets one metric keeps. */
export const seriesPerMetricMax = 10_000;

export type Labels = Record<string, string>;

const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric<S> {
  protected readonly series = new Map<string, { labels: Labels; state: S }>();
  /** Label sets refused because the metric already held seriesMax. */
  dropped = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    protected readonly seriesMax: number,
  ) {
    if (!metricNamePattern.test(name)) throw new Error(`Invalid metric name '${name}'.`);
    for (const l of labelNames) if (!labelNamePattern.test(l) || l === 'le') throw new Error(`Invalid label name '${l}' on ${name}.`);
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected abstract fresh(): S;
  protected abstract lines(labels: Labels, state: S): string[];

  protected stateFor(labels: Labels): S | undefined {
    const names = Object.keys(labels);
    if (names.length !== this.labelNames.length || names.some((n) => !this.labelNames.includes(n))) {
      throw new Error(`${this.name} takes labels ${this.labelNames.join(', ')}; got ${names.join(', ')}.`);
    }
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      if (this.series.size >= this.seriesMax) {
        this.dropped++;
        return undefined;
      }
      entry = { labels: { ...labels }, state: this.fresh() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  render(): string {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, state } of this.series.values()) out.push(...this.lines(labels, state));
    return out.join('\n');
  }

  /** Every label set and its state, for tests and the EMF writer. */
  entries(): { labels: Labels; state: S }[] {
    return [...this.series.values()];
  }

  clear(): void {
    this.series.clear();
  }
}

export class Counter extends Metric<{ value: number }> {
  readonly type = 'counter';
  protected fresh() {
    return { value: 0 };
  }
  inc(labels: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (by ${by}).`);
    const s = this.stateFor(labels);
    if (s) s.value += by;
  }
  get(labels: Labels): number {
    return this.series.get(this.labelNames.map((n) => labels[n]).join('\u0000'))?.state.value ?? 0;
  }
  protected lines(labels: Labels, s: { value: number }): string[] {
    return [`${this.name}${formatLabels(labels)} ${formatValue(s.value)}`];
  }
}

export class Gauge extends Metric<{ value: number }> {
  readonly type = 'gauge';
  protected fresh() {
    return { value: 0 };
  }
  set(labels: Labels, value: number): void {
    const s = this.stateFor(labels);
    if (s) s.value = value;
  }
  get(labels: Labels): number | undefined {
    return this.series.get(this.labelNames.map((n) => labels[n]).join('\u0000'))?.state.value;
  }
  protected lines(labels: Labels, s: { value: number }): string[] {
    return [`${this.name}${formatLabels(labels)} ${formatValue(s.value)}`];
  }
}

interface HistogramState {
  /** Per bucket, observations ≤ its bound (not yet cumulative). */
  counts: number[];
  sum: number;
  count: number;
}

/** Latency buckets in seconds, 5 ms to 30 s (API Gateway's integration timeout). */
export const latencyBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30] as const;

export class Histogram extends Metric<HistogramState> {
  readonly type = 'histogram';
  constructor(name: string, help: string, labelNames: readonly string[], seriesMax: number, readonly buckets: readonly number[]) {
    super(name, help, labelNames, seriesMax);
    for (let i = 1; i < buckets.length; i++) if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`${name}: buckets must increase.`);
  }
  protected fresh(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(labels: Labels, value: number): void {
    const s = this.stateFor(labels);
    if (!s) return;
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  protected lines(labels: Labels, s: HistogramState): string[] {
    const out: string[] = [];
    let cumulative = 0;
    this.buckets.forEach((b, i) => {
      cumulative += s.counts[i]!;
      out.push(`${this.name}_bucket${formatLabels({ ...labels, le: formatValue(b) })} ${cumulative}`);
    });
    out.push(`${this.name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${s.count}`);
    out.push(`${this.name}_sum${formatLabels(labels)} ${formatValue(s.sum)}`);
    out.push(`${this.name}_count${formatLabels(labels)} ${s.count}`);
    return out;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric<unknown>>();

  constructor(private readonly seriesMax = seriesPerMetricMax) {}

  private add<M extends Metric<unknown>>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`Metric ${metric.name} is registered twice.`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames, this.seriesMax));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames, this.seriesMax));
  }
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, this.seriesMax, buckets));
  }

  /** The whole registry in the text exposition format, ending with a newline. */
  render(): string {
    return `${[...this.metrics.values()].map((m) => m.render()).join('\n')}\n`;
  }
}

/** The exposition format's content type. */
export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
