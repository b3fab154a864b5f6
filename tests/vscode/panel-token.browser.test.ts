// The web panel's token handling, in headless Chromium against a real `cumma watch`:
// - no token: the status says a token is missing, not that one was refused, and nothing is tried;
// - a wrong token: the status says the agent refused it, and the page stops trying (the agent
//   is plainly reachable: it served the page);
// - a correct …/#token= link opened in the same tab afterwards (only the fragment changes, the
//   page is not reloaded): the page takes the new token, strips it from the address, connects;
// - a stopped agent is still reported as not reachable, and retried.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, startAgent } from '../support/agent-process';
import { chromiumRequirement, launchChromium } from './browser';

const chromium = chromiumRequirement();

interface Watched {
  readonly page: Page;
  /** WebSocket connections the page opened (each attempt is one). */
  sockets(): number;
  /** Full page loads (a fragment change is not one). */
  loads(): number;
}

describe.skipIf(chromium.skip)('the web panel and its token', () => {
  let root: string;
  let agent: AgentProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** A page in a fresh context: its own sessionStorage, so no token is left from another test. */
  async function freshPage(): Promise<Watched> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    let sockets = 0;
    let loads = 0;
    page.on('websocket', () => sockets++);
    page.on('load', () => loads++);
    return { page, sockets: () => sockets, loads: () => loads };
  }

  const status = (page: Page) => page.locator('[data-testid=status]');

  beforeAll(async () => {
    chromium.assertAvailable();
    root = mkdtempSync(join(tmpdir(), 'cumma-panel-token-'));
    mkdirSync(join(root, 'captures'));
    agent = await startAgent(join(root, 'captures'), join(root, 'config'));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    if (agent?.child.exitCode === null) await agent.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('without a token, says a token is missing (not refused) and tries nothing', async () => {
    const { page, sockets } = await freshPage();
    await page.goto(agent.httpUrl);
    await page.locator('[data-testid=status][data-state=unauthorized]').waitFor({ timeout: 15_000 });
    const text = (await status(page).textContent()) ?? '';
    expect(text).toContain('no token');
    expect(text).not.toContain('refused');
    expect(await page.locator('.banner').textContent()).toContain('no token: open the address');
    expect(sockets()).toBe(0);
  }, 30_000);

  it('with a wrong token, says the agent refused it and stops trying', async () => {
    const { page, sockets } = await freshPage();
    await page.goto(`${agent.httpUrl}#token=not-the-token`);
    await page.locator('[data-testid=status][data-state=unauthorized]').waitFor({ timeout: 15_000 });
    expect(await status(page).textContent()).toContain('refused the token');
    expect(await page.locator('.banner').textContent()).toContain('the agent refused the token');
    expect(page.url()).toBe(agent.httpUrl);
    // The backoff starts at 0.5 s: three seconds would hold several retries if there were any.
    await page.waitForTimeout(3000);
    expect(sockets()).toBe(1);
    expect(await status(page).getAttribute('data-state')).toBe('unauthorized');
  }, 30_000);

  it('takes a correct …/#token= link opened in the same tab after a wrong one, without a reload', async () => {
    const { page, loads } = await freshPage();
    await page.goto(`${agent.httpUrl}#token=not-the-token`);
    // However the failure is reported, wait until the wrong token has been tried.
    await page.locator('[data-testid=status][data-state=unauthorized], [data-testid=status][data-state=retrying]').waitFor({ timeout: 15_000 });
    // The user pastes the right link into the same tab: a fragment navigation, no reload.
    const loadsBefore = loads();
    await page.goto(`${agent.httpUrl}#token=${agent.token}`);
    await page.locator('[data-testid=status][data-state=connected]').waitFor({ timeout: 15_000 });
    expect(loads()).toBe(loadsBefore);
    expect(page.url()).toBe(agent.httpUrl);
    expect(page.url()).not.toContain(agent.token);
    expect(await page.locator('.banner').isHidden()).toBe(true);
    // The new token replaced the old one for this tab: a reload connects without the fragment.
    await page.reload();
    await page.locator('[data-testid=status][data-state=connected]').waitFor({ timeout: 15_000 });
  }, 40_000);

  it('reports a stopped agent as not reachable, and keeps retrying', async () => {
    const { page, sockets } = await freshPage();
    await page.goto(`${agent.httpUrl}#token=${agent.token}`);
    await page.locator('[data-testid=status][data-state=connected]').waitFor({ timeout: 15_000 });
    await agent.stop();
    await page.locator('[data-testid=status][data-state=retrying]').waitFor({ timeout: 15_000 });
    const deadline = Date.now() + 10_000;
    while (sockets() < 3 && Date.now() < deadline) await page.waitForTimeout(200);
    expect(sockets()).toBeGreaterThanOrEqual(3);
    // Between attempts, not during one (then it says "connecting to …"): waited for as one state.
    await page.locator('[data-testid=status][data-state=retrying]', { hasText: 'not reachable' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('.banner').textContent()).toContain('agent not reachable');
  }, 40_000);
});
