// Times the capture editor's usage filter and sort on a capture, by replaying in this process
// the calls the extension host makes (packet-list-host.ts) — the worker's index and the bundled
// classifier's labels computed first, in-process, with the same code.
// usage: npm run build && node dist/bench-editor-list.js FILE   (e.g. the 1 M-packet file of npm run bench)
import { join, resolve } from 'node:path';
import { indexCapture } from '../vscode-extension/src/host/capture-index';
import { assignLabels } from '../vscode-extension/src/host/label-match';
import { classifyLocally } from '../vscode-extension/src/host/local-classify';
import { ListRequest, ListedCapture, answerListRequest } from '../vscode-extension/src/host/packet-list-host';
import { PacketListView } from '../vscode-extension/src/host/packet-list-view';
import { sortPackets } from '../vscode-extension/src/host/packet-order';
import { UsageChoice } from '../vscode-extension/src/shared/packet-filter';
import { PACKET_COLUMNS, PacketSort } from '../vscode-extension/src/shared/packet-sort';
import { usageCode } from '../vscode-extension/src/shared/usage-style';

const ROOT = resolve(__dirname, '..');
const RUNS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** Median ms of `RUNS` runs of `action` (after one to warm up). */
function time(action: () => void): number {
  action();
  const runs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    action();
    runs.push(performance.now() - started);
  }
  return median(runs);
}

const ms = (value: number): string => `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ms`;

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node dist/bench-editor-list.js FILE');
  let started = performance.now();
  const index = indexCapture(file);
  process.stdout.write(`index: ${index.packets.toLocaleString('en')} packets, ${index.addresses.length.toLocaleString('en')} addresses in ${ms(performance.now() - started)}\n`);
  started = performance.now();
  const local = classifyLocally(file, join(ROOT, 'models', 'default.json'));
  const assignment = assignLabels(index, local.records);
  process.stdout.write(`labels: ${local.records.length.toLocaleString('en')} dialogs, ${assignment.labelledPackets.toLocaleString('en')} packets labelled in ${ms(performance.now() - started)}\n`);
  const capture: ListedCapture = { index, assignment, dialogs: local.records };
  let serial = 0;
  const list = new PacketListView();
  const ask = (request: ListRequest): void => void answerListRequest(capture, list, request);
  const filter = (usages: readonly UsageChoice[]): ListRequest => ({ kind: 'filter', serial: ++serial, usages });
  const sort = (order: PacketSort | undefined): ListRequest => ({ kind: 'sort', serial: ++serial, ...(order ? { sort: order } : {}) });

  process.stdout.write(`\nmedian of ${RUNS} runs, each as the host answers a webview's choice:\n`);
  ask(sort(undefined));
  const filters = (['voice_call', 'text', 'unlabelled'] as const).map((usage) => {
    const taken = time(() => ask(filter([usage])));
    return `${usage} (${list.count(index.packets).toLocaleString('en')} shown) ${ms(taken)}`;
  });
  process.stdout.write(`  filter alone: ${filters.join(', ')}\n`);
  // A sort request computes the list again: the filter's pass, then the sort of what it shows.
  for (const usages of [[], ['voice_call'], ['text']] as const) {
    ask(filter(usages));
    const shown = list.count(index.packets);
    const figures = PACKET_COLUMNS.flatMap((column) => [false, true].map((descending) => `${column}${descending ? ' ▼' : ''} ${ms(time(() => ask(sort({ column, descending }))))}`));
    process.stdout.write(`  sort, ${usages.length === 0 ? 'every packet' : `filtered to ${usages.join(', ')}`} (${shown.toLocaleString('en')}): ${figures.join(', ')}\n`);
  }
  ask(filter([]));
  ask(sort({ column: 'usage', descending: false }));
  process.stdout.write(`  new labels under a sort by usage (list refreshed): ${ms(time(() => list.refresh(index, assignment.usage)))}\n`);
  const probes = Array.from({ length: 100 }, (_, at) => Math.floor((at * index.packets) / 100));
  ask(sort({ column: 'length', descending: false }));
  process.stdout.write(`  a packet's row in the list sorted by length (Go to packet…, the selection): ${ms(time(() => probes.forEach((packet) => list.positionOf(packet, index.packets))) / probes.length)}\n`);
  process.stdout.write(`  256 rows of that list formatted: ${ms(time(() => ask({ kind: 'rows', requestId: 1, first: index.packets >> 1, count: 256 })))}\n`);

  // The other way to combine them: the whole capture sorted once, the filter then a pass over that order.
  process.stdout.write('\nthe alternative, sort once and filter the order (voice_call):\n');
  for (const column of ['time', 'length', 'source'] as const) {
    let whole: Int32Array | undefined;
    const sortAll = time(() => (whole = sortPackets(index, assignment.usage, { column, descending: false })));
    const wanted = new Uint8Array(256);
    wanted[usageCode('voice_call')] = 1;
    // As matchingPackets, over the sorted order instead of the file's.
    const filterOrder = time(() => {
      const usage = assignment.usage;
      let count = 0;
      for (const packet of whole!) count += wanted[usage[packet]!]!;
      const shown = new Int32Array(count);
      let next = 0;
      for (const packet of whole!) if (wanted[usage[packet]!] === 1) shown[next++] = packet;
    });
    process.stdout.write(`  ${column}: whole capture sorted ${ms(sortAll)}, then each filter ${ms(filterOrder)}\n`);
  }
}

main();
