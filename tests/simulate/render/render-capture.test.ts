// The renderer end to end, read back with the project's own capture reader: truth on every
// packet, time order, timing at the capture point, sidecar totals, determinism, refusals.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteSink } from '../../../agent/src/capture/pcapng-writer';
import { TCP_ACK, TCP_FIN, TCP_SYN } from '../../../agent/src/capture/packet';
import {
  DEFAULT_START_US,
  drawNetworkConditions,
  RenderSummary,
  renderCapture,
  renderCaptureToSink,
  TruthRecord,
  truthSidecarPath,
} from '../../../agent/src/simulate/render';
import { TrafficScript } from '../../../agent/src/simulate/traffic-script';
import { CALM, downloadScript, LOSSY, mixedScript, SECOND, TAGS } from './fixtures';
import { isUp, phonePort, ReadPacket, readBack } from './read-back';
import { formatTruthComment } from '../../../agent/src/truth/truth-comment';

const COMMENT = /^cumma:usage=(\w+) session=(\d+) dialog=(\d+)$/;

function collect(): { sink: ByteSink; bytes(): Buffer } {
  const chunks: Buffer[] = [];
  return { sink: (b) => chunks.push(Buffer.from(b)), bytes: () => Buffer.concat(chunks) };
}

function readTruth(path: string): TruthRecord[] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as TruthRecord);
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cumma-render-'));
});
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ['calm', CALM],
  ['lossy', LOSSY],
] as const)('a mixed script on a %s network', (_name, conditions) => {
  let file = '';
  let summary: RenderSummary;
  let packets: ReadPacket[] = [];
  let truth: TruthRecord[] = [];
  const script = mixedScript();

  beforeAll(() => {
    file = join(dir, `mixed-${_name}.pcapng`);
    summary = renderCapture(script, { tcpLoss: true, conditions, seed: 5, outputPath: file });
    packets = readBack(file);
    truth = readTruth(truthSidecarPath(file));
  });

  it('puts a truth comment on every packet, in the issue-3 syntax', () => {
    expect(packets.length).toBe(summary.packets);
    for (const p of packets) {
      expect(p.comments).toHaveLength(1);
      expect(p.comments[0]).toMatch(COMMENT);
    }
  });

  it('writes packets in time order, from the default start time', () => {
    expect(packets[0]!.timeUs).toBeGreaterThanOrEqual(DEFAULT_START_US);
    for (let i = 1; i < packets.length; i++) expect(packets[i]!.timeUs).toBeGreaterThanOrEqual(packets[i - 1]!.timeUs);
    expect(summary.firstUs).toBe(packets[0]!.timeUs);
    expect(summary.lastUs).toBe(packets.at(-1)!.timeUs);
  });

  it("captures the phone's datagrams when the script sends them, the servers' half an RTT later at least", () => {
    const call = packets.filter((p) => !p.tcp && phonePort(p) === 40_004);
    const up = call.filter(isUp).map((p) => p.timeUs - DEFAULT_START_US);
    const sent = script.messages.filter((m) => m.connection === 4 && m.direction === 'up').map((m) => m.atUs);
    expect(up).toEqual(sent);
    const down = call.filter((p) => !isUp(p));
    const downSent = script.messages.filter((m) => m.connection === 4 && m.direction === 'down');
    // Lost datagrams are missing (lossy network), the rest arrive in order, after RTT/2.
    expect(down.length).toBeLessThanOrEqual(downSent.length);
    if (conditions.lossRate === 0) expect(down.length).toBe(downSent.length);
    const firstDown = down[0]!.timeUs - DEFAULT_START_US;
    expect(firstDown).toBeGreaterThanOrEqual(downSent[0]!.atUs + conditions.rttBaseUs / 2);
  });

  it('tags handshakes and closes with the setup truth, data and its ACKs with the message truth', () => {
    const upload = packets.filter((p) => p.tcp && phonePort(p) === 40_002);
    const setup = formatTruthComment(TAGS.mediaSetup);
    const photo = formatTruthComment(TAGS.photo);
    expect(upload[0]!.flags & TCP_SYN).toBeTruthy();
    // A close more than the 5-s dialog gap after the connection's previous packet is a dialog
    // of its own, and `other` (see the next test); one sooner shares the data's dialog.
    const firstFin = upload.findIndex((p) => (p.flags & TCP_FIN) !== 0);
    expect(firstFin).toBeGreaterThan(0);
    const alone = upload[firstFin]!.timeUs - upload[firstFin - 1]!.timeUs > 5 * SECOND;
    const close = alone ? formatTruthComment({ ...TAGS.mediaSetup, usage: 'other' }) : setup;
    for (const p of upload) {
      if (p.flags & TCP_SYN) expect(p.comments[0]).toBe(setup);
      if (p.flags & TCP_FIN) expect(p.comments[0]).toBe(close);
    }
    // The server's bare ACKs during the upload acknowledge photo bytes.
    const serverAcks = upload.filter((p) => !isUp(p) && p.payloadLength === 0 && p.flags === TCP_ACK);
    expect(serverAcks.filter((p) => p.comments[0] === photo).length).toBeGreaterThan(100);
    // Records of one message never share a segment with another message: 600 kB of photo
    // plaintext is carried by photo-tagged segments only, 22 bytes of overhead per record.
    const photoBytes = upload.filter((p) => isUp(p) && p.comments[0] === photo).reduce((sum, p) => sum + p.payloadLength, 0);
    // The setup truth of this connection equals the photo's (the lead's scripts do that too), so
    // the ClientHello (517) and the client's Finished flight (64, or 80 with SHA-384) count in.
    const expected = 600_000 + 22 * Math.ceil(600_000 / 16_384) + 517;
    if (conditions.lossRate === 0) expect([expected + 64, expected + 80]).toContain(photoBytes);
    else expect(photoBytes).toBeGreaterThanOrEqual(expected + 64); // retransmissions repeat bytes
  });

  it('sums the truth sidecar to the packets of the capture, per flow and in all', () => {
    const totalPackets = truth.reduce((sum, r) => sum + r.packets.up + r.packets.down, 0);
    const totalBytes = truth.reduce((sum, r) => sum + r.bytes.up + r.bytes.down, 0);
    expect(totalPackets).toBe(summary.packets);
    expect(totalBytes).toBe(summary.frameBytes);
    expect(totalBytes).toBe(packets.reduce((sum, p) => sum + p.length, 0));
    for (const r of truth) {
      expect(r.capture).toBe(`mixed-${_name}.pcapng`);
      expect(r.startUs).toBeLessThanOrEqual(r.endUs);
      const mine = packets.filter((p) => p.comments[0] === `cumma:usage=${r.usage} session=${r.session} dialog=${r.dialog}` && (p.srcPort === r.client.port || p.dstPort === r.client.port) && (p.srcPort === r.server.port || p.dstPort === r.server.port));
      expect(mine.length).toBe(r.packets.up + r.packets.down);
      expect(mine.filter((p) => p.srcPort === r.client.port).length).toBe(r.packets.up);
    }
  });

  it('orients flows as cumma flows does: a UDP flow the server starts has the server as client', () => {
    const push = truth.filter((r) => r.server.port === 40_006 || r.client.port === 40_006);
    expect(push).toHaveLength(1);
    expect(push[0]!.client).toEqual({ ip: '198.51.100.66', port: 5228 });
    expect(push[0]!.server).toEqual({ ip: '192.168.1.23', port: 40_006 });
    const clip = truth.find((r) => r.usage === 'video_clip' && r.l4 === 'tcp')!;
    expect(clip.client).toEqual({ ip: '2001:db8:1::23', port: 40_003 });
    expect(clip.server).toEqual({ ip: '2001:db8:ffff::35', port: 443 });
    // Truth lines come in the order their first packet was captured.
    for (let i = 1; i < truth.length; i++) expect(truth[i]!.startUs).toBeGreaterThanOrEqual(truth[i - 1]!.startUs);
  });

  it('loses and retransmits only as the network conditions say', () => {
    if (conditions.lossRate === 0) {
      expect([summary.lostUp, summary.lostDown, summary.retransmissions, summary.timeouts]).toEqual([0, 0, 0, 0]);
    } else {
      expect(summary.lostUp + summary.lostDown).toBeGreaterThan(0);
      expect(summary.retransmissions).toBeGreaterThan(0);
    }
    expect(summary.queueDropsUp + summary.queueDropsDown).toBe(0);
  });
});

