/**
 * Overview: every topic (partitions, records, throughput in and out,
 * retention, cleanup policy) and every group (state, members, total lag).
 *
 * Throughput is measured by polling: "in" is the growth of the topic's high
 * watermarks, "out" the growth of the offsets groups committed on it, each
 * per second between two polls. The API reports no stored size per partition
 * (Kafka's DescribeLogDirs has no counterpart), so the console shows records
 * (high watermark − log start), not bytes.
 */
import { enc, v3, type Config, type Group, type Lag, type Partition, type Topic } from '../api';
import { mapBounded } from '../bounded';
import { ErrorBox, formatCount, formatMs, historyPointsMax, href, Sparkline, usePoll } from '../ui';

/** Topics and groups the overview reads per poll; more are listed without details. */
export const overviewTopicsMax = 100;
export const overviewGroupsMax = 100;

interface TopicRow {
  name: string;
  partitions: number;
  records: number;
  highWatermarks: number;
  retention?: string;
  cleanup?: string;
}

interface GroupRow extends Group {
  lag?: number;
  committed: Map<string, number>;
}

interface Sample {
  t: number;
  in: number;
  out: number;
}

async function loadOverview() {
  const topics = (await v3<{ data: Topic[] }>('GET', '/topics')).data.sort((a, b) => a.topic_name.localeCompare(b.topic_name));
  const groups = (await v3<{ data: Group[] }>('GET', '/consumer-groups')).data.sort((a, b) => a.consumer_group_id.localeCompare(b.consumer_group_id));
  const topicRows = await mapBounded(topics.slice(0, overviewTopicsMax), async (t): Promise<TopicRow> => {
    const [parts, configs] = await Promise.all([
      v3<{ data: Partition[] }>('GET', `/topics/${enc(t.topic_name)}/partitions`),
      v3<{ data: Config[] }>('GET', `/topics/${enc(t.topic_name)}/configs`),
    ]);
    const config = (name: string) => configs.data.find((c) => c.name === name)?.value ?? undefined;
    return {
      name: t.topic_name,
      partitions: t.partitions_count,
      records: parts.data.reduce((n, p) => n + (p.high_watermark - p.log_start_offset), 0),
      highWatermarks: parts.data.reduce((n, p) => n + p.high_watermark, 0),
      retention: config('retention.ms'),
      cleanup: config('cleanup.policy'),
    };
  });
  const groupRows = await mapBounded(groups.slice(0, overviewGroupsMax), async (g): Promise<GroupRow> => {
    try {
      const lags = (await v3<{ data: Lag[] }>('GET', `/consumer-groups/${enc(g.consumer_group_id)}/lags`)).data;
      const committed = new Map<string, number>();
      for (const l of lags) committed.set(l.topic_name, (committed.get(l.topic_name) ?? 0) + l.current_offset);
      return { ...g, lag: lags.reduce((n, l) => n + l.lag, 0), committed };
    } catch {
      return { ...g, committed: new Map() };
    }
  });
  return { topics: topicRows, topicsTotal: topics.length, groups: groupRows, groupsTotal: groups.length, at: Date.now() };
}

/** Samples per topic, kept for the tab's life: leaving the overview and coming back keeps the sparklines. */
const history = { current: new Map<string, Sample[]>() };

export function Overview() {
  const { data, error } = usePoll(async () => {
    const o = await loadOverview();
    for (const t of o.topics) {
      const out = o.groups.reduce((n, g) => n + (g.committed.get(t.name) ?? 0), 0);
      const samples = history.current.get(t.name) ?? [];
      samples.push({ t: o.at, in: t.highWatermarks, out });
      if (samples.length > historyPointsMax + 1) samples.shift();
      history.current.set(t.name, samples);
    }
    return o;
  }, []);
  const rates = (name: string, side: 'in' | 'out') => {
    const s = history.current.get(name) ?? [];
    const out: number[] = [];
    for (let i = 1; i < s.length; i++) out.push(Math.max(0, (s[i]![side] - s[i - 1]![side]) / ((s[i]!.t - s[i - 1]!.t) / 1000)));
    return out;
  };
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <ErrorBox error={error} />
      <h2>Topics</h2>
      <p>
        <a href={href('new-topic')} class="button">
          Create topic
        </a>
      </p>
      {!data ? (
        <p class="muted">Loading…</p>
      ) : data.topics.length === 0 ? (
        <p class="muted">No topics yet.</p>
      ) : (
        <div class="scroll">
          <table>
            <caption class="sr-only">Topics</caption>
            <thead>
              <tr>
                <th scope="col">Topic</th>
                <th scope="col" class="num">Partitions</th>
                <th scope="col" class="num">Records</th>
                <th scope="col">In</th>
                <th scope="col">Out</th>
                <th scope="col">Retention</th>
                <th scope="col">Cleanup</th>
              </tr>
            </thead>
            <tbody>
              {data.topics.map((t) => (
                <tr key={t.name}>
                  <th scope="row">
                    <a href={href('topics', t.name)}>{t.name}</a>
                  </th>
                  <td class="num">{t.partitions}</td>
                  <td class="num">{formatCount(t.records)}</td>
                  <td>
                    <Sparkline values={rates(t.name, 'in')} label={`${t.name} records in`} />
                  </td>
                  <td>
                    <Sparkline values={rates(t.name, 'out')} label={`${t.name} records consumed`} />
                  </td>
                  <td>{formatMs(t.retention)}</td>
                  <td>{t.cleanup ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.topicsTotal > data.topics.length && <p class="muted">Showing {data.topics.length} of {data.topicsTotal} topics.</p>}
        </div>
      )}
      <h2>Consumer groups</h2>
      {!data ? null : data.groups.length === 0 ? (
        <p class="muted">No consumer groups yet.</p>
      ) : (
        <div class="scroll">
          <table>
            <caption class="sr-only">Consumer groups</caption>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">State</th>
                <th scope="col" class="num">Members</th>
                <th scope="col" class="num">Total lag</th>
              </tr>
            </thead>
            <tbody>
              {data.groups.map((g) => (
                <tr key={g.consumer_group_id}>
                  <th scope="row">
                    <a href={href('groups', g.consumer_group_id)}>{g.consumer_group_id}</a>
                  </th>
                  <td>{g.state}</td>
                  <td class="num">{g.members_count}</td>
                  <td class="num" data-testid={`lag-${g.consumer_group_id}`}>
                    {g.lag === undefined ? '—' : formatCount(g.lag)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
