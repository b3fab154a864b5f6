/**
 * Messages between the extension host and its webviews (postMessage), with their validators.
 * Both sides validate what they receive: a webview's messages are as untrusted as the
 * network's, and the host's are checked again in the webview before the DOM sees them.
 */
import type { ClientMessage, ServerMessage } from '../../../agent/src/serve/protocol';
import { array, boolean, fail, field, integer, number, oneOf, optionalString, record, string, type Json } from './guard';
import { ConnectionStatus, parseConnectionStatus } from './connection';
import { USAGE_CHOICES, UsageChoice } from './packet-filter';
import { PACKET_COLUMNS, PacketSort } from './packet-sort';
import { PanelDialog, parseClientMessage, parseDialog, parseServerMessage } from './protocol-guard';

// ---- the panel (webview view) ----

export const PANEL_ACTIONS = ['connect', 'disconnect', 'setToken', 'watchFolder'] as const;
export type PanelHostAction = (typeof PANEL_ACTIONS)[number];

export type HostToPanel =
  | { readonly kind: 'server'; readonly message: ServerMessage }
  | { readonly kind: 'connection'; readonly status: ConnectionStatus };

export type PanelToHost =
  | { readonly kind: 'ready' }
  | { readonly kind: 'client'; readonly message: ClientMessage }
  | { readonly kind: 'action'; readonly action: PanelHostAction }
  | { readonly kind: 'selectDialog'; readonly capture: string; readonly id: string | undefined }
  | { readonly kind: 'copyDialog'; readonly capture: string; readonly id: string }
  | { readonly kind: 'openCapture'; readonly name: string };

export function parseHostToPanel(value: Json): HostToPanel {
  const object = record(value, 'message');
  const kind = oneOf(field(object, 'kind'), 'message.kind', ['server', 'connection'] as const);
  if (kind === 'server') return { kind, message: parseServerMessage(field(object, 'message')) };
  return { kind, status: parseConnectionStatus(field(object, 'status')) };
}

export function parsePanelToHost(value: Json): PanelToHost {
  const object = record(value, 'message');
  const kind = oneOf(field(object, 'kind'), 'message.kind', ['ready', 'client', 'action', 'selectDialog', 'copyDialog', 'openCapture'] as const);
  switch (kind) {
    case 'ready':
      return { kind };
    case 'client':
      return { kind, message: parseClientMessage(field(object, 'message')) };
    case 'action':
      return { kind, action: oneOf(field(object, 'action'), 'message.action', PANEL_ACTIONS) };
    case 'selectDialog':
      return { kind, capture: string(field(object, 'capture'), 'message.capture', 1024), id: optionalString(field(object, 'id'), 'message.id', 2048) };
    case 'copyDialog':
      return { kind, capture: string(field(object, 'capture'), 'message.capture', 1024), id: string(field(object, 'id'), 'message.id', 2048) };
    case 'openCapture':
      return { kind, name: string(field(object, 'name'), 'message.name', 1024) };
  }
}

// ---- the capture editor ----

/** One packet-list row: number (1-based), time µs, source, destination, transport, length, usage code, flow id, dialog ref. */
export type PacketRow = readonly [number, number, string, string, string, number, number, number, number];

export const LABEL_SOURCES = ['agent', 'local', 'pending', 'none'] as const;
export type LabelSourceKind = (typeof LABEL_SOURCES)[number];

/**
 * What the connected agent has for a capture, whichever labels are shown: 'fit', labels (it
 * watches the file, and its dialogs fit the packets); 'misfit', a capture of the same name whose
 * dialogs fit no packet (a remote agent, capture-match.ts); 'none', nothing (it does not watch
 * the file, or no agent is connected).
 */
export const AGENT_LABELS = ['fit', 'misfit', 'none'] as const;
export type AgentLabels = (typeof AGENT_LABELS)[number];