describe('determinism', () => {
  const script = mixedScript();
  const render = (seed: number, startUs?: number): { capture: Buffer; truth: readonly TruthRecord[] } => {
    const out = collect();
    const { truth } = renderCaptureToSink(script, { tcpLoss: true, conditions: LOSSY, seed, startUs }, out.sink, 'x.pcapng');
    return { capture: out.bytes(), truth };
  };

  it('gives byte-identical captures and truth for the same seed', () => {
    const a = render(42);
    const b = render(42);
    expect(a.capture.equals(b.capture)).toBe(true);
    expect(b.truth).toEqual(a.truth);
  });

  it('gives a different capture for another seed, and shifts times with the start option', () => {
    expect(render(43).capture.equals(render(42).capture)).toBe(false);
    const shifted = render(42, DEFAULT_START_US + 3_600 * SECOND);
    expect(shifted.truth[0]!.startUs).toBe(render(42).truth[0]!.startUs + 3_600 * SECOND);
  });

  it('keeps a connection unchanged when another is added to the script', () => {
    const base = mixedScript();
    const calm = (s: TrafficScript): TruthRecord[] => [...renderCaptureToSink(s, { tcpLoss: true, conditions: CALM, seed: 1 }, () => undefined, 'x').truth];
    const extra: TrafficScript = {
      ...base,
      connections: [...base.connections, { ...base.connections[1]!, id: 99, client: { ip: '192.168.1.23', port: 40_099 }, openUs: 11 * SECOND, closeUs: undefined }],
    };
    const key = (r: TruthRecord): string => `${r.client.port}/${r.dialog}/${r.usage}`;
    const before = new Map(calm(base).map((r) => [key(r), r]));
    for (const r of calm(extra)) if (before.has(key(r))) expect(r).toEqual(before.get(key(r)));
  });
});

