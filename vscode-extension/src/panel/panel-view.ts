/**
 * The panel's DOM: connection bar, captures, usage filter and address search, timeline, the
 * dialogs table (virtualised: only visible rows exist) and the details of the chosen dialog.
 * Reads PanelModel, turns clicks into PanelActions; builds every element itself, with text
 * set through textContent only.
 */
import type { UsageVerdict } from '../../../agent/src/labels';
import type { ClientMessage } from '../../../agent/src/serve/protocol';
import { describeConnection } from '../shared/connection';
import { clear, h } from '../shared/dom';
import { FLOW_ARROW, flowEnds, flowLabel, formatBytes, formatClock, formatDuration, formatPercent } from '../shared/format';
import { PanelDialog, USAGE_VERDICTS } from '../shared/protocol-guard';
import { RetryCountdown } from '../shared/retry-countdown';
import { USAGE_COLOURS } from '../shared/usage-style';
import { rowWindow } from '../shared/virtual-window';
import { SORT_KEYS, SortKey } from './dialog-view';
import { PanelAction, PanelModel, missingFolders } from './panel-model';
import { TimelineLayout, barAt, fitFlowLabel, layoutTimeline, rowAt } from './timeline-layout';
import type { PanelTransport } from './transport';

/** Row height of the dialogs table when panel.css gives none (--row-height: two lines when narrow). */
const ROW_HEIGHT = 24;
const TIMELINE_ROW = 14;
/** Flow labels are drawn on the timeline from this width on; narrower, the bars need the room. */
const TIMELINE_LABELS_FROM = 560;
/** Space left of a timeline label, and between it and the bars. */
const LABEL_PAD = 4;
const LABEL_GAP = 8;
const COLUMN_TITLES: Readonly<Record<SortKey, string>> = { time: 'Time', flow: 'Flow', usage: 'Usage', confidence: 'Conf.', status: 'Status' };

export function usageChip(usage: UsageVerdict | undefined): HTMLElement {
  const chip = h('span', { class: 'usage-chip', 'data-usage': usage ?? '' }, usage ?? '—');
  if (usage) chip.style.setProperty('--usage-colour', USAGE_COLOURS[usage]);
  return chip;
}

export class PanelView {
  private readonly statusDot = h('span', { class: 'dot' });
  private readonly statusText = h('span', { class: 'status-text', 'data-testid': 'status' });
  private readonly agentText = h('span', { class: 'agent-text' });
  private readonly connectButton = h('button', { type: 'button', class: 'secondary', 'data-testid': 'connect' });
  private readonly banner = h('div', { class: 'banner', role: 'alert', hidden: true });
  private readonly statsText = h('div', { class: 'stats', 'data-testid': 'stats' });
  private readonly captureList = h('ul', { class: 'captures', 'data-testid': 'captures' });
  private readonly chips = new Map<UsageVerdict, HTMLButtonElement>();
  private readonly allChip = h('button', { type: 'button', class: 'chip all', 'data-usage': 'all' }, 'all');
  private readonly search = h('input', { type: 'search', placeholder: 'Search address…', 'aria-label': 'Search by address', 'data-testid': 'search', spellcheck: 'false' });
  private readonly countText = h('span', { class: 'count', 'data-testid': 'count' });
  private readonly canvas = h('canvas', { class: 'timeline', 'data-testid': 'timeline', 'aria-label': 'Timeline: one row per flow, bars coloured by usage' });
  private readonly timelineNote = h('div', { class: 'timeline-note' });
  private readonly headers = new Map<SortKey, HTMLElement>();
  private readonly viewport = h('div', { class: 'viewport', 'data-testid': 'dialogs' });
  private readonly spacer = h('div', { class: 'spacer' });
  private readonly rowsBox = h('div', { class: 'rows' });
  private readonly empty = h('div', { class: 'empty' });
  private readonly details = h('aside', { class: 'details', 'data-testid': 'details', hidden: true });
  private layout: TimelineLayout | undefined;
  private layoutKey: { rows: readonly PanelDialog[]; width: number } | undefined;
  private frame: number | undefined;
  private detailsKey = '';
  /** The dialogs the table's rows show, and which was selected: no need to build them again. */
  private shownRows: { readonly dialogs: readonly PanelDialog[]; readonly selected: string | undefined } | undefined;
  /** "retrying in N s" counts down between statuses; only the status text is redrawn for it. */
  private readonly countdown = new RetryCountdown(() => this.renderStatus());
  private readonly onResize = (): void => this.schedule();

