/**
 * The terminal view of `cumma watch`: one line per dialog event, provisional labels marked,
 * aligned for reading as they scroll by.
 */
import { LiveDialog } from '../live/label-feed';
import { utcIsoTime } from './flow-format';
import { printableName } from './watch-output';

/** The end of a long name, which tells captures of one rotation (…_00042_…) apart. */
function shortName(name: string): string {
  return name.length > 24 ? `…${name.slice(-23)}` : name;
}

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** `HH:MM:SS.mmm`, or the µs number for a time no date can show (see utcIsoTime). */
function timeOfDay(us: number): string {
  const iso = utcIsoTime(us, 3);
  return iso.endsWith('Z') ? iso.slice(11, 23) : iso;
}

const COLUMNS = [
  { title: 'TIME (UTC)', width: 12, value: (d: LiveDialog) => timeOfDay(d.startUs) },
  { title: 'CAPTURE', width: 24, value: (d: LiveDialog) => shortName(printableName(d.capture)) },
  { title: 'L4', width: 3, value: (d: LiveDialog) => d.l4 },
  { title: 'CLIENT', width: 21, value: (d: LiveDialog) => endpoint(d.client.ip, d.client.port) },
  { title: 'SERVER', width: 21, value: (d: LiveDialog) => endpoint(d.server.ip, d.server.port) },
  { title: 'S/D', width: 7, value: (d: LiveDialog) => `${d.session}/${d.dialog}` },
  { title: 'SECONDS', width: 7, right: true, value: (d: LiveDialog) => ((d.endUs - d.startUs) / 1e6).toFixed(1) },
  { title: 'PKTS', width: 6, right: true, value: (d: LiveDialog) => String(d.packets.up + d.packets.down) },
  { title: 'USAGE', width: 10, value: (d: LiveDialog) => d.usage },
  { title: 'CONF', width: 4, right: true, value: (d: LiveDialog) => d.confidence.toFixed(2) },
  { title: 'STATUS', width: 11, value: (d: LiveDialog) => d.status },
] as const;

function row(cells: readonly string[]): string {
  return cells
    .map((cell, index) => {
      const column = COLUMNS[index]!;
      return 'right' in column && column.right ? cell.padStart(column.width) : cell.padEnd(column.width);
    })
    .join('  ')
    .trimEnd();
}

export const LIVE_TABLE_HEADER = row(COLUMNS.map((column) => column.title));

export function liveTableRow(dialog: LiveDialog): string {
  return row(COLUMNS.map((column) => column.value(dialog)));
}
