/**
 * Local observability: what `GET /metrics` reports after produces, fetches and
 * commits, and the one-line request log. How: a real local Strand; records are
 * produced and fetched in known numbers through the HTTP API, a standalone
 * group commits known offsets, and the scrape is parsed by a strict reader of
 * the text exposition format 0.0.4 written here (not by the module under test).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createTopic, cluster, partitionPath, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { expectStatus } from '../support/api';
import { startGateway } from '../../local/gateway';
import { Registry } from '../../src/metrics/registry';
import { StrandMetrics, metricNames } from '../../src/metrics/strandMetrics';
import { createRequestLog, formatRequestLine, logLevelFromEnv } from '../../src/metrics/requestLog';
import type { Runtime } from '../../src/runtime';
import type { RouteSpec } from '../../src/api/routes';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the exposition format: throws on any line it does not recognise. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      expect(types.has(type[1]!)).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    const m = sampleLine.exec(line);
    if (!m) throw new Error(`Not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      labelPair.lastIndex = 0;
      while (labelPair.lastIndex < m[3].length) {
        const pair = labelPair.exec(m[3]);
        if (!pair) throw new Error(`Bad labels: ${m[3]}`);
        labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
    }
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]!) && !types.has(family)) throw new Error(`Sample before its # TYPE: ${line}`);
    samples.push({ name: m[1]!, labels, value: Number(m[4]!.replace('+Inf', 'Infinity')) });
  }
  return { samples, types };
}

const value = (samples: Sample[], name: string, labels: Record<string, string>): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('GET /metrics on a local Strand', () => {
  let strand: TestStrand;
  const topic = 'metered';
  let bytesIn = 0;
  beforeAll(async () => {
    strand = await startTestStrand();
    await createTopic(strand.http, topic, 2);
    // 3 records to partition 0 in one batch request, 1 record to partition 1.
    const batch = { entries: [0, 1, 2].map((i) => ({ id: String(i), partition_id: 0, value: { type: 'STRING', data: `v${i}` } })) };
    const one = { partition_id: 1, value: { type: 'STRING', data: 'w' } };
    expect((await strand.http.post(`${topicPath(topic)}/records:batch`, batch)).status).toBe(207);
    expectStatus(await strand.http.post(`${topicPath(topic)}/records`, one), 200);
    bytesIn = Buffer.byteLength(JSON.stringify(batch)) + Buffer.byteLength(JSON.stringify(one));
  });
  afterAll(() => strand.dispose());

  async function scrape() {
    const res = await strand.http.get('/metrics');
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parseExposition(res.body.toString('utf8'));
  }

  test('produce counts the records appended and the request bytes that carried them, per topic', async () => {
    const { samples, types } = await scrape();
    expect(types.get(metricNames.recordsIn)).toBe('counter');
    expect(value(samples, metricNames.recordsIn, { topic })).toBe(4);
    expect(value(samples, metricNames.bytesIn, { topic })).toBe(bytesIn);
  });

  test('fetches count the records answered and the answer bytes, JSON, binary and multi-partition alike', async () => {
    const before = (await scrape()).samples;
    const json = await strand.http.get(`${partitionPath(topic, 0)}/records?offset=1`);
    expectStatus(json, 200);
    expect(json.json.records).toHaveLength(2);
    const binary = await strand.http.get(`${partitionPath(topic, 0)}/records?offset=0`, { accept: 'application/vnd.kafka.record-batch.v2' });
    expectStatus(binary, 200);
    const multi = await strand.http.post(`${cluster}/records:fetch`, { partitions: [{ topic_name: topic, partition_id: 1, offset: 0 }] });
    expectStatus(multi, 200);
    const { samples } = await scrape();
    const grew = (name: string) => (value(samples, name, { topic }) ?? 0) - (value(before, name, { topic }) ?? 0);
    expect(grew(metricNames.recordsOut)).toBe(2 + 3 + 1);
    expect(grew(metricNames.bytesOut)).toBeGreaterThanOrEqual(json.body.length + binary.body.length);
  });

  test('consumer lag per group, topic and partition is the high watermark minus the committed offset, at scrape time', async () => {
    const commit = { offsets: [{ topic_name: topic, partition_id: 0, offset: 1 }, { topic_name: topic, partition_id: 1, offset: 1 }] };
    expectStatus(await strand.http.post(`${cluster}/consumer-groups/lagging/offsets:commit`, commit), 200);
    let { samples, types } = await scrape();
    expect(types.get(metricNames.lag)).toBe('gauge');
    expect(value(samples, metricNames.lag, { group: 'lagging', topic, partition: '0' })).toBe(2);
    expect(value(samples, metricNames.lag, { group: 'lagging', topic, partition: '1' })).toBe(0);
    expect(value(samples, metricNames.committedOffset, { group: 'lagging', topic, partition: '0' })).toBe(1);
    // A produce moves the lag at the next scrape; nothing is cached.
    expectStatus(await strand.http.post(`${topicPath(topic)}/records`, { partition_id: 1, value: { type: 'STRING', data: 'x' } }), 200);
    ({ samples } = await scrape());
    expect(value(samples, metricNames.lag, { group: 'lagging', topic, partition: '1' })).toBe(1);
    expect(value(samples, metricNames.groupsTruncated, {})).toBe(0);
  });

  test('requests are counted per route template and status class, with a latency histogram whose buckets add up', async () => {
    expect((await strand.http.get(`${topicPath('no-such-topic')}`)).status).toBe(404);
    const { samples, types } = await scrape();
    const route = '/v3/clusters/{cluster_id}/topics/{topic_name}';
    expect(value(samples, metricNames.requests, { method: 'GET', route, status_class: '4xx' })).toBe(1);
    expect(types.get(metricNames.requestDuration)).toBe('histogram');
    const produceRoute = { method: 'POST', route: `${route}/records`, status_class: '2xx' };
    const buckets = samples.filter((s) => s.name === `${metricNames.requestDuration}_bucket` && s.labels.route === produceRoute.route && s.labels.method === 'POST');
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.value).toBe(value(samples, `${metricNames.requestDuration}_count`, produceRoute));
    expect(value(samples, metricNames.requests, produceRoute)).toBe(value(samples, `${metricNames.requestDuration}_count`, produceRoute));
    // Concrete names never become labels of the request metrics: one series per route.
    expect(samples.some((s) => s.name === metricNames.requests && s.labels.route?.includes(topic))).toBe(false);
  });
});

describe('the exposition format', () => {
  test('label values escape backslash, quote and newline; help escapes backslash and newline', () => {
    const r = new Registry();
    r.counter('x_total', 'a\\b\nc', ['topic']).inc({ topic: 'q"u\\o\nte' }, 2);
    expect(r.render()).toBe('# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\nx_total{topic="q\\"u\\\\o\\nte"} 2\n');
    expect(parseExposition(r.render()).samples[0]!.labels.topic).toBe('q"u\\o\nte');
  });

  test('a metric keeps a bounded number of label sets and counts the ones it dropped', () => {
    const r = new Registry(2);
    const c = r.counter('y_total', 'y', ['topic']);
    for (const t of ['a', 'b', 'c']) c.inc({ topic: t });
    expect(c.entries()).toHaveLength(2);
    expect(c.dropped).toBe(1);
  });

  test('a counter refuses to go down', () => {
    expect(() => new StrandMetrics().recordsIn.inc({ topic: 't' }, -1)).toThrow();
  });
});

describe('the request log', () => {
  test('one line: time, method, path without query, status, ms, request and answer bytes', () => {
    const line = formatRequestLine({ method: 'POST', path: '/v3/clusters/local/topics/o/records', status: 200, ms: 3.6, requestBytes: 55, responseBytes: 174 }, new Date(0));
    expect(line).toBe('1970-01-01T00:00:00.000Z POST /v3/clusters/local/topics/o/records 200 4ms in=55B out=174B');
  });

  test('STRAND_LOG_LEVEL wins over LOG_LEVEL; warn keeps 5xx lines only; silent and error log nothing', () => {
    expect(logLevelFromEnv({ STRAND_LOG_LEVEL: 'WARN', LOG_LEVEL: 'debug' })).toBe('warn');
    expect(logLevelFromEnv({ LOG_LEVEL: 'off' })).toBe('silent');
    expect(logLevelFromEnv({}, 'info')).toBe('info');
    const lines: string[] = [];
    const warn = createRequestLog('warn', (l) => lines.push(l))!;
    const entry = { method: 'GET', path: '/', ms: 1, requestBytes: 0, responseBytes: 2 };
    warn({ ...entry, status: 200 });
    warn({ ...entry, status: 503 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(' 503 ');
    expect(createRequestLog('silent')).toBeUndefined();
    expect(createRequestLog('error')).toBeUndefined();
  });

  test('the gateway logs each answer when given a log, and writes nothing to stdout without one', async () => {
    const routes: RouteSpec[] = [{ method: 'GET', path: '/ping/{x}', fn: 'admin' }];
    const runtime = { logger: new Logger({ serviceName: 'test', logLevel: 'ERROR' }) } as unknown as Runtime;
    const handlerFor = () => async () => ({ statusCode: 200, body: 'pong' });
    const lines: string[] = [];
    const logged = await startGateway(runtime, { routes, handlerFor, requestLog: (e) => lines.push(formatRequestLine(e)) });
    const quiet = await startGateway(runtime, { routes, handlerFor });
    const written = jest.spyOn(process.stdout, 'write');
    try {
      await (await fetch(`${logged.url}/ping/1?secret=no`)).text();
      await (await fetch(`${quiet.url}/ping/2`)).text();
      await (await fetch(`${quiet.url}/nowhere`)).text();
      expect(written).not.toHaveBeenCalled();
    } finally {
      written.mockRestore();
      await logged.close();
      await quiet.close();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ GET \/ping\/1 200 \d+ms in=0B out=4B$/);
  });
});
