/**
 * Messages: browse a partition from an offset, the newest or a timestamp;
 * keys and values as text, pretty JSON, hex, or decoded through the registry
 * (Avro on the server, `embedded_format=avro`; JSON Schema and Protobuf in
 * the wire format show their schema id and payload); search within what was
 * loaded; live tail; produce a record.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { enc, v3, type FetchAnswer, type FetchedRecord, type Partition } from '../api';
import { formatTime, headerText, show, type ShowAs } from '../decode';
import { ErrorBox, errorText, formatCount, hashParams, href, usePoll } from '../ui';

/** Records one load asks for by default, and at most. */
export const loadRecordsDefault = 50;
export const loadRecordsMax = 500;
/** Fetches one load makes at most (each answers up to max_bytes). */
const fetchesPerLoadMax = 20;
const fetchMaxBytes = 1024 * 1024;
/** The live tail's long poll, and the records it keeps (the oldest drop off). */
const tailWaitMs = 1_000;
const tailRecordsMax = 1_000;

type From = 'offset' | 'newest' | 'timestamp' | 'earliest';

export function Messages({ topic }: { topic: string }) {
  const path = `/topics/${enc(topic)}`;
  const parts = usePoll(() => v3<{ data: Partition[] }>('GET', `${path}/partitions`).then((r) => r.data), [topic], 5_000);
  const [partition, setPartition] = useState(Number(hashParams().get('p') ?? 0));
  const [from, setFrom] = useState<From>('newest');
  const [offset, setOffset] = useState('0');
  const [timestamp, setTimestamp] = useState('');
  const [count, setCount] = useState(String(loadRecordsDefault));
  const [as, setAs] = useState<ShowAs>('auto');
  const [search, setSearch] = useState('');
  const [records, setRecords] = useState<FetchedRecord[]>([]);
  const [next, setNext] = useState<number>();
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState('');
  const [tail, setTail] = useState(false);
  const recordsPath = `${path}/partitions/${partition}/records`;

  const load = async (e?: Event) => {
    e?.preventDefault();
    setError(undefined);
    setTail(false);
    try {
      const want = Math.min(loadRecordsMax, Math.max(1, Number(count) || loadRecordsDefault));
      const bounds = await v3<Partition>('GET', `${path}/partitions/${partition}`);
      let start: number;
      if (from === 'earliest') start = bounds.log_start_offset;
      else if (from === 'newest') start = Math.max(bounds.log_start_offset, bounds.high_watermark - want);
      else if (from === 'offset') start = Math.min(Math.max(Number(offset) || 0, bounds.log_start_offset), bounds.high_watermark);
      else {
        const ms = Date.parse(timestamp);
        if (Number.isNaN(ms)) throw new Error('Give a date and time to start from.');
        start = (await v3<{ offset: number }>('GET', `${path}/partitions/${partition}/offsets?timestamp=${ms}`)).offset;
      }
      const got: FetchedRecord[] = [];
      let at = start;
      for (let i = 0; i < fetchesPerLoadMax && got.length < want && at < bounds.high_watermark; i++) {
        const answer = await v3<FetchAnswer>('GET', `${recordsPath}?offset=${at}&embedded_format=avro&max_bytes=${fetchMaxBytes}`);
        got.push(...answer.records);
        if (answer.next_offset <= at) break;
        at = answer.next_offset;
      }
      setRecords(got.slice(0, want));
      setNext(got.length > want ? got[want]!.offset : at);
      setStatus(`Loaded ${got.slice(0, want).length} records of partition ${partition} from offset ${start} (high watermark ${bounds.high_watermark}).`);
    } catch (err) {
      setError(errorText(err));
    }
  };

  // Live tail: long polls from where the list ends, while on.
  const tailRef = useRef({ on: false, next: 0 });
  useEffect(() => {
    if (!tail) return;
    const state = { on: true, next: 0 };
    tailRef.current = state;
    void (async () => {
      try {
        state.next = next ?? (await v3<Partition>('GET', `${path}/partitions/${partition}`)).high_watermark;
        setStatus(`Tailing partition ${partition} from offset ${state.next}…`);
        while (state.on) {
          const answer = await v3<FetchAnswer>('GET', `${recordsPath}?offset=${state.next}&embedded_format=avro&max_wait_ms=${tailWaitMs}`);
          if (!state.on) break;
          if (answer.records.length > 0) setRecords((rs) => [...rs, ...answer.records].slice(-tailRecordsMax));
          state.next = answer.next_offset;
          setNext(answer.next_offset);
        }
      } catch (err) {
        if (state.on) {
          setError(errorText(err));
          setTail(false);
        }
      }
    })();
    return () => {
      state.on = false;
    };
  }, [tail, partition, topic]);

  const shown = useMemo(() => {
    const rows = records.map((r) => ({ r, key: show(r.key, as), value: show(r.value, as), headers: r.headers.map((h) => `${h.name}: ${headerText(h.value)}`) }));
    const q = search.trim().toLowerCase();
    if (!q) return rows;
    return rows.filter((row) => [row.key.text, row.value.text, ...row.headers, String(row.r.offset)].some((s) => s.toLowerCase().includes(q)));
  }, [records, as, search]);

  const partitionIds = parts.data?.map((p) => p.partition_id) ?? [partition];
  return (
    <section aria-labelledby="messages-title">
      <p class="crumbs">
        <a href="#/">Overview</a> / <a href={href('topics', topic)}>{topic}</a> / messages
      </p>
      <h1 id="messages-title">Messages in {topic}</h1>
      <form class="toolbar" onSubmit={load} aria-label="Browse records">
        <label>
          Partition
          <select name="partition" value={partition} onChange={(e) => setPartition(Number((e.target as HTMLSelectElement).value))}>
            {partitionIds.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <select name="from" value={from} onChange={(e) => setFrom((e.target as HTMLSelectElement).value as From)}>
            <option value="newest">newest</option>
            <option value="earliest">earliest</option>
            <option value="offset">offset</option>
            <option value="timestamp">timestamp</option>
          </select>
        </label>
        {from === 'offset' && (
          <label>
            Offset
            <input name="offset" type="number" min="0" value={offset} onInput={(e) => setOffset((e.target as HTMLInputElement).value)} />
          </label>
        )}
        {from === 'timestamp' && (
          <label>
            Time (UTC)
            <input name="timestamp" type="datetime-local" step="1" value={timestamp} onInput={(e) => setTimestamp((e.target as HTMLInputElement).value)} />
          </label>
        )}
        <label>
          Count
          <input name="count" type="number" min="1" max={loadRecordsMax} value={count} onInput={(e) => setCount((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" class="primary">
          Load
        </button>
        <label class="check">
          <input type="checkbox" name="tail" checked={tail} onChange={(e) => setTail((e.target as HTMLInputElement).checked)} />
          Live tail
        </label>
      </form>
      <div class="toolbar">
        <label>
          Show as
          <select name="as" value={as} onChange={(e) => setAs((e.target as HTMLSelectElement).value as ShowAs)}>
            <option value="auto">auto (JSON pretty, Avro decoded)</option>
            <option value="text">text</option>
            <option value="json">JSON</option>
            <option value="hex">hex</option>
          </select>
        </label>
        <label>
          Search loaded records
          <input name="search" type="search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <ErrorBox error={error} />
      <p role="status" class="muted">
        {status} {search && `${shown.length} of ${records.length} match.`}
      </p>
      <ol class="records" aria-label="Records">
        {shown.map(({ r, key, value, headers }) => (
          <li key={r.offset} class="record" data-offset={r.offset}>
            <div class="meta">
              <strong>#{formatCount(r.offset)}</strong> <time>{formatTime(r.timestamp)}</time> <span class="muted">{r.timestamp_type}</span>
            </div>
            <dl>
              <dt>Key</dt>
              <dd>
                <Badge kind={key.kind} schemaId={key.schemaId} />
                <pre>{key.text}</pre>
              </dd>
              <dt>Value</dt>
              <dd>
                <Badge kind={value.kind} schemaId={value.schemaId} />
                <pre class="value">{value.text}</pre>
              </dd>
              {headers.length > 0 && (
                <>
                  <dt>Headers</dt>
                  <dd>
                    <ul class="headers">
                      {headers.map((h, i) => (
                        <li key={i}>{h}</li>
                      ))}
                    </ul>
                  </dd>
                </>
              )}
            </dl>
          </li>
        ))}
      </ol>
      <Produce path={path} partitions={partitionIds} />
    </section>
  );
}

function Badge({ kind, schemaId }: { kind: string; schemaId?: number }) {
  if (kind === 'null') return null;
  return <span class={`badge ${kind}`}>{schemaId ? `${kind} · schema ${schemaId}` : kind}</span>;
}

type ValueType = 'STRING' | 'JSON' | 'BINARY';

/** Headers as lines of `name: value` (the value as UTF-8). */
export function parseHeaders(text: string): { name: string; value: string }[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const colon = l.indexOf(':');
      if (colon <= 0) throw new Error(`Header line '${l}' is not 'name: value'.`);
      return { name: l.slice(0, colon).trim(), value: btoa(unescape(encodeURIComponent(l.slice(colon + 1).trim()))) };
    });
}

function Produce({ path, partitions }: { path: string; partitions: number[] }) {
  const [partition, setPartition] = useState('');
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [type, setType] = useState<ValueType>('JSON');
  const [headers, setHeaders] = useState('');
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setResult(undefined);
    try {
      let data: unknown = value;
      if (type === 'JSON') {
        try {
          data = JSON.parse(value);
        } catch (err) {
          throw new Error(`The value is not valid JSON: ${errorText(err)}`);
        }
      }
      const body = {
        ...(partition === '' ? {} : { partition_id: Number(partition) }),
        ...(key ? { key: { type: 'STRING', data: key } } : {}),
        value: { type, data },
        ...(headers.trim() ? { headers: parseHeaders(headers) } : {}),
      };
      const r = await v3<{ partition_id: number; offset: number }>('POST', `${path}/records`, body);
      setResult(`Produced to partition ${r.partition_id} at offset ${r.offset}.`);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <details class="produce">
      <summary>Produce a record</summary>
      <form class="stack" onSubmit={submit} aria-label="Produce a record">
        <label>
          Partition
          <select name="produce_partition" value={partition} onChange={(e) => setPartition((e.target as HTMLSelectElement).value)}>
            <option value="">by key (murmur2), or any</option>
            {partitions.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Key (text, optional)
          <input name="produce_key" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Value type
          <select name="produce_type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value as ValueType)}>
            <option value="JSON">JSON</option>
            <option value="STRING">text</option>
            <option value="BINARY">base64 bytes</option>
          </select>
        </label>
        <label>
          Value
          <textarea name="produce_value" rows={4} value={value} onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)} />
        </label>
        <label>
          Headers (one per line, name: value)
          <textarea name="produce_headers" rows={2} value={headers} onInput={(e) => setHeaders((e.target as HTMLTextAreaElement).value)} />
        </label>
        <ErrorBox error={error} />
        {result && (
          <p class="ok" role="status">
            {result}
          </p>
        )}
        <div>
          <button type="submit" class="primary">
            Produce
          </button>
        </div>
      </form>
    </details>
  );
}
