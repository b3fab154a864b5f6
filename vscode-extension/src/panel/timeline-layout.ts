/**
 * The timeline: one row per flow, one bar per dialog from its start to its end, coloured by
 * usage. Pure layout (rows, bar rectangles, hit testing); the panel draws it on a canvas.
 */
import type { UsageVerdict } from '../../../agent/src/labels';
import type { PanelDialog } from '../shared/protocol-guard';
import { FLOW_ARROW, flowEnds, flowKey, flowLabel } from '../shared/format';

export interface TimelineOptions {
  readonly width: number;
  readonly rowHeight: number;
  /** Width kept on the left for flow labels. */
  readonly labelWidth: number;
  /** At most this many flows get a row (those seen first); the rest are counted. */
  readonly maxRows: number;
  /** Bars are at least this wide, so short dialogs stay visible and clickable. */
  readonly minBarWidth?: number;
}

export interface TimelineRow {
  readonly key: string;
  /** The whole flow label (flowLabel), for a tooltip. */
  readonly label: string;
  /** The label's two ends (flowEnds), for fitFlowLabel. */
  readonly client: string;
  readonly server: string;
  readonly y: number;
}

export interface TimelineBar {
  readonly dialogId: string;
  readonly usage: UsageVerdict;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface TimelineLayout {
  readonly rows: readonly TimelineRow[];
  readonly bars: readonly TimelineBar[];
  readonly startUs: number;
  readonly endUs: number;
  readonly height: number;
  /** Width kept on the left for labels (options.labelWidth): bars start there. */
  readonly labelWidth: number;
  /** Flows left out because of maxRows. */
  readonly hiddenFlows: number;
}

export function layoutTimeline(dialogs: readonly PanelDialog[], options: TimelineOptions): TimelineLayout {
  const minBarWidth = options.minBarWidth ?? 2;
  if (dialogs.length === 0) return { rows: [], bars: [], startUs: 0, endUs: 0, height: 0, labelWidth: options.labelWidth, hiddenFlows: 0 };
  let startUs = Infinity;
  let endUs = -Infinity;
  const firstSeen = new Map<string, { start: number; label: string; client: string; server: string }>();
  for (const dialog of dialogs) {
    startUs = Math.min(startUs, dialog.startUs);
    endUs = Math.max(endUs, dialog.endUs);
    const key = flowKey(dialog.l4, dialog.client.ip, dialog.client.port, dialog.server.ip, dialog.server.port);
    const seen = firstSeen.get(key);
    if (!seen) firstSeen.set(key, { start: dialog.startUs, label: flowLabel(dialog), ...flowEnds(dialog) });
    else if (dialog.startUs < seen.start) seen.start = dialog.startUs;
  }
  const ordered = [...firstSeen.entries()].sort((a, b) => a[1].start - b[1].start || (a[0] < b[0] ? -1 : 1));
  const shown = ordered.slice(0, Math.max(0, options.maxRows));
  const rowOf = new Map<string, number>();
  const rows = shown.map(([key, { label, client, server }], index) => {
    rowOf.set(key, index);
    return { key, label, client, server, y: index * options.rowHeight };
  });
  const span = Math.max(1, endUs - startUs);
  const plotWidth = Math.max(1, options.width - options.labelWidth);
  const bars: TimelineBar[] = [];
  for (const dialog of dialogs) {
    const row = rowOf.get(flowKey(dialog.l4, dialog.client.ip, dialog.client.port, dialog.server.ip, dialog.server.port));
    if (row === undefined) continue;
    const x = options.labelWidth + ((dialog.startUs - startUs) / span) * plotWidth;
    const width = Math.max(minBarWidth, ((dialog.endUs - dialog.startUs) / span) * plotWidth);
    bars.push({ dialogId: dialog.id, usage: dialog.usage, x: Math.min(x, options.width - minBarWidth), y: row * options.rowHeight + 2, width, height: options.rowHeight - 4 });
  }
  return { rows, bars, startUs, endUs, height: rows.length * options.rowHeight, labelWidth: options.labelWidth, hiddenFlows: ordered.length - shown.length };
}

/** The dialog under a point, the topmost (last drawn) bar first; undefined when none. */
export function barAt(layout: TimelineLayout, x: number, y: number): TimelineBar | undefined {
  for (let index = layout.bars.length - 1; index >= 0; index--) {
    const bar = layout.bars[index]!;
    if (x >= bar.x && x <= bar.x + bar.width && y >= bar.y && y <= bar.y + bar.height) return bar;
  }
  return undefined;
}

/** The flow row under a height (from the top of the timeline); undefined outside the rows. */
export function rowAt(layout: TimelineLayout, y: number, rowHeight: number): TimelineRow | undefined {
  if (y < 0) return undefined;
  return layout.rows[Math.floor(y / rowHeight)];
}

/** Width of a text as drawn (a canvas context's measureText, or a stand-in in tests). */
export type MeasureText = (text: string) => number;

const ELLIPSIS = '…';

/**
 * The text itself when it fits in `maxWidth`, else its longest start that fits with an ellipsis
 * after it ('' when not even the ellipsis fits). Drawing text with canvas fillText's maxWidth
 * instead squeezes the glyphs together until they overlap; eliding keeps them legible.
 */
export function fitText(text: string, maxWidth: number, measure: MeasureText): string {
  if (measure(text) <= maxWidth) return text;
  const length = longestFit(text.length, (n) => measure(text.slice(0, n).trimEnd() + ELLIPSIS) <= maxWidth);
  if (length === 0) return measure(ELLIPSIS) <= maxWidth ? ELLIPSIS : '';
  return text.slice(0, length).trimEnd() + ELLIPSIS;
}

/**
 * A flow label that fits in `maxWidth`: whole if it can be; else with the client end elided
 * first (see flowEnds: the server end tells flows apart), "10.58.1… → 185.60.216.105:443 tcp";
 * else elided at its end like any text.
 */
export function fitFlowLabel(client: string, server: string, maxWidth: number, measure: MeasureText): string {
  const whole = client + FLOW_ARROW + server;
  if (measure(whole) <= maxWidth) return whole;
  const tail = FLOW_ARROW + server;
  if (measure(ELLIPSIS + tail) > maxWidth) return fitText(whole, maxWidth, measure);
  const length = longestFit(client.length, (n) => measure(client.slice(0, n) + ELLIPSIS + tail) <= maxWidth);
  return client.slice(0, length) + ELLIPSIS + tail;
}

/** The largest n in [0, max) for which fits(n) holds, fits being monotonic (true up to some n); 0 when none. */
function longestFit(max: number, fits: (n: number) => boolean): number {
  let low = 0;
  let high = max - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return low > 0 && fits(low) ? low : 0;
}
