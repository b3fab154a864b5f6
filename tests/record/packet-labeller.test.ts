// Which truth each captured packet gets, from the replay log alone (no capture, no sockets).

import { describe, expect, it } from 'vitest';
import { DecodeStatus, Packet, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, Transport } from '../../agent/src/capture/packet';
import { ReplayedConnection } from '../../agent/src/record/loopback-replay';
import { PacketLabeller, PacketVerdict, estimateClockOffsetUs, lastAtOrBefore } from '../../agent/src/record/packet-labeller';
import { TruthTable, truthJsonl } from '../../agent/src/truth/truth-sidecar';
import { TruthTag } from '../../agent/src/simulate/traffic-script';

const LOOPBACK = 0x7f000001;
const T0 = 1_700_000_000_000_000;
const SERVER_TCP = 4433;
const SERVER_UDP = 5544;
const CONTROL = 6655;

const setup: TruthTag = { usage: 'other', session: 1, dialog: 1 };
const text: TruthTag = { usage: 'text', session: 1, dialog: 2 };
const photo: TruthTag = { usage: 'photo', session: 1, dialog: 3 };
const call: TruthTag = { usage: 'voice_call', session: 2, dialog: 1 };

function tcpConnection(id: number, clientPort: number, openedUs: number, messages: [number, TruthTag][], closedUs?: number): ReplayedConnection {
  return {
    id,
    l4: 'tcp',
    client: { ip: '127.0.0.1', port: clientPort },
    server: { ip: '127.0.0.1', port: SERVER_TCP },
    setupTruth: setup,
    openedUs,
    closedUs,
    messages: messages.map(([stampUs, truth]) => ({ stampUs, truth, direction: 'up' as const })),
  };
}

interface PacketSpec {
  timeUs: number;
  transport?: Transport;
  src: number;
  dst: number;
  flags?: number;
  srcIp?: number;
  payload?: number;
}

function packet(spec: PacketSpec): Packet {
  const p = new Packet();
  p.status = DecodeStatus.Transport;
  p.ipVersion = 4;
  p.srcAddress[0] = spec.srcIp ?? LOOPBACK;
  p.dstAddress[0] = LOOPBACK;
  p.transport = spec.transport ?? Transport.Tcp;
  p.srcPort = spec.src;
  p.dstPort = spec.dst;
  p.tcpFlags = spec.flags ?? TCP_ACK;
  p.timestampUs = spec.timeUs;
  p.payloadLength = spec.payload ?? 0;
  return p;
}

/** usage/dialog and direction of a verdict, or its kind. */
function brief(verdict: PacketVerdict): string {
  if (verdict.kind !== 'script') return verdict.kind;
  return `${verdict.connection.id} ${verdict.direction} ${verdict.truth.usage}/${verdict.truth.dialog}`;
}

describe('PacketLabeller', () => {
  const chat = tcpConnection(0, 50000, T0, [
    [T0 + 100_000, text],
    [T0 + 300_000, photo],
  ]);
  const udpCall: ReplayedConnection = {
    id: 1,
    l4: 'udp',
    client: { ip: '127.0.0.1', port: 50001 },
    server: { ip: '127.0.0.1', port: SERVER_UDP },
    setupTruth: call,
    openedUs: T0,
    closedUs: undefined,
    messages: [{ stampUs: T0 + 500_000, truth: call, direction: 'down' }],
  };

  it('gives handshake packets the setup truth, then the latest message at or before each packet', () => {
    const labeller = new PacketLabeller([chat, udpCall], { controlPort: CONTROL });
    const seen = [
      packet({ timeUs: T0 + 10, src: 50000, dst: SERVER_TCP, flags: TCP_SYN }),
      packet({ timeUs: T0 + 20, src: SERVER_TCP, dst: 50000, flags: TCP_SYN | TCP_ACK }),
      packet({ timeUs: T0 + 100_000, src: 50000, dst: SERVER_TCP, flags: TCP_PSH | TCP_ACK }),
      packet({ timeUs: T0 + 140_000, src: SERVER_TCP, dst: 50000 }),
      packet({ timeUs: T0 + 299_999, src: 50000, dst: SERVER_TCP }),
      packet({ timeUs: T0 + 300_000, src: 50000, dst: SERVER_TCP, flags: TCP_PSH | TCP_ACK }),
      packet({ timeUs: T0 + 500_010, transport: Transport.Udp, src: SERVER_UDP, dst: 50001 }),
    ].map((p) => brief(labeller.label(p)));
    expect(seen).toEqual([
      '0 up other/1',
      '0 down other/1',
      '0 up text/2',
      '0 down text/2',
      '0 up text/2',
      '0 up photo/3',
      '1 down voice_call/1',
    ]);
  });

  it('gives the close the setup truth: from the close stamp, or from the first FIN, whichever is first', () => {
    const closing = tcpConnection(2, 50010, T0, [[T0 + 100, text]], T0 + 1_000);
    const labeller = new PacketLabeller([closing, tcpConnection(3, 50011, T0, [[T0 + 100, text]])], { controlPort: CONTROL });
    expect(brief(labeller.label(packet({ timeUs: T0 + 999, src: 50010, dst: SERVER_TCP })))).toBe('2 up text/2');
    expect(brief(labeller.label(packet({ timeUs: T0 + 1_000, src: 50010, dst: SERVER_TCP })))).toBe('2 up other/1');
    // Connection 3 never closed in the script, but a FIN (and all after it) is still the close.
    expect(brief(labeller.label(packet({ timeUs: T0 + 2_000, src: SERVER_TCP, dst: 50011, flags: TCP_FIN | TCP_ACK })))).toBe('3 down other/1');
    expect(brief(labeller.label(packet({ timeUs: T0 + 2_100, src: 50011, dst: SERVER_TCP })))).toBe('3 up other/1');
  });

  it('tells apart two connections that used the same client port one after the other', () => {
    const first = tcpConnection(4, 50020, T0, [[T0 + 10, text]], T0 + 100);
    const second = tcpConnection(5, 50020, T0 + 1_000, [[T0 + 1_100, photo]]);
    const labeller = new PacketLabeller([second, first], { controlPort: CONTROL });
    expect(brief(labeller.label(packet({ timeUs: T0 + 50, src: 50020, dst: SERVER_TCP })))).toBe('4 up text/2');
    expect(brief(labeller.label(packet({ timeUs: T0 + 1_001, src: 50020, dst: SERVER_TCP, flags: TCP_SYN })))).toBe('5 up other/1');
    expect(brief(labeller.label(packet({ timeUs: T0 + 1_200, src: SERVER_TCP, dst: 50020 })))).toBe('5 down photo/3');
  });

  it('shifts the stamps by the clock offset', () => {
    const labeller = new PacketLabeller([chat], { controlPort: CONTROL, clockOffsetUs: -50 });
    expect(brief(labeller.label(packet({ timeUs: T0 + 99_950, src: 50000, dst: SERVER_TCP })))).toBe('0 up text/2');
  });

  it('sets probes and packets of no replayed connection apart', () => {
    const labeller = new PacketLabeller([chat], { controlPort: CONTROL });
    expect(labeller.label(packet({ timeUs: T0, transport: Transport.Udp, src: CONTROL, dst: CONTROL })).kind).toBe('control');
    expect(labeller.label(packet({ timeUs: T0, src: 50099, dst: SERVER_TCP })).kind).toBe('foreign');
    expect(labeller.label(packet({ timeUs: T0, src: 50000, dst: SERVER_TCP, srcIp: 0x0a000001 })).kind).toBe('foreign');
    const notDecoded = packet({ timeUs: T0, src: 50000, dst: SERVER_TCP });
    notDecoded.status = DecodeStatus.NotIp;
    expect(labeller.label(notDecoded).kind).toBe('foreign');
  });
});

