/**
 * The packet the capture reader hands out. It is one mutable object per reader, overwritten for
 * every packet: decoding allocates nothing per packet (the hot path of a 1 M-packet file), so a
 * consumer that needs a value after the next `next()` call must copy it.
 * Payload bytes are never copied out of the reader's buffer; only header fields are kept.
 */

/** What the decoder could make of the frame, from the link layer up. */
export const enum DecodeStatus {
  /** IPv4/IPv6 with a TCP or UDP header: ports are valid. */
  Transport = 0,
  /** A non-first IP fragment: addresses, protocol and IP id valid, no ports. */
  Fragment = 1,
  /** IP, but the transport is neither TCP nor UDP (ICMP, ESP, …). */
  OtherIp = 2,
  /** The link layer carries something that is not IP (ARP, LLDP, …). */
  NotIp = 3,
  /** The capture's link type is not one Cumma decodes. */
  UnsupportedLink = 4,
  /** Headers cut short by the snapshot length or malformed beyond decoding. */
  Truncated = 5,
}

export const enum Transport {
  None = 0,
  Tcp = 6,
  Udp = 17,
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

const NO_COMMENTS: readonly string[] = Object.freeze([]);

export class Packet {
  /** Absolute file offset of the block/record this packet came from. */
  blockOffset = 0;
  interfaceId = 0;
  linkType = 0;
  /** Microseconds since the Unix epoch (integer; sub-µs precision is dropped). */
  timestampUs = 0;
  capturedLength = 0;
  /** Length on the wire (frame.len in Wireshark); what byte counts use. */
  originalLength = 0;
  /** opt_comment values of a pcapng packet block (Wireshark's frame.comment). */
  comments: readonly string[] = NO_COMMENTS;

  status: DecodeStatus = DecodeStatus.Truncated;
  /** 4 or 6 once an IP header was found, else 0. */
  ipVersion = 0;
  /** IPv4 uses word 0 only; IPv6 all four words, big-endian order. */
  readonly srcAddress = new Uint32Array(4);
  readonly dstAddress = new Uint32Array(4);
  /** Upper-layer protocol after IPv6 extension headers (6 TCP, 17 UDP, …). */
  ipProtocol = 0;
  /** IPv4 identification or IPv6 fragment-header identification; -1 when absent. */
  fragmentId = -1;
  /** Fragment offset in bytes (0 for unfragmented and first fragments). */
  fragmentOffset = 0;
  moreFragments = false;

  transport: Transport = Transport.None;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  /** Transport payload length from the IP lengths (not limited by the snapshot length). */
  payloadLength = 0;

  /** Clears every decoded field; called before each packet is decoded. */
  resetDecoded(): void {
    this.comments = NO_COMMENTS;
    this.status = DecodeStatus.Truncated;
    this.ipVersion = 0;
    this.ipProtocol = 0;
    this.fragmentId = -1;
    this.fragmentOffset = 0;
    this.moreFragments = false;
    this.transport = Transport.None;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.payloadLength = 0;
  }

  /** True when the packet is the first (or only) fragment of a fragmented IP datagram. */
  get isFirstFragment(): boolean {
    return this.fragmentOffset === 0 && this.moreFragments;
  }
}