export interface LabelSource {
  readonly kind: LabelSourceKind;
  /** Human-readable: which agent or model, or why there are no labels. */
  readonly detail: string;
  /** Dialogs the labels came from, and packets that got a label. */
  readonly dialogs: number;
  readonly labelledPackets: number;
  /** What the agent has for this capture: whether "Use agent labels" would change anything. */
  readonly agentLabels: AgentLabels;
  /** The file is missing (deleted or moved away): the labels shown are of what was read. */
  readonly fileMissing?: true;
  /** The connected agent already watches the capture's folder ("Watch folder in agent" would do nothing). */
  readonly folderWatched?: true;
}

export interface EditorCaptureInfo {
  readonly name: string;
  readonly path: string;
  readonly format: string;
  readonly sizeBytes: number;
  readonly packets: number;
  readonly flows: number;
  /** Time of the first packet, µs: the origin of the relative time column. */
  readonly originUs: number;
  /** Set when the file could only be read up to a fault. */
  readonly error?: string;
  /** The fault is that the file ends inside a block: it may still be being written. */
  readonly unfinished?: boolean;
}

export interface PacketSelection {
  readonly packet: number;
  readonly flowId: number;
  readonly flowPackets: number;
  readonly dialogRef: number;
  /** The dialog the packet belongs to, when one matched. */
  readonly dialog?: PanelDialog;
  /** Packet indices (0-based) of the dialog's first and last packets. */
  readonly dialogFirst?: number;
  readonly dialogLast?: number;
}

export type HostToEditor =
  | { readonly kind: 'init'; readonly capture: EditorCaptureInfo }
  | { readonly kind: 'progress'; readonly text: string }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'labels'; readonly source: LabelSource; readonly revision: number }
  | { readonly kind: 'rows'; readonly requestId: number; readonly first: number; readonly rows: readonly PacketRow[] }
  | { readonly kind: 'selection'; readonly selection: PacketSelection }
  | { readonly kind: 'connection'; readonly status: ConnectionStatus }
  /**
   * The list as the usage filter and sort of choice `serial` show it: `shown` rows, the selected
   * packet at row `selected` (-1: none, or hidden). Sent for each new choice, and again whenever
   * labels or the file change what a filter shows or where a sort puts a packet.
   */
  | { readonly kind: 'view'; readonly serial: number; readonly shown: number; readonly selected: number }
  /** Where packet `packet` is in the filtered, sorted list (-1: hidden, its usage code given). */
  | { readonly kind: 'located'; readonly requestId: number; readonly packet: number; readonly position: number; readonly usage: number };

export const EDITOR_ACTIONS = ['classify', 'copyDialog', 'connect', 'watchFolder'] as const;
export type EditorAction = (typeof EDITOR_ACTIONS)[number];

/** The most usage choices a filter names (each at most once). */
export const MAX_USAGE_CHOICES = USAGE_CHOICES.length;

/**
 * `rows` counts rows of the list as the usage filter and sort show it (`first` is a row, not a
 * packet index; each row carries its packet's number). `selectRow` selects the packet at a row
 * whose contents the webview does not hold yet (End, Page Down); `locate` asks where a packet
 * is. `filter` and `sort` number their choices with one serial, which 'view' answers name; a
 * sort left out is the file's order.
 */
export type EditorToHost =
  | { readonly kind: 'ready' }
  | { readonly kind: 'rows'; readonly requestId: number; readonly first: number; readonly count: number }
  | { readonly kind: 'select'; readonly packet: number }
  | { readonly kind: 'selectRow'; readonly row: number }
  | { readonly kind: 'filter'; readonly serial: number; readonly usages: readonly UsageChoice[] }
  | { readonly kind: 'sort'; readonly serial: number; readonly sort?: PacketSort }
  | { readonly kind: 'locate'; readonly requestId: number; readonly packet: number }
  | { readonly kind: 'action'; readonly action: EditorAction };

