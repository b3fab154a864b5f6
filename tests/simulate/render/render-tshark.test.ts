// Rendered captures judged by Wireshark's own dissectors (tshark) and by the built CLI
// (`node dist/cumma.js flows`, which `npm test` builds first): no malformed packets and no TCP
// analysis findings on a loss-free network, only the findings the loss model intends on a lossy
// one, sequence numbers that advance by exactly the TLS bytes, DNS/NTP/STUN that dissect, and
// flow totals equal to the truth sidecar.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt } from '../../../scripts/lib/cumma-cli';
import { applicationWireBytes, NetworkConditions, renderCapture, TruthRecord, truthSidecarPath } from '../../../agent/src/simulate/render';
import { requireTools } from '../../support/tools';
import { CALM, LOSSY, mixedScript, TAGS } from './fixtures';
import { formatTruthComment } from '../../../agent/src/truth/truth-comment';

const CLI = join(resolve(__dirname, '../../..'), 'dist', 'cumma.js');

function tshark(...args: string[]): string {
  // tshark warns on stderr when run as root; only its stdout matters here.
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** One row of `tshark -q -z expert`, under its severity section. */
interface ExpertRow {
  readonly severity: string;
  readonly count: number;
  readonly group: string;
  readonly protocol: string;
  readonly summary: string;
}

function expert(file: string): ExpertRow[] {
  const rows: ExpertRow[] = [];
  let severity = '';
  for (const line of tshark('-r', file, '-q', '-z', 'expert').split('\n')) {
    const section = /^(Errors|Warns|Notes|Chats|Comments) \(\d+\)$/.exec(line);
    if (section) severity = section[1]!;
    const row = /^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.+)$/.exec(line);
    if (row && severity !== '' && row[1] !== undefined) {
      rows.push({ severity, count: Number(row[1]), group: row[2]!, protocol: row[3]!, summary: row[4]!.trim() });
    }
  }
  return rows;
}

function fields(file: string, filter: string, ...names: string[]): string[][] {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  if (filter !== '') args.push('-Y', filter);
  for (const name of names) args.push('-e', name);
  return tshark(...args)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

function readTruth(path: string): TruthRecord[] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as TruthRecord);
}

/** Per TCP stream and direction: the data ranges seen and the FIN's relative sequence number. */
interface StreamDirection {
  readonly ranges: [number, number][];
  finSeq: number;
  lastAck: number;
  /** Data bytes per comment (first transmission of each range only). */
  readonly bytesByComment: Map<string, number>;
}

function tcpDirections(file: string): Map<string, StreamDirection> {
  const out = new Map<string, StreamDirection>();
  const rows = fields(file, 'tcp', 'tcp.stream', 'tcp.srcport', 'tcp.seq', 'tcp.len', 'tcp.flags.fin', 'tcp.ack', 'frame.comment');
  for (const [stream, port, seq, len, fin, ack, comment] of rows) {
    const key = `${stream}/${port}`;
    let d = out.get(key);
    if (!d) {
      d = { ranges: [], finSeq: -1, lastAck: 0, bytesByComment: new Map() };
      out.set(key, d);
    }
    const start = Number(seq);
    const end = start + Number(len);
    d.lastAck = Math.max(d.lastAck, Number(ack));
    if (fin === '1' || fin === 'True') d.finSeq = start;
    if (end > start && !d.ranges.some(([a, b]) => a === start && b === end)) {
      d.ranges.push([start, end]);
      d.bytesByComment.set(comment!, (d.bytesByComment.get(comment!) ?? 0) + end - start);
    }
  }
  return out;
}

/** The union of ranges as [start, end) runs. */
function union(ranges: readonly [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const runs: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = runs.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else runs.push([a, b]);
  }
  return runs;
}

const tools = requireTools('tshark');

