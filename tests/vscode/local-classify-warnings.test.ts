// The capture editor's bundled classifier says what it could not read: a capture of a link type
// Cumma does not decode showed its packets and "0 dialogs" with no reason given.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyLocally } from '../../vscode-extension/src/host/local-classify';
import { requireTools } from '../support/tools';

const ROOT = join(__dirname, '..', '..');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
const MODEL = join(ROOT, 'models', 'default.json');
const tools = requireTools('editcap');

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'cumma-local-warnings-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(tools.skip)('local classification', () => {
  it('reports packets of a link type it does not decode, without repeating the path', () => {
    tools.assertAvailable();
    // The sample's Ethernet frames relabelled as 802.11 by Wireshark's editcap: none decodes.
    const wifi = join(dir, 'wifi.pcapng');
    const made = spawnSync('editcap', ['-T', 'ieee-802-11', SAMPLE, wifi], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const result = classifyLocally(wifi, MODEL);
    expect(result.records).toHaveLength(0);
    expect(result.warnings).toEqual([expect.stringMatching(/^\d+ packets with IEEE 802\.11 framing were not decoded \(unsupported link type 105\)$/)]);
  });

  it('has no warnings for a capture it reads whole', () => {
    const result = classifyLocally(SAMPLE, MODEL);
    expect(result.records.length).toBeGreaterThan(10);
    expect(result.warnings).toBeUndefined();
  });
});
