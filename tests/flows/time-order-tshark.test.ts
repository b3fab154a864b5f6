// Captures whose timestamps are not in order, end to end against tshark: files joined with
// `mergecap -a` (time goes back at the join) and one timestamp a year ahead. Every 5-tuple's
// own gaps are far below the idle timeout, so each must come out as exactly one flow with
// tshark's totals, its client the first sender in file order. The flow table before this change
// split them (review t06): the stray's timestamp, or a run of packets just past the first
// file's end, expired every flow of the appended file, whose own times were an hour behind.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, ethernet, ipv4, pcapHeader, pcapRecord, tcp, udp, TCP_FLAGS } from '../support/capture-bytes';
import { run } from '../support/capture-files';
import { requireTools } from '../support/tools';
import { cummaFlows, tsharkTuples, tupleLines } from '../capture/tshark-per-tuple';

const T0 = 1_700_000_000;
const { ACK, PSH } = TCP_FLAGS;

interface Timed {
  readonly seconds: number;
  readonly micros: number;
  readonly frame: Uint8Array;
}

function pcapFile(path: string, packets: readonly Timed[]): string {
  writeFileSync(path, bytes(pcapHeader({ littleEndian: true, linkType: 1 }), ...packets.map((p) => pcapRecord(true, p.seconds, p.micros, p.frame))));
  return path;
}

function udpPacket(src: string, srcPort: number, dst: string, dstPort: number, seconds: number, micros = 0): Timed {
  return { seconds, micros, frame: ethernet(0x0800, ipv4({ src, dst, protocol: 17, payload: udp(srcPort, dstPort, 20) })) };
}

function tcpPacket(src: string, srcPort: number, dst: string, dstPort: number, seconds: number, micros = 0): Timed {
  return { seconds, micros, frame: ethernet(0x0800, ipv4({ src, dst, protocol: 6, payload: tcp(srcPort, dstPort, ACK | PSH, 10) })) };
}

/** Request/answer pairs every 10 s for `span` seconds from `start`, the first from `a`. */
function conversation(a: string, b: string, port: number, start: number, span: number): Timed[] {
  const out: Timed[] = [];
  for (let t = 0; t <= span; t += 10) {
    out.push(udpPacket(a, port, b, 53, start + t));
    out.push(udpPacket(b, 53, a, port, start + t, 500));
  }
  return out;
}

const tools = requireTools('tshark', 'mergecap');

describe.skipIf(tools.skip)('flows of captures whose time is not in order, against tshark', () => {
  let dir = '';

  beforeAll(() => {
    tools.assertAvailable();
    dir = mkdtempSync(join(tmpdir(), 'cumma-time-order-'));
  });

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  function expectOneFlowPerTuple(file: string, ...args: string[]): void {
    const reference = tsharkTuples(file);
    const cumma = cummaFlows(file, ...args);
    expect(cumma.status).toBe(0);
    expect(tupleLines(cumma.tuples)).toStrictEqual(tupleLines(reference));
    expect(cumma.flows).toHaveLength(reference.size);
  }

  it('mergecap -a of a capture an hour earlier: no flow of the second file is split', () => {
    // The first file ends with ARP at +3790 s, after its last flow packet (+3700 s). The second
    // file holds, among its own hour-earlier packets, two stamped +3840 s (a run, so the clock
    // does move to them). Its flows were read when the clock stood at +3790 s, so they have been
    // idle 50 s, not an hour, and the timeout is 60 s. The old table measured them by their own
    // times, and once the first file's flows had expired nothing stood in the way.
    const arp = ethernet(0x0806, new Uint8Array(28));
    const late = pcapFile(join(dir, 'late.pcap'), [
      ...conversation('10.1.0.1', '10.1.0.2', 1001, T0 + 3600, 100),
      { seconds: T0 + 3790, micros: 0, frame: arp },
      { seconds: T0 + 3790, micros: 1, frame: arp },
    ]);
    const early = pcapFile(join(dir, 'early.pcap'), [
      ...conversation('10.2.0.1', '10.2.0.2', 2001, T0, 100),
      udpPacket('10.3.0.1', 3001, '10.3.0.2', 53, T0 + 3840),
      udpPacket('10.3.0.2', 53, '10.3.0.1', 3001, T0 + 3840, 1),
      ...conversation('10.2.0.1', '10.2.0.2', 2001, T0 + 110, 190),
      ...conversation('10.2.0.5', '10.2.0.2', 2005, T0 + 150, 150),
    ]);
    const joined = join(dir, 'joined.pcap');
    run('mergecap', ['-a', '-F', 'pcap', '-w', joined, late, early]);
    expectOneFlowPerTuple(joined, '--idle-timeout', '60');
  });

  it('one packet stamped a year ahead splits nothing, and the TCP client stays the first sender', () => {
    const file = pcapFile(join(dir, 'stray.pcap'), [
      tcpPacket('10.0.0.1', 40000, '10.0.0.2', 443, T0),
      tcpPacket('10.0.0.2', 443, '10.0.0.1', 40000, T0, 100),
      tcpPacket('10.0.0.1', 40000, '10.0.0.2', 443, T0 + 1),
      udpPacket('10.9.9.9', 5, '10.0.0.2', 6, T0 + 365 * 86_400),
      tcpPacket('10.0.0.2', 443, '10.0.0.1', 40000, T0 + 2),
      tcpPacket('10.0.0.1', 40000, '10.0.0.2', 443, T0 + 3),
    ]);
    expectOneFlowPerTuple(file);
  });
});