/** Rows per request: a screenful or two plus overscan, never the whole file. */
export const MAX_ROWS_PER_REQUEST = 2000;

function parseRow(value: Json, path: string): PacketRow {
  const items = array(value, path, 9, (item) => item);
  if (items.length !== 9) fail(path, 'expected 9 fields');
  return [
    integer(items[0], `${path}[0]`, 1),
    number(items[1], `${path}[1]`),
    string(items[2], `${path}[2]`, 80),
    string(items[3], `${path}[3]`, 80),
    string(items[4], `${path}[4]`, 16),
    integer(items[5], `${path}[5]`, 0),
    integer(items[6], `${path}[6]`, 0, 255),
    integer(items[7], `${path}[7]`, -1),
    integer(items[8], `${path}[8]`, -1),
  ];
}

function parsePacketSort(value: Json, path: string): PacketSort {
  const object = record(value, path);
  return { column: oneOf(field(object, 'column'), `${path}.column`, PACKET_COLUMNS), descending: boolean(field(object, 'descending'), `${path}.descending`) };
}

function optionalTrue(value: Json, path: string): { readonly value?: true } {
  if (value === undefined) return {};
  if (value !== true) fail(path, 'expected true when present');
  return { value: true };
}

function parseLabelSource(value: Json, path: string): LabelSource {
  const object = record(value, path);
  const fileMissing = optionalTrue(field(object, 'fileMissing'), `${path}.fileMissing`).value;
  const folderWatched = optionalTrue(field(object, 'folderWatched'), `${path}.folderWatched`).value;
  return {
    ...(fileMissing ? { fileMissing } : {}),
    ...(folderWatched ? { folderWatched } : {}),
    kind: oneOf(field(object, 'kind'), `${path}.kind`, LABEL_SOURCES),
    detail: string(field(object, 'detail'), `${path}.detail`, 2048),
    dialogs: integer(field(object, 'dialogs'), `${path}.dialogs`, 0),
    labelledPackets: integer(field(object, 'labelledPackets'), `${path}.labelledPackets`, 0),
    agentLabels: oneOf(field(object, 'agentLabels'), `${path}.agentLabels`, AGENT_LABELS),
  };
}

function parseEditorCapture(value: Json, path: string): EditorCaptureInfo {
  const object = record(value, path);
  const error = optionalString(field(object, 'error'), `${path}.error`, 4096);
  const unfinished = field(object, 'unfinished');
  if (unfinished !== undefined && unfinished !== true) fail(`${path}.unfinished`, 'expected true when present');
  return {
    name: string(field(object, 'name'), `${path}.name`, 1024),
    path: string(field(object, 'path'), `${path}.path`, 4096),
    format: string(field(object, 'format'), `${path}.format`, 16),
    sizeBytes: integer(field(object, 'sizeBytes'), `${path}.sizeBytes`, 0),
    packets: integer(field(object, 'packets'), `${path}.packets`, 0),
    flows: integer(field(object, 'flows'), `${path}.flows`, 0),
    originUs: number(field(object, 'originUs'), `${path}.originUs`),
    ...(error !== undefined ? { error } : {}),
    ...(unfinished === true ? { unfinished } : {}),
  };
}

function parseSelection(value: Json, path: string): PacketSelection {
  const object = record(value, path);
  const dialog = field(object, 'dialog');
  const first = field(object, 'dialogFirst');
  const last = field(object, 'dialogLast');
  return {
    packet: integer(field(object, 'packet'), `${path}.packet`, 0),
    flowId: integer(field(object, 'flowId'), `${path}.flowId`, -1),
    flowPackets: integer(field(object, 'flowPackets'), `${path}.flowPackets`, 0),
    dialogRef: integer(field(object, 'dialogRef'), `${path}.dialogRef`, -1),
    ...(dialog !== undefined ? { dialog: parseDialog(dialog, `${path}.dialog`) } : {}),
    ...(first !== undefined ? { dialogFirst: integer(first, `${path}.dialogFirst`, 0) } : {}),
    ...(last !== undefined ? { dialogLast: integer(last, `${path}.dialogLast`, 0) } : {}),
  };
}

