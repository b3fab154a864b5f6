import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexCapture } from '../../vscode-extension/src/host/capture-index';
import { assignLabels } from '../../vscode-extension/src/host/label-match';
import { classifyLocally } from '../../vscode-extension/src/host/local-classify';
import { flowKey } from '../../vscode-extension/src/shared/format';
import { NO_USAGE, usageCode } from '../../vscode-extension/src/shared/usage-style';
import { cleanUpAfterEach } from '../support/cleanup';
import { dialog } from './fixtures';

const ROOT = join(__dirname, '..', '..');
// The cut capture's scratch folder was never removed: one /tmp/cumma-index-* left per run.
const { roots } = cleanUpAfterEach();

describe('assignLabels', () => {
  // Packets: flow 0 = 10.0.0.2:5000 <-> 1.1.1.1:443 tcp, flow 1 = another 5-tuple, -1 = no flow.
  const index = {
    packets: 6,
    timeUs: Float64Array.from([100, 150, 200, 300, 400, 500]),
    flow: Int32Array.from([0, 0, 1, 0, -1, 0]),
    flowKeys: [flowKey('tcp', '1.1.1.1', 443, '10.0.0.2', 5000), flowKey('udp', '10.0.0.2', 5000, '1.1.1.1', 443)],
  };

  it('labels a packet by its 5-tuple in either direction and its time inside [startUs, endUs]', () => {
    const dialogs = [
      dialog({ id: 'first', client: { ip: '10.0.0.2', port: 5000 }, server: { ip: '1.1.1.1', port: 443 }, startUs: 100, endUs: 150, usage: 'text' }),
      dialog({ id: 'second', client: { ip: '10.0.0.2', port: 5000 }, server: { ip: '1.1.1.1', port: 443 }, startUs: 300, endUs: 300, usage: 'photo' }),
    ];
    const result = assignLabels(index, dialogs);
    expect([...result.dialog]).toEqual([0, 0, -1, 1, -1, -1]);
    expect([...result.usage]).toEqual([usageCode('text'), usageCode('text'), NO_USAGE, usageCode('photo'), NO_USAGE, NO_USAGE]);
    expect(result.labelledPackets).toBe(3);
  });

  it('does not mix up transports on the same addresses and ports', () => {
    const udp = dialog({ id: 'u', l4: 'udp', client: { ip: '1.1.1.1', port: 443 }, server: { ip: '10.0.0.2', port: 5000 }, startUs: 0, endUs: 1000, usage: 'voice_call' });
    const result = assignLabels(index, [udp]);
    expect([...result.dialog]).toEqual([-1, -1, 0, -1, -1, -1]);
  });
});

describe('packet index and local classification of a sample capture', () => {
  it('labels every packet of every TCP/UDP flow with exactly one dialog', () => {
    const path = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
    const data = indexCapture(path);
    expect(data.format).toBe('pcapng');
    expect(data.packets).toBe(865);
    expect(data.error).toBeUndefined();
    const inFlows = data.flow.reduce((sum, flow) => sum + (flow >= 0 ? 1 : 0), 0);
    expect([...data.flowPackets].reduce((a, b) => a + b, 0)).toBe(inFlows);
    const local = classifyLocally(path, join(ROOT, 'models', 'default.json'));
    const labels = assignLabels(data, local.records);
    expect(labels.labelledPackets).toBe(inFlows);
    // Packet counts per dialog agree with the dialog records.
    const counts = new Map<number, number>();
    for (const ref of labels.dialog) if (ref >= 0) counts.set(ref, (counts.get(ref) ?? 0) + 1);
    local.records.forEach((record, ref) => expect(counts.get(ref)).toBe(record.packets.up + record.packets.down));
  });

  it('keeps the packets before a fault and says where it was', () => {
    const bytes = readFileSync(join(ROOT, 'samples', 'whatsapp-chat.pcapng'));
    const scratch = mkdtempSync(join(tmpdir(), 'cumma-index-'));
    roots.push(scratch);
    const cut = join(scratch, 'cut.pcapng');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const data = indexCapture(cut);
    expect(data.packets).toBeGreaterThan(100);
    expect(data.packets).toBeLessThan(865);
    expect(data.error).toMatch(/byte offset \d+/);
  });
});
