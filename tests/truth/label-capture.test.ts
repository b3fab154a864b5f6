import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DialogLabelConflictError } from '../../agent/src/truth/dialog-labels';
import { labelCaptureDialogs } from '../../agent/src/truth/label-capture';
import { bytes, enhancedPacket, ethernet, interfaceDescription, ipv4, sectionHeader, udp } from '../support/capture-bytes';

const SECOND = 1_000_000n;
const T0 = 1_700_000_000n * SECOND;
const up = ethernet(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: udp(4000, 3478, 100) }));
const down = ethernet(0x0800, ipv4({ src: '10.0.0.2', dst: '10.0.0.1', protocol: 17, payload: udp(3478, 4000, 100) }));

/** One UDP flow: a dialog of three packets, 30 s of silence, a dialog of two. */
function capture(comments: readonly (readonly string[])[]): Uint8Array {
  const times = [T0, T0 + SECOND / 10n, T0 + SECOND / 5n, T0 + 30n * SECOND, T0 + 31n * SECOND];
  return bytes(
    sectionHeader(true),
    interfaceDescription(true, { linkType: 1 }),
    ...times.map((timestamp, index) => enhancedPacket(true, { timestamp, data: index % 2 === 0 ? up : down, comments: comments[index] ?? [] })),
  );
}

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'cumma-labels-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('labelling dialogs of a capture from packet comments', () => {
  it('labels each dialog from an analyst comment on any one of its packets', () => {
    const path = join(dir, 'analyst.pcapng');
    writeFileSync(path, capture([[], ['cumma:usage=voice_call'], [], [], ['looks odd', 'cumma:usage=text']]));
    const dialogs = labelCaptureDialogs(path);
    expect(dialogs.map((dialog) => [dialog.dialog, dialog.usage, dialog.packets.up + dialog.packets.down])).toEqual([
      [1, 'voice_call', 3],
      [2, 'text', 2],
    ]);
    expect(dialogs[0]!.flow).toEqual({ l4: 'udp', client: { ip: '10.0.0.1', port: 4000 }, server: { ip: '10.0.0.2', port: 3478 } });
  });

  it('reports conflicting labels inside one dialog with their frame numbers', () => {
    const path = join(dir, 'conflict.pcapng');
    writeFileSync(path, capture([['cumma:usage=photo'], [], ['cumma:usage=video_clip']]));
    expect(() => labelCaptureDialogs(path)).toThrow(DialogLabelConflictError);
    expect(() => labelCaptureDialogs(path)).toThrow(
      `${path}: dialog 1 (session 1) of udp 10.0.0.1:4000 → 10.0.0.2:3478 carries conflicting labels: photo (frames 1); video_clip (frames 3)`,
    );
  });

  it('takes the majority label of a mixed dialog when asked', () => {
    const path = join(dir, 'mixed.pcapng');
    writeFileSync(path, capture([['cumma:usage=photo'], ['cumma:usage=text'], ['cumma:usage=photo']]));
    expect(labelCaptureDialogs(path, { conflicts: 'majority' })[0]!.usage).toBe('photo');
  });
});