  constructor(
    root: HTMLElement,
    private readonly model: PanelModel,
    private readonly transport: PanelTransport,
  ) {
    root.append(this.build());
    window.addEventListener('resize', this.onResize);
  }

  /** Applies an action and sends what it asks for. */
  dispatch(action: PanelAction): void {
    for (const message of this.model.dispatch(action)) this.send(message);
    if (action.type === 'selectDialog' && this.model.selectedCapture !== undefined) this.transport.selectDialog(this.model.selectedCapture, action.id);
    // Every new status replaces the countdown: a retry that became 'connecting' stops ticking.
    if (action.type === 'connection') this.countdown.follow(action.status);
    this.schedule();
  }

  /** The page or webview goes away: no timer, frame or listener of the view outlives it. */
  dispose(): void {
    this.countdown.dispose();
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.frame = undefined;
    window.removeEventListener('resize', this.onResize);
  }

  send(message: ClientMessage): void {
    this.transport.send(message);
  }

  /** Redraws at the next animation frame, however many messages arrive before it. */
  schedule(): void {
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      this.render();
    });
  }

  private build(): HTMLElement {
    this.connectButton.addEventListener('click', () => (this.model.connection.state === 'connected' || this.model.connection.state === 'connecting' ? this.transport.disconnect() : this.transport.connect()));
    const hostButtons: HTMLElement[] = [];
    if (this.transport.hostAction) {
      const act = this.transport.hostAction;
      const token = h('button', { type: 'button', class: 'secondary', title: 'Store the agent token in VS Code secret storage' }, 'Token…');
      token.addEventListener('click', () => act('setToken'));
      const watch = h('button', { type: 'button', class: 'secondary', title: 'Ask the agent to watch another folder' }, 'Watch folder…');
      watch.addEventListener('click', () => act('watchFolder'));
      hostButtons.push(token, watch);
    }
    const bar = h('header', { class: 'bar' }, this.statusDot, this.statusText, this.agentText, h('span', { class: 'spacer-flex' }), this.connectButton, ...hostButtons);

    this.allChip.addEventListener('click', () => this.dispatch({ type: 'clearUsages' }));
    const chipBox = h('div', { class: 'chips', role: 'group', 'aria-label': 'Filter by usage', 'data-testid': 'usage-filter' }, this.allChip);
    for (const usage of USAGE_VERDICTS) {
      const chip = h('button', { type: 'button', class: 'chip', 'data-usage': usage, 'aria-pressed': 'false' }, usage);
      chip.style.setProperty('--usage-colour', USAGE_COLOURS[usage]);
      chip.addEventListener('click', () => this.dispatch({ type: 'toggleUsage', usage }));
      this.chips.set(usage, chip);
      chipBox.append(chip);
    }
    this.search.addEventListener('input', () => this.dispatch({ type: 'search', text: this.search.value }));

    this.canvas.addEventListener('click', (event) => {
      if (!this.layout) return;
      const rect = this.canvas.getBoundingClientRect();
      const bar = barAt(this.layout, event.clientX - rect.left, event.clientY - rect.top);
      if (bar) this.dispatch({ type: 'selectDialog', id: bar.dialogId });
    });
    // Labels are elided, or not drawn at all when narrow: the whole flow is in the tooltip.
    this.canvas.addEventListener('mousemove', (event) => {
      const rect = this.canvas.getBoundingClientRect();
      const x = event.clientX - rect.left;
      const y = event.clientY - rect.top;
      const row = this.layout ? rowAt(this.layout, y, TIMELINE_ROW) : undefined;
      const bar = this.layout ? barAt(this.layout, x, y) : undefined;
      const title = row ? (bar ? `${row.label}\n${bar.usage}` : row.label) : '';
      if (this.canvas.title !== title) this.canvas.title = title;
    });
    this.canvas.addEventListener('mouseleave', () => (this.canvas.title = ''));

    const head = h('div', { class: 'thead', role: 'row' });
    for (const key of SORT_KEYS) {
      const cell = h('div', { class: `cell col-${key}`, role: 'columnheader', 'data-sort': key, tabindex: '0', title: `Sort by ${COLUMN_TITLES[key].toLowerCase()}` }, COLUMN_TITLES[key]);
      const sort = (): void => this.dispatch({ type: 'sort', key });
      cell.addEventListener('click', sort);
      cell.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') sort();
      });
      this.headers.set(key, cell);
      head.append(cell);
    }
    this.spacer.append(this.rowsBox);
    this.viewport.append(this.spacer, this.empty);
    this.viewport.addEventListener('scroll', () => this.renderRows());
    this.rowsBox.addEventListener('click', (event) => {
      const row = (event.target as HTMLElement).closest<HTMLElement>('[data-id]');
      if (row) this.dispatch({ type: 'selectDialog', id: row.dataset['id'] });
    });
    this.viewport.tabIndex = 0;
    this.viewport.addEventListener('keydown', (event) => this.onKey(event));

    const main = h(
      'section',
      { class: 'main' },
      h('div', { class: 'toolbar' }, chipBox, h('div', { class: 'search-row' }, this.search, this.countText)),
      h('div', { class: 'timeline-wrap' }, this.canvas, this.timelineNote),
      h('div', { class: 'table', role: 'grid', 'aria-label': 'Dialogs' }, head, this.viewport),
    );
    const side = h('section', { class: 'side' }, h('h2', {}, 'Captures'), this.captureList, this.statsText);
    return h('div', { class: 'cumma-panel' }, bar, this.banner, h('div', { class: 'layout' }, side, main, this.details));
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp' && event.key !== 'Escape') return;
    event.preventDefault();
    if (event.key === 'Escape') return this.dispatch({ type: 'selectDialog', id: undefined });
    const rows = this.model.rows();
    const at = rows.findIndex((row) => row.id === this.model.selectedDialogId);
    const next = Math.max(0, Math.min(rows.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)));
    const row = rows[next];
    if (!row) return;
    this.dispatch({ type: 'selectDialog', id: row.id });
    const height = this.rowHeight();
    const top = next * height;
    if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    else if (top + height > this.viewport.scrollTop + this.viewport.clientHeight) this.viewport.scrollTop = top + height - this.viewport.clientHeight;
  }

  /** The table's row height as panel.css sets it for the current width (two lines when narrow). */
  private rowHeight(): number {
    const height = Number.parseFloat(getComputedStyle(this.viewport).getPropertyValue('--row-height'));
    return Number.isFinite(height) && height > 0 ? height : ROW_HEIGHT;
  }

  render(): void {
    this.renderBar();
    this.renderCaptures();
    this.renderToolbar();
    this.renderTimeline();
    this.renderRows();
    this.renderDetails();
  }

  private renderBar(): void {
    const { connection, mirror, lastError } = this.model;
    this.statusDot.className = `dot state-${connection.state}`;
    this.renderStatus();
    this.statusText.title = connection.detail ?? '';
    this.statusText.dataset['state'] = connection.state;
    const identity = mirror.identity;
    this.agentText.textContent = identity ? `${identity.agent} · model ${identity.model.name}${identity.anonymized ? ' · anonymised' : ''}` : '';
    const live = connection.state === 'connected' || connection.state === 'connecting';
    this.connectButton.textContent = live ? 'Disconnect' : 'Connect';
    const problem = lastError ?? missingFolders(mirror.folders) ?? (connection.state !== 'connected' ? connection.detail : undefined);
    this.banner.hidden = problem === undefined;
    this.banner.textContent = problem ?? '';
    const stats = mirror.stats;
    this.statsText.textContent = stats ? `${stats.packets.toLocaleString('en')} packets · ${stats.dialogs.toLocaleString('en')} dialogs · ${Math.round(stats.packetsPerSecond).toLocaleString('en')} packets/s` : '';
  }

  /** The status line alone: what the countdown redraws every second. */
  private renderStatus(): void {
    const text = describeConnection(this.countdown.current(this.model.connection));
    if (this.statusText.textContent !== text) this.statusText.textContent = text;
  }

  private renderCaptures(): void {
    clear(this.captureList);
    const captures = this.model.mirror.captures;
    if (captures.length === 0) {
      this.captureList.append(h('li', { class: 'muted' }, this.model.connection.state === 'connected' ? 'The agent watches no capture yet.' : 'No agent connected.'));
      return;
    }
    const lags = new Map((this.model.mirror.stats?.captures ?? []).map((lag) => [lag.name, lag.lagBytes]));
    for (const received of captures) {
      // Capture events carry the counts of their moment; the dialogs the panel holds may be newer.
      const capture = this.model.mirror.asHeld(received);
      const selected = capture.name === this.model.selectedCapture;
      const dialogs = capture.dialogs;
      const lag = lags.get(capture.name) ?? 0;
      const state = capture.state === 'reading' && capture.sizeBytes > 0 ? `reading ${formatPercent(Math.min(1, capture.bytesRead / capture.sizeBytes))}` : capture.state;
      const meta = [
        capture.packets > 0 ? `${capture.packets.toLocaleString('en')} packets` : '',
        `${dialogs.toLocaleString('en')} dialogs`,
        capture.sizeBytes > 0 ? formatBytes(capture.sizeBytes) : '',
        lag > 0 ? `${formatBytes(lag)} behind` : '',
      ].filter((part) => part !== '');
      const button = h(
        'button',
        { type: 'button', class: `capture${selected ? ' selected' : ''}`, 'data-capture': capture.name, 'aria-pressed': selected ? 'true' : 'false', title: capture.path },
        h('span', { class: 'capture-name' }, capture.name),
        h('span', { class: `capture-state state-${capture.state}` }, state),
        h('span', { class: 'capture-meta' }, meta.join(' · ')),
      );
      if (capture.error) button.append(h('span', { class: 'capture-error' }, capture.error));
      if (capture.warning) button.append(h('span', { class: 'capture-warning' }, capture.warning));
      button.addEventListener('click', () => this.dispatch({ type: 'selectCapture', name: capture.name }));
      const item = h('li', {}, button);
      if (this.transport.openCapture) {
        const open = this.transport.openCapture;
        const link = h('button', { type: 'button', class: 'link', title: 'Open the packet list in the Cumma capture editor' }, 'open');
        link.addEventListener('click', () => open(capture.name));
        item.append(link);
      }
      this.captureList.append(item);
    }
  }

  private renderToolbar(): void {
    const { usages, sort } = this.model;
    this.allChip.setAttribute('aria-pressed', usages.size === 0 ? 'true' : 'false');
    for (const [usage, chip] of this.chips) chip.setAttribute('aria-pressed', usages.has(usage) ? 'true' : 'false');
    if (this.search.value !== this.model.search) this.search.value = this.model.search;
    const total = this.model.selectedCapture === undefined ? 0 : this.model.mirror.dialogCount(this.model.selectedCapture);
    const shown = this.model.rows().length;
    this.countText.textContent = shown === total ? `${total.toLocaleString('en')} dialogs` : `${shown.toLocaleString('en')} of ${total.toLocaleString('en')} dialogs`;
    for (const [key, cell] of this.headers) {
      const active = sort.key === key;
      cell.setAttribute('aria-sort', active ? (sort.descending ? 'descending' : 'ascending') : 'none');
      cell.dataset['arrow'] = active ? (sort.descending ? '▼' : '▲') : '';
    }
  }

  private renderTimeline(): void {
    const rows = this.model.rows();
    let width = this.timelineWidth();
    const context = this.canvas.getContext('2d');
    const font = `11px ${getComputedStyle(this.canvas).fontFamily || 'sans-serif'}`;
    // Labels are measured in the font they are drawn in; without a context, a monospace guess.
    const measure = (text: string): number => (context ? context.measureText(text).width : text.length * 7);
    if (context) context.font = font;
    // rows() is memoised: the same array means the same dialogs, so the layout can be reused.
    if (!this.layout || this.layoutKey?.rows !== rows || this.layoutKey.width !== width) {
      this.layout = this.timelineLayout(rows, width, measure);
      this.layoutKey = { rows, width };
    }
    let layout = this.layout;
    const height = Math.max(TIMELINE_ROW, layout.height);
    // A taller canvas can bring the frame's scrollbar, which takes from the width: lay out again
    // for the width left beside it (the height does not depend on the width).
    this.canvas.style.height = `${height}px`;
    if (this.timelineWidth() !== width) {
      width = this.timelineWidth();
      layout = this.layout = this.timelineLayout(rows, width, measure);
      this.layoutKey = { rows, width };
    }
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.canvas.style.width = `${width}px`;
    if (!context) return;
    const style = getComputedStyle(this.canvas);
    // Resizing the canvas reset the context: transform and font again.
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.font = font;
    context.clearRect(0, 0, width, height);
    context.textBaseline = 'middle';
    const room = layout.labelWidth - LABEL_PAD - LABEL_GAP;
    layout.rows.forEach((row, index) => {
      if (index % 2 === 1) {
        context.fillStyle = 'rgba(128,128,128,0.08)';
        context.fillRect(0, row.y, width, TIMELINE_ROW);
      }
      if (room <= 0) return;
      // Elided to the room, never drawn with fillText's maxWidth (which squeezes the glyphs).
      const text = fitFlowLabel(row.client, row.server, room, measure);
      if (text === '') return;
      context.fillStyle = style.color || '#888';
      context.fillText(text, LABEL_PAD, row.y + TIMELINE_ROW / 2);
    });
    for (const bar of layout.bars) {
      context.fillStyle = USAGE_COLOURS[bar.usage];
      context.fillRect(bar.x, bar.y, bar.width, bar.height);
      if (bar.dialogId === this.model.selectedDialogId) {
        context.strokeStyle = style.color || '#000';
        context.lineWidth = 2;
        context.strokeRect(bar.x - 1, bar.y - 1, bar.width + 2, bar.height + 2);
      }
    }
    const span = layout.endUs - layout.startUs;
    this.timelineNote.textContent =
      layout.bars.length === 0
        ? ''
        : `${formatClock(layout.startUs)} – ${formatClock(layout.endUs)} (${formatDuration(span)})${layout.hiddenFlows > 0 ? ` · ${layout.hiddenFlows} more flows not drawn` : ''}`;
  }

  /** The room for the canvas: its frame's width inside the border and any scrollbar. */
  private timelineWidth(): number {
    return Math.max(120, this.canvas.parentElement?.clientWidth ?? 300);
  }

  /**
   * Narrow, the bars take the whole width and labels are left out (the tooltip has them).
   * Wide, a label column as wide as the widest label needs, but at most 40 % of the width
   * (320 px): longer labels are elided rather than crowding the bars.
   */
  private timelineLayout(rows: readonly PanelDialog[], width: number, measure: (text: string) => number): TimelineLayout {
    const options = { width, rowHeight: TIMELINE_ROW };
    if (width < TIMELINE_LABELS_FROM) return layoutTimeline(rows, { ...options, labelWidth: 0, maxRows: 24 });
    const most = Math.min(320, Math.round(width * 0.4));
    const widest = layoutTimeline(rows, { ...options, labelWidth: most, maxRows: 40 });
    const needed = Math.ceil(Math.max(0, ...widest.rows.map((row) => measure(row.label)))) + LABEL_PAD + LABEL_GAP;
    return needed >= most ? widest : layoutTimeline(rows, { ...options, labelWidth: needed, maxRows: 40 });
  }

  private renderRows(): void {
    const rows = this.model.rows();
    const window = rowWindow({ scrollTop: this.viewport.scrollTop, viewportHeight: this.viewport.clientHeight, rowHeight: this.rowHeight(), rowCount: rows.length });
    this.spacer.style.height = `${window.totalHeight}px`;
    this.rowsBox.style.transform = `translateY(${window.top}px)`;
    // Stats arrive every second and redraw the panel; rows built again each time would replace
    // the element under the pointer, and its tooltip (the whole flow) would never get to show.
    const dialogs = rows.slice(window.first, window.first + window.count);
    const selected = this.model.selectedDialogId;
    const shown = this.shownRows;
    if (!shown || shown.selected !== selected || shown.dialogs.length !== dialogs.length || shown.dialogs.some((dialog, index) => dialog !== dialogs[index])) {
      clear(this.rowsBox);
      for (const dialog of dialogs) this.rowsBox.append(this.row(dialog));
      this.shownRows = { dialogs, selected };
    }
    const capture = this.model.selectedCapture;
    this.empty.textContent = rows.length > 0 ? '' : capture === undefined ? 'No capture chosen.' : this.model.mirror.dialogCount(capture) === 0 ? 'No dialogs yet.' : 'No dialog matches the filter.';
    this.empty.hidden = rows.length > 0;
  }

  private row(dialog: PanelDialog): HTMLElement {
    const selected = dialog.id === this.model.selectedDialogId;
    const { client, server } = flowEnds(dialog);
    // Two ends elided separately (panel.css): when short of room the client goes first.
    const flow = h(
      'div',
      { class: 'cell col-flow', 'data-col': 'flow', title: flowLabel(dialog) },
      h('span', { class: 'flow-client' }, client),
      h('span', { class: 'flow-server' }, FLOW_ARROW + server),
    );
    return h(
      'div',
      { class: `tr${selected ? ' selected' : ''}${dialog.status === 'provisional' ? ' provisional' : ''}`, role: 'row', 'data-id': dialog.id, 'aria-selected': selected ? 'true' : 'false' },
      h('div', { class: 'cell col-time', 'data-col': 'time' }, formatClock(dialog.startUs)),
      flow,
      h('div', { class: 'cell col-usage', 'data-col': 'usage' }, usageChip(dialog.usage)),
      h('div', { class: 'cell col-confidence', 'data-col': 'confidence' }, formatPercent(dialog.confidence)),
      h('div', { class: 'cell col-status', 'data-col': 'status' }, dialog.status),
    );
  }

  private renderDetails(): void {
    const dialog = this.model.selectedDialog();
    if (!dialog) {
      this.details.hidden = true;
      this.detailsKey = '';
      return;
    }
    const key = JSON.stringify(dialog);
    if (key === this.detailsKey && !this.details.hidden) return;
    this.detailsKey = key;
    this.details.hidden = false;
    clear(this.details);
    const close = h('button', { type: 'button', class: 'link', 'aria-label': 'Close details' }, '×');
    close.addEventListener('click', () => this.dispatch({ type: 'selectDialog', id: undefined }));
    const copy = h('button', { type: 'button', class: 'secondary', 'data-testid': 'copy-json' }, 'Copy as JSON');
    copy.addEventListener('click', () => this.transport.copyDialog(dialog));
    const facts: [string, string][] = [
      ['Flow', flowLabel(dialog)],
      ['Session / dialog', `${dialog.session} / ${dialog.dialog}`],
      ['Start', formatClock(dialog.startUs)],
      ['Duration', formatDuration(dialog.endUs - dialog.startUs)],
      ['Confidence', formatPercent(dialog.confidence)],
      ['Status', dialog.status + (dialog.outlier ? ' · outlier' : '')],
      ['Model', dialog.model],
    ];
    const table = h('table', { class: 'directions' }, h('tr', {}, h('th', {}, ''), h('th', {}, 'packets'), h('th', {}, 'bytes')));
    table.append(
      h('tr', {}, h('th', {}, 'up (client → server)'), h('td', {}, dialog.packets.up.toLocaleString('en')), h('td', {}, formatBytes(dialog.bytes.up))),
      h('tr', {}, h('th', {}, 'down (server → client)'), h('td', {}, dialog.packets.down.toLocaleString('en')), h('td', {}, formatBytes(dialog.bytes.down))),
    );
    const scores = h('div', { class: 'scores', 'data-testid': 'scores' });
    const entries = Object.entries(dialog.scores).sort((a, b) => b[1] - a[1]);
    for (const [usage, score] of entries) {
      const fill = h('span', { class: 'score-fill' });
      fill.style.width = `${Math.max(0.5, score * 100)}%`;
      fill.style.background = USAGE_COLOURS[usage as UsageVerdict];
      scores.append(h('div', { class: 'score' }, h('span', { class: 'score-name' }, usage), h('span', { class: 'score-bar' }, fill), h('span', { class: 'score-value' }, score.toFixed(3))));
    }
    this.details.append(
      h('div', { class: 'details-head' }, usageChip(dialog.usage), h('span', { class: 'spacer-flex' }), copy, close),
      h('dl', {}, ...facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
      h('h3', {}, 'Packets and bytes'),
      table,
      h('h3', {}, 'Scores'),
      entries.length > 0 ? scores : h('p', { class: 'muted' }, 'No scores.'),
    );
    const features = dialog.features;
    if (features) {
      const list = h('dl', { class: 'features', 'data-testid': 'features' });
      for (const [name, value] of Object.entries(features).slice(0, 24)) list.append(h('dt', {}, name), h('dd', {}, Number.isInteger(value) ? String(value) : value.toPrecision(4)));
      this.details.append(h('h3', {}, 'Main features'), list);
    }
  }
}
