// Frames built for synthetic captures: header fields where the RFCs put them, checksums that
// verify (by the RFC 1071 property and by tshark with checksum validation switched on).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fillPseudoRandom,
  FrameSpec,
  TcpFrameSpec,
  tcpPayloadOffset,
  udpPayloadOffset,
  writeTcpFrame,
  writeUdpFrame,
} from '../../agent/src/capture/frame-builder';
import { createFileSink, PcapngWriter } from '../../agent/src/capture/pcapng-writer';
import { requireTools } from '../support/tools';

const V4_SRC = Uint8Array.of(10, 1, 2, 3);
const V4_DST = Uint8Array.of(203, 0, 113, 9);
const V6_SRC = Uint8Array.from(Buffer.from('fd0000c0ffee00000000000000000002', 'hex'));
const V6_DST = Uint8Array.from(Buffer.from('20010db8010000000000000000000010', 'hex'));

function tcpSpec(v6: boolean, payloadLength: number): TcpFrameSpec {
  return {
    srcMac: Uint8Array.of(2, 4, 0, 0, 0, 1),
    dstMac: Uint8Array.of(2, 0, 0, 0, 0, 1),
    srcIp: v6 ? V6_SRC : V4_SRC,
    dstIp: v6 ? V6_DST : V4_DST,
    srcPort: 50123,
    dstPort: 443,
    ttl: 64,
    ipId: 0x1234,
    trafficClass: 0,
    flowLabel: 0xabcde,
    payloadLength,
    seq: 0xfffffff0,
    ack: 12345,
    flags: 0x18,
    window: 2048,
    options: Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2),
  };
}

function udpSpec(v6: boolean, payloadLength: number): FrameSpec {
  const { seq: _s, ack: _a, flags: _f, window: _w, options: _o, ...spec } = tcpSpec(v6, payloadLength);
  return { ...spec, dstPort: 3480, trafficClass: 46 << 2 };
}