export function parseHostToEditor(value: Json): HostToEditor {
  const object = record(value, 'message');
  const kind = oneOf(field(object, 'kind'), 'message.kind', ['init', 'progress', 'failed', 'labels', 'rows', 'selection', 'connection', 'view', 'located'] as const);
  switch (kind) {
    case 'init':
      return { kind, capture: parseEditorCapture(field(object, 'capture'), 'message.capture') };
    case 'progress':
      return { kind, text: string(field(object, 'text'), 'message.text', 2048) };
    case 'failed':
      return { kind, message: string(field(object, 'message'), 'message.message', 4096) };
    case 'labels':
      return { kind, source: parseLabelSource(field(object, 'source'), 'message.source'), revision: integer(field(object, 'revision'), 'message.revision', 0) };
    case 'rows':
      return {
        kind,
        requestId: integer(field(object, 'requestId'), 'message.requestId', 0),
        first: integer(field(object, 'first'), 'message.first', 0),
        rows: array(field(object, 'rows'), 'message.rows', MAX_ROWS_PER_REQUEST, parseRow),
      };
    case 'selection':
      return { kind, selection: parseSelection(field(object, 'selection'), 'message.selection') };
    case 'connection':
      return { kind, status: parseConnectionStatus(field(object, 'status')) };
    case 'view':
      return {
        kind,
        serial: integer(field(object, 'serial'), 'message.serial', 0),
        shown: integer(field(object, 'shown'), 'message.shown', 0),
        selected: integer(field(object, 'selected'), 'message.selected', -1),
      };
    case 'located':
      return {
        kind,
        requestId: integer(field(object, 'requestId'), 'message.requestId', 0),
        packet: integer(field(object, 'packet'), 'message.packet', 0),
        position: integer(field(object, 'position'), 'message.position', -1),
        usage: integer(field(object, 'usage'), 'message.usage', 0, 255),
      };
  }
}

export function parseEditorToHost(value: Json): EditorToHost {
  const object = record(value, 'message');
  const kind = oneOf(field(object, 'kind'), 'message.kind', ['ready', 'rows', 'select', 'selectRow', 'filter', 'sort', 'locate', 'action'] as const);
  switch (kind) {
    case 'ready':
      return { kind };
    case 'rows':
      return {
        kind,
        requestId: integer(field(object, 'requestId'), 'message.requestId', 0),
        first: integer(field(object, 'first'), 'message.first', 0),
        count: integer(field(object, 'count'), 'message.count', 0, MAX_ROWS_PER_REQUEST),
      };
    case 'select':
      return { kind, packet: integer(field(object, 'packet'), 'message.packet', 0) };
    case 'selectRow':
      return { kind, row: integer(field(object, 'row'), 'message.row', 0) };
    case 'filter':
      return {
        kind,
        serial: integer(field(object, 'serial'), 'message.serial', 1),
        usages: array(field(object, 'usages'), 'message.usages', MAX_USAGE_CHOICES, (item, path) => oneOf(item, path, USAGE_CHOICES)),
      };
    case 'sort': {
      const sort = field(object, 'sort');
      return { kind, serial: integer(field(object, 'serial'), 'message.serial', 1), ...(sort !== undefined ? { sort: parsePacketSort(sort, 'message.sort') } : {}) };
    }
    case 'locate':
      return { kind, requestId: integer(field(object, 'requestId'), 'message.requestId', 0), packet: integer(field(object, 'packet'), 'message.packet', 0) };
    case 'action':
      return { kind, action: oneOf(field(object, 'action'), 'message.action', EDITOR_ACTIONS) };
  }
}
