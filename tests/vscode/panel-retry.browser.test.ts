// The web panel, in headless Chromium, once its agent (a real `cumma watch`) has stopped: the
// status "agent not reachable at URL; retrying in N s" counts N down every second until the
// retry, then shows the next state — and the page holds no more timers than the retry and the
// countdown, however many retries go by (a countdown that is not cleared would pile up).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, startAgent } from '../support/agent-process';
import { chromiumRequirement, launchChromium } from './browser';

const chromium = chromiumRequirement();

/**
 * Counts the page's pending timeouts and live intervals, and logs every change of the status
 * (state or text) as the page makes it, with the page's clock and the timers pending then. A
 * string: it runs in the page before the panel's script (the root type-check has no DOM library).
 * Logged in the page rather than sampled from here: on a busy machine the samples came late
 * enough to miss a number of the countdown, or to time how long one showed by their own delay.
 */
const TIMER_PROBE = `(() => {
  const pending = new Set();
  const intervals = new Set();
  const { setTimeout: set, clearTimeout: clear, setInterval: every, clearInterval: stop } = window;
  window.setTimeout = function (callback, delay, ...rest) {
    const id = set.call(window, (...args) => { pending.delete(id); if (typeof callback === 'function') callback(...args); }, delay, ...rest);
    pending.add(id);
    return id;
  };
  window.clearTimeout = function (id) { pending.delete(id); return clear.call(window, id); };
  window.setInterval = function (...args) { const id = every.apply(window, args); intervals.add(id); return id; };
  window.clearInterval = function (id) { intervals.delete(id); return stop.call(window, id); };
  window.__cummaTimers = () => ({ timeouts: pending.size, intervals: intervals.size });
  const log = [];
  let last;
  new MutationObserver(() => {
    const status = document.querySelector('[data-testid=status]');
    if (status === null) return;
    const state = status.getAttribute('data-state') ?? '';
    const text = status.textContent ?? '';
    if (last !== undefined && last.state === state && last.text === text) return;
    last = { at: performance.now(), state, text, timeouts: pending.size, intervals: intervals.size };
    log.push(last);
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-state'] });
  window.__cummaStatusLog = () => log;
})();`;

interface Probe {
  __cummaTimers(): { timeouts: number; intervals: number };
  __cummaStatusLog(): Array<{ at: number; state: string; text: string; timeouts: number; intervals: number }>;
}

interface Sample {
  readonly at: number;
  readonly state: string;
  readonly text: string;
  /** The N of "retrying in N s" (0 for "retrying now"); undefined in any other state. */
  readonly seconds: number | undefined;
  readonly timeouts: number;
  readonly intervals: number;
}

/** Every status the page has shown since it loaded, timed from the first. */
async function statusLog(page: Page): Promise<Sample[]> {
  const log = await page.evaluate(() => (globalThis as unknown as Probe).__cummaStatusLog());
  return log.map(({ at, state, text, timeouts, intervals }) => {
    const match = /retrying in (\d+) s/.exec(text);
    const seconds = state !== 'retrying' ? undefined : match ? Number(match[1]) : /retrying now/.test(text) ? 0 : undefined;
    return { at: Math.round(at - log[0]!.at), state, text, seconds, timeouts, intervals };
  });
}

/** One number of a countdown, from the first sample that showed it. */
interface Shown {
  readonly seconds: number;
  readonly from: number;
}

/**
 * The samples cut into waits, each with the numbers it showed in turn: a wait ends with any
 * other state, or with a larger N (the next retry's delay, its 'connecting' too short to see).
 */
function waits(samples: readonly Sample[]): Shown[][] {
  const result: Shown[][] = [];
  let current: Shown[] = [];
  for (const { seconds, at } of samples) {
    const last = current.at(-1)?.seconds;
    if (seconds === undefined || (last !== undefined && seconds > last)) {
      if (current.length > 0) result.push(current);
      current = [];
    }
    if (seconds !== undefined && seconds !== last) current.push({ seconds, from: at });
  }
  if (current.length > 0) result.push(current);
  return result;
}

/** A wait of 3 s or more counted down to 1 s or less, and followed by another state. */
function countedDown(samples: readonly Sample[]): Shown[] | undefined {
  const all = waits(samples);
  return all.slice(0, -1).find((wait) => wait[0]!.seconds >= 3 && wait.at(-1)!.seconds <= 1);
}

describe.skipIf(chromium.skip)('the web panel while the agent is away', () => {
  let root: string;
  let agent: AgentProcess;
  let browser: Browser;

  beforeAll(async () => {
    chromium.assertAvailable();
    root = mkdtempSync(join(tmpdir(), 'cumma-panel-retry-'));
    mkdirSync(join(root, 'captures'));
    agent = await startAgent(join(root, 'captures'), join(root, 'config'));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (agent?.child.exitCode === null) await agent.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('counts "retrying in N s" down each second until the retry, then shows the next state', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    await context.addInitScript({ content: TIMER_PROBE });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${agent.httpUrl}#token=${agent.token}`);
    await page.locator('[data-testid=status][data-state=connected]').waitFor({ timeout: 15_000 });
    await agent.stop();
    await page.locator('[data-testid=status][data-state=retrying]').waitFor({ timeout: 15_000 });

    // The backoff goes 0.5, 1, 2, 4 s (less up to 20 % jitter): within some 8 s a wait of at
    // least 3 s has been counted down to its retry. The page logs each status it shows; the
    // timers are also counted between changes, where a countdown left running would pile them up.
    let samples: Sample[] = [];
    const between: Array<{ timeouts: number; intervals: number }> = [];
    const started = Date.now();
    while (countedDown(samples) === undefined && Date.now() - started < 20_000) {
      await page.waitForTimeout(100);
      between.push(await page.evaluate(() => (globalThis as unknown as Probe).__cummaTimers()));
      samples = await statusLog(page);
    }
    const described = samples.map((s) => `${s.at} ms: ${s.state} ${s.seconds ?? '-'} (${s.timeouts} timeouts) ${s.text}`).join('\n');
    const wait = countedDown(samples);
    expect(wait, described).toBeDefined();
    // One step at a time, none skipped, in every wait seen.
    for (const each of waits(samples)) for (let index = 1; index < each.length; index++) expect(each[index]!.seconds, described).toBe(each[index - 1]!.seconds - 1);
    // Each number showed for about a second (the first of a wait from an unknown moment), timed by
    // the page; a busy machine runs its timers late, hence the margin.
    for (let index = 2; index < wait!.length; index++) {
      const held = wait![index]!.from - wait![index - 1]!.from;
      expect(held, described).toBeGreaterThan(500);
      expect(held, described).toBeLessThan(1_500);
    }
    // At most the transport's retry and the countdown are pending, and never an interval.
    expect(Math.max(...[...samples, ...between].map((s) => s.timeouts)), described).toBeLessThanOrEqual(2);
    expect(Math.max(...[...samples, ...between].map((s) => s.intervals)), described).toBe(0);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 60_000);
});