/** RFC 1071: summing a header or segment including its checksum gives 0xffff. */
function onesSum(...parts: Buffer[]): number {
  let sum = 0;
  for (const part of parts) {
    const even = part.length % 2 === 0 ? part : Buffer.concat([part, Buffer.alloc(1)]);
    for (let i = 0; i < even.length; i += 2) sum += even.readUInt16BE(i);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function pseudoHeader(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): Buffer {
  const tail = Buffer.alloc(src.length === 4 ? 4 : 8);
  if (src.length === 4) {
    tail.writeUInt8(protocol, 1);
    tail.writeUInt16BE(length, 2);
  } else {
    tail.writeUInt32BE(length, 0);
    tail.writeUInt8(protocol, 7);
  }
  return Buffer.concat([Buffer.from(src), Buffer.from(dst), tail]);
}

interface Ports {
  srcPort: number;
  dstPort: number;
}

function build(kind: 'tcp' | 'udp', v6: boolean, payloadLength: number, variant = 1, ports?: Ports): Buffer {
  const out = new Uint8Array(2048).fill(0xee); // stale bytes must not leak into the frame
  if (kind === 'tcp') {
    const spec = { ...tcpSpec(v6, payloadLength), ...ports };
    fillPseudoRandom(out, tcpPayloadOffset(spec), payloadLength, variant);
    return Buffer.from(out.subarray(0, writeTcpFrame(out, spec)));
  }
  const spec = { ...udpSpec(v6, payloadLength), ...ports };
  fillPseudoRandom(out, udpPayloadOffset(spec), payloadLength, variant);
  return Buffer.from(out.subarray(0, writeUdpFrame(out, spec)));
}

describe('frame builder', () => {
  it('lays out an Ethernet/IPv4/TCP frame field by field', () => {
    const f = build('tcp', false, 101);
    expect(f.length).toBe(14 + 20 + 32 + 101);
    expect(f.subarray(0, 14).toString('hex')).toBe('020000000001' + '020400000001' + '0800');
    expect(f[14]).toBe(0x45);
    expect(f.readUInt16BE(16)).toBe(20 + 32 + 101); // total length
    expect(f.readUInt16BE(18)).toBe(0x1234);
    expect(f.readUInt16BE(20)).toBe(0x4000); // DF
    expect(f[22]).toBe(64);
    expect(f[23]).toBe(6);
    expect([...f.subarray(26, 34)]).toEqual([10, 1, 2, 3, 203, 0, 113, 9]);
    expect(f.readUInt16BE(34)).toBe(50123);
    expect(f.readUInt16BE(36)).toBe(443);
    expect(f.readUInt32BE(38)).toBe(0xfffffff0);
    expect(f.readUInt32BE(42)).toBe(12345);
    expect(f[46]).toBe(8 << 4); // 32-byte header
    expect(f[47]).toBe(0x18);
    expect(f.readUInt16BE(48)).toBe(2048);
    expect(f.subarray(54, 66).toString('hex')).toBe('0101080a0000000100000002');
  });

  it('lays out an Ethernet/IPv6/UDP frame with traffic class and flow label', () => {
    const f = build('udp', true, 33);
    expect(f.length).toBe(14 + 40 + 8 + 33);
    expect(f.readUInt16BE(12)).toBe(0x86dd);
    expect(f.readUInt32BE(14)).toBe(((6 << 28) | ((46 << 2) << 20) | 0xabcde) >>> 0);
    expect(f.readUInt16BE(18)).toBe(8 + 33);
    expect(f[20]).toBe(17);
    expect(f[21]).toBe(64);
    expect(f.readUInt16BE(58)).toBe(8 + 33);
  });

  for (const v6 of [false, true]) {
    for (const length of [0, 1, 2, 3, 517, 1447, 1448]) {
      it(`IPv${v6 ? 6 : 4} checksums verify for a ${length}-byte payload`, () => {
        const ip = 14;
        const l4 = ip + (v6 ? 40 : 20);
        const [src, dst] = v6 ? [V6_SRC, V6_DST] : [V4_SRC, V4_DST];
        const tcp = build('tcp', v6, length);
        if (!v6) expect(onesSum(tcp.subarray(ip, l4))).toBe(0xffff);
        expect(onesSum(pseudoHeader(src, dst, 6, tcp.length - l4), tcp.subarray(l4))).toBe(0xffff);
        const udp = build('udp', v6, length);
        expect(udp.readUInt16BE(l4 + 6)).not.toBe(0);
        expect(onesSum(pseudoHeader(src, dst, 17, udp.length - l4), udp.subarray(l4))).toBe(0xffff);
      });
    }
  }

  it('refuses mixed address families, unpadded options and oversized payloads', () => {
    const out = new Uint8Array(70_000);
    expect(() => writeTcpFrame(out, { ...tcpSpec(false, 0), dstIp: V6_DST })).toThrow(/both be 4 \(IPv4\) or 16 \(IPv6\)/);
    expect(() => writeTcpFrame(out, { ...tcpSpec(false, 0), options: new Uint8Array(3) })).toThrow(/multiple of 4/);
    expect(() => writeUdpFrame(out, udpSpec(false, 65_508))).toThrow(/does not fit one IP packet/);
    expect(() => writeUdpFrame(new Uint8Array(100), udpSpec(false, 100))).toThrow(/does not fit the 100-byte buffer/);
  });
});

const tools = requireTools('tshark');

describe.skipIf(tools.skip)('frame builder output read by tshark', () => {
  let dir = '';
  beforeAll(() => {
    tools.assertAvailable();
    dir = mkdtempSync(join(tmpdir(), 'cumma-frame-builder-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('decodes every frame with good IPv4, TCP and UDP checksums and no expert warnings', () => {
    const path = join(dir, 'frames.pcapng');
    const file = createFileSink(path);
    const w = new PcapngWriter(file.sink, { reuseChunk: true });
    w.addInterface({ linkType: 1 });
    let n = 0;
    for (const v6 of [false, true]) {
      for (const kind of ['tcp', 'udp'] as const) {
        for (let length = 0; length < 1400; length += 97) {
          // Ports no dissector claims, so only IP/TCP/UDP are checked; one stream per frame, so
          // TCP analysis sees no retransmissions.
          const frame = build(kind, v6, length, n, { srcPort: 50000 + n, dstPort: 50999 });
          w.writePacket(0, 1_705_312_800_000_000 + n * 1000, frame);
          n++;
        }
      }
    }
    w.flush();
    file.close();

    const checks = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
    const fields = ['ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status', 'tcp.len', 'udp.length'];
    const out = execFileSync('tshark', ['-r', path, ...checks, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const rows = out.trimEnd().split('\n').map((l) => l.split('\t'));
    expect(rows).toHaveLength(n);
    for (const [ipStatus, tcpStatus, udpStatus] of rows) {
      // 1 = "Good"; IPv6 has no header checksum (empty).
      expect(['1', '']).toContain(ipStatus);
      expect([tcpStatus, udpStatus]).toContain('1');
    }
    const problems = execFileSync(
      'tshark',
      ['-r', path, ...checks, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(problems).toBe('');
  });
});
