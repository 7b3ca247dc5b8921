/** Schemas: subjects, versions, a diff between two versions, the compatibility level, and checking (or registering) a schema. */
import { useEffect, useState } from 'preact/hooks';
import { enc, registry } from '../api';
import { diffLines, prettySchema } from '../diff';
import { ErrorBox, errorText, href, usePoll } from '../ui';

const levels = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'];

interface Version {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType?: string;
}

export function SchemasPage({ subject }: { subject?: string }) {
  const subjects = usePoll(() => registry<string[]>('GET', '/subjects'), [], 0);
  return (
    <section aria-labelledby="schemas-title">
      <h1 id="schemas-title">Schemas</h1>
      <ErrorBox error={subjects.error} />
      <div class="split">
        <nav aria-label="Subjects" class="subjects">
          <h2>Subjects</h2>
          {subjects.data?.length === 0 && <p class="muted">No subjects yet.</p>}
          <ul class="list">
            {subjects.data?.map((s) => (
              <li key={s}>
                <a href={href('schemas', s)} aria-current={s === subject ? 'page' : undefined}>
                  {s}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div>{subject ? <Subject subject={subject} key={subject} /> : <p class="muted">Choose a subject.</p>}</div>
      </div>
    </section>
  );
}

function Subject({ subject }: { subject: string }) {
  const base = `/subjects/${enc(subject)}`;
  const versions = usePoll(() => registry<number[]>('GET', `${base}/versions`), [subject], 0);
  const [left, setLeft] = useState<number>();
  const [right, setRight] = useState<number>();
  const [texts, setTexts] = useState<Record<number, Version>>({});
  const [error, setError] = useState<string>();
  useEffect(() => {
    const vs = versions.data;
    if (!vs || vs.length === 0) return;
    setRight(vs[vs.length - 1]);
    setLeft(vs[Math.max(0, vs.length - 2)]);
  }, [versions.data]);
  useEffect(() => {
    for (const v of [left, right]) {
      if (v === undefined || texts[v]) continue;
      registry<Version>('GET', `${base}/versions/${v}`).then(
        (got) => setTexts((t) => ({ ...t, [v]: got })),
        (err: unknown) => setError(errorText(err)),
      );
    }
  }, [left, right]);
  const a = left !== undefined ? texts[left] : undefined;
  const b = right !== undefined ? texts[right] : undefined;
  const diff = a && b ? diffLines(prettySchema(a.schema), prettySchema(b.schema)) : undefined;
  const versionSelect = (label: string, value: number | undefined, set: (v: number) => void) => (
    <label>
      {label}
      <select value={value} onChange={(e) => set(Number((e.target as HTMLSelectElement).value))}>
        {versions.data?.map((v) => (
          <option key={v} value={v}>
            version {v}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div>
      <h2>{subject}</h2>
      <ErrorBox error={versions.error ?? error} />
      <Compatibility subject={subject} />
      <h3>Versions</h3>
      {versions.data && (
        <div class="toolbar">
          {versionSelect('Compare', left, setLeft)}
          {versionSelect('with', right, setRight)}
        </div>
      )}
      {b && (
        <p class="muted">
          Version {b.version}: schema id {b.id}, {b.schemaType ?? 'AVRO'}
        </p>
      )}
      {diff && (
        <pre class="diff" aria-label={`Differences between version ${left} and version ${right}`}>
          {diff.map((l, i) => (
            <div key={i} class={l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}>
              <span aria-hidden="true">{l.op} </span>
              {l.op === '+' && <span class="sr-only">added: </span>}
              {l.op === '-' && <span class="sr-only">removed: </span>}
              {l.text}
            </div>
          ))}
        </pre>
      )}
      <CheckSchema subject={subject} onRegistered={versions.reload} />
    </div>
  );
}

function Compatibility({ subject }: { subject: string }) {
  const level = usePoll(() => registry<{ compatibilityLevel: string }>('GET', `/config/${enc(subject)}?defaultToGlobal=true`), [subject], 0);
  const [error, setError] = useState<string>();
  return (
    <div class="toolbar">
      <label>
        Compatibility
        <select
          value={level.data?.compatibilityLevel}
          onChange={async (e) => {
            setError(undefined);
            try {
              await registry('PUT', `/config/${enc(subject)}`, { compatibility: (e.target as HTMLSelectElement).value });
              level.reload();
            } catch (err) {
              setError(errorText(err));
            }
          }}
        >
          {levels.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <ErrorBox error={error ?? level.error} />
    </div>
  );
}

function CheckSchema({ subject, onRegistered }: { subject: string; onRegistered: () => void }) {
  const [schema, setSchema] = useState('');
  const [type, setType] = useState('AVRO');
  const [verdict, setVerdict] = useState<{ ok: boolean; text: string }>();
  const body = () => ({ schema, ...(type === 'AVRO' ? {} : { schemaType: type }) });
  const check = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await registry<{ is_compatible: boolean; messages?: string[] }>('POST', `/compatibility/subjects/${enc(subject)}/versions?verbose=true`, body());
      setVerdict({ ok: r.is_compatible, text: r.is_compatible ? 'Compatible.' : `Not compatible: ${(r.messages ?? []).join('; ')}` });
    } catch (err) {
      setVerdict({ ok: false, text: errorText(err) });
    }
  };
  const register = async () => {
    try {
      const r = await registry<{ id: number }>('POST', `/subjects/${enc(subject)}/versions`, body());
      setVerdict({ ok: true, text: `Registered: schema id ${r.id}.` });
      onRegistered();
    } catch (err) {
      setVerdict({ ok: false, text: errorText(err) });
    }
  };
  return (
    <form class="stack" onSubmit={check} aria-label="Check a schema">
      <h3>Check a schema</h3>
      <label>
        Type
        <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
          <option value="AVRO">Avro</option>
          <option value="JSON">JSON Schema</option>
          <option value="PROTOBUF">Protobuf</option>
        </select>
      </label>
      <label>
        Schema
        <textarea name="schema" rows={6} value={schema} onInput={(e) => setSchema((e.target as HTMLTextAreaElement).value)} />
      </label>
      {verdict && (
        <p class={verdict.ok ? 'ok' : 'error'} role="status">
          {verdict.text}
        </p>
      )}
      <div>
        <button type="submit" class="primary">
          Check compatibility
        </button>{' '}
        <button type="button" onClick={register}>
          Register as a new version
        </button>
      </div>
    </form>
  );
}
