/**
 * What the console's browser tests share: Debian's Chromium driven by
 * puppeteer-core, a local Strand, and screenshots as test artefacts in
 * test-artifacts/console/ (gitignored).
 *
 * Chromium is required, never skipped: .ci/run installs it when missing
 * (`apt-get install -y chromium`); elsewhere, set STRAND_CHROMIUM to a
 * Chromium or Chrome binary.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/*
 * Browser globals inside page.evaluate callbacks (they run in Chromium). The
 * root tsconfig is Node-only (no DOM lib), so they are declared here, for this
 * module only.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any;
type HTMLElement = { innerText: string };
type HTMLInputElement = { value: string };

export const chromiumPath = process.env.STRAND_CHROMIUM ?? '/usr/bin/chromium';
export const artifactsDir = join(__dirname, '..', '..', 'test-artifacts', 'console');

export const desktop = { width: 1280, height: 900 };
export const phone = { width: 375, height: 780, isMobile: true, hasTouch: true };

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium not found at ${chromiumPath}. The console's browser tests need it: install it with 'apt-get install -y chromium' (.ci/run does), or set STRAND_CHROMIUM to a Chromium binary.`,
    );
  }
  return puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    // Root in CI has no user namespace for the sandbox; /dev/shm is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--font-render-hinting=none'],
  });
}

/** Errors the page itself raised (exceptions, console.error other than failed requests, which tests provoke on purpose). */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(msg.text());
  });
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Waits until an element matching `selector` has text containing `text` (polled by the browser). */
export async function waitForText(page: Page, selector: string, text: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (sel: string, t: string) => [...document.querySelectorAll(sel)].some((e) => (e.textContent ?? '').includes(t)),
    { timeout, polling: 100 },
    selector,
    text,
  );
}

/** Sets an input's value as a user typing would (clears it first). */
export async function fill(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(selector, (e) => ((e as HTMLInputElement).value = ''));
  await page.type(selector, value);
}

export async function select(page: Page, selector: string, value: string): Promise<void> {
  await page.select(selector, value);
}

export async function clickButton(page: Page, text: string, within = 'main'): Promise<void> {
  const handle = await page.waitForSelector(`${within} ::-p-xpath(.//button[normalize-space(.)=${JSON.stringify(text)}])`, { timeout: 5_000 });
  await handle!.click();
}
