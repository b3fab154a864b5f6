// Hand-made packet columns for the capture editor's list tests: the typed columns the index
// holds (capture-index.ts), from one small record per packet.
import { PacketKind } from '../../vscode-extension/src/host/capture-index';
import type { SortColumns } from '../../vscode-extension/src/host/packet-order';

export interface PacketSpec {
  readonly timeUs?: number;
  /** "10.0.0.1:443", "[2001:db8::1]:443", "10.0.0.1" (no port), or undefined (no address). */
  readonly src?: string;
  readonly dst?: string;
  readonly kind?: PacketKind;
  readonly ipProtocol?: number;
  readonly length?: number;
}

function endpoint(text: string | undefined): { readonly ip: string; readonly port: number } {
  if (text === undefined) return { ip: '', port: 0 };
  const bracketed = /^\[(.+)\]:(\d+)$/.exec(text);
  if (bracketed) return { ip: bracketed[1]!, port: Number(bracketed[2]) };
  const v4 = /^([\d.]+):(\d+)$/.exec(text);
  if (v4) return { ip: v4[1]!, port: Number(v4[2]) };
  return { ip: text, port: 0 };
}

/** Columns of `packets`: addresses interned as the index does (index 0 is "", no address). */
export function packetColumns(packets: readonly PacketSpec[]): SortColumns {
  const addresses = [''];
  const intern = (ip: string): number => {
    if (ip === '') return 0;
    const known = addresses.indexOf(ip);
    return known >= 0 ? known : addresses.push(ip) - 1;
  };
  const count = packets.length;
  const columns = {
    packets: count,
    timeUs: new Float64Array(count),
    src: new Uint32Array(count),
    dst: new Uint32Array(count),
    srcPort: new Uint16Array(count),
    dstPort: new Uint16Array(count),
    kind: new Uint8Array(count),
    ipProtocol: new Uint8Array(count),
    length: new Uint32Array(count),
    addresses,
  };
  packets.forEach((packet, at) => {
    const src = endpoint(packet.src);
    const dst = endpoint(packet.dst);
    columns.timeUs[at] = packet.timeUs ?? at;
    columns.src[at] = intern(src.ip);
    columns.dst[at] = intern(dst.ip);
    columns.srcPort[at] = src.port;
    columns.dstPort[at] = dst.port;
    columns.kind[at] = packet.kind ?? (src.ip === '' ? PacketKind.NotIp : PacketKind.Udp);
    columns.ipProtocol[at] = packet.ipProtocol ?? (columns.kind[at] === PacketKind.Udp ? 17 : 0);
    columns.length[at] = packet.length ?? 60;
  });
  return columns;
}

/** `count` packets alike in every column: for tests of the filter alone. */
export function blankColumns(count: number): SortColumns {
  return packetColumns(Array.from({ length: count }, () => ({})));
}
