/**
 * Address text in, anonymised address text out, for `--anonymize KEY`.
 *
 * - Dotted IPv4 ("192.0.2.1"): Crypto-PAn over 32 bits, printed dotted.
 * - IPv6 in any RFC 4291 text form (compressed or not, any case, dotted tail allowed): Crypto-PAn
 *   over 128 bits, printed in the RFC 5952 canonical form (the project's formatIpv6).
 * - IPv4-mapped IPv6 (::ffff:a.b.c.d, or ::ffff:xxxx:xxxx): the ::ffff:0:0/96 prefix is kept and
 *   the embedded IPv4 address is mapped as IPv4, so ::ffff:a.b.c.d becomes ::ffff:(the IPv4
 *   mapping of a.b.c.d), printed with its dotted tail. A dual-stack socket's view of a host and
 *   its plain IPv4 view therefore stay the same host after anonymisation.
 *   Consequences: prefix preservation holds among IPv4 addresses (mapped or not) and among the
 *   other IPv6 addresses, not across the two (a mapped address and ::1 share 80 leading bits
 *   before, not after); and an unmapped IPv6 address could in principle land inside
 *   ::ffff:0:0/96 (probability 2^-96 per address, ignored).
 * - A zone ("fe80::1%eth0") is an interface name, not an address: it is kept as it is.
 *
 * Text that is not an address is refused with an Error, never passed through, so a malformed
 * field cannot leak an address into "anonymised" output.
 *
 * Results are memoised per input text in a bounded map (first in, first out), since the
 * endpoints of a capture repeat across its flows and dialogs.
 */
import { formatIpv4, formatIpv6 } from '../flows/ip-address';
import { CryptoPan } from './crypto-pan';

export interface IpAnonymizerOptions {
  /** Most input texts remembered; 0 turns the memo off. Default 65 536. */
  readonly cacheSize?: number;
}

/** What anonymizeEndpoints rewrites: the `client.ip` and `server.ip` of flow and dialog records. */
export interface HasEndpoints {
  readonly client: { readonly ip: string };
  readonly server: { readonly ip: string };
}

const DEFAULT_CACHE_SIZE = 65_536;

export class IpAnonymizer {
  private readonly pan: CryptoPan;
  private readonly cache = new Map<string, string>();
  private readonly cacheSize: number;

  /** `key`: the 32 Crypto-PAn key bytes (see key.ts for reading them from the command line). */
  constructor(key: Uint8Array, options: IpAnonymizerOptions = {}) {
    this.pan = new CryptoPan(key);
    this.cacheSize = Math.max(0, Math.floor(options.cacheSize ?? DEFAULT_CACHE_SIZE));
  }

  /** The anonymised form of an IPv4 or IPv6 address text; throws on anything else. */
  anonymize(ip: string): string {
    const known = this.cache.get(ip);
    if (known !== undefined) return known;
    const result = this.compute(ip);
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(ip, result);
    }
    return result;
  }

  /** A copy of a flow or dialog record with both endpoint addresses anonymised (ports kept). */
  anonymizeEndpoints<T extends HasEndpoints>(record: T): T {
    return {
      ...record,
      client: { ...record.client, ip: this.anonymize(record.client.ip) },
      server: { ...record.server, ip: this.anonymize(record.server.ip) },
    };
  }

  private compute(ip: string): string {
    if (ip.includes(':')) {
      const zoneAt = ip.indexOf('%');
      const address = zoneAt < 0 ? ip : ip.slice(0, zoneAt);
      const zone = zoneAt < 0 ? '' : ip.slice(zoneAt);
      const words = parseIpv6(address);
      if (words === undefined || zone === '%') throw notAnAddress(ip);
      if (isIpv4Mapped(words)) {
        return formatIpv6([0, 0, 0xffff, this.pan.anonymizeIpv4(words[3]!)]) + zone;
      }
      return formatIpv6(this.pan.anonymizeIpv6(words)) + zone;
    }
    const v4 = parseIpv4(ip);
    if (v4 === undefined) throw notAnAddress(ip);
    return formatIpv4(this.pan.anonymizeIpv4(v4));
  }
}

function notAnAddress(text: string): Error {
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return new Error(`cannot anonymise '${shown}': not a dotted IPv4 or an IPv6 address`);
}

function isIpv4Mapped(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Dotted-quad IPv4 ("192.0.2.1") as an unsigned 32-bit integer, or undefined. Leading zeros are
 * refused: "010.0.0.1" is 8.0.0.1 to some parsers and 10.0.0.1 to others.
 */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/** IPv6 text (RFC 4291 section 2.2: full, "::"-compressed, dotted tail) as four words, or undefined. */
export function parseIpv6(text: string): Uint32Array | undefined {
  const gap = text.indexOf('::');
  if (gap >= 0 && text.indexOf('::', gap + 1) >= 0) return undefined;
  let groups: number[] | undefined;
  if (gap < 0) {
    groups = parseGroups(text, true);
    if (groups === undefined || groups.length !== 8) return undefined;
  } else {
    const head = parseGroups(text.slice(0, gap), false);
    const tail = parseGroups(text.slice(gap + 2), true);
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const words = new Uint32Array(4);
  for (let word = 0; word < 4; word++) words[word] = ((groups[word * 2]! << 16) | groups[word * 2 + 1]!) >>> 0;
  return words;
}

/** Colon-separated 16-bit groups; the last may be a dotted IPv4 address (two groups). "" is none. */
function parseGroups(text: string, dottedTailAllowed: boolean): number[] | undefined {
  if (text === '') return [];
  const pieces = text.split(':');
  const groups: number[] = [];
  for (let index = 0; index < pieces.length; index++) {
    const piece = pieces[index]!;
    if (HEX_GROUP.test(piece)) {
      groups.push(parseInt(piece, 16));
      continue;
    }
    if (!dottedTailAllowed || index !== pieces.length - 1) return undefined;
    const v4 = parseIpv4(piece);
    if (v4 === undefined) return undefined;
    groups.push(v4 >>> 16, v4 & 0xffff);
  }
  return groups;
}
