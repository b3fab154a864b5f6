// Tiny labelled captures written by the project's own pcapng writer: one UDP flow per usage, each
// flow one dialog whose packets carry a cumma:usage comment (or none, for an unlabelled dialog).
// For tests that need an exact number of labelled dialogs (one, say), which `cumma simulate`
// does not promise.
import { createFileSink, PcapngWriter } from '../../agent/src/capture/pcapng-writer';
import type { UsageClass } from '../../agent/src/labels';
import { ethernet, ipv4, payload, PROTO_UDP, udp } from '../support/packets';

const START_US = 1_700_000_000_000_000;
/** Flows this far apart: separate dialogs, and each outside the others' context windows. */
const FLOW_SPACING_US = 120_000_000;

/**
 * Writes `path` with one dialog per entry of `usages`, in order, from `startUs`, labelled with
 * the entry (null: no comment). Two
 * captures written from the same start share their first flows' dialogs (same 5-tuple and
 * time): train and evaluate take them for copies of the same traffic.
 */
export function writeLabelledCapture(path: string, usages: readonly (UsageClass | null)[], startUs = START_US): void {
  const file = createFileSink(path);
  const writer = new PcapngWriter(file.sink);
  const eth = writer.addInterface({ linkType: 1 });
  usages.forEach((usage, flow) => {
    for (let packet = 0; packet < 6; packet++) {
      const up = packet % 2 === 0;
      const client = { ip: '10.0.0.2', port: 40_000 + flow };
      const server = { ip: '203.0.113.5', port: 443 };
      const [src, dst] = up ? [client, server] : [server, client];
      const body = udp(src.port, dst.port, payload(up ? 120 + 40 * flow : 900 + 25 * packet, packet));
      const frame = Uint8Array.from(ethernet(0x0800, ipv4({ src: src.ip, dst: dst.ip, proto: PROTO_UDP }, body)));
      writer.writePacket(eth, startUs + flow * FLOW_SPACING_US + packet * 200_000, frame, undefined, usage === null ? undefined : `cumma:usage=${usage}`);
    }
  });
  writer.flush();
  file.close();
}
