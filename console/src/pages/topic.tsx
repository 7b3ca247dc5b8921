/** Topic: partitions (log start, high watermark), configs (view, edit, reset), grow, delete; and the create form. */
import { useState } from 'preact/hooks';
import { enc, v3, type Config, type Partition } from '../api';
import { Confirm, ErrorBox, errorText, formatCount, href, usePoll } from '../ui';

export function TopicPage({ name }: { name: string }) {
  const path = `/topics/${enc(name)}`;
  const parts = usePoll(() => v3<{ data: Partition[] }>('GET', `${path}/partitions`).then((r) => r.data), [name]);
  const configs = usePoll(() => v3<{ data: Config[] }>('GET', `${path}/configs`).then((r) => r.data), [name], 0);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleteError, setDeleteError] = useState<string>();
  const remove = async () => {
    try {
      await v3('DELETE', path);
      setConfirmDelete(false);
      location.hash = '#/';
    } catch (err) {
      setDeleteError(errorText(err));
      setConfirmDelete(false);
    }
  };
  return (
    <section aria-labelledby="topic-title">
      <p class="crumbs">
        <a href="#/">Overview</a> / topic
      </p>
      <h1 id="topic-title">{name}</h1>
      <p>
        <a class="button" href={href('topics', name, 'messages')}>
          Messages
        </a>
      </p>
      <h2>Partitions</h2>
      <ErrorBox error={parts.error} />
      {parts.data && (
        <div class="scroll">
          <table>
            <caption class="sr-only">Partitions of {name}</caption>
            <thead>
              <tr>
                <th scope="col" class="num">Partition</th>
                <th scope="col" class="num">Log start</th>
                <th scope="col" class="num">High watermark</th>
                <th scope="col" class="num">Records</th>
              </tr>
            </thead>
            <tbody>
              {parts.data.map((p) => (
                <tr key={p.partition_id}>
                  <th scope="row" class="num">
                    <a href={`${href('topics', name, 'messages')}?p=${p.partition_id}`}>{p.partition_id}</a>
                  </th>
                  <td class="num">{formatCount(p.log_start_offset)}</td>
                  <td class="num">{formatCount(p.high_watermark)}</td>
                  <td class="num">{formatCount(p.high_watermark - p.log_start_offset)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {parts.data && <GrowForm path={path} current={parts.data.length} onDone={parts.reload} />}
      <h2>Configs</h2>
      <ErrorBox error={configs.error} />
      {configs.data && <ConfigTable path={path} configs={configs.data} onChange={configs.reload} />}
      <h2>Danger zone</h2>
      <ErrorBox error={deleteError} />
      <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
        Delete topic…
      </button>
      {confirmDelete && <DeleteDialog name={name} onConfirm={remove} onCancel={() => setConfirmDelete(false)} />}
    </section>
  );
}

function DeleteDialog({ name, onConfirm, onCancel }: { name: string; onConfirm: () => void; onCancel: () => void }) {
  const [typed, setTyped] = useState('');
  return (
    <Confirm
      title={`Delete topic ${name}?`}
      confirmLabel="Delete topic"
      danger
      onCancel={onCancel}
      onConfirm={() => {
        if (typed === name) onConfirm();
      }}
    >
      <p>This deletes the topic and all its records. It cannot be undone.</p>
      <label>
        Type the topic name to confirm
        <input value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} autoComplete="off" />
      </label>
      {typed !== '' && typed !== name && <p class="muted">The name does not match.</p>}
    </Confirm>
  );
}

function GrowForm({ path, current, onDone }: { path: string; current: number; onDone: () => void }) {
  const [count, setCount] = useState(String(current + 1));
  const [error, setError] = useState<string>();
  return (
    <form
      class="inline"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        try {
          await v3('PATCH', path, { partitions_count: Number(count) });
          onDone();
        } catch (err) {
          setError(errorText(err));
        }
      }}
    >
      <label>
        Partitions
        <input type="number" min={current} value={count} onInput={(e) => setCount((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Grow partitions</button>
      <ErrorBox error={error} />
    </form>
  );
}

function ConfigTable({ path, configs, onChange }: { path: string; configs: Config[]; onChange: () => void }) {
  return (
    <div class="scroll">
      <table class="configs">
        <caption class="sr-only">Topic configs</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Value</th>
            <th scope="col">Source</th>
          </tr>
        </thead>
        <tbody>
          {configs.map((c) => (
            <ConfigRow key={c.name} path={path} config={c} onChange={onChange} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ConfigRow({ path, config, onChange }: { path: string; config: Config; onChange: () => void }) {
  const [value, setValue] = useState(config.value ?? '');
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const id = `config-${config.name.replace(/\./g, '-')}`;
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      await v3('PUT', `${path}/configs/${enc(config.name)}`, { value });
      setSaved(true);
      onChange();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const reset = async () => {
    setError(undefined);
    try {
      await v3('DELETE', `${path}/configs/${enc(config.name)}`);
      onChange();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <tr>
      <th scope="row">
        <label for={id}>{config.name}</label>
      </th>
      <td>
        <form class="inline" onSubmit={save}>
          <input
            id={id}
            value={value}
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? `${id}-error` : undefined}
            onInput={(e) => {
              setValue((e.target as HTMLInputElement).value);
              setSaved(false);
            }}
          />
          <button type="submit" aria-label={`Save ${config.name}`}>
            Save
          </button>
          {!config.is_default && (
            <button type="button" onClick={reset} aria-label={`Reset ${config.name} to its default`}>
              Reset
            </button>
          )}
          {saved && (
            <span class="ok" role="status">
              Saved
            </span>
          )}
        </form>
        {error && (
          <p class="error" id={`${id}-error`} role="alert">
            {error}
          </p>
        )}
      </td>
      <td>{config.is_default ? 'default' : 'set on topic'}</td>
    </tr>
  );
}

export function CreateTopic() {
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('1');
  const [retention, setRetention] = useState('');
  const [cleanup, setCleanup] = useState('delete');
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const configs = [
      ...(retention ? [{ name: 'retention.ms', value: retention }] : []),
      ...(cleanup !== 'delete' ? [{ name: 'cleanup.policy', value: cleanup }] : []),
    ];
    try {
      await v3('POST', '/topics', { topic_name: name, partitions_count: Number(partitions), configs });
      location.hash = href('topics', name);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section aria-labelledby="create-title">
      <p class="crumbs">
        <a href="#/">Overview</a> / new topic
      </p>
      <h1 id="create-title">Create topic</h1>
      <form class="stack" onSubmit={submit}>
        <label>
          Name
          <input name="topic_name" required value={name} pattern="[a-zA-Z0-9._\-]{1,249}" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Partitions
          <input name="partitions_count" type="number" min="1" required value={partitions} onInput={(e) => setPartitions((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Retention (ms, empty for the default of 7 days, -1 for forever)
          <input name="retention_ms" value={retention} inputMode="numeric" onInput={(e) => setRetention((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Cleanup policy
          <select name="cleanup_policy" value={cleanup} onChange={(e) => setCleanup((e.target as HTMLSelectElement).value)}>
            <option value="delete">delete</option>
            <option value="compact">compact</option>
            <option value="compact,delete">compact,delete</option>
          </select>
        </label>
        <ErrorBox error={error} />
        <div>
          <button type="submit" class="primary">
            Create topic
          </button>
        </div>
      </form>
    </section>
  );
}
