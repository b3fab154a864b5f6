// The pcapng writer, checked byte for byte against the draft's layout and read back by Wireshark's
// own tools (tshark, capinfos), which are independent of cumma's reader.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteSink, createFileSink, PcapngWriter } from '../../agent/src/capture/pcapng-writer';
import { requireTools } from '../support/tools';

/** Collects everything the writer emits into one buffer. */
function collect(): { sink: ByteSink; bytes(): Buffer } {
  const chunks: Uint8Array[] = [];
  return { sink: (b) => chunks.push(b), bytes: () => Buffer.concat(chunks) };
}

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** µs since the epoch as tshark prints frame.time_epoch (nanosecond digits). */
function epochText(us: number): string {
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}000`;
}

/** A minimal Ethernet/IPv4/UDP frame with the given source address, padded to `length`. */
function udpFrame(src: number, length: number): Uint8Array {
  const f = new Uint8Array(Math.max(length, 42));
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  const ipLength = f.length - 14;
  f.set([0x45, 0, ipLength >> 8, ipLength & 0xff, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, src, 192, 0, 2, 1], 14);
  const udpLength = ipLength - 20;
  f.set([0xc3, 0x50, 0x01, 0xbb, udpLength >> 8, udpLength & 0xff, 0, 0], 34);
  return f;
}

describe('PcapngWriter layout', () => {
  it('writes the section header, interface and packet blocks exactly as the draft lays them out', () => {
    const out = collect();
    const w = new PcapngWriter(out.sink);
    expect(w.addInterface({ linkType: 1, snapLen: 65535 })).toBe(0);
    w.writePacket(0, 2 ** 32 + 5, Uint8Array.of(0xaa, 0xbb, 0xcc), 60, 'é');
    w.flush();
    expect(out.bytes().toString('hex')).toBe(
      hex(`
        0a0d0d0a 2c000000 4d3c2b1a 0100 0000 ffffffff ffffffff
        0400 0500 43756d6d61 000000  00000000  2c000000
        01000000 14000000 0100 0000 ffff0000 14000000
        06000000 30000000 00000000 01000000 05000000 03000000 3c000000
        aabbcc00  0100 0200 c3a9 0000  00000000  30000000
      `).toString('hex'),
    );
  });

  it('writes if_name and if_tsresol options, and scales µs timestamps to nanoseconds exactly', () => {
    const out = collect();
    const w = new PcapngWriter(out.sink, { userApplication: '' });
    w.addInterface({ linkType: 101, snapLen: 0, name: 'lo', timestampDecimals: 9 });
    // 1 705 312 800 123 457 µs = 0x17AA7CF4_E2490DE8 ns: beyond 2^53, so a float product would round.
    w.writePacket(0, 1_705_312_800_123_457, new Uint8Array(4));
    w.flush();
    const b = out.bytes();
    expect(b.subarray(0, 28).toString('hex')).toBe(hex('0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000').toString('hex'));
    expect(b.subarray(28, 28 + 40).toString('hex')).toBe(
      hex('01000000 28000000 6500 0000 00000000  0200 0200 6c6f 0000  0900 0100 09000000  00000000  28000000').toString('hex'),
    );
    const ns = 1_705_312_800_123_457n * 1000n;
    expect(b.readUInt32LE(68 + 12)).toBe(Number(ns >> 32n));
    expect(b.readUInt32LE(68 + 16)).toBe(Number(ns & 0xffffffffn));
  });

  it('produces the same bytes whatever the chunk size, including blocks larger than a chunk', () => {
    const write = (sink: ByteSink, chunkBytes: number, reuseChunk: boolean): PcapngWriter => {
      const w = new PcapngWriter(sink, { chunkBytes, reuseChunk });
      w.addInterface({ linkType: 1, snapLen: 0 });
      for (let i = 0; i < 500; i++) {
        const frame = new Uint8Array(i === 250 ? 9000 : 40 + ((i * 37) % 1500)).fill(i & 0xff);
        w.writePacket(0, 1_700_000_000_000_000 + i, frame, undefined, i % 7 === 0 ? `packet ${i} ✓` : undefined);
      }
      w.flush();
      return w;
    };
    const reference = collect();
    write(reference.sink, 1 << 20, false);
    const small = collect();
    write(small.sink, 4096, false);
    expect(small.bytes().equals(reference.bytes())).toBe(true);
    // A reused chunk is overwritten after the sink returns, so this sink copies.
    const copies: Buffer[] = [];
    const w = write((b) => copies.push(Buffer.from(b)), 4096, true);
    expect(Buffer.concat(copies).equals(reference.bytes())).toBe(true);
    expect(w.bytesWritten).toBe(reference.bytes().length);
  });

  it('rejects packets that would make an invalid file, naming the problem', () => {
    const w = new PcapngWriter(() => undefined);
    w.addInterface({ linkType: 1, snapLen: 64 });
    expect(() => w.writePacket(1, 0, new Uint8Array(10))).toThrow(/interface 1 was not added/);
    expect(() => w.writePacket(0, 0, new Uint8Array(65))).toThrow(/exceeds the interface snapLen 64/);
    expect(() => w.writePacket(0, 0, new Uint8Array(10), 9)).toThrow(/originalLength 9/);
    expect(() => w.writePacket(0, -1, new Uint8Array(10))).toThrow(/timestampUs/);
    expect(() => w.writePacket(0, 1.5, new Uint8Array(10))).toThrow(/timestampUs/);
    expect(() => w.writePacket(0, 0, new Uint8Array(10), 10, 'x'.repeat(70_000))).toThrow(/opt_comment is 70000 bytes/);
    expect(() => w.addInterface({ linkType: 70_000 })).toThrow(/linkType/);
    expect(() => w.addInterface({ linkType: 1, timestampDecimals: 3 })).toThrow(/timestampDecimals/);
  });

  it('writes 1 M packets in well under a second of CPU', () => {
    let bytes = 0;
    const w = new PcapngWriter((b) => (bytes += b.length), { reuseChunk: true });
    w.addInterface({ linkType: 1 });
    const frame = new Uint8Array(1514);
    const lengths = [66, 1514, 130, 90, 600, 1514, 66, 200];
    const before = process.cpuUsage();
    for (let i = 0; i < 1_000_000; i++) w.writePacket(0, 1_700_000_000_000_000 + i * 100, frame.subarray(0, lengths[i & 7]));
    w.flush();
    const cpu = process.cpuUsage(before);
    expect(bytes).toBeGreaterThan(500_000_000);
    // Measured ≈ 0.1 s; the bound leaves room for a slow CI machine, not for a per-packet allocation.
    expect((cpu.user + cpu.system) / 1e6).toBeLessThan(1);
  });
});

const tools = requireTools('tshark', 'capinfos');

describe.skipIf(tools.skip)('PcapngWriter output read by tshark and capinfos', () => {
  let dir = '';
  beforeAll(() => {
    tools.assertAvailable();
    dir = mkdtempSync(join(tmpdir(), 'cumma-pcapng-writer-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  interface Written {
    interfaceId: number;
    timestampUs: number;
    length: number;
    originalLength: number;
    comment: string | undefined;
    src: number;
  }

  function writeSample(path: string): Written[] {
    const file = createFileSink(path);
    const w = new PcapngWriter(file.sink, { chunkBytes: 4096, reuseChunk: true });
    const eth = w.addInterface({ linkType: 1, name: 'eth0' });
    const ethNs = w.addInterface({ linkType: 1, snapLen: 0, timestampDecimals: 9 });
    const written: Written[] = [];
    const comments = ['plain', 'ünïcödé ✓ 🙂', 'x', 'three', 'four'];
    for (let i = 0; i < 300; i++) {
      const length = 42 + ((i * 131) % 1473); // every padding remainder, up to 1514
      const p: Written = {
        interfaceId: i % 3 === 0 ? ethNs : eth,
        timestampUs: 1_705_312_800_000_000 + i * 1_234_567 + (i % 10),
        length,
        originalLength: i % 5 === 0 ? length + 100 : length,
        comment: i % 4 === 0 ? comments[(i / 4) % comments.length] : undefined,
        src: (i % 250) + 1,
      };
      w.writePacket(p.interfaceId, p.timestampUs, udpFrame(p.src, length), p.originalLength, p.comment);
      written.push(p);
    }
    w.flush();
    file.close();
    return written;
  }

  it('tshark reads back every packet: interface, lengths, timestamp, comment and addresses', () => {
    const path = join(dir, 'sample.pcapng');
    const written = writeSample(path);
    const fields = ['frame.interface_id', 'frame.len', 'frame.cap_len', 'frame.time_epoch', 'frame.comment', 'ip.src'];
    const out = execFileSync('tshark', ['-r', path, '-T', 'fields', '-E', 'separator=\t', ...fields.flatMap((f) => ['-e', f])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const rows = out.trimEnd().split('\n').map((line) => line.split('\t'));
    expect(rows).toEqual(
      written.map((p) => [
        String(p.interfaceId),
        String(p.originalLength),
        String(p.length),
        epochText(p.timestampUs),
        p.comment ?? '',
        `10.0.0.${p.src}`,
      ]),
    );
    const malformed = execFileSync('tshark', ['-r', path, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(malformed).toBe('');
  });

  it('capinfos accepts the file and reports its interfaces and packet count', () => {
    const path = join(dir, 'capinfos.pcapng');
    writeSample(path);
    const info = execFileSync('capinfos', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(info).toMatch(/Number of packets:\s+300\b/);
    expect(info).toMatch(/Strict time order:\s+True/);
    expect(info).toMatch(/File type:\s+Wireshark\/\.\.\. - pcapng/);
    expect(info).toMatch(/Capture application:\s+Cumma/);
    expect(info).toMatch(/Number of interfaces in file: 2/);
    expect(info).toMatch(/Time precision = nanoseconds \(9\)/);
  });

  it('an empty capture (header and interface only) is valid', () => {
    const path = join(dir, 'empty.pcapng');
    const out = collect();
    const w = new PcapngWriter(out.sink);
    w.addInterface({ linkType: 1 });
    w.flush();
    writeFileSync(path, out.bytes());
    const info = execFileSync('capinfos', ['-c', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(info).toMatch(/Number of packets:\s+0\b/);
    expect(readFileSync(path).length).toBe(44 + 20);
  });
});
