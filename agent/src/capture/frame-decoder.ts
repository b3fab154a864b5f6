/**
 * From a frame's bytes to the decoded fields of the reused Packet: link layer, then IP, then
 * TCP/UDP. Nothing is allocated and nothing past the transport header is read.
 */
import { decodeIpv4, decodeIpv6 } from './ip-decoder';
import { LinkLayerResult, NetworkKind, stripLinkLayer } from './link-layer';
import { DecodeStatus, Packet } from './packet';

const linkLayer = new LinkLayerResult();

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
      return;
    case NetworkKind.Unsupported:
      packet.status = DecodeStatus.UnsupportedLink;
      return;
    default:
      packet.status = DecodeStatus.Truncated;
  }
}
