// The synthetic capture generator used by the benchmark and the demo: deterministic, exact in
// packet and flow counts, realistic in shape, and clean for Wireshark and nDPI.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTsharkConversations, ndpiUniqueFlows } from '../../scripts/lib/peer-output';
import { Prng } from '../../agent/src/common/prng';
import { buildScript, FlowKind, MIN_PACKETS } from '../../scripts/lib/synthetic-flows';
import { planCapture } from '../../scripts/lib/synthetic-plan';
import {
  SyntheticCaptureSummary,
  writeSyntheticCapture,
  writeSyntheticCaptureFile,
} from '../../scripts/lib/synthetic-capture';
import { requireTools } from '../support/tools';

function digest(options: { packets: number; flows: number; seed: number }): { sha256: string; summary: SyntheticCaptureSummary; bytes: number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const summary = writeSyntheticCapture(
    (chunk) => {
      hash.update(chunk);
      bytes += chunk.length;
    },
    { ...options, reuseChunk: true },
  );
  return { sha256: hash.digest('hex'), summary, bytes };
}

describe('synthetic capture generator', () => {
  it('gives a byte-identical capture for the same seed and a different one for another seed', () => {
    const a = digest({ packets: 20_000, flows: 300, seed: 7 });
    const b = digest({ packets: 20_000, flows: 300, seed: 7 });
    const c = digest({ packets: 20_000, flows: 300, seed: 8 });
    expect(b.sha256).toBe(a.sha256);
    expect(c.sha256).not.toBe(a.sha256);
    expect(a.bytes).toBe(a.summary.fileBytes);
  });

  it('sweeps the half-written file of a run that was stopped, and keeps a running one\'s', () => {
    const folder = mkdtempSync(join(tmpdir(), 'cumma-synthetic-sweep-'));
    try {
      const path = join(folder, 'bench.pcapng');
      // A process that has ended: its pid is free, so its temporary file is nobody's.
      const ended = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));
      writeFileSync(`${path}.${ended}.tmp`, Buffer.alloc(4096));
      // pid 1 runs for as long as the machine does: its file may be being written now.
      writeFileSync(`${path}.1.tmp`, Buffer.alloc(16));
      const summary = writeSyntheticCaptureFile(path, { packets: 2_000, flows: 30, seed: 3 });
      expect(statSync(path).size).toBe(summary.fileBytes);
      expect(existsSync(`${path}.${ended}.tmp`)).toBe(false);
      expect(readdirSync(folder).sort()).toEqual(['bench.pcapng', 'bench.pcapng.1.tmp']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('writes exactly the packets and flows asked for, with the planned mix', () => {
    const { summary } = digest({ packets: 50_000, flows: 1_000, seed: 1 });
    expect(summary.packets).toBe(50_000);
    expect(summary.flows).toBe(1_000);
    expect(summary.tcpFlows + summary.udpFlows).toBe(1_000);
    expect(summary.dnsFlows).toBe(250);
    expect(summary.callFlows).toBe(50);
    expect(summary.ipv6Flows).toBeGreaterThan(100);
    expect(summary.ipv6Flows).toBeLessThan(200);
    expect(summary.lastUs).toBeGreaterThan(summary.firstUs);
  });

  it('looks like messaging traffic: mean frame 300–700 bytes, many flows open at once', () => {
    const { summary } = digest({ packets: 100_000, flows: 2_000, seed: 3 });
    const meanFrame = summary.frameBytes / summary.packets;
    expect(meanFrame).toBeGreaterThan(300);
    expect(meanFrame).toBeLessThan(700);
    // About a fifth of the flows open at a typical moment.
    expect(summary.meanOpenFlows).toBeGreaterThan(200);
    expect(summary.maxOpenFlows).toBeLessThan(2_000);
  });

  it('gives every flow a unique 5-tuple and the packet budgets add up', () => {
    const plans = planCapture({ packets: 200_000, flows: 5_000, seed: 11 });
    expect(plans.reduce((a, p) => a + p.packets, 0)).toBe(200_000);
    const tuples = new Set(plans.map((p) => `${p.kind}|${p.ipv6}|${p.host}|${p.clientPort}|${p.server}|${p.serverPort}`));
    expect(tuples.size).toBe(5_000);
    // Client endpoints alone are unique too (ports are never reused on a host).
    expect(new Set(plans.map((p) => `${p.ipv6}|${p.host}|${p.clientPort}`)).size).toBe(5_000);
  });

  it('scripts every TCP budget exactly, with contiguous sequence numbers and ACKs that only advance', () => {
    for (const ipv6 of [false, true]) {
      for (let packets = MIN_PACKETS[FlowKind.Tls]; packets < 400; packets += packets < 60 ? 1 : 17) {
        for (const seed of [1, 2, 3]) {
          const s = buildScript(FlowKind.Tls, packets, ipv6, new Prng(seed * 1000 + packets));
          expect(s.count).toBe(packets);
          const nextSeq = [0, 0];
          const lastPureAck = [-1, -1];
          for (let i = 0; i < s.count; i++) {
            const dir = s.up[i]!;
            if (i > 0) expect(s.timeUs[i]).toBeGreaterThanOrEqual(s.timeUs[i - 1]!);
            // Each side's segments continue exactly where its previous one ended (SYN/FIN take 1).
            expect(s.seqRel[i]).toBe(nextSeq[dir]);
            nextSeq[dir] = s.seqRel[i]! + s.payloadLength[i]! + (s.flags[i]! & 0x03 ? 1 : 0);
            // An ACK never acknowledges bytes the peer has not sent yet.
            if (s.flags[i]! & 0x10) expect(s.ackRel[i]).toBeLessThanOrEqual(nextSeq[dir ^ 1]!);
            // Pure ACKs acknowledge new data each time (else Wireshark reports duplicate ACKs).
            if (s.flags[i] === 0x10 && s.payloadLength[i] === 0 && i > 2) {
              expect(s.ackRel[i]).toBeGreaterThan(lastPureAck[dir]!);
              lastPureAck[dir] = s.ackRel[i]!;
            }
          }
        }
      }
    }
  });

  it('scripts large budgets (media transfers) exactly too', () => {
    for (const packets of [2_000, 9_999, 50_000]) {
      const s = buildScript(FlowKind.Tls, packets, false, new Prng(packets));
      expect(s.count).toBe(packets);
      expect(s.payloadLength.reduce((a, b) => Math.max(a, b), 0)).toBe(1448);
    }
    const plans = planCapture({ packets: 100_000, flows: 3, seed: 4 });
    expect(plans.reduce((a, p) => a + p.packets, 0)).toBe(100_000);
  });

  it('refuses a packet count too small for the flows, saying how many are needed', () => {
    expect(() => digest({ packets: 100, flows: 50, seed: 1 })).toThrow(/50 flows need at least \d+ packets \(got 100\)/);
    expect(() => digest({ packets: 100, flows: 0, seed: 1 })).toThrow(/flows must be a positive integer/);
  });
});

const tshark = requireTools('tshark', 'capinfos');

describe.skipIf(tshark.skip)('synthetic capture read by tshark', () => {
  let dir = '';
  let path = '';
  let summary: SyntheticCaptureSummary;
  beforeAll(() => {
    tshark.assertAvailable();
    dir = mkdtempSync(join(tmpdir(), 'cumma-synthetic-'));
    path = join(dir, 'synthetic.pcapng');
    summary = writeSyntheticCaptureFile(path, { packets: 30_000, flows: 600, seed: 5 });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (tool: string, args: string[]): string =>
    execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });

  it('capinfos: all packets, in time order, file size as reported', () => {
    const info = run('capinfos', ['-c', '-o', path]);
    expect(info).toMatch(/Number of packets:\s+30 k/);
    expect(info).toMatch(/Strict time order:\s+True/);
    expect(statSync(path).size).toBe(summary.fileBytes);
  });

  it('tshark finds one conversation per planned flow and nothing malformed or suspicious', () => {
    const conv = run('tshark', ['-r', path, '-q', '-z', 'conv,tcp', '-z', 'conv,udp']);
    expect(countTsharkConversations(conv)).toEqual({ tcp: summary.tcpFlows, udp: summary.udpFlows });
    expect(run('tshark', ['-r', path, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'])).toBe('');
  });

  it('every TCP flow opens with a TLS ClientHello and every DNS flow is a query and its answer', () => {
    const hellos = run('tshark', ['-r', path, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tcp.len']);
    const lengths = hellos.trimEnd().split('\n');
    expect(lengths).toHaveLength(summary.tcpFlows);
    expect(new Set(lengths)).toEqual(new Set(['517']));
    const dns = run('tshark', ['-r', path, '-Y', 'dns', '-T', 'fields', '-e', 'dns.flags.response']);
    const flags = dns.trimEnd().split('\n');
    expect(flags.filter((f) => f === '0')).toHaveLength(summary.dnsFlows);
    expect(flags.filter((f) => f === '1')).toHaveLength(summary.dnsFlows);
  });
});

const ndpi = requireTools('ndpiReader');

describe.skipIf(ndpi.skip)('synthetic capture read by ndpiReader', () => {
  it('nDPI counts the planned flows and recognises TLS, RTP and DNS', () => {
    ndpi.assertAvailable();
    const dir = mkdtempSync(join(tmpdir(), 'cumma-synthetic-ndpi-'));
    try {
      const path = join(dir, 'synthetic.pcapng');
      const summary = writeSyntheticCaptureFile(path, { packets: 10_000, flows: 200, seed: 9 });
      const out = execFileSync('ndpiReader', ['-i', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(ndpiUniqueFlows(out)).toBe(summary.flows);
      expect(out).toMatch(new RegExp(`TLS\\s+packets: \\d+\\s+bytes: \\d+\\s+flows: ${summary.tcpFlows}\\b`));
      expect(out).toMatch(new RegExp(`DNS\\s+packets: ${2 * summary.dnsFlows}\\s+bytes: \\d+\\s+flows: ${summary.dnsFlows}\\b`));
      expect(out).toMatch(new RegExp(`RTP\\s+packets: \\d+\\s+bytes: \\d+\\s+flows: ${summary.callFlows}\\b`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
