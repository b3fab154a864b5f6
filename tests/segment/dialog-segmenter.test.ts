import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../agent/src/capture/frame-decoder';
import { Packet } from '../../agent/src/capture/packet';
import { Dialog } from '../../agent/src/segment/dialog';
import { DialogSegmenter } from '../../agent/src/segment/dialog-segmenter';
import { ethernet, ipv4, udp } from '../support/capture-bytes';

const SECOND = 1_000_000;

function packetAt(timestampUs: number, up: boolean, payload = 10): Packet {
  const packet = new Packet();
  packet.resetDecoded();
  const frame = ethernet(0x0800, up ? ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: udp(4000, 53, payload) }) : ipv4({ src: '10.0.0.2', dst: '10.0.0.1', protocol: 17, payload: udp(53, 4000, payload) }));
  decodeFrame(1, frame, 0, frame.length, packet);
  packet.timestampUs = timestampUs;
  packet.originalLength = frame.length;
  return packet;
}

function segment(times: readonly [number, boolean][], gaps = { sessionGapUs: 30 * SECOND, dialogGapUs: 5 * SECOND }): Dialog<number[]>[] {
  const dialogs: Dialog<number[]>[] = [];
  const segmenter = new DialogSegmenter(gaps, () => [] as number[], (dialog) => dialogs.push(dialog));
  times.forEach(([time, up], index) => segmenter.add(7, packetAt(time, up), up).notes.push(index + 1));
  segmenter.flush();
  return dialogs;
}

describe('dialog segmentation', () => {
  it('cuts dialogs at gaps longer than the dialog gap and sessions at gaps longer than the session gap', () => {
    const dialogs = segment([
      [0, true],
      [1 * SECOND, false],
      [5 * SECOND + 1, true], // gap 4 s + 1 µs: same dialog
      [10 * SECOND + 2, true], // gap exactly 5 s + 1 µs: new dialog
      [45 * SECOND, false], // gap 35 s: new session
    ]);
    expect(dialogs.map((d) => [d.session, d.dialog, d.startUs, d.endUs, d.packets.up, d.packets.down, d.notes])).toEqual([
      [1, 1, 0, 5 * SECOND + 1, 2, 1, [1, 2, 3]],
      [1, 2, 10 * SECOND + 2, 10 * SECOND + 2, 1, 0, [4]],
      [2, 3, 45 * SECOND, 45 * SECOND, 0, 1, [5]],
    ]);
  });

  it('gives a dialog after a quiet spell the endpoints of its flow as the flow table orients it then', () => {
    // A flow gone quiet keeps no endpoints (memory: there can be hundreds of thousands); its next
    // packet gives them. Here the flow table re-oriented the flow meanwhile (a SYN from the
    // other side, say): `up` of the same packet is now false, and the dialog must say so, as the
    // flow record will, rather than keep the old client with swapped up/down counts.
    const dialogs: Dialog<null>[] = [];
    const segmenter = new DialogSegmenter({ sessionGapUs: 60 * SECOND, dialogGapUs: 5 * SECOND }, () => null, (dialog) => dialogs.push(dialog));
    segmenter.add(7, packetAt(0, true), true);
    segmenter.closeIdle(10 * SECOND);
    const same = packetAt(20 * SECOND, true);
    segmenter.add(7, same, false);
    segmenter.flush();
    expect(dialogs.map((d) => [d.dialog, d.flow.client, d.packets.up, d.packets.down])).toEqual([
      [1, { ip: '10.0.0.1', port: 4000 }, 1, 0],
      [2, { ip: '10.0.0.2', port: 53 }, 0, 1],
    ]);
  });

  it('keeps a gap of exactly the dialog gap inside the dialog', () => {
    expect(segment([[0, true], [5 * SECOND, true]]).length).toBe(1);
  });

  it('gives every packet to exactly one dialog and counts original lengths per direction', () => {
    const dialogs = segment([[0, true], [1, false], [2, true]]);
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0]!.bytes).toEqual({ up: 2 * 52, down: 52 });
    expect(dialogs[0]!.flow).toEqual({ l4: 'udp', client: { ip: '10.0.0.1', port: 4000 }, server: { ip: '10.0.0.2', port: 53 } });
  });

  it('closes the open dialog when its flow ends', () => {
    const dialogs: Dialog<null>[] = [];
    const segmenter = new DialogSegmenter({ sessionGapUs: 60 * SECOND, dialogGapUs: 5 * SECOND }, () => null, (dialog) => dialogs.push(dialog));
    segmenter.add(1, packetAt(0, true), true);
    segmenter.endFlow(1);
    expect(dialogs).toHaveLength(1);
    segmenter.flush();
    expect(dialogs).toHaveLength(1);
  });

  it('refuses gaps that make no sense', () => {
    expect(() => new DialogSegmenter({ sessionGapUs: SECOND, dialogGapUs: 2 * SECOND }, () => null, () => undefined)).toThrow(RangeError);
    expect(() => new DialogSegmenter({ sessionGapUs: SECOND, dialogGapUs: 0 }, () => null, () => undefined)).toThrow(RangeError);
  });
});

