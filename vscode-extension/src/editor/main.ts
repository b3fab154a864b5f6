/**
 * The capture editor's webview: a packet list for captures of any size. The rows live in the
 * extension host; this page asks for the blocks of rows its viewport shows (rowWindow), keeps a
 * small cache of them, and draws only the visible rows. Selecting a packet highlights its
 * dialog and its flow and shows the dialog's details.
 *
 * The usage filter (packet-filter.ts) and the sort (packet-sort.ts) are applied in the host,
 * which holds the usage of every packet and the columns: this page says what it chose and learns
 * how many rows that shows; rows are then places in the filtered, sorted list, each carrying its
 * packet's number in the file. A packet is known by its index in the file (selectedPacket), its
 * row (selectedRow) follows the filter and the sort.
 */
import { EditorCaptureInfo, EditorToHost, HostToEditor, LabelSource, MAX_ROWS_PER_REQUEST, PacketRow, PacketSelection, parseHostToEditor } from '../shared/bridge';
import { ConnectionStatus, agentOnThisMachine, describeConnection } from '../shared/connection';
import { clear, h } from '../shared/dom';
import { flowLabel, formatBytes, formatClock, formatDuration, formatPercent, formatRelative } from '../shared/format';
import { GuardError } from '../shared/guard';
import { USAGE_CHOICES, UNLABELLED, UsageChoice, shownCountText, toggleChoice } from '../shared/packet-filter';
import { PACKET_COLUMNS, PACKET_COLUMN_TITLES, PacketColumn, PacketSort, ariaSort, inFileOrder, nextPacketSort } from '../shared/packet-sort';
import { RetryCountdown } from '../shared/retry-countdown';
import { USAGE_COLOURS, usageOfCode } from '../shared/usage-style';
import { rowWindow, scrollTopForRow } from '../shared/virtual-window';
import { editorButtons } from './editor-buttons';
import { gotoTarget, hiddenPacketHint } from './packet-goto';
import { NO_MATCH_TEXT, hiddenSelectionText, keyTargetRow, selectionAfterReread } from './selection-nav';
import { EditorViewState, restoredViewState, storedViewState, viewStateFor } from './view-state';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare const acquireVsCodeApi: () => VsCodeApi;

const ROW_HEIGHT = 22;
const BLOCK = 256;
const MAX_BLOCKS = 64;
const ARROWS = { ascending: '▲', descending: '▼', none: '' } as const;

class PacketListPage {
  private readonly api = acquireVsCodeApi();
  /** The filter, sort and selection the webview had before it was reloaded, applied once the capture is known. */
  private restoring: EditorViewState | undefined = restoredViewState(this.api.getState());
  /** A restored selection is centred when the host first places it, which may be once labels arrive. */
  private revealSelectionOnView = false;
  private capture: EditorCaptureInfo | undefined;
  private source: LabelSource | undefined;
  private revision = -1;
  private readonly blocks = new Map<number, readonly PacketRow[]>();
  private readonly pending = new Map<number, number>();
  private nextRequest = 1;
  private selection: PacketSelection | undefined;
  /** The selected packet (index in the file; -1: none, or not known yet after selectRow) and its row in the list. */
  private selectedPacket = -1;
  private selectedRow = -1;
  /** The usages chosen (none: every packet) and the sort (none: the file's order). */
  private choices: ReadonlySet<UsageChoice> = new Set();
  private sort: PacketSort | undefined;
  /** The serial of the latest choice of filter or sort, and of the host's latest view of the list. */
  private listSerial = 0;
  private viewSerial = 0;
  private shownRows = 0;
  /** The pending "Go to packet…" or details link while filtering or sorting: the host says where the packet is. */
  private locating: { readonly requestId: number; readonly serial: number; readonly focusList: boolean } | undefined;
  private frame: number | undefined;
  private connection: ConnectionStatus | undefined;
  /** "retrying in N s" counts down between statuses, as in the panel. */
  private readonly countdown = new RetryCountdown(() => this.renderConnectionText());

