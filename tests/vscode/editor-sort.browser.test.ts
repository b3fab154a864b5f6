// The capture editor's webview sorting its packet list, in headless Chromium: the editor's own
// bundle in its own HTML (webview-html.ts, with its CSP), talking to the extension host's own
// answers (packet-list-host.ts, run here in Node on a sample capture and its bundled-classifier
// labels) through a stand-in for VS Code's postMessage. Checks:
// - a header clicked sorts by its column, ascending, then descending, then back to the file
//   order, with the arrow and aria-sort on the header; headers are buttons (Enter, Space);
// - selection, the arrow keys, Home/End, Go to packet… and the details' links in the sorted list;
// - labels that arrive under a sort by usage sort the list again, the selected packet kept;
// - a capture that grows keeps its sort, its new packets placed by it;
// - the sort comes back after the webview is reloaded.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureIndexData, indexCapture } from '../../vscode-extension/src/host/capture-index';
import { LabelAssignment, assignLabels } from '../../vscode-extension/src/host/label-match';
import { classifyLocally } from '../../vscode-extension/src/host/local-classify';
import { ListedCapture, answerListRequest, editorCaptureInfo, listView } from '../../vscode-extension/src/host/packet-list-host';
import { PacketListView } from '../../vscode-extension/src/host/packet-list-view';
import { webviewHtml } from '../../vscode-extension/src/host/webview-html';
import { EditorToHost, HostToEditor, LabelSource, parseEditorToHost } from '../../vscode-extension/src/shared/bridge';
import type { PanelDialog } from '../../vscode-extension/src/shared/protocol-guard';
import { USAGE_VERDICTS } from '../../vscode-extension/src/shared/protocol-guard';
import { chromiumRequirement, launchChromium } from './browser';

const ROOT = join(__dirname, '..', '..');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
const ORIGIN = 'https://webview.test';
const chromium = chromiumRequirement();

/**
 * VS Code's side of a webview, as the page sees it: acquireVsCodeApi() posts to the test's
 * host (an exposed function) and keeps its state in sessionStorage, so that it outlives a
 * reload as VS Code keeps a webview's state. A string: the root type-check has no DOM library.
 */
const VSCODE_API = `window.acquireVsCodeApi = () => ({
  postMessage: (message) => window.cummaToHost(JSON.parse(JSON.stringify(message))),
  getState: () => JSON.parse(sessionStorage.getItem('cumma-state') ?? 'null') ?? undefined,
  setState: (state) => sessionStorage.setItem('cumma-state', JSON.stringify(state)),
});`;

interface ShownRow {
  readonly row: number;
  readonly number: number;
  readonly length: number;
  readonly usage: string;
  readonly dialog: number;
  readonly classes: string;
}

/**
 * The extension host's part for one editor, as capture-editor.ts plays it: 'init' and labels on
 * 'ready', the list's requests answered by packet-list-host.ts, lists computed again when labels
 * or the file change. Replies go out in order, one after another.
 */
class HostStandIn implements ListedCapture {
  index: CaptureIndexData;
  assignment: LabelAssignment | undefined;
  dialogs: readonly PanelDialog[] = [];
  list = new PacketListView();
  private revision = 0;
  private sent: Promise<void> = Promise.resolve();

  constructor(
    private readonly page: Page,
    index: CaptureIndexData,
  ) {
    this.index = index;
  }

  receive(raw: unknown): void {
    const message: EditorToHost = parseEditorToHost(raw);
    if (message.kind === 'ready') {
      // A page (re)loaded starts from the whole file; it sends the filter and sort it restores.
      this.list = new PacketListView();
      this.post({ kind: 'init', capture: editorCaptureInfo(this.index) });
      this.post({ kind: 'labels', source: this.source(), revision: this.revision });
      return;
    }
    if (message.kind === 'action') return;
    const reply = answerListRequest(this, this.list, message);
    if (reply) this.post(reply);
  }

  /** New labels, as apply() sends them. */
  label(assignment: LabelAssignment, dialogs: readonly PanelDialog[]): void {
    this.assignment = assignment;
    this.dialogs = dialogs;
    this.post({ kind: 'labels', source: this.source(), revision: ++this.revision });
    if (this.list.followsLabels) this.refresh();
  }

  /** The file read further, as indexChanged('grew') sends it. */
  grow(index: CaptureIndexData, assignment: LabelAssignment): void {
    this.index = index;
    this.assignment = assignment;
    this.post({ kind: 'init', capture: editorCaptureInfo(index) });
    this.post({ kind: 'labels', source: this.source(), revision: ++this.revision });
    if (this.list.arranged) this.refresh();
  }

