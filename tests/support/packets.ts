// Hand-built packet bytes for capture fixtures: IPv4/IPv6 (with options, extension headers and
// fragments), TCP/UDP, and the link-layer headers of each link type cumma reads. Written from
// the RFCs / tcpdump link-type pages rather than by any code under test, so fixtures stay an
// independent check. Checksums other than the IPv4 header's are left zero: no decoder involved
// (tshark by default, cumma) verifies them.

export type Bytes = number[];

/** Big-endian 16-bit value as 2 bytes. */
export function u16(v: number): Bytes {
  return [(v >> 8) & 0xff, v & 0xff];
}

/** Big-endian 32-bit value as 4 bytes. */
export function u32(v: number): Bytes {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function u32le(v: number): Bytes {
  return u32(v).reverse();
}

export function ipv4Bytes(text: string): Bytes {
  return text.split('.').map(Number);
}

/** Textual IPv6 (with '::') to 16 bytes; no dotted tail needed for fixtures. */
export function ipv6Bytes(text: string): Bytes {
  const [head = '', tail] = text.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap(u16);
}

export function payload(length: number, seed = 0): Bytes {
  return Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
}

// ---------------------------------------------------------------------------------------------
// Transport

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface TcpFields {
  sport: number;
  dport: number;
  flags: number;
  seq?: number;
  ack?: number;
}

export function tcp(f: TcpFields, data: Bytes = []): Bytes {
  const dataOffset = 5 << 4; // 20-byte header, no options
  return [
    ...u16(f.sport),
    ...u16(f.dport),
    ...u32(f.seq ?? 1000),
    ...u32(f.ack ?? 0),
    dataOffset,
    f.flags,
    ...u16(65535),
    ...u16(0), // checksum (unchecked)
    ...u16(0), // urgent pointer
    ...data,
  ];
}

export function udp(sport: number, dport: number, data: Bytes = []): Bytes {
  return [...u16(sport), ...u16(dport), ...u16(8 + data.length), ...u16(0), ...data];
}

// ---------------------------------------------------------------------------------------------
// IPv4

export const PROTO_ICMP = 1;
export const PROTO_IPIP = 4;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_IPV6 = 41;
export const PROTO_AH = 51;
export const PROTO_ICMPV6 = 58;

export interface Ipv4Fields {
  src: string;
  dst: string;
  proto: number;
  id?: number;
  /** Fragment offset in 8-byte units. */
  fragmentOffset?: number;
  moreFragments?: boolean;
  /** Raw option bytes, padded here to a multiple of 4. */
  options?: Bytes;
  /** Overrides the computed total length (to describe a whole datagram in a fragment...). */
  totalLength?: number;
}

export function ipv4(f: Ipv4Fields, body: Bytes): Bytes {
  const options = [...(f.options ?? [])];
  while (options.length % 4 !== 0) options.push(0); // EOL padding
  const ihl = 5 + options.length / 4;
  const flagsAndOffset = (f.moreFragments ? 0x2000 : 0) | (f.fragmentOffset ?? 0);
  const header = [
    0x40 | ihl,
    0,
    ...u16(f.totalLength ?? ihl * 4 + body.length),
    ...u16(f.id ?? 0x1234),
    ...u16(flagsAndOffset),
    64,
    f.proto,
    0,
    0,
    ...ipv4Bytes(f.src),
    ...ipv4Bytes(f.dst),
    ...options,
  ];
  const sum = internetChecksum(header);
  header[10] = sum >> 8;
  header[11] = sum & 0xff;
  return [...header, ...body];
}

function internetChecksum(bytes: Bytes): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/**
 * Splits one transport segment into IPv4 fragments of at most `chunk` payload bytes (a multiple
 * of 8), all with the same id, as a router would.
 */
export function ipv4Fragments(f: Ipv4Fields, body: Bytes, chunk: number): Bytes[] {
  const out: Bytes[] = [];
  for (let start = 0; start < body.length; start += chunk) {
    const part = body.slice(start, start + chunk);
    const more = start + chunk < body.length;
    out.push(ipv4({ ...f, fragmentOffset: start / 8, moreFragments: more }, part));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// IPv6

export const EXT_HOP_BY_HOP = 0;
export const EXT_ROUTING = 43;
export const EXT_FRAGMENT = 44;
export const EXT_DEST_OPTS = 60;

export type Ipv6Extension =
  | { type: typeof EXT_HOP_BY_HOP | typeof EXT_DEST_OPTS }
  | { type: typeof EXT_ROUTING }
  | { type: typeof EXT_FRAGMENT; offset: number; more: boolean; id: number };

export interface Ipv6Fields {
  src: string;
  dst: string;
  /** Protocol of the body after all extension headers. */
  next: number;
  extensions?: Ipv6Extension[];
}

export function ipv6(f: Ipv6Fields, body: Bytes): Bytes {
  const exts = f.extensions ?? [];
  // Each header names the one after it: build the chain back to front.
  let rest = body;
  let next = f.next;
  for (const ext of [...exts].reverse()) {
    rest = [...extensionHeader(ext, next), ...rest];
    next = ext.type;
  }
  return [0x60, 0, 0, 0, ...u16(rest.length), next, 64, ...ipv6Bytes(f.src), ...ipv6Bytes(f.dst), ...rest];
}

function extensionHeader(ext: Ipv6Extension, next: number): Bytes {
  switch (ext.type) {
    case EXT_HOP_BY_HOP:
    case EXT_DEST_OPTS:
      // 8 bytes: next, length 0, one PadN option filling the remaining 6 bytes.
      return [next, 0, 1, 4, 0, 0, 0, 0];
    case EXT_ROUTING:
      // Type 0 with segments left 0: already at its final hop, so the header changes nothing.
      return [next, 0, 0, 0, 0, 0, 0, 0];
    case EXT_FRAGMENT:
      return [next, 0, ...u16((ext.offset << 3) | (ext.more ? 1 : 0)), ...u32(ext.id)];
  }
}

// ---------------------------------------------------------------------------------------------
// Link layers (https://www.tcpdump.org/linktypes.html)

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

/** Ethernet II with optional VLAN tags (outermost first), each [tpid, vlan id]. */
export function ethernet(etherType: number, body: Bytes, tags: [number, number][] = []): Bytes {
  const tagBytes = tags.flatMap(([tpid, vid]) => [...u16(tpid), ...u16(vid)]);
  return [...MAC_B, ...MAC_A, ...tagBytes, ...u16(etherType), ...body];
}

/** LINKTYPE_LINUX_SLL (113): 16-byte Linux cooked header. */
export function sll(etherType: number, body: Bytes): Bytes {
  return [...u16(0), ...u16(1), ...u16(6), ...MAC_A, 0, 0, ...u16(etherType), ...body];
}

/** LINKTYPE_LINUX_SLL2 (276): 20-byte header, protocol first. */
export function sll2(etherType: number, body: Bytes): Bytes {
  return [...u16(etherType), 0, 0, ...u32(2), ...u16(1), 0, 6, ...MAC_A, 0, 0, ...body];
}

/** BSD address family values seen in NULL/LOOP headers. */
export const AF_INET = 2;
export const AF_INET6_BSD = 24; // NetBSD/OpenBSD
export const AF_INET6_FREEBSD = 28;
export const AF_INET6_DARWIN = 30;

/** LINKTYPE_NULL (0): family in the capturing host's byte order, so either order occurs. */
export function nullLink(family: number, body: Bytes, littleEndian: boolean): Bytes {
  return [...(littleEndian ? u32le(family) : u32(family)), ...body];
}

/** LINKTYPE_LOOP (108): like NULL but the family is always big-endian. */
export function loopLink(family: number, body: Bytes): Bytes {
  return [...u32(family), ...body];
}
