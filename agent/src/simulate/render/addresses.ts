/**
 * Addresses of simulated endpoints: the script's text forms turned into header bytes, the same
 * addresses in the canonical text `cumma flows` prints (so truth and flow records compare as
 * strings), and the two MAC addresses of the phone's link.
 */
import { formatIpv4, formatIpv6 } from '../../flows/ip-address';
import { Prng } from '../../common/prng';

export interface ParsedAddress {
  /** 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
  readonly bytes: Uint8Array;
  /** As Wireshark and `cumma flows` print it (RFC 5952 for IPv6). */
  readonly text: string;
}

function parseIpv4Words(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let word = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    word = (word << 8) | value;
  }
  return word >>> 0;
}

function parseIpv6Groups(text: string): number[] | undefined {
  let hex = text;
  if (text.includes('.')) {
    // A dotted IPv4 tail (::ffff:192.0.2.1) stands for the last two groups: rewrite it as such.
    const lastColon = text.lastIndexOf(':');
    const v4 = parseIpv4Words(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    hex = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = hex.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (left === undefined || right === undefined) return undefined;
  if (halves.length === 1) return left.length === 8 ? left : undefined;
  // '::' stands for at least one zero group.
  if (left.length + right.length > 7) return undefined;
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** Parses a dotted IPv4 or an IPv6 address; throws naming `what` and the text when invalid. */
export function parseAddress(text: string, what: string): ParsedAddress {
  const v4 = parseIpv4Words(text);
  if (v4 !== undefined) {
    return { bytes: Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff), text: formatIpv4(v4) };
  }
  const groups = text.includes(':') ? parseIpv6Groups(text) : undefined;
  if (groups === undefined) throw new RangeError(`${what}: '${text}' is not an IPv4 or IPv6 address`);
  const bytes = new Uint8Array(16);
  const words = new Uint32Array(4);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >>> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  for (let w = 0; w < 4; w++) words[w] = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
  return { bytes, text: formatIpv6(words) };
}

/** The phone's interface and its next hop (Wi-Fi AP or tethering gateway), per seed. */
export interface LinkAddresses {
  readonly phoneMac: Uint8Array;
  readonly gatewayMac: Uint8Array;
}

/**
 * Locally administered unicast MACs (first byte 0x02 | random bits, low bits 10): made up, so
 * no vendor is implied, and the same for every connection of a capture (one phone, one link).
 */
export function drawLinkAddresses(rng: Prng): LinkAddresses {
  const mac = (): Uint8Array => {
    const bytes = new Uint8Array(6);
    for (let i = 0; i < 6; i++) bytes[i] = rng.int(0, 255);
    bytes[0] = (bytes[0]! & 0xfc) | 0x02;
    return bytes;
  };
  return { phoneMac: mac(), gatewayMac: mac() };
}