  /** Waits for every reply sent so far to reach the page. */
  flushed(): Promise<void> {
    return this.sent;
  }

  private refresh(): void {
    this.list.refresh(this.index, this.assignment?.usage);
    this.post(listView(this.list, this.index.packets));
  }

  private source(): LabelSource {
    return this.assignment
      ? { kind: 'local', detail: 'default (test)', dialogs: this.dialogs.length, labelledPackets: this.assignment.labelledPackets, agentLabels: 'none' }
      : { kind: 'pending', detail: 'classifying with the bundled model…', dialogs: 0, labelledPackets: 0, agentLabels: 'none' };
  }

  private post(message: HostToEditor): void {
    this.sent = this.sent.then(() => this.page.evaluate((data) => (globalThis as unknown as { postMessage(data: unknown, origin: string): void }).postMessage(data, '*'), message));
  }
}

/** The first `count` packets of an index: the capture before it grew. */
function firstPackets(index: CaptureIndexData, count: number): CaptureIndexData {
  return {
    ...index,
    packets: count,
    timeUs: index.timeUs.slice(0, count),
    src: index.src.slice(0, count),
    dst: index.dst.slice(0, count),
    srcPort: index.srcPort.slice(0, count),
    dstPort: index.dstPort.slice(0, count),
    kind: index.kind.slice(0, count),
    ipProtocol: index.ipProtocol.slice(0, count),
    length: index.length.slice(0, count),
    flow: index.flow.slice(0, count),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(chromium.skip)('sorting the capture editor’s packet list, in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let host: HostStandIn;
  let whole: CaptureIndexData;
  let labels: { assignment: LabelAssignment; dialogs: readonly PanelDialog[] };
  const pageErrors: string[] = [];

  const rows = (): Promise<ShownRow[]> =>
    page.$$eval('[data-testid=packets] .tr[data-packet]', (elements) =>
      elements.map((row) => ({
        row: Number(row.getAttribute('data-index')),
        number: Number(row.children[0]?.textContent),
        length: Number(row.children[5]?.textContent),
        usage: row.querySelector('[data-col=usage]')?.textContent ?? '',
        dialog: Number(row.getAttribute('data-dialog')),
        classes: row.getAttribute('class') ?? '',
      })),
    );
  /** The rows on screen once those of the list's top are there. */
  const topRows = async (): Promise<ShownRow[]> => {
    await page.locator('[data-testid=packets]').evaluate((list) => (list.scrollTop = 0));
    return until('the first rows', async () => {
      const shown = await rows();
      return shown.length > 10 && shown[0]!.row === 0 ? shown : undefined;
    });
  };
  const header = (column: string) => page.locator(`.thead [role=columnheader]:has(button[data-sort=${column}])`);
  const ariaSorts = (): Promise<Record<string, string>> =>
    page.$$eval('.thead [role=columnheader]', (cells) => Object.fromEntries(cells.map((cell) => [cell.querySelector('button')?.getAttribute('data-sort') ?? '', cell.getAttribute('aria-sort') ?? ''])));
  const selected = async (): Promise<ShownRow | undefined> => (await rows()).find((row) => row.classes.split(' ').includes('selected'));
  /** A header clicked, once the list says it sorts that way. */
  const clickHeader = async (column: string, state: 'ascending' | 'descending'): Promise<void> => {
    await page.locator(`button[data-sort=${column}]`).click();
    await until(`${column} ${state}`, async () => (await ariaSorts())[column] === state);
  };
  /** Go to packet…: a number typed and Enter, then that packet's row selected. */
  const goTo = async (number: number): Promise<ShownRow> => {
    await page.locator('[data-testid=goto]').fill(String(number));
    await page.locator('[data-testid=goto]').press('Enter');
    return until(`packet ${number} selected`, async () => {
      const row = await selected();
      return row?.number === number ? row : undefined;
    });
  };

  beforeAll(async () => {
    chromium.assertAvailable();
    whole = indexCapture(SAMPLE);
    const local = classifyLocally(SAMPLE, join(ROOT, 'models', 'default.json'));
    labels = { assignment: assignLabels(whole, local.records), dialogs: local.records };
    const script = await build({ entryPoints: [join(ROOT, 'vscode-extension', 'src', 'editor', 'main.ts')], bundle: true, platform: 'browser', format: 'iife', write: false, logLevel: 'warning' });
    const files: Record<string, { readonly body: string | Uint8Array; readonly type: string }> = {
      '/editor.html': { body: webviewHtml({ cspSource: ORIGIN, scriptUri: `${ORIGIN}/editor.js`, styleUri: `${ORIGIN}/editor.css`, title: 'whatsapp-chat.pcapng' }), type: 'text/html' },
      '/editor.js': { body: script.outputFiles[0]!.contents, type: 'text/javascript' },
      '/editor.css': { body: readFileSync(join(ROOT, 'vscode-extension', 'src', 'editor', 'editor.css')), type: 'text/css' },
    };
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') pageErrors.push(message.text());
    });
    await page.route(`${ORIGIN}/**`, (route) => {
      const file = files[new URL(route.request().url()).pathname];
      return file ? route.fulfill({ status: 200, contentType: file.type, body: Buffer.from(file.body) }) : route.fulfill({ status: 404 });
    });
    await page.addInitScript(VSCODE_API);
    // Starts with the first half of the file, unlabelled: it grows and is labelled below.
    host = new HostStandIn(page, firstPackets(whole, Math.floor(whole.packets / 2)));
    await page.exposeFunction('cummaToHost', (message: unknown) => host.receive(message));
    await page.goto(`${ORIGIN}/editor.html`);
    await until('the packet list', async () => (await rows()).length > 10);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('sorts by a clicked header, ascending, then descending, then back to the file order', async () => {
    expect(Object.values(await ariaSorts()).every((state) => state === 'none')).toBe(true);
    const packets = host.index.packets;
    await header('length').locator('button').click();
    const ascending = await until('rows by length', async () => {
      const shown = await topRows();
      return (await ariaSorts())['length'] === 'ascending' && shown.some((row, at) => row.number !== at + 1) ? shown : undefined;
    });
    for (let at = 1; at < ascending.length; at++) {
      const [before, after] = [ascending[at - 1]!, ascending[at]!];
      expect(after.length).toBeGreaterThanOrEqual(before.length);
      // Ties keep the file's order.
      if (after.length === before.length) expect(after.number).toBeGreaterThan(before.number);
    }
    expect(await header('length').locator('button').getAttribute('data-arrow')).toBe('▲');
    expect(Object.entries(await ariaSorts()).filter(([, state]) => state !== 'none')).toEqual([['length', 'ascending']]);
    // Sorting hides nothing.
    expect(await page.locator('[data-testid=filter-count]').textContent()).toBe(`${packets} packets`);

    await header('length').locator('button').click();
    const descending = await until('rows by length, descending', async () => ((await ariaSorts())['length'] === 'descending' ? topRows() : undefined));
    const lengths = descending.map((row) => row.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
    expect(lengths[0]).toBe(Math.max(...host.index.length));
    expect(await header('length').locator('button').getAttribute('data-arrow')).toBe('▼');

    await header('length').locator('button').click();
    const fileOrder = await until('the file order', async () => {
      const shown = await topRows();
      return shown.every((row, at) => row.number === at + 1) ? shown : undefined;
    });
    expect(fileOrder[0]!.number).toBe(1);
    expect(Object.values(await ariaSorts()).every((state) => state === 'none')).toBe(true);
    expect(await header('length').locator('button').getAttribute('data-arrow')).toBe('');
  });

  it('sorts from the keyboard: headers are buttons, Tab reaches them, Enter and Space press them', async () => {
    await page.locator('button[data-sort=destination]').focus();
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').getAttribute('data-sort')).toBe('transport');
    await page.keyboard.press('Enter');
    await until('Transport ascending', async () => (await ariaSorts())['transport'] === 'ascending');
    await page.keyboard.press(' ');
    await until('Transport descending', async () => (await ariaSorts())['transport'] === 'descending');
    const shown = await topRows();
    const transports = await page.$$eval('[data-testid=packets] .tr[data-packet]', (elements) => elements.map((row) => row.children[4]?.textContent ?? ''));
    expect(transports).toEqual([...transports].sort().reverse());
    expect(shown.length).toBeGreaterThan(10);
  });

  it('selects, moves with the arrow keys, Home and End, and goes to a packet in the sorted list', async () => {
    await clickHeader('length', 'ascending');
    const shown = await topRows();
    await page.locator(`[data-testid=packets] .tr[data-index="2"]`).click();
    await until('the third row selected', async () => (await selected())?.number === shown[2]!.number);
    await page.keyboard.press('ArrowDown');
    await until('the fourth row selected', async () => (await selected())?.number === shown[3]!.number);
    await until('its details', async () => (await page.locator('[data-testid=packet-details] .label').first().textContent()) === `Packet ${shown[3]!.number}`);
    await page.keyboard.press('End');
    const last = await until('the last row selected', async () => {
      const row = await selected();
      return row?.row === host.index.packets - 1 ? row : undefined;
    });
    expect(last.length).toBe(Math.max(...host.index.length));
    await page.keyboard.press('Home');
    await until('the first row selected', async () => (await selected())?.number === shown[0]!.number);
    // Go to packet…: a number in the file, wherever the sort put it (not at its own row); the
    // list takes the focus.
    let target = 40;
    while (host.list.positionOf(target - 1, host.index.packets) === target - 1) target++;
    const reached = await goTo(target);
    expect(reached.row).not.toBe(target - 1);
    expect(await page.locator(':focus').getAttribute('data-testid')).toBe('packets');
  });

  it('labels arriving under a sort by usage sort the list again, the selected packet kept selected', async () => {
    await clickHeader('usage', 'ascending');
    // No labels yet: all unlabelled, in file order. Packet 30 selected, on screen.
    await goTo(30);
    const half = host.index.packets;
    host.label(
      { usage: labels.assignment.usage.slice(0, half), dialog: labels.assignment.dialog.slice(0, half), labelledPackets: labels.assignment.labelledPackets },
      labels.dialogs,
    );
    await host.flushed();
    const order = USAGE_VERDICTS as readonly string[];
    await until('labelled rows', async () => (await rows()).some((row) => row.usage !== ''));
    // Packet 30 is still selected, at the row the new order gives it, and on screen.
    const kept = await until('packet 30 still selected', async () => (await rows()).find((row) => row.number === 30 && row.classes.includes('selected')));
    expect(kept.row).toBe(host.list.positionOf(29, host.index.packets));
    expect(kept.row).not.toBe(29);
    expect(await page.locator('[data-testid=packet-details] .label').first().textContent()).toBe('Packet 30');
    const top = await topRows();
    const ranks = top.map((row) => (row.usage === '' ? order.length : order.indexOf(row.usage)));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(top[0]!.usage).not.toBe('');
  });

  it('highlights the selected packet’s dialog and follows the details’ links in the sorted list', async () => {
    const top = await topRows();
    const pick = top.find((row) => row.dialog >= 0)!;
    await page.locator(`[data-testid=packets] .tr[data-index="${pick.row}"]`).click();
    await until('the dialog highlighted', async () => (await rows()).some((row) => row.dialog === pick.dialog && row.classes.includes('in-dialog')));
    const link = page.locator('[data-testid=packet-details] button.link', { hasText: 'last packet' });
    const lastNumber = Number(((await link.textContent()) ?? '').replace(/\D/g, ''));
    await link.click();
    await until(`packet ${lastNumber} selected`, async () => (await selected())?.number === lastNumber);
  });

  it('keeps the sort as the capture grows, its new packets placed by it', async () => {
    // Newest first: the packets the file gains come at the top.
    await clickHeader('time', 'ascending');
    await clickHeader('time', 'descending');
    const half = host.index.packets;
    host.grow(whole, labels.assignment);
    await host.flushed();
    await until('the whole file', async () => ((await page.locator('.meta').textContent()) ?? '').includes(`${whole.packets} packets`));
    const top = await until('rows of the grown capture', async () => {
      const shown = await topRows();
      return shown.some((row) => row.number > half) ? shown : undefined;
    });
    // The order a comparison sort gives the whole file: time descending, ties in file order.
    const time = whole.timeUs;
    const expected = Array.from(time, (_, packet) => packet)
      .sort((a, b) => time[b]! - time[a]! || a - b)
      .slice(0, top.length)
      .map((packet) => packet + 1);
    expect(top.map((row) => row.number)).toEqual(expected);
    expect(top.every((row) => row.number > half)).toBe(true);
    expect((await ariaSorts())['time']).toBe('descending');
  });

  it('comes back with its sort and selected packet after the webview is reloaded', async () => {
    await clickHeader('length', 'ascending');
    await goTo(500);
    await page.reload();
    await until('Length ascending again', async () => (await ariaSorts())['length'] === 'ascending');
    await until('packet 500 selected and on screen', async () => (await selected())?.number === 500);
    const lengths = (await topRows()).map((row) => row.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(pageErrors).toEqual([]);
  });
});
