/**
 * What the extension host tells a capture editor's webview about its capture and answers it
 * about its packet list: the rows it shows (as the filter and sort arrange them), the new list after a filter or sort, where a
 * packet is, and the selected packet's flow and dialog. No vscode: capture-editor.ts posts the
 * answers (and keeps what a selection means beyond the list), the editor's browser test runs
 * the same answers against the webview in Chromium.
 */
import type { EditorCaptureInfo, EditorToHost, HostToEditor, PacketRow, PacketSelection } from '../shared/bridge';
import { MAX_ROWS_PER_REQUEST } from '../shared/bridge';
import { formatEndpoint } from '../shared/format';
import type { PanelDialog } from '../shared/protocol-guard';
import { NO_USAGE } from '../shared/usage-style';
import { CaptureIndexData, PacketKind, transportName } from './capture-index';
import type { LabelAssignment } from './label-match';
import type { PacketListView } from './packet-list-view';

/** What a packet list is drawn from: a capture's index and its labels (a CaptureDocument). */
export interface ListedCapture {
  readonly index: CaptureIndexData | undefined;
  readonly assignment: LabelAssignment | undefined;
  /** The dialogs the labels came from: assignment.dialog indexes them. */
  readonly dialogs: readonly PanelDialog[];
}

/** The capture as the webview's header and time column show it ('init'). */
export function editorCaptureInfo(index: CaptureIndexData): EditorCaptureInfo {
  return {
    name: index.name,
    path: index.path,
    format: index.format,
    sizeBytes: index.sizeBytes,
    packets: index.packets,
    flows: index.flowKeys.length,
    originUs: index.packets > 0 ? index.timeUs[0]! : 0,
    ...(index.error !== undefined ? { error: index.error } : {}),
    ...(index.unfinished ? { unfinished: true } : {}),
  };
}

export type ListRequest = Extract<EditorToHost, { readonly kind: 'rows' | 'filter' | 'sort' | 'locate' | 'select' | 'selectRow' }>;

/** The answer to a webview's request about its list (undefined: nothing to say, e.g. no such packet). */
export function answerListRequest(capture: ListedCapture, list: PacketListView, message: ListRequest): HostToEditor | undefined {
  const packets = capture.index?.packets ?? 0;
  switch (message.kind) {
    case 'rows':
      return { kind: 'rows', requestId: message.requestId, first: message.first, rows: packetRows(capture, list, message.first, message.count) };
    case 'filter':
    case 'sort':
      if (message.kind === 'filter') list.choose(message.serial, message.usages);
      else list.sortBy(message.serial, message.sort);
      list.refresh(capture.index, capture.assignment?.usage);
      return listView(list, packets);
    case 'locate': {
      const position = list.positionOf(message.packet, packets);
      const usage = capture.assignment?.usage[message.packet] ?? NO_USAGE;
      return { kind: 'located', requestId: message.requestId, packet: message.packet, position, usage };
    }
    case 'select':
    case 'selectRow': {
      const packet = message.kind === 'select' ? message.packet : list.packetAt(message.row, packets);
      const selection = packet === undefined ? undefined : packetSelection(capture, packet);
      if (!selection) return undefined;
      list.selectedPacket = selection.packet;
      return { kind: 'selection', selection };
    }
  }
}

/** The list as it is now: its length and the selected packet's row. */
export function listView(list: PacketListView, packets: number): HostToEditor {
  return { kind: 'view', serial: list.serial, shown: list.count(packets), selected: list.positionOf(list.selectedPacket, packets) };
}

/** Rows `first`… of the list, each with its packet's number in the file. */
export function packetRows(capture: ListedCapture, list: PacketListView, first: number, count: number): PacketRow[] {
  const index = capture.index;
  if (!index) return [];
  const end = Math.min(list.count(index.packets), first + Math.min(count, MAX_ROWS_PER_REQUEST));
  const rows: PacketRow[] = [];
  const assignment = capture.assignment;
  for (let row = first; row < end; row++) {
    const packet = list.packetAt(row, index.packets)!;
    const kind = index.kind[packet]!;
    const ported = kind === PacketKind.Tcp || kind === PacketKind.Udp;
    const src = index.addresses[index.src[packet]!] ?? '';
    const dst = index.addresses[index.dst[packet]!] ?? '';
    rows.push([
      packet + 1,
      index.timeUs[packet]!,
      ported ? formatEndpoint(src, index.srcPort[packet]!) : src,
      ported ? formatEndpoint(dst, index.dstPort[packet]!) : dst,
      transportName(kind, index.ipProtocol[packet]!),
      index.length[packet]!,
      assignment ? assignment.usage[packet]! : NO_USAGE,
      index.flow[packet]!,
      assignment ? assignment.dialog[packet]! : -1,
    ]);
  }
  return rows;
}

/** A packet's flow and dialog, with the dialog's first and last packets (indices in the file, whatever the sort). */
export function packetSelection(capture: ListedCapture, packet: number): PacketSelection | undefined {
  const index = capture.index;
  if (!index || packet >= index.packets) return undefined;
  const flowId = index.flow[packet]!;
  const dialogRef = capture.assignment?.dialog[packet] ?? -1;
  const dialog = dialogRef >= 0 ? capture.dialogs[dialogRef] : undefined;
  let dialogFirst: number | undefined;
  let dialogLast: number | undefined;
  if (dialogRef >= 0 && capture.assignment) {
    const refs = capture.assignment.dialog;
    dialogFirst = refs.indexOf(dialogRef);
    dialogLast = refs.lastIndexOf(dialogRef);
  }
  return {
    packet,
    flowId,
    flowPackets: flowId >= 0 ? index.flowPackets[flowId]! : 0,
    dialogRef,
    ...(dialog ? { dialog } : {}),
    ...(dialogFirst !== undefined && dialogFirst >= 0 ? { dialogFirst } : {}),
    ...(dialogLast !== undefined && dialogLast >= 0 ? { dialogLast } : {}),
  };
}
