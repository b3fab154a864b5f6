import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../agent/src/capture/frame-decoder';
import { Packet } from '../../agent/src/capture/packet';
import { DialogPacketLog } from '../../agent/src/features/dialog-packet-log';
import { extractFeatures } from '../../agent/src/features/extract-features';
import { namedFeatures } from '../../agent/src/features/feature-schema';
import { Dialog } from '../../agent/src/segment/dialog';
import { DialogSegmenter } from '../../agent/src/segment/dialog-segmenter';
import { TCP_ACK } from '../../agent/src/capture/packet';
import { ethernet, ipv4, tcp, udp } from '../support/capture-bytes';

function decoded(frame: Uint8Array, timestampUs: number, originalLength = frame.length): Packet {
  const packet = new Packet();
  packet.resetDecoded();
  decodeFrame(1, frame, 0, frame.length, packet);
  packet.timestampUs = timestampUs;
  packet.originalLength = originalLength;
  return packet;
}

describe('dialog packet log', () => {
  it('keeps every packet of a long dialog in arrival order', () => {
    const log = new DialogPacketLog('udp');
    for (let i = 0; i < 1000; i++) log.push(1e15 + i * 7, 40 + i, i % 2 === 0);
    expect(log.length).toBe(1000);
    expect([log.timestampUs(999), log.lengthBytes(999), log.isUp(999), log.isUp(998)]).toEqual([1e15 + 6993, 1039, false, true]);
    expect([log.timestampUs(0), log.lengthBytes(0), log.isUp(0)]).toEqual([1e15, 40, true]);
  });

  it('records a decoded packet by its original length and takes the transport from the first packet', () => {
    const frame = ethernet(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, payload: tcp(4000, 443, TCP_ACK) }));
    const log = new DialogPacketLog();
    log.add(decoded(frame, 5_000_000, 1514), true);
    expect([log.transport, log.length, log.timestampUs(0), log.lengthBytes(0), log.isUp(0)]).toEqual(['tcp', 1, 5_000_000, 1514, true]);
    const udpFrame = ethernet(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: udp(4000, 53, 10) }));
    const udpLog = new DialogPacketLog();
    udpLog.add(decoded(udpFrame, 0), false);
    expect(udpLog.transport).toBe('udp');
  });

  it('serves as the segmenter notes: one log per dialog, features per dialog', () => {
    const frame = (up: boolean): Uint8Array =>
      ethernet(0x0800, up ? ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: udp(4000, 53, 10) }) : ipv4({ src: '10.0.0.2', dst: '10.0.0.1', protocol: 17, payload: udp(53, 4000, 10) }));
    const dialogs: Dialog<DialogPacketLog>[] = [];
    const segmenter = new DialogSegmenter({ sessionGapUs: 60_000_000, dialogGapUs: 5_000_000 }, () => new DialogPacketLog(), (dialog) => dialogs.push(dialog));
    for (const [time, up] of [[0, true], [1_000_000, false], [10_000_000, true]] as const) {
      const packet = decoded(frame(up), time);
      segmenter.add(1, packet, up).notes.add(packet, up);
    }
    segmenter.flush();
    expect(dialogs.map((dialog) => dialog.notes.length)).toEqual([2, 1]);
    const first = namedFeatures(extractFeatures(dialogs[0]!.notes));
    // Both frames are 52 bytes (14 Ethernet + 20 IPv4 + 8 UDP + 10 payload), 1 s apart.
    expect([first.up_sum_length_bytes, first.down_sum_length_bytes, first.all_duration_s, first.all_is_tcp_flag]).toEqual([52, 52, 1, 0]);
    expect(first.all_sum_length_bytes).toBe(dialogs[0]!.bytes.up + dialogs[0]!.bytes.down);
  });
});