describe("a connection's close", () => {
  // The packets of port 41 000 from its first FIN on: the FINs, and the ACK of the last.
  function closeOf(closeUs: number): { close: ReadPacket[]; before: ReadPacket } {
    const path = join(dir, `close-${closeUs}.pcapng`);
    renderCapture(downloadScript(50_000, closeUs), { tcpLoss: false, conditions: CALM, seed: 2, outputPath: path });
    const flow = readBack(path).filter((p) => p.tcp && phonePort(p) === 41_000);
    const first = flow.findIndex((p) => (p.flags & TCP_FIN) !== 0);
    return { close: flow.slice(first), before: flow[first - 1]! };
  }

  it('alone in its dialog (more than the 5-s gap after the data) is `other`: its 66-byte packets say nothing of the usage', () => {
    const { close, before } = closeOf(20 * SECOND);
    expect(close[0]!.timeUs - before.timeUs).toBeGreaterThan(5 * SECOND);
    expect(close.length).toBeGreaterThanOrEqual(3);
    for (const p of close) expect(p.comments[0]).toBe(formatTruthComment({ ...TAGS.clipSetup, usage: 'other' }));
    expect(before.comments[0]).not.toMatch(/usage=other/);
  });

  it("within the gap keeps the connection's own label, so its dialog has one label", () => {
    const { close, before } = closeOf(2 * SECOND);
    expect(close[0]!.timeUs - before.timeUs).toBeLessThanOrEqual(5 * SECOND);
    for (const p of close) expect(p.comments[0]).toBe(formatTruthComment(TAGS.clipSetup));
  });
});

describe('throughput and memory', () => {
  it('renders a 20 MB download (≈ 20 k packets) at well over 20 k packets/s, streaming', () => {
    const started = process.hrtime.bigint();
    let bytes = 0;
    const { summary } = renderCaptureToSink(downloadScript(20_000_000, 30 * SECOND), { tcpLoss: true, conditions: CALM, seed: 3 }, (b) => (bytes += b.length), 'big');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(summary.packets).toBeGreaterThan(20_000);
    expect(bytes).toBe(summary.fileBytes);
    // Measured ≈ 0.1 s; the bound catches an accidental quadratic step, not a slow machine.
    expect(summary.packets / seconds).toBeGreaterThan(20_000);
  });

  it('paces a download by the downlink rate', () => {
    const { summary } = renderCaptureToSink(downloadScript(5_000_000, undefined), { tcpLoss: true, conditions: CALM, seed: 3 }, () => undefined, 'x');
    // 5 MB at 20 Mbit/s is 2 s at least; slow start and the handshake add a little.
    const seconds = (summary.lastUs - summary.firstUs) / 1e6;
    expect(seconds).toBeGreaterThan(2);
    expect(seconds).toBeLessThan(4);
  });
});

