// The web panel's flow labels at several widths, in headless Chromium against a real `cumma
// watch` that has labelled a sample capture:
// - the timeline draws its labels at their natural width, elided when the label column is too
//   narrow for them, never squeezed (canvas fillText's maxWidth) nor running into the bars, and
//   leaves them out when the panel is narrow; the flow under the pointer is the canvas's tooltip;
// - in a narrow side bar (300 px) the dialogs table gives the flow a line of its own: the server
//   end is whole, the client end elided if need be, the whole flow in the cell's tooltip — and
//   the row under the pointer stays the same element while stats arrive every second, so that
//   tooltip gets to show.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowLabel } from '../../vscode-extension/src/shared/format';
import { AgentProcess, classifyFile, startAgent } from '../support/agent-process';
import { chromiumRequirement, launchChromium } from './browser';

const ROOT = join(__dirname, '..', '..');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
const chromium = chromiumRequirement();

/**
 * Records what the timeline canvas draws in its latest frame (from its clearRect on): each
 * fillText with its maxWidth and its natural width in the font of the moment, each fillRect with
 * its colour. A string: it runs in the page before the panel's script (the root type-check has
 * no DOM library).
 */
const CANVAS_PROBE = `(() => {
  const proto = CanvasRenderingContext2D.prototype;
  const { fillText, fillRect, clearRect } = proto;
  const ours = (context) => context.canvas.dataset.testid === 'timeline';
  let frame = { texts: [], rects: [], drawn: 0 };
  proto.clearRect = function (...args) {
    if (ours(this)) frame = { texts: [], rects: [], drawn: frame.drawn + 1 };
    return clearRect.apply(this, args);
  };
  proto.fillText = function (text, x, y, maxWidth) {
    if (ours(this)) frame.texts.push({ text: String(text), x, maxWidth: arguments.length > 3 ? maxWidth : null, width: this.measureText(String(text)).width });
    return fillText.apply(this, arguments);
  };
  proto.fillRect = function (x, y, width, height) {
    if (ours(this)) frame.rects.push({ x, width, style: String(this.fillStyle) });
    return fillRect.apply(this, arguments);
  };
  window.__cummaTimeline = () => frame;
})();`;

interface DrawnText {
  readonly text: string;
  readonly x: number;
  readonly maxWidth: number | null;
  readonly width: number;
}

interface TimelineFrame {
  readonly texts: readonly DrawnText[];
  readonly rects: readonly { readonly x: number; readonly width: number; readonly style: string }[];
  /** Frames drawn since the page loaded: one per redraw of the panel. */
  readonly drawn: number;
}

interface Probe {
  __cummaTimeline(): TimelineFrame;
}

/** The panel redraws at the next animation frame: wait for it. */
async function settled(page: Page): Promise<void> {
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
}

async function timeline(page: Page): Promise<TimelineFrame> {
  await settled(page);
  return page.evaluate(() => (globalThis as unknown as Probe).__cummaTimeline());
}

