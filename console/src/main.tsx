/** Strand's web console: the shell (navigation, routes, settings). Every page calls the same HTTP API as curl does. */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { forgetCluster, get, savedToken, saveToken } from './api';
import { GroupList, GroupPage } from './pages/groups';
import { Messages } from './pages/messages';
import { Overview } from './pages/overview';
import { SchemasPage } from './pages/schemas';
import { CreateTopic, TopicPage } from './pages/topic';
import { errorText, useRoute } from './ui';

function Page({ route }: { route: string[] }) {
  const [first, second, third] = route;
  if (first === undefined) return <Overview />;
  if (first === 'new-topic') return <CreateTopic />;
  if (first === 'topics' && second !== undefined && third === 'messages') return <Messages topic={second} key={second} />;
  if (first === 'topics' && second !== undefined) return <TopicPage name={second} key={second} />;
  if (first === 'groups' && second !== undefined) return <GroupPage id={second} key={second} />;
  if (first === 'groups') return <GroupList />;
  if (first === 'schemas') return <SchemasPage subject={second} />;
  if (first === 'settings') return <Settings />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page at <code>{location.hash}</code>. <a href="#/">Back to the overview</a>.
      </p>
    </section>
  );
}

function Settings() {
  const [token, setToken] = useState(savedToken());
  const [status, setStatus] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    saveToken(token.trim());
    forgetCluster();
    try {
      await get('/v3/clusters');
      setStatus(token.trim() ? 'Saved for this tab. The API accepts it.' : 'Cleared. The API answers without credentials.');
    } catch (err) {
      setStatus(`Saved, but the API refused a request: ${errorText(err)}`);
    }
  };
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <form class="stack" onSubmit={save}>
        <label>
          API key or JWT
          <input
            name="token"
            type="password"
            autoComplete="off"
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            aria-describedby="token-help"
          />
        </label>
        <p id="token-help" class="muted">
          Sent as <code>Authorization: Bearer …</code> on every request, and kept in this tab's session storage only (gone when the tab closes). Leave empty
          when the API needs no credentials (the local runtime by default). IAM-only deployments: see docs/console.md.
        </p>
        <div>
          <button type="submit" class="primary">
            Save
          </button>
        </div>
        <p role="status">{status}</p>
      </form>
    </section>
  );
}

const sections: [string, string, (r: string[]) => boolean][] = [
  ['#/', 'Overview', (r) => r.length === 0 || r[0] === 'topics' || r[0] === 'new-topic'],
  ['#/groups', 'Groups', (r) => r[0] === 'groups'],
  ['#/schemas', 'Schemas', (r) => r[0] === 'schemas'],
  ['#/settings', 'Settings', (r) => r[0] === 'settings'],
];

function App() {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // A route change moves focus to the new page's heading, as a page load would, so keyboard and screen reader users start there.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = main.current?.querySelector<HTMLElement>('h1');
    if (h1) {
      h1.tabIndex = -1;
      h1.focus();
    }
    document.title = `${h1?.textContent ?? 'Strand'} · Strand console`;
  }, [route.join('/')]);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        main.current?.focus();
      }}>
        Skip to content
      </a>
      <header>
        <span class="brand">Strand</span>
        <nav aria-label="Sections">
          <ul>
            {sections.map(([to, label, active]) => (
              <li key={to}>
                <a href={to} aria-current={active(route) ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
