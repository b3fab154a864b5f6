// The web panel as the agent serves it, in headless Chromium, against a real `cumma watch`:
// dialogs appear live while a capture is written, the usage filter, address search and sorting
// work, a dialog's details open; a screenshot goes to .cache/screenshots/panel.png
// (docs/images/panel.png with CUMMA_UPDATE_SCREENSHOTS=1).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, classifyFile, startAgent } from '../support/agent-process';
import { chromiumRequirement, launchChromium } from './browser';

const ROOT = join(__dirname, '..', '..');
const chromium = chromiumRequirement();

/** The panel redraws at the next animation frame: wait for it. */
async function settled(page: Page): Promise<void> {
  // A string: the root type-check has no DOM library.
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
}

async function rows(page: Page): Promise<{ id: string; usage: string; confidence: number; flow: string; time: string }[]> {
  return page.$$eval('[data-testid=dialogs] .tr', (elements) =>
    elements.map((row) => ({
      id: row.getAttribute('data-id') ?? '',
      usage: row.querySelector('[data-col=usage]')?.textContent ?? '',
      confidence: Number.parseFloat(row.querySelector('[data-col=confidence]')?.textContent ?? 'NaN'),
      flow: row.querySelector('[data-col=flow]')?.textContent ?? '',
      time: row.querySelector('[data-col=time]')?.textContent ?? '',
    })),
  );
}

async function dialogCount(page: Page): Promise<number> {
  const text = (await page.locator('[data-testid=count]').textContent()) ?? '';
  return Number.parseInt(text.replace(/,/g, ''), 10);
}

describe.skipIf(chromium.skip)('the panel served by the agent, in Chromium', () => {
  let root: string;
  let agent: AgentProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    chromium.assertAvailable();
    root = mkdtempSync(join(tmpdir(), 'cumma-panel-'));
    mkdirSync(join(root, 'captures'));
    agent = await startAgent(join(root, 'captures'), join(root, 'config'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') pageErrors.push(message.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (agent?.child.exitCode === null) await agent.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('connects with the token from the address fragment, then takes the token out of the address', async () => {
    await page.goto(`${agent.httpUrl}#token=${agent.token}`);
    await page.locator('[data-testid=status][data-state=connected]').waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(agent.httpUrl);
    expect(page.url()).not.toContain(agent.token);
    await expect(page.locator('[data-testid=captures]').textContent()).resolves.toContain('no capture');
  }, 30_000);

  it('shows dialogs live while a capture is being written', async () => {
    const source = readFileSync(join(ROOT, 'samples', 'whatsapp-chat.pcapng'));
    const target = join(root, 'captures', 'chat.pcapng');
    const expected = classifyFile(join(ROOT, 'samples', 'whatsapp-chat.pcapng')).length;
    // First a third of the file, as dumpcap would have written it so far.
    writeFileSync(target, source.subarray(0, Math.floor(source.length / 3)));
    await page.locator('[data-capture="chat.pcapng"]').waitFor({ timeout: 15_000 });
    let early = 0;
    const deadline = Date.now() + 20_000;
    while (early === 0 && Date.now() < deadline) {
      early = (await dialogCount(page)) || 0;
      if (early === 0) await page.waitForTimeout(200);
    }
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(expected);
    appendFileSync(target, source.subarray(Math.floor(source.length / 3)));
    // The rest arrives without a reload; dialogs left open close on the agent's clock.
    // Polled from here: the page's CSP (script-src 'self') forbids evaluating strings in it.
    const until = Date.now() + 40_000;
    while ((await dialogCount(page)) < expected && Date.now() < until) await page.waitForTimeout(250);
    expect(await dialogCount(page)).toBe(expected);
    expect((await rows(page)).length).toBeGreaterThan(10);
  }, 70_000);

  it('filters by usage', async () => {
    const all = await dialogCount(page);
    const usages = new Set((await rows(page)).map((row) => row.usage));
    const usage = [...usages].find((u) => u !== 'other') ?? [...usages][0]!;
    await page.locator(`[data-testid=usage-filter] [data-usage="${usage}"]`).click();
    await settled(page);
    const filtered = await rows(page);
    expect(filtered.length).toBeGreaterThan(0);
    expect(new Set(filtered.map((row) => row.usage))).toEqual(new Set([usage]));
    expect(await page.locator('[data-testid=count]').textContent()).toMatch(new RegExp(`^${filtered.length} of ${all} dialogs$`));
    await page.locator('[data-testid=usage-filter] [data-usage=all]').click();
    await settled(page);
    expect(await dialogCount(page)).toBe(all);
  });

  it('searches by address', async () => {
    const address = (await rows(page))[3]!.flow.split(' → ')[1]!.split(' ')[0]!;
    await page.locator('[data-testid=search]').fill(address);
    await settled(page);
    const found = await rows(page);
    expect(found.length).toBeGreaterThan(0);
    for (const row of found) expect(row.flow).toContain(address);
    await page.locator('[data-testid=search]').fill('');
    await settled(page);
  });

  it('sorts by confidence, both ways, and back by time', async () => {
    await page.locator('[data-sort=confidence]').click();
    await settled(page);
    const descending = (await rows(page)).map((row) => row.confidence);
    expect(descending).toEqual([...descending].sort((a, b) => b - a));
    expect(await page.locator('[data-sort=confidence]').getAttribute('aria-sort')).toBe('descending');
    await page.locator('[data-sort=confidence]').click();
    await settled(page);
    const ascending = (await rows(page)).map((row) => row.confidence);
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.locator('[data-sort=time]').click();
    await settled(page);
    const times = (await rows(page)).map((row) => row.time);
    expect(times).toEqual([...times].sort());
  });

  it('opens the details of a dialog, with its scores and directions', async () => {
    const target = (await rows(page)).find((row) => row.usage !== 'other') ?? (await rows(page))[0]!;
    await page.locator(`[data-testid=dialogs] .tr[data-id="${target.id}"]`).click();
    await settled(page);
    const details = page.locator('[data-testid=details]');
    await details.waitFor({ state: 'visible' });
    expect(await details.locator('.details-head .usage-chip').textContent()).toBe(target.usage);
    expect(await details.textContent()).toContain('up (client → server)');
    expect(await details.locator('[data-testid=scores] .score').count()).toBeGreaterThan(1);
    expect(await page.locator(`[data-testid=dialogs] .tr[data-id="${target.id}"]`).getAttribute('aria-selected')).toBe('true');
    // The README's screenshot is refreshed on request; a plain test run leaves the tree clean.
    const shots = process.env.CUMMA_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'images') : join(ROOT, '.cache', 'screenshots');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'panel.png') });
    expect(pageErrors).toEqual([]);
  });

  it('shows "provisional" whole in the status column at 1400 px', async () => {
    await page.setViewportSize({ width: 1400, height: 900 });
    await settled(page);
    // The dialogs are final by now: write the longest status into a row (as an italic
    // provisional row shows it) and measure it in the same call, before any redraw.
    const fits = await page.locator('[data-testid=dialogs] .tr').first().evaluate((row) => {
      row.classList.add('provisional');
      const cell = row.querySelector('[data-col=status]')!;
      cell.textContent = 'provisional';
      return { scroll: cell.scrollWidth, client: cell.clientWidth };
    });
    expect(fits.scroll).toBeLessThanOrEqual(fits.client);
    await page.setViewportSize({ width: 1440, height: 900 });
  });
});