describe('closing dialogs by time (closeIdle)', () => {
  const gaps = { sessionGapUs: 30 * SECOND, dialogGapUs: 5 * SECOND };

  it('closes a dialog once time is more than the dialog gap past its end, not at exactly the gap', () => {
    const dialogs: Dialog<null>[] = [];
    const segmenter = new DialogSegmenter(gaps, () => null, (dialog) => dialogs.push(dialog));
    segmenter.add(1, packetAt(0, true), true);
    segmenter.add(1, packetAt(2 * SECOND, false), false);
    segmenter.closeIdle(7 * SECOND);
    expect(dialogs).toHaveLength(0);
    segmenter.closeIdle(7 * SECOND + 1);
    expect(dialogs.map((d) => [d.dialog, d.startUs, d.endUs])).toEqual([[1, 0, 2 * SECOND]]);
  });

  it('continues the numbering of dialogs and sessions after a dialog closed by time', () => {
    const dialogs: Dialog<null>[] = [];
    const segmenter = new DialogSegmenter(gaps, () => null, (dialog) => dialogs.push(dialog));
    segmenter.add(1, packetAt(0, true), true);
    segmenter.closeIdle(6 * SECOND);
    segmenter.add(1, packetAt(8 * SECOND, true), true); // gap 8 s: same session
    segmenter.closeIdle(20 * SECOND);
    segmenter.add(1, packetAt(60 * SECOND, true), true); // gap 52 s: new session
    segmenter.flush();
    expect(dialogs.map((d) => [d.session, d.dialog, d.startUs])).toEqual([
      [1, 1, 0],
      [1, 2, 8 * SECOND],
      [2, 3, 60 * SECOND],
    ]);
  });

  it('gives the same dialogs as gap-only segmentation whatever the sweep times', () => {
    // Two interleaved flows with pseudo-random gaps; sweeping at every packet's time must not
    // change a single dialog's packets, numbers or bounds.
    let state = 12345;
    const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const events: [number, number, boolean][] = [];
    let time = 0;
    for (let i = 0; i < 400; i++) {
      time += Math.floor(next() < 0.1 ? next() * 40 * SECOND : next() * 3 * SECOND);
      events.push([next() < 0.5 ? 1 : 2, time, next() < 0.5]);
    }
    const run = (sweep: boolean): string[] => {
      const out: string[] = [];
      const segmenter = new DialogSegmenter(gaps, () => null, (d) => out.push(`${d.flowId}/${d.session}/${d.dialog}/${d.startUs}/${d.endUs}/${d.packets.up}/${d.packets.down}`));
      for (const [flow, at, up] of events) {
        if (sweep) segmenter.closeIdle(at);
        segmenter.add(flow, packetAt(at, up), up);
      }
      segmenter.flush();
      return out.sort();
    };
    const swept = run(true);
    expect(swept.length).toBeGreaterThan(20);
    expect(swept).toEqual(run(false));
  });
});
