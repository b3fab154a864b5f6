// Writes capture files with Wireshark's own tools (text2pcap, editcap, mergecap), so fixtures are
// produced by a writer independent of cumma's reader.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Bytes } from './packets';

export interface TimedPacket {
  /** Seconds since the epoch as decimal text with up to 9 fraction digits (exact, no float). */
  time: string;
  bytes: Bytes;
  /** 'I'/'O' for text2pcap -D: with dummy headers, direction decides which address is source. */
  direction?: 'I' | 'O';
}

/** The time offsetNs (may be negative) after baseSeconds, as exact decimal text. */
export function timeAt(baseSeconds: number, offsetNs: number): string {
  const whole = Math.floor(offsetNs / 1e9);
  const seconds = baseSeconds + whole;
  const ns = offsetNs - whole * 1e9; // in [0, 1e9) also for negative offsets
  return `${seconds}.${String(ns).padStart(9, '0')}`;
}

/** text2pcap's hex-dump input: a time line (and direction), then offset-prefixed hex lines. */
export function hexDump(packets: TimedPacket[]): string {
  return packets.map(packetDump).join('');
}

function packetDump(p: TimedPacket): string {
  const lines = [`${p.direction ? `${p.direction} ` : ''}${p.time}`];
  for (let offset = 0; offset < p.bytes.length; offset += 16) {
    const hex = p.bytes.slice(offset, offset + 16).map((b) => b.toString(16).padStart(2, '0'));
    lines.push(`${offset.toString(16).padStart(6, '0')} ${hex.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs a Wireshark tool, failing with its stderr (it says what was wrong with the input). */
export function run(tool: string, args: string[]): void {
  try {
    execFileSync(tool, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`${tool} ${args.join(' ')} failed: ${stderr.trim()}`);
  }
}

export interface Text2pcapOptions {
  /** Link-layer type number (-l); ignored by text2pcap when dummy headers add Ethernet. */
  linkType?: number;
  /** Extra text2pcap options, e.g. ['-T', '1000,2000', '-4', '10.0.0.1,10.0.0.2']. */
  args?: string[];
  /** Output file type: text2pcap writes pcapng with nanosecond timestamps unless told 'pcap'. */
  format?: 'pcap' | 'pcapng';
}

export function text2pcap(packets: TimedPacket[], output: string, options: Text2pcapOptions = {}): string {
  const input = `${output}.txt`;
  writeFileSync(input, hexDump(packets));
  const direction = packets.some((p) => p.direction) ? ['-D'] : [];
  const args = [
    '-q',
    '-t',
    '%s.%f',
    ...direction,
    '-F',
    options.format ?? 'pcapng',
    ...(options.linkType !== undefined ? ['-l', String(options.linkType)] : []),
    ...(options.args ?? []),
    input,
    output,
  ];
  run('text2pcap', args);
  return output;
}

/** editcap -F FORMAT, plus packet comments ("frame:comment") when given. */
export function editcap(input: string, output: string, format: string, comments: string[] = []): string {
  run('editcap', ['-F', format, ...comments.flatMap((c) => ['-a', c]), input, output]);
  return output;
}

/** mergecap -w: merges by timestamp into pcapng, one interface per input link type. */
export function mergecap(inputs: string[], output: string): string {
  run('mergecap', ['-w', output, ...inputs]);
  return output;
}