describe.skipIf(tools.skip)('rendered captures, read by tshark', () => {
  let dir = '';
  const files = new Map<string, string>();
  const script = mixedScript();

  beforeAll(() => {
    tools.assertAvailable();
    dir = mkdtempSync(join(tmpdir(), 'cumma-render-tshark-'));
    const cases: [string, NetworkConditions, number][] = [
      ['calm', CALM, 5],
      ['lossy', LOSSY, 5],
      ['lossy-2', LOSSY, 6],
    ];
    for (const [name, conditions, seed] of cases) {
      const file = join(dir, `${name}.pcapng`);
      renderCapture(script, { tcpLoss: true, conditions, seed, outputPath: file });
      files.set(name, file);
    }
  }, 60_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string): string => files.get(name)!;

  it('finds nothing to report on a loss-free network: no errors, warnings, malformed packets or TCP analysis flags', () => {
    const rows = expert(file('calm'));
    expect(rows.filter((r) => r.severity === 'Errors' || r.severity === 'Warns')).toEqual([]);
    // Notes and chats are the connection setups and closes only.
    const notes = rows.filter((r) => r.severity === 'Notes' || r.severity === 'Chats').map((r) => r.summary);
    for (const summary of notes) expect(summary).toMatch(/^(Connection establish|Connection finish|This frame (initiates|undergoes) the connection closing)/);
    expect(fields(file('calm'), '_ws.malformed || tcp.analysis.flags', 'frame.number')).toEqual([]);
  });

  it.each(['lossy', 'lossy-2'])('reports on %s only what losses cause', (name) => {
    const rows = expert(file(name));
    const unexpected = rows.filter(
      (r) =>
        (r.severity === 'Errors' && r.summary !== 'New fragment overlaps old data (retransmission?)') ||
        (r.severity === 'Warns' && !/^(This frame is a \(suspected\) out-of-order segment|Previous segment\(s\) not captured)/.test(r.summary)) ||
        (r.severity === 'Notes' && !/^(Duplicate ACK|This frame is a \(suspected\) (fast )?retransmission|This frame (initiates|undergoes) the connection closing)/.test(r.summary)),
    );
    expect(unexpected).toEqual([]);
    expect(rows.some((r) => r.summary.startsWith('Duplicate ACK'))).toBe(true);
    // tshark 4.0 reassembles a repeated segment a second time when it takes it for out-of-order
    // (it came within an RTT of the last new one) and calls the overlap an error: the only
    // "malformed" frames, all of them retransmissions of TCP segments the capture saw before.
    const malformed = fields(file(name), '_ws.malformed', 'frame.number', 'tcp.analysis.retransmission', 'tcp.analysis.out_of_order', 'tcp.len');
    for (const [frame, retransmission, outOfOrder, len] of malformed) {
      expect(retransmission !== '' || outOfOrder !== '', `frame ${frame}`).toBe(true);
      expect(Number(len)).toBeGreaterThan(0);
    }
    expect(fields(file(name), 'tcp.analysis.spurious_retransmission || tcp.analysis.ack_lost_segment || tcp.analysis.window_full || tcp.analysis.zero_window || tcp.analysis.keep_alive', 'frame.number')).toEqual([]);
  });

  it.each(['calm', 'lossy'])('puts a comment on every packet of %s, as frame.comment', (name) => {
    const rows = fields(file(name), '', 'frame.number', 'frame.comment');
    expect(rows.length).toBeGreaterThan(500);
    for (const [frame, comment] of rows) expect(comment, `frame ${frame}`).toMatch(/^cumma:usage=\w+ session=\d+ dialog=\d+$/);
  });

  it.each(['calm', 'lossy'])('advances sequence numbers by exactly the TLS bytes on %s', (name) => {
    const directions = tcpDirections(file(name));
    expect(directions.size).toBe(6); // chat, upload, IPv6 download: both directions each
    for (const [key, d] of directions) {
      // Every byte of the stream was captured in the end (downlink losses are retransmitted).
      const runs = union(d.ranges);
      expect(runs, key).toEqual([[1, runs[0]![1]]]);
      // A FIN follows the last byte, and the peer's last ACK covers it.
      if (d.finSeq >= 0) expect(d.finSeq, key).toBe(runs[0]![1]);
    }
    // The chat connection (TCP stream 0, the first opened): text bytes are the messages'
    // plaintext plus 22 bytes per record; setup bytes are the TLS handshake's.
    const chat = [...directions.entries()].filter(([key]) => key.startsWith('0/'));
    const up = chat.find(([key]) => key === '0/40001')![1];
    const down = chat.find(([key]) => key !== '0/40001')![1];
    const textUp = script.messages.filter((m) => m.connection === 1 && m.direction === 'up').reduce((sum, m) => sum + applicationWireBytes(m.bytes), 0);
    const textDown = script.messages.filter((m) => m.connection === 1 && m.direction === 'down').reduce((sum, m) => sum + applicationWireBytes(m.bytes), 0);
    expect(up.bytesByComment.get(formatTruthComment(TAGS.text))).toBe(textUp);
    expect(down.bytesByComment.get(formatTruthComment(TAGS.text))).toBe(textDown);
    // Client: ClientHello 517 + ChangeCipherSpec and Finished 64/80. Server: ServerHello, CCS,
    // certificate flight 2.5–5 KB, then up to two session tickets.
    expect([517 + 64, 517 + 80]).toContain(up.bytesByComment.get(formatTruthComment(TAGS.setup)));
    const serverSetup = down.bytesByComment.get(formatTruthComment(TAGS.setup))!;
    expect(serverSetup).toBeGreaterThanOrEqual(2500);
    expect(serverSetup).toBeLessThanOrEqual(5000 + 2 * 280);
    expect(up.finSeq).toBe(-1); // the chat connection stays open
  });

  it('dissects TLS 1.3 handshakes, DNS, NTP and STUN without complaint', () => {
    const f = file('calm');
    const hellos = fields(f, 'tls.handshake.type == 1', 'tls.record.length', 'tls.handshake.extensions.supported_version');
    expect(hellos).toHaveLength(3);
    for (const [length, versions] of hellos) {
      expect(length).toBe('512');
      expect(versions).toContain('0x0304');
    }
    expect(fields(f, 'tls.handshake.type == 2', 'tls.handshake.extensions.supported_version').map((r) => r[0])).toEqual(['0x0304', '0x0304', '0x0304']);
    const dns = fields(f, 'dns', 'dns.flags.response', 'dns.id', 'dns.response_to');
    expect(dns).toHaveLength(4);
    expect(dns.filter((r) => r[0] === '1' || r[0] === 'True').every((r) => r[2] !== '')).toBe(true);
    expect(fields(f, 'ntp', 'ntp.flags.mode').map((r) => r[0])).toEqual(['3', '4']);
    // Five STUN messages; the 97-byte one cannot be STUN and goes out RTP-like instead.
    expect(fields(f, 'stun', 'stun.type')).toHaveLength(5);
  });

  it('agrees with `cumma flows`: the truth sidecar sums to each flow', () => {
    assertCliBuilt(CLI);
    for (const name of ['calm', 'lossy']) {
      const f = file(name);
      const flows = execFileSync(process.execPath, [CLI, 'flows', f, '--format', 'jsonl'], { encoding: 'utf8' })
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { l4: string; client: { ip: string; port: number }; server: { ip: string; port: number }; firstUs: number; lastUs: number; packets: { up: number; down: number }; bytes: { up: number; down: number } });
      const key = (r: { l4: string; client: { ip: string; port: number }; server: { ip: string; port: number } }): string => `${r.l4} ${r.client.ip}:${r.client.port} ${r.server.ip}:${r.server.port}`;
      const summed = new Map<string, { firstUs: number; lastUs: number; packets: { up: number; down: number }; bytes: { up: number; down: number } }>();
      for (const r of readTruth(truthSidecarPath(f))) {
        const s = summed.get(key(r)) ?? { firstUs: r.startUs, lastUs: r.endUs, packets: { up: 0, down: 0 }, bytes: { up: 0, down: 0 } };
        s.firstUs = Math.min(s.firstUs, r.startUs);
        s.lastUs = Math.max(s.lastUs, r.endUs);
        s.packets.up += r.packets.up;
        s.packets.down += r.packets.down;
        s.bytes.up += r.bytes.up;
        s.bytes.down += r.bytes.down;
        summed.set(key(r), s);
      }
      expect(new Map(flows.map((flow) => [key(flow), { firstUs: flow.firstUs, lastUs: flow.lastUs, packets: flow.packets, bytes: flow.bytes }]))).toEqual(summed);
    }
  });
});
