/**
 * Groups: members and their assignments, committed offsets and lag per
 * partition, lag over time (polled every 2 s while the page is open), and
 * resetting offsets with a preview of what moves: the preview computes each
 * partition's target as the server will (earliest = log start, latest = high
 * watermark, a timestamp through ListOffsets, an offset clamped to the
 * partition's bounds) before anything is written.
 */
import { useState } from 'preact/hooks';
import { enc, v3, type Group, type Lag, type Partition } from '../api';
import { mapBounded } from '../bounded';
import { ErrorBox, errorText, formatCount, historyPointsMax, href, LineChart, usePoll, type Series } from '../ui';

/** Partitions drawn on the lag chart besides the total. */
const chartPartitionsMax = 8;

export function GroupList() {
  const groups = usePoll(() => v3<{ data: Group[] }>('GET', '/consumer-groups').then((r) => r.data), []);
  return (
    <section aria-labelledby="groups-title">
      <h1 id="groups-title">Consumer groups</h1>
      <ErrorBox error={groups.error} />
      {groups.data?.length === 0 && <p class="muted">No consumer groups yet.</p>}
      <ul class="list">
        {groups.data?.map((g) => (
          <li key={g.consumer_group_id}>
            <a href={href('groups', g.consumer_group_id)}>{g.consumer_group_id}</a> <span class="muted">{g.state}, {g.members_count} members</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

interface Member {
  consumer_id: string;
  client_id: string;
  assignments: { topic_name: string; partition_id: number }[];
}

/** Lag samples per group, kept for the tab's life: leaving a group's page and coming back keeps its chart. */
const lagHistory = new Map<string, { t: number; lags: Lag[] }[]>();

export function GroupPage({ id }: { id: string }) {
  const path = `/consumer-groups/${enc(id)}`;
  if (!lagHistory.has(id)) lagHistory.set(id, []);
  const history = { current: lagHistory.get(id)! };
  const group = usePoll(async () => {
    const [describe, lags, members] = await Promise.all([
      v3<Group>('GET', path),
      v3<{ data: Lag[] }>('GET', `${path}/lags`).then((r) => r.data),
      v3<{ data: { consumer_id: string; client_id: string }[] }>('GET', `${path}/consumers`).then((r) => r.data),
    ]);
    const withAssignments: Member[] = await mapBounded(members, async (m) => ({
      ...m,
      assignments: (await v3<{ data: { topic_name: string; partition_id: number }[] }>('GET', `${path}/consumers/${enc(m.consumer_id)}/assignments`)).data,
    }));
    history.current.push({ t: Date.now(), lags });
    if (history.current.length > historyPointsMax) history.current.shift();
    return { describe, lags, members: withAssignments };
  }, [id]);
  const d = group.data;
  const series: Series[] = [];
  if (d) {
    series.push({ name: 'total', values: history.current.map((h) => ({ t: h.t, v: h.lags.reduce((n, l) => n + l.lag, 0) })) });
    for (const l of d.lags.slice(0, chartPartitionsMax)) {
      const name = `${l.topic_name}-${l.partition_id}`;
      series.push({
        name,
        values: history.current.map((h) => ({ t: h.t, v: h.lags.find((x) => x.topic_name === l.topic_name && x.partition_id === l.partition_id)?.lag ?? 0 })),
      });
    }
  }
  return (
    <section aria-labelledby="group-title">
      <p class="crumbs">
        <a href="#/groups">Groups</a> / group
      </p>
      <h1 id="group-title">{id}</h1>
      <ErrorBox error={group.error} />
      {d && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd data-testid="group-state">{d.describe.state}</dd>
            <dt>Members</dt>
            <dd>{d.describe.members_count}</dd>
            <dt>Assignor</dt>
            <dd>{d.describe.partition_assignor}</dd>
            <dt>Epoch</dt>
            <dd>{d.describe.group_epoch}</dd>
            <dt>Total lag</dt>
            <dd data-testid="total-lag">{formatCount(d.lags.reduce((n, l) => n + l.lag, 0))}</dd>
          </dl>
          <h2>Lag over time</h2>
          <LineChart series={series} label={`Lag of group ${id} over the last ${history.current.length} polls`} />
          <h2>Members</h2>
          {d.members.length === 0 ? (
            <p class="muted">No members.</p>
          ) : (
            <ul class="list">
              {d.members.map((m) => (
                <li key={m.consumer_id}>
                  <code>{m.consumer_id}</code> {m.client_id && <span class="muted">({m.client_id})</span>}:{' '}
                  {m.assignments.length === 0 ? 'no partitions' : m.assignments.map((a) => `${a.topic_name}-${a.partition_id}`).join(', ')}
                </li>
              ))}
            </ul>
          )}
          <h2>Committed offsets and lag</h2>
          <div class="scroll">
            <table>
              <caption class="sr-only">Committed offsets and lag per partition</caption>
              <thead>
                <tr>
                  <th scope="col">Topic</th>
                  <th scope="col" class="num">Partition</th>
                  <th scope="col" class="num">Committed</th>
                  <th scope="col" class="num">High watermark</th>
                  <th scope="col" class="num">Lag</th>
                  <th scope="col">Owner</th>
                </tr>
              </thead>
              <tbody>
                {d.lags.map((l) => (
                  <tr key={`${l.topic_name}-${l.partition_id}`}>
                    <td>
                      <a href={href('topics', l.topic_name)}>{l.topic_name}</a>
                    </td>
                    <td class="num">{l.partition_id}</td>
                    <td class="num">{formatCount(l.current_offset)}</td>
                    <td class="num">{formatCount(l.log_end_offset)}</td>
                    <td class="num">{formatCount(l.lag)}</td>
                    <td>{l.consumer_id ? <code>{l.consumer_id.slice(0, 8)}</code> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ResetOffsets path={path} lags={d.lags} empty={d.describe.members_count === 0} onDone={group.reload} />
        </>
      )}
    </section>
  );
}

type To = 'earliest' | 'latest' | 'timestamp' | 'offset';

interface Move {
  topic: string;
  partition: number;
  from: number | undefined;
  to: number;
}

/** Where a reset would move each partition, computed as GroupService.resetOffsets does. */
async function previewReset(lags: Lag[], topics: string[], to: To, at: number): Promise<Move[]> {
  const current = new Map(lags.map((l) => [`${l.topic_name}\u0000${l.partition_id}`, l.current_offset]));
  const perTopic = await mapBounded(topics, async (topic) => {
    const parts = (await v3<{ data: Partition[] }>('GET', `/topics/${enc(topic)}/partitions`)).data;
    return mapBounded(parts, async (p): Promise<Move> => {
      let target: number;
      if (to === 'earliest') target = p.log_start_offset;
      else if (to === 'latest') target = p.high_watermark;
      else if (to === 'timestamp') target = (await v3<{ offset: number }>('GET', `/topics/${enc(topic)}/partitions/${p.partition_id}/offsets?timestamp=${at}`)).offset;
      else target = at;
      target = Math.min(Math.max(target, p.log_start_offset), p.high_watermark);
      return { topic, partition: p.partition_id, from: current.get(`${topic}\u0000${p.partition_id}`), to: target };
    });
  });
  return perTopic.flat();
}

function ResetOffsets({ path, lags, empty, onDone }: { path: string; lags: Lag[]; empty: boolean; onDone: () => void }) {
  const committedTopics = [...new Set(lags.map((l) => l.topic_name))];
  const [to, setTo] = useState<To>('earliest');
  const [at, setAt] = useState('');
  const [topics, setTopics] = useState(committedTopics.join(', '));
  const [preview, setPreview] = useState<Move[]>();
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const names = () =>
    topics
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
  const atValue = () => (to === 'timestamp' ? Date.parse(at) : Number(at));
  const onPreview = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      if ((to === 'timestamp' || to === 'offset') && !Number.isFinite(atValue())) throw new Error(to === 'timestamp' ? 'Give a date and time.' : 'Give an offset.');
      if (names().length === 0) throw new Error('Name at least one topic.');
      setPreview(await previewReset(lags, names(), to, atValue()));
    } catch (err) {
      setError(errorText(err));
    }
  };
  const apply = async () => {
    setError(undefined);
    try {
      const target = to === 'earliest' || to === 'latest' ? to : to === 'timestamp' ? { timestamp: atValue() } : { offset: atValue() };
      const r = await v3<{ offsets: unknown[] }>('POST', `${path}/offsets:reset`, { to: target, topic_names: names() });
      setDone(`Reset ${r.offsets.length} partitions.`);
      setPreview(undefined);
      onDone();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div class="reset">
      <h2>Reset offsets</h2>
      {!empty && <p class="muted">The group has members: the reset is refused until they leave (40925). The preview works any time.</p>}
      <form class="toolbar" onSubmit={onPreview} aria-label="Reset offsets">
        <label>
          To
          <select name="reset_to" value={to} onChange={(e) => setTo((e.target as HTMLSelectElement).value as To)}>
            <option value="earliest">earliest</option>
            <option value="latest">latest</option>
            <option value="timestamp">timestamp</option>
            <option value="offset">offset</option>
          </select>
        </label>
        {to === 'timestamp' && (
          <label>
            Time (UTC)
            <input name="reset_at" type="datetime-local" step="1" value={at} onInput={(e) => setAt((e.target as HTMLInputElement).value)} />
          </label>
        )}
        {to === 'offset' && (
          <label>
            Offset
            <input name="reset_at" type="number" min="0" value={at} onInput={(e) => setAt((e.target as HTMLInputElement).value)} />
          </label>
        )}
        <label>
          Topics (comma-separated)
          <input name="reset_topics" value={topics} onInput={(e) => setTopics((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Preview</button>
      </form>
      <ErrorBox error={error} />
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
      {preview && (
        <>
          <table class="preview" aria-label="What the reset moves">
            <thead>
              <tr>
                <th scope="col">Partition</th>
                <th scope="col" class="num">Committed now</th>
                <th scope="col" class="num">After reset</th>
                <th scope="col" class="num">Moves by</th>
              </tr>
            </thead>
            <tbody>
              {preview.map((m) => {
                const delta = m.to - (m.from ?? 0);
                return (
                  <tr key={`${m.topic}-${m.partition}`} class={m.from === m.to ? 'same' : 'moves'}>
                    <th scope="row">
                      {m.topic}-{m.partition}
                    </th>
                    <td class="num">{m.from === undefined ? 'none' : formatCount(m.from)}</td>
                    <td class="num">{formatCount(m.to)}</td>
                    <td class="num">{m.from === m.to ? '—' : `${delta > 0 ? '+' : ''}${formatCount(delta)}`}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p>
            {preview.filter((m) => m.from !== m.to).length} of {preview.length} partitions move.{' '}
            <button type="button" class="danger" onClick={apply}>
              Apply reset
            </button>
          </p>
        </>
      )}
    </div>
  );
}
