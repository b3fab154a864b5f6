/**
 * Hand-built capture bytes for tests, written from the pcapng draft and the libpcap format
 * independently of the project's writer, so that reader tests do not check the reader against
 * code that shares its assumptions. Both byte orders; every field explicit.
 */

export interface Option {
  readonly code: number;
  readonly value: Uint8Array;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function bytes(...parts: readonly Uint8Array[]): Uint8Array {
  return concat(parts);
}

class Fields {
  private readonly parts: number[] = [];
  constructor(private readonly littleEndian: boolean) {}
  u8(value: number): this {
    this.parts.push(value & 0xff);
    return this;
  }
  u16(value: number): this {
    const hi = (value >>> 8) & 0xff;
    const lo = value & 0xff;
    if (this.littleEndian) this.parts.push(lo, hi);
    else this.parts.push(hi, lo);
    return this;
  }
  u32(value: number): this {
    const b = [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
    this.parts.push(...(this.littleEndian ? b.reverse() : b));
    return this;
  }
  i64(value: bigint): this {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigInt64(0, value, this.littleEndian);
    this.parts.push(...new Uint8Array(view.buffer));
    return this;
  }
  raw(data: Uint8Array): this {
    this.parts.push(...data);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function fields(littleEndian: boolean): Fields {
  return new Fields(littleEndian);
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function encodeOptions(littleEndian: boolean, options: readonly Option[]): Uint8Array {
  if (options.length === 0) return new Uint8Array(0);
  const f = fields(littleEndian);
  for (const option of options) f.u16(option.code).u16(option.value.length).raw(option.value).pad4();
  f.u16(0).u16(0);
  return f.done();
}

/** A generic block: type, length, body (padded), options, trailing length. */
export function block(littleEndian: boolean, type: number, body: Uint8Array, options: readonly Option[] = []): Uint8Array {
  const opts = encodeOptions(littleEndian, options);
  const paddedBody = fields(littleEndian).raw(body).pad4().done();
  const length = 12 + paddedBody.length + opts.length;
  return fields(littleEndian).u32(type).u32(length).raw(paddedBody).raw(opts).u32(length).done();
}

export function sectionHeader(littleEndian: boolean, options: readonly Option[] = [], major = 1): Uint8Array {
  const body = fields(littleEndian).u32(0x1a2b3c4d).u16(major).u16(0).u32(0xffffffff).u32(0xffffffff).done();
  return block(littleEndian, 0x0a0d0d0a, body, options);
}

export interface InterfaceSpec {
  readonly linkType: number;
  readonly snapLength?: number;
  /** Raw if_tsresol byte. */
  readonly tsresol?: number;
  readonly tsoffsetSeconds?: bigint;
  readonly name?: string;
}

export function interfaceDescription(littleEndian: boolean, spec: InterfaceSpec): Uint8Array {
  const options: Option[] = [];
  if (spec.name !== undefined) options.push({ code: 2, value: utf8(spec.name) });
  if (spec.tsresol !== undefined) options.push({ code: 9, value: Uint8Array.of(spec.tsresol) });
  if (spec.tsoffsetSeconds !== undefined) options.push({ code: 14, value: fields(littleEndian).i64(spec.tsoffsetSeconds).done() });
  const body = fields(littleEndian).u16(spec.linkType).u16(0).u32(spec.snapLength ?? 0).done();
  return block(littleEndian, 1, body, options);
}

export interface PacketSpec {
  readonly interfaceId?: number;
  /** Timestamp in interface units, as a 64-bit integer. */
  readonly timestamp: bigint;
  readonly data: Uint8Array;
  readonly originalLength?: number;
  readonly comments?: readonly string[];
}

export function enhancedPacket(littleEndian: boolean, spec: PacketSpec): Uint8Array {
  const body = fields(littleEndian)
    .u32(spec.interfaceId ?? 0)
    .u32(Number(spec.timestamp >> 32n))
    .u32(Number(spec.timestamp & 0xffffffffn))
    .u32(spec.data.length)
    .u32(spec.originalLength ?? spec.data.length)
    .raw(spec.data)
    .done();
  return block(littleEndian, 6, body, (spec.comments ?? []).map((comment) => ({ code: 1, value: utf8(comment) })));
}

export function obsoletePacket(littleEndian: boolean, spec: PacketSpec): Uint8Array {
  const body = fields(littleEndian)
    .u16(spec.interfaceId ?? 0)
    .u16(0)
    .u32(Number(spec.timestamp >> 32n))
    .u32(Number(spec.timestamp & 0xffffffffn))
    .u32(spec.data.length)
    .u32(spec.originalLength ?? spec.data.length)
    .raw(spec.data)
    .done();
  return block(littleEndian, 2, body, (spec.comments ?? []).map((comment) => ({ code: 1, value: utf8(comment) })));
}

export function simplePacket(littleEndian: boolean, data: Uint8Array, originalLength = data.length): Uint8Array {
  return block(littleEndian, 3, fields(littleEndian).u32(originalLength).raw(data).done());
}

export interface PcapHeaderSpec {
  readonly littleEndian: boolean;
  readonly nanoseconds?: boolean;
  readonly linkType: number;
  readonly snapLength?: number;
}

export function pcapHeader(spec: PcapHeaderSpec): Uint8Array {
  return fields(spec.littleEndian)
    .u32(spec.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(spec.snapLength ?? 262144)
    .u32(spec.linkType)
    .done();
}

export function pcapRecord(littleEndian: boolean, seconds: number, fraction: number, data: Uint8Array, originalLength = data.length): Uint8Array {
  return fields(littleEndian).u32(seconds).u32(fraction).u32(data.length).u32(originalLength).raw(data).done();
}

// ---- frames -------------------------------------------------------------------------------

export interface Ipv4Spec {
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  readonly payload: Uint8Array;
  readonly id?: number;
  readonly fragmentOffsetBytes?: number;
  readonly moreFragments?: boolean;
  /** Extra option bytes (padded to 4). */
  readonly options?: Uint8Array;
}

const be = (): Fields => fields(false);

function ipv4Words(address: string): number[] {
  return address.split('.').map(Number);
}

export function ipv4(spec: Ipv4Spec): Uint8Array {
  const options = spec.options ? fields(false).raw(spec.options).pad4().done() : new Uint8Array(0);
  const headerLength = 20 + options.length;
  const total = headerLength + spec.payload.length;
  const flags = ((spec.moreFragments ? 0x2000 : 0) | ((spec.fragmentOffsetBytes ?? 0) / 8)) & 0xffff;
  const header = be()
    .u8(0x40 | (headerLength / 4))
    .u8(0)
    .u16(total)
    .u16(spec.id ?? 0x1234)
    .u16(flags)
    .u8(64)
    .u8(spec.protocol)
    .u16(0)
    .raw(Uint8Array.from(ipv4Words(spec.src)))
    .raw(Uint8Array.from(ipv4Words(spec.dst)))
    .raw(options)
    .done();
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | header[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const checksum = ~sum & 0xffff;
  header[10] = checksum >>> 8;
  header[11] = checksum & 0xff;
  return concat([header, spec.payload]);
}

export function ipv6Bytes(address: string): Uint8Array {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const headGroups = head ? head.split(':').filter(Boolean) : [];
  const tailGroups = tail ? tail.split(':').filter(Boolean) : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail !== undefined ? missing : 0).fill('0'), ...tailGroups];
  const f = be();
  for (const group of groups) f.u16(parseInt(group, 16));
  return f.done();
}

export interface Ipv6Spec {
  readonly src: string;
  readonly dst: string;
  /** Next header of the first header after the fixed one. */
  readonly nextHeader: number;
  /** Extension headers already encoded, followed by the transport bytes. */
  readonly payload: Uint8Array;
}

export function ipv6(spec: Ipv6Spec): Uint8Array {
  return be()
    .u32(0x60000000)
    .u16(spec.payload.length)
    .u8(spec.nextHeader)
    .u8(64)
    .raw(ipv6Bytes(spec.src))
    .raw(ipv6Bytes(spec.dst))
    .raw(spec.payload)
    .done();
}

/** A generic IPv6 extension header (hop-by-hop, routing, destination options) of 8 bytes. */
export function ipv6Extension(nextHeader: number): Uint8Array {
  return be().u8(nextHeader).u8(0).u16(0).u32(0).done();
}

export function ipv6Fragment(nextHeader: number, offsetBytes: number, more: boolean, id: number): Uint8Array {
  return be().u8(nextHeader).u8(0).u16(offsetBytes | (more ? 1 : 0)).u32(id).done();
}

export function tcp(srcPort: number, dstPort: number, flags: number, payloadLength = 0): Uint8Array {
  return be()
    .u16(srcPort)
    .u16(dstPort)
    .u32(1000)
    .u32(flags & 0x10 ? 2000 : 0)
    .u8(0x50)
    .u8(flags)
    .u16(65535)
    .u16(0)
    .u16(0)
    .raw(new Uint8Array(payloadLength))
    .done();
}

export function udp(srcPort: number, dstPort: number, payloadLength = 0): Uint8Array {
  return be().u16(srcPort).u16(dstPort).u16(8 + payloadLength).u16(0).raw(new Uint8Array(payloadLength)).done();
}

export function ethernet(etherType: number, payload: Uint8Array, vlanTags: readonly number[] = []): Uint8Array {
  const f = be().raw(Uint8Array.of(2, 0, 0, 0, 0, 2)).raw(Uint8Array.of(2, 0, 0, 0, 0, 1));
  for (const tpid of vlanTags) f.u16(tpid).u16(100);
  return f.u16(etherType).raw(payload).done();
}

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;