describe('estimateClockOffsetUs', () => {
  it('is the most negative gap between a connection\'s first packet and its stamp, else 0', () => {
    const a = tcpConnection(0, 50000, T0 + 1_000, []);
    const b = tcpConnection(1, 50001, T0 + 2_000, []);
    const seen = new Map([
      ['tcp 50000 4433', T0 + 1_030],
      ['tcp 50001 4433', T0 + 1_990],
    ]);
    expect(estimateClockOffsetUs([a, b], seen)).toBe(-10);
    expect(estimateClockOffsetUs([a], seen)).toBe(0);
  });

  it('ignores tuples used by more than one connection', () => {
    const a = tcpConnection(0, 50000, T0 + 1_000, []);
    const again = tcpConnection(1, 50000, T0 + 5_000, []);
    expect(estimateClockOffsetUs([a, again], new Map([['tcp 50000 4433', T0 + 1_020]]))).toBe(0);
  });
});

describe('lastAtOrBefore', () => {
  it('finds the last index whose value is at most x', () => {
    const values = [10, 20, 20, 30];
    expect([5, 10, 19, 20, 29, 30, 99].map((x) => lastAtOrBefore(values, x))).toEqual([-1, 0, 0, 2, 2, 3, 3]);
    expect(lastAtOrBefore([], 1)).toBe(-1);
  });
});

describe('TruthTable', () => {
  const flowA = { l4: 'tcp' as const, client: { ip: '127.0.0.1', port: 1 }, server: { ip: '127.0.0.1', port: 2 } };
  const flowB = { l4: 'udp' as const, client: { ip: '127.0.0.1', port: 3 }, server: { ip: '127.0.0.1', port: 4 } };

  it('sums packets and frame bytes per flow, session and dialog, in the order of their first packet', () => {
    const table = new TruthTable('x.pcapng');
    table.add(flowA, setup, 'up', 100, 74);
    table.add(flowA, setup, 'down', 110, 74);
    table.add(flowB, call, 'up', 150, 200);
    table.add(flowA, text, 'up', 200, 300);
    table.add(flowA, text, 'down', 260, 66);
    table.add(flowA, setup, 'up', 400, 66);
    const records = table.records();
    expect(records.map((r) => [r.l4, r.client.port, r.usage, r.dialog, r.startUs, r.endUs, r.packets, r.bytes])).toEqual([
      ['tcp', 1, 'other', 1, 100, 400, { up: 2, down: 1 }, { up: 140, down: 74 }],
      ['udp', 3, 'voice_call', 1, 150, 150, { up: 1, down: 0 }, { up: 200, down: 0 }],
      ['tcp', 1, 'text', 2, 200, 260, { up: 1, down: 1 }, { up: 300, down: 66 }],
    ]);
    expect(truthJsonl(records).split('\n')[0]).toBe(
      '{"capture":"x.pcapng","l4":"tcp","client":{"ip":"127.0.0.1","port":1},"server":{"ip":"127.0.0.1","port":2},' +
        '"session":1,"dialog":1,"usage":"other","startUs":100,"endUs":400,"packets":{"up":2,"down":1},"bytes":{"up":140,"down":74}}',
    );
  });

  it('makes the server the client of a UDP flow whose first datagram it sent, as cumma flows does', () => {
    const table = new TruthTable('x.pcapng');
    table.add(flowB, call, 'down', 100, 90);
    table.add(flowB, call, 'up', 120, 70);
    const [record] = table.records();
    expect(record).toMatchObject({ client: { port: 4 }, server: { port: 3 }, packets: { up: 1, down: 1 }, bytes: { up: 90, down: 70 } });
  });
});
