/**
 * Per-app traffic profiles: where an app's servers are, which ports, how often the persistent
 * chat connection sends keep-alives, how media moves. Each value is a range; a seed picks one
 * concrete profile, so two seeds model two phones/networks/app versions. The ranges and where
 * they come from are listed in docs/simulator.md.
 */
import { Prng } from '../common/prng';
import { ScriptEndpoint } from './traffic-script';

export const APP_NAMES = ['whatsapp', 'telegram', 'signal'] as const;
export type AppName = (typeof APP_NAMES)[number];

export function isAppName(value: string): value is AppName {
  return (APP_NAMES as readonly string[]).includes(value);
}

type Range = readonly [number, number];

interface AppProfileRanges {
  /** /16 or /24 prefixes the app's servers are announced from. */
  readonly chatPrefixes: readonly string[];
  readonly mediaPrefixes: readonly string[];
  readonly relayPrefixes: readonly string[];
  readonly chatPorts: readonly number[];
  readonly relayPorts: readonly number[];
  /** Seconds between keep-alive pings on an idle chat connection. */
  readonly keepAliveS: Range;
  /** Bytes of one keep-alive (ping and pong). */
  readonly keepAliveBytes: Range;
  /** Media moves in parts of this many bytes, each answered by the server (0: one request). */
  readonly mediaPartBytes: readonly number[];
  /** Bytes of framing the app adds around a chat message (headers, padding, signatures). */
  readonly messageOverhead: Range;
  /** Signal pads message plaintext to multiples of this (0: no padding). */
  readonly paddingBlock: number;
}

const RANGES: Readonly<Record<AppName, AppProfileRanges>> = {
  whatsapp: {
    chatPrefixes: ['157.240.', '31.13.'],
    mediaPrefixes: ['157.240.', '31.13.', '185.60.216.'],
    relayPrefixes: ['157.240.', '31.13.'],
    // 5222 (XMPP's port, which WhatsApp also uses) makes Wireshark decode TLS as XMPP text.
    chatPorts: [443],
    relayPorts: [3478],
    keepAliveS: [60, 240],
    keepAliveBytes: [40, 90],
    mediaPartBytes: [0],
    messageOverhead: [60, 140],
    paddingBlock: 0,
  },
  telegram: {
    chatPrefixes: ['149.154.167.', '149.154.175.', '91.108.56.'],
    mediaPrefixes: ['149.154.167.', '91.108.56.'],
    relayPrefixes: ['91.108.9.', '91.108.13.'],
    chatPorts: [443],
    relayPorts: [596, 597, 598, 599, 1400],
    keepAliveS: [30, 60],
    keepAliveBytes: [60, 110],
    mediaPartBytes: [131072, 262144, 524288],
    messageOverhead: [80, 160],
    paddingBlock: 16,
  },
  signal: {
    chatPrefixes: ['76.223.', '13.248.'],
    mediaPrefixes: ['13.32.', '108.138.'],
    // Signal relays calls through TURN servers in AWS, on ports the server allocates.
    relayPrefixes: ['18.195.', '3.122.', '52.57.'],
    chatPorts: [443],
    relayPorts: [3478, 49160, 53020, 58890],
    keepAliveS: [30, 55],
    keepAliveBytes: [50, 100],
    mediaPartBytes: [0],
    messageOverhead: [100, 200],
    paddingBlock: 160,
  },
};

/** One concrete profile drawn from the ranges. */
export interface AppProfile {
  readonly app: AppName;
  readonly client: { readonly ip: string; readonly firstPort: number };
  readonly chatServer: ScriptEndpoint;
  readonly mediaServer: () => ScriptEndpoint;
  readonly relay: ScriptEndpoint;
  readonly keepAliveUs: number;
  readonly keepAliveBytes: () => number;
  readonly mediaPartBytes: number;
  readonly messageBytes: (plaintext: number) => number;
}

/** A host address inside an announced prefix ('157.240.' → 157.240.x.y). */
export function addressIn(prng: Prng, prefix: string): string {
  const octets = prefix.split('.').filter(Boolean).length;
  const rest = Array.from({ length: 4 - octets }, (_, index) => (index === 3 - octets ? prng.int(1, 254) : prng.int(0, 255)));
  return prefix + rest.join('.');
}

/** A phone on Wi-Fi (192.168.x.y) or behind a carrier's NAT (10.x.y.z). */
function clientAddress(prng: Prng): string {
  return prng.chance(0.5) ? `192.168.${prng.int(0, 10)}.${prng.int(2, 254)}` : `10.${prng.int(0, 255)}.${prng.int(0, 255)}.${prng.int(2, 254)}`;
}

export function drawAppProfile(app: AppName, prng: Prng): AppProfile {
  const ranges = RANGES[app];
  const mediaPrefix = prng.pick(ranges.mediaPrefixes);
  const [overheadLow, overheadHigh] = ranges.messageOverhead;
  const overhead = prng.int(overheadLow, overheadHigh);
  const keepAlive = ranges.keepAliveBytes;
  return {
    app,
    // Android's ephemeral range is 32768–60999.
    client: { ip: clientAddress(prng), firstPort: prng.int(32768, 58000) },
    chatServer: { ip: addressIn(prng, prng.pick(ranges.chatPrefixes)), port: prng.pick(ranges.chatPorts) },
    // Media hosts differ per transfer (CDN edge selection), within the app's prefix.
    mediaServer: () => ({ ip: addressIn(prng, mediaPrefix), port: 443 }),
    relay: { ip: addressIn(prng, prng.pick(ranges.relayPrefixes)), port: prng.pick(ranges.relayPorts) },
    keepAliveUs: Math.round(prng.uniform(ranges.keepAliveS[0], ranges.keepAliveS[1]) * 1e6),
    keepAliveBytes: () => prng.int(keepAlive[0], keepAlive[1]),
    mediaPartBytes: prng.pick(ranges.mediaPartBytes),
    messageBytes: (plaintext) => {
      const framed = plaintext + overhead;
      return ranges.paddingBlock > 0 ? Math.ceil(framed / ranges.paddingBlock) * ranges.paddingBlock : framed;
    },
  };
}
