/**
 * A one-line progress display for long runs on a terminal: a bar when the total
 * is known (a file), otherwise a count; always the rate. Redrawn at most every
 * `redrawMs`, shown only after `delayMs` so short runs stay quiet, and only on a TTY.
 */
export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  /** Total bytes, when known. */
  totalBytes?: number;
  /** @default 1000 */
  delayMs?: number;
  /** @default 200 */
  redrawMs?: number;
  /** @default 30 */
  width?: number;
}

export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly options: ProgressOptions) {}

  get enabled(): boolean {
    return this.options.stream.isTTY === true;
  }

  update(records: number, bytes: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.started < (this.options.delayMs ?? 1000)) return;
    if (now - this.lastDraw < (this.options.redrawMs ?? 200)) return;
    this.lastDraw = now;
    this.drawn = true;
    this.options.stream.write(`\r${this.line(records, bytes, now)}\x1b[K`);
  }

  /** Clears the line, so the summary starts clean. */
  done(): void {
    if (this.drawn) this.options.stream.write('\r\x1b[K');
  }

  line(records: number, bytes: number, now = Date.now()): string {
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = `${formatCount(records / seconds)} records/s, ${formatBytes(bytes / seconds)}/s`;
    const total = this.options.totalBytes;
    if (total && total > 0) {
      const width = this.options.width ?? 30;
      const ratio = Math.min(bytes / total, 1);
      const filled = Math.round(ratio * width);
      return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${formatCount(records)} records  ${rate}`;
    }
    return `${formatCount(records)} records, ${formatBytes(bytes)}  ${rate}`;
  }
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
