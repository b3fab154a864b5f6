/**
 * From a frame's bytes to the decoded fields of the reused Packet: link layer, then IP, then
 * TCP/UDP. Nothing is allocated and nothing past the transport header is read.
 */
import { decodeIpv4, decodeIpv6 } from './ip-decoder';
import { LinkLayerResult, NetworkKind, stripLinkLayer } from './link-layer';
import { DecodeStatus, Packet } from './packet';

const linkLayer = new LinkLayerResult();

/**
 * What the last frame decoded as not IP carried (link-layer.ts, NotIpKind), and into which
 * Packet. Packet has no field for it and only the rare report of undecoded packets needs it, so
 * it is kept here, set only on that rare path; the Packet identity tells a reader whether the
 * value is its own packet's (each reader reuses one Packet object, decodes a frame and hands it
 * to its consumer before decoding the next).
 */
const lastNotIp: { packet: Packet | undefined; detail: number } = { packet: undefined, detail: 0 };

export function decodeFrame(linkType: number, bytes: Uint8Array, start: number, end: number, packet: Packet): void {
  stripLinkLayer(linkType, bytes, start, end, linkLayer);
  switch (linkLayer.kind) {
    case NetworkKind.Ipv4:
      decodeIpv4(bytes, linkLayer.offset, end, packet);
      return;
    case NetworkKind.Ipv6:
      decodeIpv6(bytes, linkLayer.offset, end, packet);
      return;
    case NetworkKind.Other:
      packet.status = DecodeStatus.NotIp;
      lastNotIp.packet = packet;
      lastNotIp.detail = linkLayer.notIp;
      return;
    case NetworkKind.Unsupported:
      packet.status = DecodeStatus.UnsupportedLink;
      return;
    default:
      packet.status = DecodeStatus.Truncated;
  }
}

/**
 * For a packet whose status is NotIp and that was the last one decoded into this Packet
 * object: what its frame carried (NotIpKind × NOT_IP_KIND_SHIFT + value); 0 when unknown.
 */
export function notIpDetail(packet: Packet): number {
  return packet.status === DecodeStatus.NotIp && lastNotIp.packet === packet ? lastNotIp.detail : 0;
}