describe('refusals', () => {
  const base = mixedScript();
  const options = { tcpLoss: true, conditions: CALM, seed: 1 };
  const refuse = (script: TrafficScript): (() => unknown) => () => renderCaptureToSink(script, options, () => undefined, 'x');

  it('names the bad connection or message', () => {
    const badAddress = { ...base, connections: base.connections.map((c) => (c.id === 2 ? { ...c, server: { ip: '20.10.45', port: 443 } } : c)) };
    expect(refuse(badAddress)).toThrow(/connection 2 server: '20.10.45' is not an IPv4 or IPv6 address/);
    const mixedFamilies = { ...base, connections: base.connections.map((c) => (c.id === 2 ? { ...c, server: { ip: '2001:db8::1', port: 443 } } : c)) };
    expect(refuse(mixedFamilies)).toThrow(/connection 2: client 192.168.1.23 and server 2001:db8::1 are not of one IP version/);
    const unsorted = { ...base, messages: [...base.messages].reverse() };
    expect(refuse(unsorted)).toThrow(/messages must be sorted by atUs/);
    const afterClose = { ...base, messages: [...base.messages, { atUs: 11 * SECOND, connection: 2, direction: 'up' as const, bytes: 10, truth: TAGS.photo }] };
    expect(refuse(afterClose)).toThrow(/not before connection 2 closes at 9000000 µs/);
    const jumbo = { ...base, messages: [...base.messages, { atUs: 11 * SECOND, connection: 4, direction: 'up' as const, bytes: 1500, truth: TAGS.call }] };
    expect(refuse(jumbo)).toThrow(/1500-byte datagram exceeds 1472 bytes/);
    const tinyDns = { ...base, messages: [...base.messages, { atUs: 11 * SECOND, connection: 5, direction: 'up' as const, bytes: 10, truth: TAGS.dns }] };
    expect(refuse(tinyDns)).toThrow(/port 53: a DNS message cannot be exactly 10 bytes/);
    const noSuchConnection = { ...base, messages: [...base.messages, { atUs: 11 * SECOND, connection: 77, direction: 'up' as const, bytes: 10, truth: TAGS.dns }] };
    expect(refuse(noSuchConnection)).toThrow(/no connection 77/);
  });

  it('checks the seed, the start time and the conditions', () => {
    expect(() => renderCaptureToSink(base, { tcpLoss: true, conditions: CALM, seed: -1 }, () => undefined, 'x')).toThrow(/seed must be an integer in 0..4294967295/);
    expect(() => renderCaptureToSink(base, { tcpLoss: true, conditions: CALM, seed: 1, startUs: 1.5 }, () => undefined, 'x')).toThrow(/startUs/);
    expect(() => renderCaptureToSink(base, { tcpLoss: true, conditions: { ...CALM, lossRate: 0.5 }, seed: 1 }, () => undefined, 'x')).toThrow(/lossRate must be a number in 0..0.02/);
  });

  it('leaves no file behind when rendering fails', () => {
    const sub = mkdtempSync(join(dir, 'fail-'));
    const bad = { ...base, messages: [...base.messages].reverse() };
    expect(() => renderCapture(bad, { ...options, outputPath: join(sub, 'out.pcapng') })).toThrow();
    expect(readdirSync(sub)).toEqual([]);
    expect(existsSync(join(sub, 'out.pcapng'))).toBe(false);
  });

  it('writes nothing over what took the output path while rendering, when mayReplace refuses it', () => {
    const sub = mkdtempSync(join(dir, 'changed-'));
    const out = join(sub, 'out.pcapng');
    const asked: string[] = [];
    const render = (): unknown =>
      renderCapture(base, {
        ...options,
        outputPath: out,
        mayReplace: (path) => {
          asked.push(path);
          // Another program saves its notes there while the capture is rendered.
          writeFileSync(path, 'notes');
          return `${path} became notes`;
        },
      });
    expect(render).toThrow(`${out} became notes`);
    expect(asked).toEqual([out]);
    expect(readFileSync(out, 'utf8')).toBe('notes');
    // Neither the capture, its truth nor a temporary is left beside the notes.
    expect(readdirSync(sub)).toEqual(['out.pcapng']);
  });

  it('never writes through a symbolic link planted at a temporary name it could have used', () => {
    const sub = mkdtempSync(join(dir, 'planted-'));
    const out = join(sub, 'out.pcapng');
    const target = join(sub, 'precious.txt');
    writeFileSync(target, 'precious');
    // The names a run of this process used to write through: PATH.PID.tmp and its truth's.
    symlinkSync(target, `${out}.${process.pid}.tmp`);
    symlinkSync(target, `${out}.truth.jsonl.${process.pid}.tmp`);
    renderCapture(base, { ...options, outputPath: out });
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(readBack(out).length).toBeGreaterThan(0);
    expect(readdirSync(sub).sort()).toEqual(['out.pcapng', `out.pcapng.${process.pid}.tmp`, 'out.pcapng.truth.jsonl', `out.pcapng.truth.jsonl.${process.pid}.tmp`, 'precious.txt']);
  });
});

describe('drawn conditions', () => {
  it('render the fixture cleanly for many seeds (no drops, every byte delivered)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const conditions = drawNetworkConditions(seed);
      const { summary, truth } = renderCaptureToSink(mixedScript(), { tcpLoss: true, conditions, seed }, () => undefined, 'x');
      expect(summary.queueDropsUp + summary.queueDropsDown, `seed ${seed}`).toBe(0);
      expect(truth.length, `seed ${seed}`).toBeGreaterThanOrEqual(7);
    }
  });
});