describe.skipIf(chromium.skip)('flow labels in the web panel, wide and narrow', () => {
  let root: string;
  let agent: AgentProcess;
  let browser: Browser;
  let context: BrowserContext;
  /** flowLabel of every flow of the sample. */
  let flows: Set<string>;
  let dialogs: number;
  const pageErrors: string[] = [];

  async function open(width: number): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${agent.httpUrl}#token=${agent.token}`);
    await page.locator('[data-testid=status][data-state=connected]').waitFor({ timeout: 15_000 });
    // The panel chooses the only capture by itself; wait for all of its dialogs.
    await page.locator('[data-testid=count]').filter({ hasText: new RegExp(`^${dialogs} dialogs$`) }).waitFor({ timeout: 15_000 });
    await settled(page);
    return page;
  }

  beforeAll(async () => {
    chromium.assertAvailable();
    const expected = classifyFile(SAMPLE);
    dialogs = expected.length;
    flows = new Set(expected.map((dialog) => flowLabel(dialog)));
    root = mkdtempSync(join(tmpdir(), 'cumma-panel-layout-'));
    mkdirSync(join(root, 'captures'));
    agent = await startAgent(join(root, 'captures'), join(root, 'config'));
    copyFileSync(SAMPLE, join(root, 'captures', 'chat.pcapng'));
    // Every dialog final: no later update rebuilds a row while a test looks at it.
    const deadline = Date.now() + 40_000;
    const finals = (): number => new Set(agent.published().filter((dialog) => dialog.status === 'final').map((dialog) => dialog.id)).size;
    while (finals() < dialogs && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(finals()).toBe(dialogs);
    browser = await launchChromium();
    context = await browser.newContext();
    await context.addInitScript({ content: CANVAS_PROBE });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (agent?.child.exitCode === null) await agent.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Labels drawn at their own width, left of every bar. */
  function expectReadable(frame: TimelineFrame): void {
    const bars = frame.rects.filter((rect) => rect.style.startsWith('#'));
    expect(bars.length).toBeGreaterThan(0);
    const firstBar = Math.min(...bars.map((bar) => bar.x));
    for (const label of frame.texts) {
      // fillText squeezes a text wider than its maxWidth: there must be none.
      if (label.maxWidth !== null) expect(label.width, label.text).toBeLessThanOrEqual(label.maxWidth);
      expect(label.x + label.width, label.text).toBeLessThanOrEqual(firstBar);
    }
  }

  it('draws whole timeline labels at 1440 px, none squeezed or over the bars', async () => {
    const page = await open(1440);
    const frame = await timeline(page);
    expect(frame.texts.map((label) => label.text).sort()).toEqual([...flows].sort());
    expectReadable(frame);
    await page.close();
  });

  it('elides timeline labels that do not fit at 600 px, keeping the server end', async () => {
    const page = await open(600);
    const frame = await timeline(page);
    expect(frame.texts).toHaveLength(flows.size);
    expectReadable(frame);
    const elided = frame.texts.filter((label) => !flows.has(label.text));
    expect(elided.length).toBeGreaterThan(0);
    for (const { text } of elided) {
      // "10.58.111… → 185.60.216.105:443 tcp": a start of the client, then the whole server end.
      const [client, server] = text.split('… → ');
      expect([...flows].some((flow) => flow.startsWith(client!) && flow.endsWith(` → ${server}`)), text).toBe(true);
    }
    await page.close();
  });

  it('leaves labels out of a narrow timeline, and shows the flow under the pointer as its tooltip', async () => {
    const page = await open(300);
    const frame = await timeline(page);
    expect(frame.texts).toEqual([]);
    const canvas = page.locator('[data-testid=timeline]');
    const box = (await canvas.boundingBox())!;
    // Row 2 (14 px rows), left of any bar.
    await page.mouse.move(box.x + 2, box.y + 2 * 14 + 7);
    const title = (await canvas.getAttribute('title')) ?? '';
    expect(flows.has(title.split('\n')[0]!), title).toBe(true);
    await page.mouse.move(box.x + 2, box.y + box.height + 40);
    await page.close();
  });

  it('shows the whole server end of each flow in a 300 px side bar, the whole flow as tooltip', async () => {
    const page = await open(300);
    const cells = await page.$$eval('[data-testid=dialogs] .tr [data-col=flow]', (elements) =>
      elements.map((cell) => {
        const server = cell.querySelector('.flow-server');
        const client = cell.querySelector('.flow-client');
        const box = cell.getBoundingClientRect();
        const serverBox = server?.getBoundingClientRect();
        return {
          text: cell.textContent ?? '',
          title: cell.getAttribute('title') ?? '',
          cellFits: cell.scrollWidth <= cell.clientWidth,
          server: server ? { whole: server.scrollWidth <= server.clientWidth, inside: serverBox!.right <= box.right + 0.5, text: server.textContent ?? '' } : undefined,
          clientElided: client ? client.scrollWidth > client.clientWidth : false,
          clientEllipsis: client ? String(client.ownerDocument.defaultView?.getComputedStyle(client).textOverflow) : '',
        };
      }),
    );
    expect(cells.length).toBeGreaterThan(10);
    for (const cell of cells) {
      expect(flows.has(cell.title), cell.title).toBe(true);
      expect(cell.text).toBe(cell.title);
      expect(cell.server, cell.title).toBeDefined();
      expect(cell.server!.whole, cell.title).toBe(true);
      expect(cell.server!.inside, cell.title).toBe(true);
      expect(cell.title.endsWith(cell.server!.text), cell.title).toBe(true);
      expect(cell.cellFits, cell.title).toBe(true);
      if (cell.clientElided) expect(cell.clientEllipsis).toBe('ellipsis');
    }
    await page.close();
  });

  it('keeps the row under the pointer while stats arrive, so its tooltip can show', async () => {
    const page = await open(300);
    const cell = page.locator('[data-testid=dialogs] .tr [data-col=flow]').nth(1);
    await cell.hover();
    const handle = await cell.elementHandle();
    const before = (await timeline(page)).drawn;
    await page.waitForTimeout(2_500);
    // The agent sent stats every second meanwhile, and the panel was redrawn for them...
    expect((await timeline(page)).drawn).toBeGreaterThanOrEqual(before + 2);
    // ...without replacing the row the pointer rests on.
    expect(await handle!.evaluate((element) => element.isConnected)).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
