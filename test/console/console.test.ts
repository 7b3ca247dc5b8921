/**
 * The web console in a real headless Chromium against a real local Strand:
 * each test drives the pages as a user would (forms, buttons, keyboard) and
 * checks what the page shows against what the API holds. Screenshots of every
 * page go to test-artifacts/console/ (the overview at 1280 px is the README's
 * docs/images/console-overview.png).
 */
import type { Browser, Page } from 'puppeteer-core';
import { cluster, createTopic, partitionPath, produceString, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { clickButton, collectPageErrors, desktop, fill, launchBrowser, phone, screenshot, select, waitForText } from './browser';

/*
 * Browser globals inside page.evaluate callbacks (they run in Chromium). The
 * root tsconfig is Node-only (no DOM lib), so they are declared here, for this
 * module only.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any;
type HTMLElement = { innerText: string };
type HTMLInputElement = { value: string };

let strand: TestStrand;
let browser: Browser | undefined;
let page: Page;
let pageErrors: string[];

const groupPath = (g: string) => `${cluster}/consumer-groups/${g}`;
/** Loads the console afresh at `hash` (a new document: going to another hash of the same page would keep its state). */
const open = async (hash: string, query = '') => {
  await page.goto('about:blank');
  await page.goto(`${strand.url}/console${query}${hash}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('main h1');
};

beforeAll(async () => {
  strand = await startTestStrand();
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.setViewport(desktop);
  pageErrors = collectPageErrors(page);
}, 30_000);

afterAll(async () => {
  // The browser first: its pages poll the API until they are gone.
  await browser?.close();
  await strand?.dispose();
});

afterEach(() => {
  expect(pageErrors).toEqual([]);
});

describe('serving', () => {
  test('/console serves the page, and /console/<file> its bundle and styles, with a policy that allows its own origin only', async () => {
    for (const path of ['/console', '/console/']) {
      const page = await strand.http.get(path);
      expect(page.status).toBe(200);
      expect(page.body.toString()).toContain('/console/app.js');
      expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    }
    const index = await strand.http.get('/console/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect((await strand.http.get('/console/app.js')).headers.get('content-type')).toMatch(/javascript/);
    expect((await strand.http.get('/console/app.css')).status).toBe(200);
    expect((await strand.http.get('/console/nope.js')).status).toBe(404);
  });
});

describe('topics', () => {
  test('a topic created from the form is shown with its partitions, and on the overview with its retention and cleanup policy', async () => {
    await open('#/new-topic');
    await fill(page, 'input[name=topic_name]', 'orders');
    await fill(page, 'input[name=partitions_count]', '2');
    await fill(page, 'input[name=retention_ms]', '86400000');
    await clickButton(page, 'Create topic', 'form');
    await waitForText(page, 'main h1', 'orders');
    await page.waitForSelector('table tbody tr:nth-child(2)');
    expect((await strand.http.get(topicPath('orders'))).json.partitions_count).toBe(2);
    await screenshot(page, 'topic');

    await produceString(strand.http, 'orders', 'a', { partition_id: 0 });
    await open('#/');
    await waitForText(page, 'table', 'orders');
    await waitForText(page, 'table', '1 d');
    await waitForText(page, 'table', 'delete');
    // Two polls at least, so the sparklines have a rate to draw.
    await produceString(strand.http, 'orders', 'b', { partition_id: 1 });
    await page.waitForFunction(() => document.querySelectorAll('.spark polyline[points*=","]').length > 0, { timeout: 10_000 });
  });

  test('a config edit is saved, and an invalid value shows the API\'s validation error', async () => {
    await open('#/topics/orders');
    await page.waitForSelector('#config-retention-ms');
    await fill(page, '#config-retention-ms', 'soon');
    await page.click('button[aria-label="Save retention.ms"]');
    await waitForText(page, '#config-retention-ms-error', '40002');
    expect(await page.$eval('#config-retention-ms', (e) => e.getAttribute('aria-invalid'))).toBe('true');
    await screenshot(page, 'topic-config-error');

    await fill(page, '#config-retention-ms', '3600000');
    await page.click('button[aria-label="Save retention.ms"]');
    await waitForText(page, '[role=status]', 'Saved');
    const config = await strand.http.get(`${topicPath('orders')}/configs/retention.ms`);
    expect(config.json.value).toBe('3600000');
  });

  test('partitions grow from the form', async () => {
    await open('#/topics/orders');
    await page.waitForSelector('table tbody tr:nth-child(2)');
    await fill(page, 'form.inline input[type=number]', '3');
    await clickButton(page, 'Grow partitions');
    await page.waitForSelector('table tbody tr:nth-child(3)');
    expect((await strand.http.get(topicPath('orders'))).json.partitions_count).toBe(3);
  });

  test('a topic is deleted only once its name is typed in the confirmation', async () => {
    await createTopic(strand.http, 'scratch');
    await open('#/topics/scratch');
    await clickButton(page, 'Delete topic…');
    await page.waitForSelector('[role=dialog]');
    // Focus moved into the dialog.
    expect(await page.evaluate(() => document.activeElement?.closest('[role=dialog]') !== null)).toBe(true);
    await clickButton(page, 'Delete topic', '[role=dialog]');
    expect((await strand.http.get(topicPath('scratch'))).status).toBe(200);
    await page.type('[role=dialog] input', 'scratch');
    await clickButton(page, 'Delete topic', '[role=dialog]');
    await waitForText(page, 'main h1', 'Overview');
    expect((await strand.http.get(topicPath('scratch'))).status).toBe(404);
  });
});

describe('messages', () => {
  test('a record produced from the form is shown with its key, headers and pretty JSON value', async () => {
    await open('#/topics/orders/messages');
    await page.click('details.produce summary');
    await select(page, 'select[name=produce_partition]', '0');
    await fill(page, 'input[name=produce_key]', 'user-42');
    await fill(page, 'textarea[name=produce_value]', '{"amount":7,"currency":"EUR"}');
    await fill(page, 'textarea[name=produce_headers]', 'source: console');
    await clickButton(page, 'Produce', 'form[aria-label="Produce a record"]');
    await waitForText(page, '.produce [role=status]', 'Produced to partition 0 at offset 1');

    await select(page, 'select[name=partition]', '0');
    await clickButton(page, 'Load');
    await page.waitForSelector('li.record[data-offset="1"]');
    const shown = await page.$eval('li.record[data-offset="1"]', (e) => (e as HTMLElement).innerText);
    expect(shown).toContain('user-42');
    expect(shown).toContain('source: console');
    expect(await page.$eval('li.record[data-offset="1"] pre.value', (e) => e.textContent)).toBe('{\n  "amount": 7,\n  "currency": "EUR"\n}');

    // An invalid JSON value is refused in the page, before any request.
    await fill(page, 'textarea[name=produce_value]', '{oops');
    await clickButton(page, 'Produce', 'form[aria-label="Produce a record"]');
    await waitForText(page, '.produce [role=alert]', 'not valid JSON');
    await screenshot(page, 'messages');
  });

  test('an Avro record is decoded through the registry; search filters what was loaded', async () => {
    await createTopic(strand.http, 'payments');
    const schema = { type: 'record', name: 'Payment', fields: [{ name: 'id', type: 'long' }, { name: 'payer', type: 'string' }] };
    const registered = await strand.http.request('POST', '/subjects/payments-value/versions', {
      json: { schema: JSON.stringify(schema) },
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    });
    expect(registered.status).toBe(200);
    for (const [id, payer] of [[1, 'ada'], [2, 'grace']] as const) {
      const res = await strand.http.post(`${topicPath('payments')}/records`, { value: { schema_id: registered.json.id, data: { id, payer } } });
      expect(res.status).toBe(200);
    }
    await open('#/topics/payments/messages');
    await select(page, 'select[name=from]', 'earliest');
    await clickButton(page, 'Load');
    await page.waitForSelector('li.record[data-offset="1"]');
    expect(await page.$eval('li.record[data-offset="0"] pre.value', (e) => e.textContent)).toBe('{\n  "id": 0,\n  "payer": "ada"\n}'.replace('0', '1'));
    await waitForText(page, 'li.record[data-offset="0"] .badge', `avro · schema ${registered.json.id}`);

    await fill(page, 'input[name=search]', 'grace');
    await page.waitForFunction(() => document.querySelectorAll('li.record').length === 1);
    expect(await page.$eval('li.record', (e) => e.getAttribute('data-offset'))).toBe('1');
  });

  test('live tail shows records as they are produced', async () => {
    await open('#/topics/payments/messages');
    await select(page, 'select[name=from]', 'earliest');
    await clickButton(page, 'Load');
    await page.waitForSelector('li.record[data-offset="1"]');
    await page.click('input[name=tail]');
    await waitForText(page, '[role=status]', 'Tailing');
    await strand.http.post(`${topicPath('payments')}/records`, { value: { type: 'STRING', data: 'tailed' } });
    await page.waitForSelector('li.record[data-offset="2"]', { timeout: 10_000 });
    expect(await page.$eval('li.record[data-offset="2"] pre.value', (e) => e.textContent)).toBe('tailed');
    await page.click('input[name=tail]');
  });
});

describe('groups', () => {
  test('a group\'s lag goes up as records arrive and down as it commits, on the page and its chart', async () => {
    await createTopic(strand.http, 'clicks');
    for (let i = 0; i < 5; i++) await produceString(strand.http, 'clicks', `c${i}`);
    const commit = (offset: number) => strand.http.post(`${groupPath('billing')}/offsets:commit`, { offsets: [{ topic_name: 'clicks', partition_id: 0, offset }] });
    expect((await commit(2)).status).toBe(200);

    await open('#/groups/billing');
    await waitForText(page, '[data-testid=total-lag]', '3');
    for (let i = 0; i < 4; i++) await produceString(strand.http, 'clicks', `d${i}`);
    await waitForText(page, '[data-testid=total-lag]', '7');
    expect((await commit(9)).status).toBe(200);
    await waitForText(page, '[data-testid=total-lag]', '0');
    // The chart drew every poll: up to 7 and back to 0.
    const points = await page.$eval('.chart polyline', (e) => (e.getAttribute('points') ?? '').split(' ').length);
    expect(points).toBeGreaterThanOrEqual(3);
    await waitForText(page, '.chart figcaption', 'clicks-0: 0');
    await screenshot(page, 'group');

    await open('#/');
    await waitForText(page, '[data-testid=lag-billing]', '0');
  });

  test('a group\'s members are listed with their assigned partitions, and a reset is refused while it has members', async () => {
    const joined = await strand.http.post(`${groupPath('live')}/heartbeat`, { member_epoch: 0, subscribed_topic_names: ['clicks'], client_id: 'console-test' });
    expect(joined.status).toBe(200);
    const { member_id: memberId, member_epoch: epoch } = joined.json;
    // A second heartbeat takes the assignment the first was given.
    expect((await strand.http.post(`${groupPath('live')}/heartbeat`, { member_id: memberId, member_epoch: epoch, owned_partitions: [] })).status).toBe(200);
    try {
      await open('#/groups/live');
      await waitForText(page, 'main ul.list', memberId);
      await waitForText(page, 'main ul.list', 'clicks-0');
      await waitForText(page, 'main', 'console-test');
      await waitForText(page, '[data-testid=group-state]', 'STABLE');
      // Nothing committed yet: the reset names its topics.
      await clickButton(page, 'Preview');
      await waitForText(page, '[role=alert]', 'Name at least one topic');
      await fill(page, 'input[name=reset_topics]', 'clicks');
      await clickButton(page, 'Preview');
      await clickButton(page, 'Apply reset');
      await waitForText(page, '[role=alert]', '40925');
    } finally {
      await strand.http.post(`${groupPath('live')}/heartbeat`, { member_id: memberId, member_epoch: -1 });
    }
  });

  test('reset offsets shows what moves before anything is written, then applies it', async () => {
    await open('#/groups/billing');
    await page.waitForSelector('select[name=reset_to]');
    await select(page, 'select[name=reset_to]', 'offset');
    await fill(page, 'input[name=reset_at]', '4');
    await clickButton(page, 'Preview');
    await page.waitForSelector('table.preview');
    const row = await page.$eval('table.preview tbody tr', (e) => (e as HTMLElement).innerText);
    expect(row).toMatch(/clicks-0\s+9\s+4\s+-5/);
    // Nothing moved yet.
    expect((await strand.http.get(`${groupPath('billing')}/offsets`)).json.offsets[0].offset).toBe(9);
    await screenshot(page, 'group-reset-preview');

    await clickButton(page, 'Apply reset');
    await waitForText(page, '[role=status]', 'Reset 1 partitions');
    expect((await strand.http.get(`${groupPath('billing')}/offsets`)).json.offsets[0].offset).toBe(4);
    await waitForText(page, '[data-testid=total-lag]', '5');
  });
});

describe('schemas', () => {
  test('subjects, versions with a diff, the compatibility level, and checking a schema', async () => {
    const register = (schema: object) =>
      strand.http.request('POST', '/subjects/users-value/versions', {
        json: { schema: JSON.stringify(schema) },
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      });
    const v1 = { type: 'record', name: 'User', fields: [{ name: 'id', type: 'long' }] };
    const v2 = { type: 'record', name: 'User', fields: [{ name: 'id', type: 'long' }, { name: 'email', type: 'string', default: '' }] };
    expect((await register(v1)).status).toBe(200);
    expect((await register(v2)).status).toBe(200);

    await open('#/schemas/users-value');
    await page.waitForSelector('pre.diff .add');
    expect(await page.$$eval('pre.diff .add', (es) => es.map((e) => e.textContent).join('\n'))).toContain('"email"');
    await waitForText(page, 'main', 'BACKWARD');

    const incompatible = { type: 'record', name: 'User', fields: [{ name: 'id', type: 'string' }] };
    await fill(page, 'textarea[name=schema]', JSON.stringify(incompatible));
    await clickButton(page, 'Check compatibility');
    await waitForText(page, 'form[aria-label="Check a schema"] [role=status]', 'Not compatible');
    await fill(page, 'textarea[name=schema]', JSON.stringify(v2));
    await clickButton(page, 'Check compatibility');
    await waitForText(page, 'form[aria-label="Check a schema"] [role=status]', 'Compatible.');
    await screenshot(page, 'schemas');
  });
});

describe('authentication', () => {
  test('with API keys on, the console says a key is needed and works once one is pasted into Settings', async () => {
    const key = `strand_console_${'k'.repeat(32)}`;
    const keyed = await startTestStrand({ auth: 'keys', bootstrapAdminKey: key });
    try {
      await page.goto('about:blank');
      await page.goto(`${keyed.url}/console#/`, { waitUntil: 'domcontentloaded' });
      await waitForText(page, '[role=alert]', '401');
      await page.click('[role=alert] a[href="#/settings"]');
      await page.waitForSelector('input[name=token]');
      await page.type('input[name=token]', key);
      await clickButton(page, 'Save');
      await waitForText(page, '[role=status]', 'The API accepts it');
      // Kept in this tab's session storage only.
      expect(await page.evaluate(() => (globalThis as any).localStorage.length)).toBe(0);
      await page.goto(`${keyed.url}/console#/`, { waitUntil: 'domcontentloaded' });
      await waitForText(page, 'main', 'No topics yet');
      expect(await page.$('[role=alert]')).toBeNull();
    } finally {
      await page.goto('about:blank');
      await keyed.dispose();
    }
  });
});

