/**
 * Seeded random captures for property and fuzz tests: every block type the reader knows,
 * both byte orders, several sections and link types, built with the hand-written encoder.
 */
import { Prng } from '../../agent/src/common/prng';
import {
  TCP_FLAGS,
  block,
  bytes,
  enhancedPacket,
  ethernet,
  fields,
  interfaceDescription,
  ipv4,
  ipv6,
  ipv6Extension,
  obsoletePacket,
  pcapHeader,
  pcapRecord,
  sectionHeader,
  simplePacket,
  tcp,
  udp,
} from './capture-bytes';

/** The project's seeded generator as a plain function, to drive test data reproducibly. */
export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

export function randomInt(random: () => number, below: number): number {
  return Math.floor(random() * below);
}

function randomFrame(random: () => number, linkType: number): Uint8Array {
  const host = (n: number): string => `10.0.${n}.${1 + randomInt(random, 200)}`;
  const l4 = random() < 0.5 ? tcp(1024 + randomInt(random, 4), 443, [TCP_FLAGS.SYN, TCP_FLAGS.ACK, TCP_FLAGS.FIN | TCP_FLAGS.ACK][randomInt(random, 3)]!, randomInt(random, 300)) : udp(5000 + randomInt(random, 3), 53, randomInt(random, 200));
  const protocol = l4.length >= 20 && (l4[12]! & 0xf0) === 0x50 ? 6 : 17;
  const ip =
    random() < 0.7
      ? ipv4({ src: host(1), dst: host(2), protocol, payload: l4 })
      : ipv6({ src: `2001:db8::${randomInt(random, 9)}`, dst: `2001:db8::a${randomInt(random, 9)}`, nextHeader: random() < 0.3 ? 0 : protocol, payload: random() < 0.3 ? bytes(ipv6Extension(protocol), l4) : l4 });
  const isV6 = ip[0]! >> 4 === 6;
  switch (linkType) {
    case 1:
      return ethernet(isV6 ? 0x86dd : 0x0800, ip, random() < 0.2 ? [0x8100] : []);
    case 0:
      return bytes(Uint8Array.of(isV6 ? 24 : 2, 0, 0, 0), ip);
    default:
      return ip;
  }
}

const LINK_TYPES = [1, 101, 0] as const;

export function randomPcapng(random: () => number): Uint8Array {
  const parts: Uint8Array[] = [];
  const sections = 1 + randomInt(random, 2);
  let time = 1_700_000_000_000_000n;
  for (let section = 0; section < sections; section++) {
    const le = random() < 0.5;
    parts.push(sectionHeader(le, random() < 0.3 ? [{ code: 1, value: new TextEncoder().encode('section comment') }] : []));
    const interfaces = LINK_TYPES.slice(0, 1 + randomInt(random, 3));
    for (const linkType of interfaces) parts.push(interfaceDescription(le, { linkType, snapLength: random() < 0.2 ? 60 : 0, ...(random() < 0.3 ? { tsresol: 9 } : {}) }));
    const packets = 1 + randomInt(random, 12);
    for (let index = 0; index < packets; index++) {
      time += BigInt(randomInt(random, 5_000_000));
      const interfaceId = randomInt(random, interfaces.length);
      const data = randomFrame(random, interfaces[interfaceId]!);
      const kind = random();
      if (kind < 0.7) parts.push(enhancedPacket(le, { interfaceId, timestamp: time, data, ...(random() < 0.2 ? { comments: ['cumma:usage=photo'] } : {}) }));
      else if (kind < 0.8 && interfaceId === 0) parts.push(simplePacket(le, data));
      else if (kind < 0.9) parts.push(obsoletePacket(le, { interfaceId, timestamp: time, data }));
      else parts.push(block(le, 0x00000005, fields(le).u32(0).u32(0).u32(0).done()));
    }
  }
  return bytes(...parts);
}

export function randomPcap(random: () => number): Uint8Array {
  const littleEndian = random() < 0.5;
  const nanoseconds = random() < 0.5;
  const linkType = LINK_TYPES[randomInt(random, LINK_TYPES.length)]!;
  const parts = [pcapHeader({ littleEndian, nanoseconds, linkType })];
  const packets = 1 + randomInt(random, 15);
  for (let index = 0; index < packets; index++) {
    parts.push(pcapRecord(littleEndian, 1_700_000_000 + index, randomInt(random, nanoseconds ? 999_999_999 : 999_999), randomFrame(random, linkType)));
  }
  return bytes(...parts);
}

export function randomCapture(random: () => number): Uint8Array {
  return random() < 0.7 ? randomPcapng(random) : randomPcap(random);
}
