// Hand-made traffic scripts and fixed network conditions for the renderer's tests: small enough
// to read, covering TLS both ways, an upload and a download of many records, a call, DNS, a UDP
// flow the server opens, IPv6, and a connection left open at the end.

import { NetworkConditions } from '../../../agent/src/simulate/render';
import { ScriptConnection, ScriptMessage, TrafficScript, TruthTag } from '../../../agent/src/simulate/traffic-script';

export const SECOND = 1_000_000;

export const CALM: NetworkConditions = {
  rttBaseUs: 60_000,
  jitterUs: 4_000,
  lossRate: 0,
  downlinkBitsPerSecond: 20_000_000,
  uplinkBitsPerSecond: 5_000_000,
  mss: 1460,
};

export const LOSSY: NetworkConditions = { ...CALM, lossRate: 0.02, rttBaseUs: 90_000, jitterUs: 12_000, mss: 1400 };

export const TAGS = {
  setup: { usage: 'other', session: 1, dialog: 1 },
  text: { usage: 'text', session: 1, dialog: 2 },
  photo: { usage: 'photo', session: 1, dialog: 3 },
  clip: { usage: 'video_clip', session: 1, dialog: 4 },
  call: { usage: 'voice_call', session: 1, dialog: 5 },
  dns: { usage: 'other', session: 0, dialog: 6 },
  push: { usage: 'other', session: 0, dialog: 7 },
  mediaSetup: { usage: 'photo', session: 1, dialog: 3 },
  clipSetup: { usage: 'video_clip', session: 1, dialog: 4 },
} as const satisfies Record<string, TruthTag>;

const PHONE = '192.168.1.23';
const PHONE_V6 = '2001:db8:1::23';

function tls(id: number, port: number, server: string, openUs: number, closeUs: number | undefined, setupTruth: TruthTag, phone = PHONE): ScriptConnection {
  return { id, kind: 'tls', purpose: 'media', client: { ip: phone, port }, server: { ip: server, port: 443 }, openUs, closeUs, setupTruth };
}

function udp(id: number, port: number, server: string, serverPort: number, purpose: ScriptConnection['purpose'], openUs: number, setupTruth: TruthTag): ScriptConnection {
  return { id, kind: 'udp', purpose, client: { ip: PHONE, port }, server: { ip: server, port: serverPort }, openUs, setupTruth };
}

/**
 * Ids: 1 chat (TLS, text both ways, open to the end), 2 photo upload (TLS, 600 kB up),
 * 3 clip download over IPv6 (TLS, 400 kB down), 4 call (UDP, 50 packets/s each way for 3 s),
 * 5 DNS (A + AAAA queries, two answers), 6 push over UDP that the server starts, 7 NTP,
 * 8 STUN checks to the call relay (one of a size STUN cannot have, sent as RTP-like instead).
 */
export function mixedScript(): TrafficScript {
  const connections: ScriptConnection[] = [
    { ...tls(1, 40_001, '157.240.1.10', 100_000, undefined, TAGS.setup), purpose: 'chat' },
    tls(2, 40_002, '157.240.2.20', 2 * SECOND, 9 * SECOND, TAGS.mediaSetup),
    tls(3, 40_003, '2001:db8:ffff::35', 3 * SECOND, 10 * SECOND, TAGS.clipSetup, PHONE_V6),
    udp(4, 40_004, '157.240.3.30', 3478, 'call', 5 * SECOND, TAGS.call),
    udp(5, 40_005, '192.0.2.53', 53, 'dns', 50_000, TAGS.dns),
    udp(6, 40_006, '198.51.100.66', 5228, 'push', 4 * SECOND, TAGS.push),
    udp(7, 40_007, '192.0.2.123', 123, 'ntp', 70_000, TAGS.dns),
    udp(8, 40_008, '157.240.3.30', 3478, 'stun', 4_500_000, TAGS.call),
  ];
  const messages: ScriptMessage[] = [
    { atUs: 50_000, connection: 5, direction: 'up', bytes: 38, truth: TAGS.dns },
    { atUs: 50_200, connection: 5, direction: 'up', bytes: 38, truth: TAGS.dns },
    { atUs: 60_000, connection: 5, direction: 'down', bytes: 54, truth: TAGS.dns },
    { atUs: 60_400, connection: 5, direction: 'down', bytes: 66, truth: TAGS.dns },
    { atUs: 70_000, connection: 7, direction: 'up', bytes: 48, truth: TAGS.dns },
    { atUs: 95_000, connection: 7, direction: 'down', bytes: 48, truth: TAGS.dns },
  ];
  for (let i = 0; i < 3; i++) {
    messages.push({ atUs: 4_500_000 + i * 100_000, connection: 8, direction: 'up', bytes: i === 2 ? 97 : 108, truth: TAGS.call });
    messages.push({ atUs: 4_550_000 + i * 100_000, connection: 8, direction: 'down', bytes: 80 + 4 * i, truth: TAGS.call });
  }
  for (let i = 0; i < 8; i++) {
    messages.push({ atUs: SECOND + i * 150_000, connection: 1, direction: i % 3 === 2 ? 'down' : 'up', bytes: 40 + 31 * i, truth: TAGS.text });
  }
  messages.push({ atUs: 2 * SECOND + 10_000, connection: 2, direction: 'up', bytes: 600_000, truth: TAGS.photo });
  messages.push({ atUs: 3 * SECOND + 200_000, connection: 3, direction: 'up', bytes: 420, truth: TAGS.clip });
  messages.push({ atUs: 3 * SECOND + 400_000, connection: 3, direction: 'down', bytes: 400_000, truth: TAGS.clip });
  messages.push({ atUs: 4 * SECOND, connection: 6, direction: 'down', bytes: 180, truth: TAGS.push });
  messages.push({ atUs: 4 * SECOND + 90_000, connection: 6, direction: 'up', bytes: 60, truth: TAGS.push });
  for (let t = 5 * SECOND; t < 8 * SECOND; t += 20_000) {
    messages.push({ atUs: t, connection: 4, direction: 'up', bytes: 120, truth: TAGS.call });
    messages.push({ atUs: t + 3_000, connection: 4, direction: 'down', bytes: 110, truth: TAGS.call });
  }
  messages.sort((a, b) => a.atUs - b.atUs);
  return { connections, messages, durationUs: 12 * SECOND };
}

/** A script of one TLS download of `bytes`, for throughput and memory measurements. */
export function downloadScript(bytes: number, closeUs: number | undefined): TrafficScript {
  return {
    connections: [tls(1, 41_000, '203.0.113.80', 0, closeUs, TAGS.clipSetup)],
    messages: [
      { atUs: 100_000, connection: 1, direction: 'up', bytes: 500, truth: TAGS.clip },
      { atUs: 200_000, connection: 1, direction: 'down', bytes, truth: TAGS.clip },
    ],
    durationUs: closeUs ?? 60 * SECOND,
  };
}