  private readonly title = h('span', { class: 'title', 'data-testid': 'capture-title' });
  private readonly meta = h('span', { class: 'meta' });
  private readonly sourceText = h('span', { class: 'source', 'data-testid': 'label-source' });
  private readonly connectionText = h('span', { class: 'connection', 'data-testid': 'connection' });
  private readonly message = h('div', { class: 'message', role: 'status' });
  private readonly classifyButton = h('button', { type: 'button', class: 'secondary', title: 'Label this capture with the bundled classifier' }, 'Classify locally');
  private readonly agentButton = h('button', { type: 'button', class: 'secondary', title: 'Use the labels of the running agent' }, 'Use agent labels');
  private readonly watchButton = h('button', { type: 'button', class: 'secondary', title: "Ask the agent to watch this capture's folder" }, 'Watch folder in agent');
  private readonly goto = h('input', { type: 'text', inputmode: 'numeric', placeholder: 'Go to packet…', 'aria-label': 'Go to packet number', 'aria-describedby': 'goto-hint', class: 'goto', 'data-testid': 'goto' });
  /** Why a typed number leads nowhere (not a number, out of range), next to the input. */
  private readonly gotoHint = h('span', { id: 'goto-hint', class: 'goto-hint', role: 'status', 'data-testid': 'goto-hint' });
  private readonly viewport = h('div', { class: 'viewport', 'data-testid': 'packets', tabindex: '0' });
  private readonly spacer = h('div', { class: 'spacer' });
  private readonly rowsBox = h('div', { class: 'rows' });
  private readonly details = h('div', { class: 'details', 'data-testid': 'packet-details' });
  private readonly allChip = h('button', { type: 'button', class: 'chip all', 'data-usage': 'all', 'aria-pressed': 'true' }, 'all');
  private readonly chips = new Map<UsageChoice, HTMLButtonElement>();
  private readonly filterCount = h('span', { class: 'count', 'data-testid': 'filter-count' });
  /** The column headers (role columnheader, aria-sort), each holding the button that sorts. */
  private readonly headers = new Map<PacketColumn, { readonly cell: HTMLElement; readonly button: HTMLButtonElement }>();
  private readonly root = h('div', { class: 'editor' });