describe('layout and keyboard', () => {
  test('the overview at 1280 px', async () => {
    // Polling every half second, so the sparklines have points to draw within the test's time.
    await open('#/', '?refresh=0.5');
    await waitForText(page, 'table', 'clicks');
    // Traffic while the sparklines gather a few polls: records in, and a group consuming some of them.
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j <= (i * 7) % 5; j++) await produceString(strand.http, 'clicks', `e${i}-${j}`);
      if (i % 2 === 1) await strand.http.post(`${groupPath('billing')}/offsets:commit`, { offsets: [{ topic_name: 'clicks', partition_id: 0, offset: 6 + 2 * i }] });
      await new Promise((r) => setTimeout(r, 400));
    }
    await page.waitForFunction(() => document.querySelector('.spark polyline')?.getAttribute('points')?.split(' ').length >= 6, { timeout: 10_000 });
    await screenshot(page, 'overview');
  });

  test('every page fits a 375 px phone screen without sideways scrolling of the page', async () => {
    await page.setViewport(phone);
    try {
      for (const [hash, name] of [['#/', 'overview'], ['#/topics/orders', 'topic'], ['#/topics/orders/messages', 'messages'], ['#/groups/billing', 'group'], ['#/schemas/users-value', 'schemas']]) {
        await open(hash!);
        await new Promise((r) => setTimeout(r, 300));
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect({ hash, overflow }).toEqual({ hash, overflow: 0 });
        await screenshot(page, `phone-${name}`);
      }
    } finally {
      await page.setViewport(desktop);
    }
  });

  test('the keyboard reaches the skip link and the sections, and a new page puts focus on its heading', async () => {
    await open('#/');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Groups');
    await page.keyboard.press('Enter');
    await waitForText(page, 'main h1', 'Consumer groups');
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
    // Every form control has an accessible name.
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea, button')].filter((e) => !(e.closest('label') || e.getAttribute('aria-label') || (e.id && document.querySelector(`label[for="${e.id}"]`)) || (e.tagName === 'BUTTON' && e.textContent?.trim()))).length,
    );
    expect(unnamed).toBe(0);
  });
});
