import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { INVARIANTS } from '../../lib/tools/verify/invariants';
import { readAssembly } from '../../lib/tools/verify/assembly';
import { verify, writeReport } from '../../lib/tools/verify/verify';
import { defaultAppDir } from '../support/default-app';

/** Debian's Chromium, which `.ci/run` installs; another with CHROMIUM=/path. */
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

describe('report.html in a browser', () => {
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'aiseg-html-'));

  beforeAll(async () => {
    writeReport(await verify(readAssembly(defaultAppDir())), dir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
    await page.waitForSelector('body[data-diagram]');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  test('loads nothing but itself, with no script error', async () => {
    expect(requests.filter((url) => url !== pathToFileURL(join(dir, 'report.html')).href)).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.locator('script[src], link[href], img[src], iframe, object, embed').count()).toBe(0);
    expect(readFileSync(join(dir, 'report.html'), 'utf8').length).toBeGreaterThan(1_000_000);
  });

  test('renders the network diagram: one box per segment, the internet node', async () => {
    expect(await page.getAttribute('body', 'data-diagram')).toBe('rendered');
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: false });
    const text = await page
      .locator('pre.mermaid svg')
      .evaluate((svg: { textContent: string | null }) => svg.textContent ?? '');
    for (const segment of [
      'development (development) 10.10.0.0/16',
      'training (training) 10.20.0.0/16',
      'internet',
    ]) {
      expect(text).toContain(segment);
    }
  });

  test('sorts a table by the column clicked, both ways', async () => {
    const table = page.locator('table', { has: page.locator('th', { hasText: 'HIPAA Security Rule' }) });
    const firstColumn = async () =>
      (await table.locator('tbody tr td:first-child').allInnerTexts()).map(Number);
    const ids = INVARIANTS.map((i) => i.id);
    expect(await firstColumn()).toEqual(ids);
    const header = table.locator('th').first();
    await header.click();
    expect(await firstColumn()).toEqual(ids);
    await header.click();
    expect(await firstColumn()).toEqual([...ids].reverse());
    expect(await header.getAttribute('aria-sort')).toBe('descending');
  });
});
