/** Small shared pieces: polling, errors, charts (inline SVG), routing. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** Points a sparkline or chart keeps: two minutes at one poll every 2 s. */
export const historyPointsMax = 60;
/** How often pages poll: 2 s, or `?refresh=<seconds>` in the console's URL (0.5 to 60). */
export const pollMs = refreshMs(new URLSearchParams(location.search).get('refresh'));

function refreshMs(param: string | null): number {
  const seconds = Number(param ?? 2);
  return Number.isFinite(seconds) ? Math.round(Math.min(60, Math.max(0.5, seconds)) * 1000) : 2_000;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs `load` now and every `everyMs` while mounted (one at a time), and again when `deps` change. */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], everyMs = pollMs): { data?: T; error?: string; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const run = async () => {
      try {
        const data = await load();
        if (live) setState({ data });
      } catch (err) {
        if (live) setState((s) => ({ data: s.data, error: errorText(err) }));
      }
      if (live && everyMs > 0) timer = window.setTimeout(run, everyMs);
    };
    void run();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function ErrorBox({ error }: { error?: string }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
      {/^40[13]\b/.test(error) && (
        <>
          {' '}
          <a href="#/settings">Set an API key or a JWT in Settings.</a>
        </>
      )}
    </p>
  );
}

export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const w = 100;
  const h = 24;
  const max = Math.max(1, ...values);
  const points = values.map((v, i) => `${values.length === 1 ? w : (i / (values.length - 1)) * w},${h - (v / max) * (h - 2) - 1}`).join(' ');
  const last = values.length > 0 ? values[values.length - 1]! : 0;
  return (
    <span class="spark">
      <svg viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label={`${label}: ${rate(last)} records/s now, ${rate(max)} at most`}>
        <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
      </svg>
      <span class="num">{rate(last)}/s</span>
    </span>
  );
}

export function rate(v: number): string {
  return v >= 100 ? Math.round(v).toString() : v >= 10 ? v.toFixed(1) : v.toFixed(2).replace(/\.?0+$/, '') || '0';
}

export interface Series {
  name: string;
  values: { t: number; v: number }[];
}

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4d7c0f', '#be185d'];

/** A line chart of several series over time (inline SVG), with a legend and the latest values as text. */
export function LineChart({ series, label }: { series: Series[]; label: string }) {
  const w = 600;
  const h = 160;
  const pad = 30;
  const all = series.flatMap((s) => s.values);
  if (all.length === 0) return <p class="muted">No data yet.</p>;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(t0 + 1, ...all.map((p) => p.t));
  const vMax = Math.max(1, ...all.map((p) => p.v));
  const x = (t: number) => pad + ((t - t0) / (t1 - t0)) * (w - pad - 4);
  const y = (v: number) => h - 16 - (v / vMax) * (h - 28);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
        <line x1={pad} x2={w} y1={y(0)} y2={y(0)} class="axis" />
        <text x={2} y={y(vMax) + 4} class="tick">
          {vMax}
        </text>
        <text x={2} y={y(0)} class="tick">
          0
        </text>
        {series.map((s, i) =>
          s.values.length === 1 ? (
            <circle key={s.name} cx={x(s.values[0]!.t)} cy={y(s.values[0]!.v)} r="3" fill={palette[i % palette.length]} />
          ) : (
          <polyline
            key={s.name}
            fill="none"
            stroke={palette[i % palette.length]}
            stroke-width="2"
            points={s.values.map((p) => `${x(p.t)},${y(p.v)}`).join(' ')}
          />
          ),
        )}
      </svg>
      <figcaption>
        {series.map((s, i) => (
          <span key={s.name} class="legend">
            <span class="swatch" style={{ background: palette[i % palette.length] }} aria-hidden="true" />
            {s.name}: {s.values.length ? s.values[s.values.length - 1]!.v : '—'}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** A confirmation dialog: focus moves into it, Escape cancels, focus returns to what opened it. */
export function Confirm({ title, children, confirmLabel, onConfirm, onCancel, danger }: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  danger?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    ref.current?.querySelector<HTMLElement>('input, button')?.focus();
    return () => opener?.focus();
  }, []);
  return (
    <div class="backdrop">
      <div
        class="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="dialog-title"
        ref={ref}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onCancel();
        }}
      >
        <h2 id="dialog-title">{title}</h2>
        {children}
        <div class="actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" class={danger ? 'danger' : 'primary'} onClick={onConfirm}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

/** Hash routes: `#/`, `#/topics/<name>`, `#/topics/<name>/messages`, `#/groups/<id>`, `#/schemas`, `#/settings`. */
export function useRoute(): string[] {
  const parse = () =>
    location.hash
      .replace(/^#\/?/, '')
      .replace(/\?.*$/, '')
      .split('/')
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s));
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** The query after the route in the hash: `#/topics/orders/messages?p=2`. */
export function hashParams(): URLSearchParams {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : location.hash.slice(q + 1));
}

export const href = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join('/')}`;

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatMs(ms: string | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const n = Number(ms);
  if (!Number.isFinite(n)) return ms;
  if (n < 0) return 'forever';
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1_000, 's']];
  for (const [size, unit] of units) if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  return `${n} ms`;
}