  constructor(root: HTMLElement) {
    // Buttons in the headers: reached with Tab and pressed with Enter or Space, as any button.
    const head = h('div', { class: 'thead', role: 'row' });
    for (const column of PACKET_COLUMNS) {
      const button = h('button', { type: 'button', class: 'sort', 'data-sort': column }, PACKET_COLUMN_TITLES[column]);
      button.addEventListener('click', () => this.setSort(nextPacketSort(this.sort, column)));
      const cell = h('div', { class: 'cell', role: 'columnheader' }, button);
      this.headers.set(column, { cell, button });
      head.append(cell);
    }
    this.renderSort();
    this.spacer.append(this.rowsBox);
    this.viewport.append(this.spacer);
    // The panel's usage chips, plus packets no dialog labels.
    const chipBox = h('div', { class: 'chips', role: 'group', 'aria-label': 'Show only packets of these usages', 'data-testid': 'usage-filter' }, this.allChip);
    for (const choice of USAGE_CHOICES) {
      const chip = h('button', { type: 'button', class: 'chip', 'data-usage': choice, 'aria-pressed': 'false' }, choice);
      if (choice !== UNLABELLED) chip.style.setProperty('--usage-colour', USAGE_COLOURS[choice]);
      chip.addEventListener('click', () => this.setFilter(toggleChoice(this.choices, choice)));
      this.chips.set(choice, chip);
      chipBox.append(chip);
    }
    this.allChip.addEventListener('click', () => this.setFilter(new Set()));
    this.root.append(
      h('header', { class: 'bar' }, this.title, this.meta, h('span', { class: 'flex' }), this.goto, this.gotoHint, this.classifyButton, this.agentButton, this.watchButton),
      h('div', { class: 'bar sub' }, this.sourceText, h('span', { class: 'flex' }), this.connectionText),
      h('div', { class: 'bar filter' }, chipBox, h('span', { class: 'flex' }), this.filterCount),
      this.message,
      h('div', { class: 'table', role: 'grid', 'aria-label': 'Packets' }, head, this.viewport),
      this.details,
    );
    root.append(this.root);
    this.viewport.addEventListener('scroll', () => this.schedule());
    window.addEventListener('resize', () => this.schedule());
    this.rowsBox.addEventListener('click', (event) => {
      const row = (event.target as HTMLElement).closest<HTMLElement>('[data-index]');
      if (row) this.select(Number(row.dataset['index']));
    });
    this.viewport.addEventListener('keydown', (event) => this.onKey(event));
    this.classifyButton.addEventListener('click', () => this.post({ kind: 'action', action: 'classify' }));
    this.agentButton.addEventListener('click', () => this.post({ kind: 'action', action: 'connect' }));
    this.watchButton.addEventListener('click', () => this.post({ kind: 'action', action: 'watchFolder' }));
    this.showGotoHint('');
    // Nothing to offer before the host says where the labels come from.
    this.renderButtons();
    this.goto.addEventListener('input', () => this.showGotoHint(''));
    this.goto.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' || !this.capture) return;
      const target = gotoTarget(this.goto.value, this.capture.packets);
      if ('problem' in target) {
        // The input keeps the focus: the number can be corrected at once.
        this.showGotoHint(target.problem);
        return;
      }
      this.showGotoHint('');
      this.goToPacket(target.index, true);
    });
    window.addEventListener('message', (event: MessageEvent) => {
      let message: HostToEditor;
      try {
        message = parseHostToEditor(event.data);
      } catch (error) {
        console.warn('cumma: dropped a message from the extension host:', error instanceof GuardError ? error.message : error);
        return;
      }
      this.receive(message);
    });
    // Its one timer goes with the webview (none is left when the document is unloaded for good).
    window.addEventListener('pagehide', (event) => {
      if (!event.persisted) this.countdown.dispose();
    });
    this.post({ kind: 'ready' });
  }

  private post(message: EditorToHost): void {
    this.api.postMessage(message);
  }

  private saveState(): void {
    this.api.setState(storedViewState({ usages: [...this.choices], packet: this.selectedPacket, ...(this.sort ? { sort: this.sort } : {}) }));
  }

  /**
   * Puts back the filter, sort and selection of before a reload. The selection goes first, so
   * that the host's answer to the filter and sort already places it.
   */
  private restore(state: EditorViewState): void {
    this.restoring = undefined;
    const arranged = state.usages.length > 0 || !inFileOrder(state.sort);
    if (state.packet >= 0) {
      this.selectedPacket = state.packet;
      this.selectedRow = arranged ? -1 : state.packet;
      this.post({ kind: 'select', packet: state.packet });
    }
    if (state.usages.length > 0) this.setFilter(new Set(state.usages));
    if (state.sort) this.setSort(state.sort);
    if (arranged) {
      this.revealSelectionOnView = state.packet >= 0;
    } else if (state.packet >= 0) {
      this.sizeList();
      this.reveal(state.packet, false);
    }
  }

  private receive(message: HostToEditor): void {
    switch (message.kind) {
      case 'init':
        this.root.classList.remove('failed');
        this.capture = message.capture;
        this.blocks.clear();
        this.pending.clear();
        {
          // Read again, maybe shorter: a packet past the new end is no longer selected; one
          // still there is asked for again (its flow and dialog may differ in the new file).
          const kept = selectionAfterReread(this.selectedPacket, this.selectedRow, message.capture.packets);
          if (kept.packet !== this.selectedPacket || kept.row !== this.selectedRow) {
            this.selectedPacket = kept.packet;
            this.selectedRow = kept.row;
            this.selection = undefined;
            this.renderDetails();
          } else if (this.selectedPacket >= 0) this.post({ kind: 'select', packet: this.selectedPacket });
        }
        this.title.textContent = message.capture.name;
        if (this.restoring !== undefined) this.restore(viewStateFor(this.restoring, message.capture.packets));
        this.saveState();
        this.renderFilter();
        this.meta.textContent = `${message.capture.format} · ${message.capture.packets.toLocaleString('en')} packets · ${message.capture.flows.toLocaleString('en')} flows · ${formatBytes(message.capture.sizeBytes)}`;
        this.showMessage(
          message.capture.error === undefined
            ? ''
            : message.capture.unfinished
              ? `The file ends part-way: ${message.capture.error}. If it is still being written, its packets appear as they come; if not, it was cut short there.`
              : `Read up to a fault: ${message.capture.error}`,
        );
        break;
      case 'progress':
        this.showMessage(message.text);
        break;
      case 'failed':
        // Not a capture (or unreadable): an error state, with nothing that concerns packets or
        // labels — no label source, no classify or agent buttons, no packet list (editor.css).
        this.root.classList.add('failed');
        this.showMessage(message.message, true);
        break;
      case 'labels':
        this.source = message.source;
        if (message.revision !== this.revision) {
          this.revision = message.revision;
          this.blocks.clear();
          this.pending.clear();
          if (this.selectedPacket >= 0) this.post({ kind: 'select', packet: this.selectedPacket });
        }
        this.renderSource();
        break;
      case 'rows': {
        const block = this.pending.get(message.requestId);
        if (block === undefined) return;
        this.pending.delete(message.requestId);
        this.blocks.set(block, message.rows);
        while (this.blocks.size > MAX_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
        break;
      }
      case 'selection':
        this.selection = message.selection;
        this.selectedPacket = message.selection.packet;
        this.saveState();
        this.renderDetails();
        break;
      case 'view':
        this.applyView(message.serial, message.shown, message.selected);
        break;
      case 'located': {
        const locating = this.locating;
        if (locating?.requestId !== message.requestId) return;
        this.locating = undefined;
        // Asked under another choice: where the packet was then says nothing now.
        if (locating.serial !== this.listSerial) return;
        if (message.position < 0) {
          this.showGotoHint(hiddenPacketHint(message.packet, usageOfCode(message.usage)));
          return;
        }
        this.reveal(message.position, false);
        this.select(message.position, message.packet);
        if (locating.focusList) this.viewport.focus({ preventScroll: true });
        break;
      }
      case 'connection':
        this.renderConnection(message.status);
        break;
    }
    this.schedule();
  }

  private showGotoHint(text: string): void {
    this.gotoHint.textContent = text;
    this.gotoHint.hidden = text === '';
  }

  private showMessage(text: string, error = false): void {
    this.message.textContent = text;
    this.message.hidden = text === '';
    this.message.classList.toggle('error', error);
  }

  private renderSource(): void {
    const source = this.source;
    if (!source) return;
    this.sourceText.dataset['kind'] = source.kind;
    const lead = { agent: 'Labels from the agent', local: 'Labels from the bundled classifier', pending: 'Labelling…', none: 'No labels' }[source.kind];
    this.sourceText.textContent = `${lead}: ${source.detail}${source.kind === 'agent' || source.kind === 'local' ? ` · ${source.dialogs.toLocaleString('en')} dialogs, ${source.labelledPackets.toLocaleString('en')} packets labelled` : ''}`;
    this.renderButtons();
  }

  /** Only the buttons that would change something (editor-buttons.ts). */
  private renderButtons(): void {
    const shown = editorButtons(this.source, this.connection?.state, this.connection === undefined || agentOnThisMachine(this.connection.url));
    this.classifyButton.hidden = !shown.classify;
    this.agentButton.hidden = !shown.useAgent;
    this.watchButton.hidden = !shown.watchFolder;
    this.agentButton.title = this.source?.agentLabels === 'fit' ? 'Show the labels of the agent, which watches this capture' : 'Connect to the agent; its labels are shown if it watches this capture';
  }

  private renderConnection(status: ConnectionStatus): void {
    this.connection = status;
    this.countdown.follow(status);
    this.renderConnectionText();
    this.connectionText.dataset['state'] = status.state;
    this.renderButtons();
  }

  private renderConnectionText(): void {
    if (this.connection) this.connectionText.textContent = `Agent: ${describeConnection(this.countdown.current(this.connection))}`;
  }

  private schedule(): void {
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      this.renderRows();
    });
  }

  private get filtering(): boolean {
    return this.choices.size > 0;
  }

  /** Whether rows are other than packets in file order: the host then maps rows to packets. */
  private get arranged(): boolean {
    return this.filtering || !inFileOrder(this.sort);
  }

  /** Rows in the list: every packet (whatever the sort), or those the host counted for the filter. */
  private rowCount(): number {
    return this.filtering ? this.shownRows : (this.capture?.packets ?? 0);
  }

  private geometry(): { viewportHeight: number; rowHeight: number; rowCount: number } {
    return { viewportHeight: this.viewport.clientHeight, rowHeight: ROW_HEIGHT, rowCount: this.rowCount() };
  }

  /** A chip clicked: the host computes what the new choice shows (a 'view' answers). */
  private setFilter(choices: ReadonlySet<UsageChoice>): void {
    this.choices = choices;
    this.newChoice();
    this.post({ kind: 'filter', serial: this.listSerial, usages: [...choices] });
    this.renderFilter();
    this.schedule();
  }

  /** A header clicked: the host sorts what the filter shows (a 'view' answers). */
  private setSort(sort: PacketSort | undefined): void {
    this.sort = sort;
    this.newChoice();
    this.post({ kind: 'sort', serial: this.listSerial, ...(sort ? { sort } : {}) });
    this.renderSort();
    this.schedule();
  }

  /** Rows held, pending requests and a pending "Go to packet…" are of the list before a new choice. */
  private newChoice(): void {
    this.listSerial++;
    this.locating = undefined;
    this.revealSelectionOnView = false;
    this.saveState();
    this.blocks.clear();
    this.pending.clear();
  }

  /** The sorting column's arrow and aria-sort; each button's title says what a click does next. */
  private renderSort(): void {
    for (const [column, { cell, button }] of this.headers) {
      const state = ariaSort(this.sort, column);
      cell.setAttribute('aria-sort', state);
      button.dataset['arrow'] = ARROWS[state];
      const title = PACKET_COLUMN_TITLES[column];
      button.title = state === 'none' ? `Sort by ${title}` : state === 'ascending' ? `Sort by ${title}, descending` : 'Back to the file order';
    }
  }

  /**
   * The host's list for the current choice: its length and the selected packet's row. A new
   * choice shows the selected packet in the middle (or the list's top when it is hidden); new
   * labels or packets under the same choice keep the selected row where it was on screen.
   */
  private applyView(serial: number, shown: number, selected: number): void {
    if (serial !== this.listSerial) return;
    const geometry = this.geometry();
    const before = rowWindow({ scrollTop: this.viewport.scrollTop, ...geometry, overscan: 0 });
    const visibleRows = Math.floor(geometry.viewportHeight / ROW_HEIGHT);
    const above = this.selectedRow >= before.first && this.selectedRow < before.first + visibleRows ? this.selectedRow - before.first : undefined;
    const newChoice = serial !== this.viewSerial || (this.revealSelectionOnView && selected >= 0);
    if (selected >= 0) this.revealSelectionOnView = false;
    this.viewSerial = serial;
    this.shownRows = shown;
    this.blocks.clear();
    this.pending.clear();
    if (this.selectedPacket >= 0 || selected >= 0) this.selectedRow = selected;
    // The details say so when the selected packet is not in the list.
    this.renderDetails();
    const after = this.geometry();
    this.sizeList();
    if (newChoice) {
      if (this.selectedRow >= 0) this.viewport.scrollTop = scrollTopForRow(Math.max(0, this.selectedRow - Math.floor(visibleRows / 2)), after);
      else this.viewport.scrollTop = 0;
    } else if (above !== undefined && this.selectedRow >= 0) {
      this.viewport.scrollTop = scrollTopForRow(Math.max(0, this.selectedRow - above), after);
    }
    this.renderFilter();
  }

  private renderFilter(): void {
    this.allChip.setAttribute('aria-pressed', this.filtering ? 'false' : 'true');
    for (const [choice, chip] of this.chips) chip.setAttribute('aria-pressed', this.choices.has(choice) ? 'true' : 'false');
    const packets = this.capture?.packets ?? 0;
    this.filterCount.textContent = this.filtering && this.viewSerial !== this.listSerial ? 'filtering…' : shownCountText(this.rowCount(), packets, this.filtering);
  }

  /**
   * "Go to packet…" and the details' links: at once in the whole file's order (row = packet);
   * else the host says which row the packet is, wherever the sort put it, or that the filter
   * hides it.
   */
  private goToPacket(packet: number, focusList: boolean): void {
    if (!this.arranged) {
      this.reveal(packet, false);
      this.select(packet, packet);
      // The list takes the focus, so that the arrow keys move on from the packet just reached.
      if (focusList) this.viewport.focus({ preventScroll: true });
      return;
    }
    const requestId = this.nextRequest++;
    this.locating = { requestId, serial: this.listSerial, focusList };
    this.post({ kind: 'locate', requestId, packet });
  }

  /**
   * Gives the list its length now rather than at the next frame: needed before scrolling to a
   * row, as a scroll past the old end would stop there.
   */
  private sizeList(): void {
    this.spacer.style.height = `${rowWindow({ scrollTop: this.viewport.scrollTop, ...this.geometry() }).totalHeight}px`;
  }

  private renderRows(): void {
    const window = rowWindow({ scrollTop: this.viewport.scrollTop, ...this.geometry() });
    this.spacer.style.height = `${window.totalHeight}px`;
    this.rowsBox.style.transform = `translateY(${window.top}px)`;
    clear(this.rowsBox);
    if (this.filtering && this.viewSerial === this.listSerial && this.shownRows === 0) {
      this.spacer.style.height = `${ROW_HEIGHT}px`;
      this.rowsBox.append(h('div', { class: 'tr empty', 'data-testid': 'no-match' }, h('div', { class: 'cell muted' }, NO_MATCH_TEXT)));
      return;
    }
    const origin = this.capture?.originUs ?? 0;
    const selection = this.selection;
    for (let index = window.first; index < window.first + window.count; index++) {
      const block = Math.floor(index / BLOCK);
      const rows = this.blocks.get(block);
      if (!rows) {
        this.request(block);
        // A row's number is its packet's only in the whole file's order.
        this.rowsBox.append(h('div', { class: 'tr loading', 'data-index': String(index) }, h('div', { class: 'cell' }, this.arranged ? '…' : String(index + 1))));
        continue;
      }
      const row = rows[index - block * BLOCK];
      if (!row) continue;
      const [number, timeUs, source, destination, transport, length, usageCode, flowId, dialogRef] = row;
      const usage = usageOfCode(usageCode);
      let classes = 'tr';
      // A row chosen by its place (selectRow) is selected before the host names its packet.
      if (this.selectedPacket >= 0 ? number - 1 === this.selectedPacket : index === this.selectedRow) classes += ' selected';
      else if (selection && dialogRef >= 0 && dialogRef === selection.dialogRef) classes += ' in-dialog';
      else if (selection && flowId >= 0 && flowId === selection.flowId) classes += ' in-flow';
      const chip = h('span', { class: 'usage-chip' }, usage ?? '');
      if (usage) chip.style.setProperty('--usage-colour', USAGE_COLOURS[usage]);
      this.rowsBox.append(
        h(
          'div',
          { class: classes, role: 'row', 'data-index': String(index), 'data-packet': String(number - 1), 'data-flow': String(flowId), 'data-dialog': String(dialogRef) },
          h('div', { class: 'cell num' }, String(number)),
          h('div', { class: 'cell num' }, formatRelative(timeUs, origin)),
          h('div', { class: 'cell addr' }, source),
          h('div', { class: 'cell addr' }, destination),
          h('div', { class: 'cell' }, transport),
          h('div', { class: 'cell num' }, String(length)),
          h('div', { class: 'cell', 'data-col': 'usage' }, chip),
        ),
      );
    }
  }

  private request(block: number): void {
    // Rows of a choice the host has not answered yet would be of an unknown list.
    if (this.arranged && this.viewSerial !== this.listSerial) return;
    if ([...this.pending.values()].includes(block)) return;
    const total = this.rowCount();
    const first = block * BLOCK;
    const count = Math.min(BLOCK, total - first, MAX_ROWS_PER_REQUEST);
    if (count <= 0) return;
    const requestId = this.nextRequest++;
    this.pending.set(requestId, block);
    this.post({ kind: 'rows', requestId, first, count });
  }

  /** Selects row `row`; its packet when known (else the host finds it from the row). */
  private select(row: number, packet = this.packetAtRow(row)): void {
    this.selectedRow = row;
    this.selectedPacket = packet ?? -1;
    this.revealSelectionOnView = false;
    this.saveState();
    this.post(packet === undefined ? { kind: 'selectRow', row } : { kind: 'select', packet });
    this.schedule();
  }

  /** The packet at a row: itself in the whole file's order, else from the rows held, if that block is. */
  private packetAtRow(row: number): number | undefined {
    if (!this.arranged) return row;
    const block = Math.floor(row / BLOCK);
    const held = this.blocks.get(block)?.[row - block * BLOCK];
    return held ? held[0] - 1 : undefined;
  }

  /** Scrolls so that a row is visible; `select` also selects it. */
  private reveal(index: number, select: boolean): void {
    const geometry = this.geometry();
    const window = rowWindow({ scrollTop: this.viewport.scrollTop, ...geometry, overscan: 0 });
    const lastFullyVisible = window.first + Math.floor(geometry.viewportHeight / ROW_HEIGHT) - 2;
    if (index < window.first + 1 || index > lastFullyVisible) {
      this.viewport.scrollTop = scrollTopForRow(Math.max(0, index - Math.floor(geometry.viewportHeight / ROW_HEIGHT / 2)), geometry);
    }
    if (select) this.select(index);
  }

  private onKey(event: KeyboardEvent): void {
    const total = this.rowCount();
    if (total === 0) return;
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
    // No visible selection (none, or hidden by the filter): the first key enters the list.
    const target = keyTargetRow(event.key, this.selectedRow, total, page);
    if (target === undefined) return;
    event.preventDefault();
    this.reveal(target, true);
  }

  private renderDetails(): void {
    clear(this.details);
    const selection = this.selection;
    if (!selection) return;
    if (this.filtering && this.selectedRow < 0 && this.selectedPacket === selection.packet) {
      this.details.append(h('div', { class: 'line hidden-selection', 'data-testid': 'hidden-selection' }, h('span', { class: 'muted' }, hiddenSelectionText(selection.packet))));
    }
    const dialog = selection.dialog;
    const lines: HTMLElement[] = [h('span', { class: 'label' }, `Packet ${selection.packet + 1}`)];
    if (selection.flowId >= 0) lines.push(h('span', {}, `flow #${selection.flowId} · ${selection.flowPackets.toLocaleString('en')} packets`));
    else lines.push(h('span', { class: 'muted' }, 'in no TCP/UDP flow'));
    if (!dialog) {
      lines.push(h('span', { class: 'muted' }, selection.flowId >= 0 ? 'no dialog label for this packet' : ''));
      this.details.append(h('div', { class: 'line' }, ...lines));
      return;
    }
    const chip = h('span', { class: 'usage-chip', 'data-testid': 'selected-usage', 'data-dialog-id': dialog.id }, dialog.usage);
    chip.style.setProperty('--usage-colour', USAGE_COLOURS[dialog.usage]);
    const jump = (label: string, index: number | undefined): HTMLElement | undefined => {
      if (index === undefined) return undefined;
      const link = h('button', { type: 'button', class: 'link' }, `${label} ${index + 1}`);
      link.addEventListener('click', () => this.goToPacket(index, false));
      return link;
    };
    const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy dialog as JSON');
    copy.addEventListener('click', () => this.post({ kind: 'action', action: 'copyDialog' }));
    const top = Object.entries(dialog.scores)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([usage, score]) => `${usage} ${score.toFixed(2)}`)
      .join(' · ');
    this.details.append(
      h('div', { class: 'line' }, ...lines, chip, h('span', {}, `${formatPercent(dialog.confidence)} · ${dialog.status}${dialog.outlier ? ' · outlier' : ''}`), h('span', { class: 'flex' }), copy),
      h(
        'div',
        { class: 'line' },
        h('span', {}, `${flowLabel(dialog)} · session ${dialog.session}, dialog ${dialog.dialog}`),
        h('span', {}, `${formatClock(dialog.startUs)} for ${formatDuration(dialog.endUs - dialog.startUs)}`),
        h('span', {}, `up ${dialog.packets.up.toLocaleString('en')} pkts / ${formatBytes(dialog.bytes.up)} · down ${dialog.packets.down.toLocaleString('en')} pkts / ${formatBytes(dialog.bytes.down)}`),
      ),
      h('div', { class: 'line' }, h('span', { class: 'muted' }, `scores: ${top || '—'} · model ${dialog.model}`), jump('first packet', selection.dialogFirst) ?? '', jump('last packet', selection.dialogLast) ?? ''),
    );
  }
}

new PacketListPage(document.getElementById('app') ?? document.body);
