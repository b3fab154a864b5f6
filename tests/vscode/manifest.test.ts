// The extension's manifest (vscode-extension/package.json) against what the agent reads: every
// file the agent watches as a capture opens in the capture editor, and the explorer offers
// "Classify current capture" for it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAPTURE_NAME } from '../../agent/src/live/live-agent';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'vscode-extension', 'package.json'), 'utf8')) as {
  contributes: {
    customEditors: { viewType: string; selector: { filenamePattern: string }[] }[];
    menus: Record<string, { command: string; when?: string }[]>;
  };
};

/** The extensions CAPTURE_NAME (agent/src/live/live-agent.ts) accepts. */
const AGENT_EXTENSIONS = ['pcapng', 'pcap', 'cap', 'ntar'];

describe('the manifest covers every capture the agent reads', () => {
  it('lists only extensions the agent reads', () => {
    for (const extension of AGENT_EXTENSIONS) expect(CAPTURE_NAME.test(`x.${extension}`), extension).toBe(true);
  });

  it('opens each in the capture editor', () => {
    const editor = manifest.contributes.customEditors.find((entry) => entry.viewType === 'cumma.captureEditor');
    const patterns = editor?.selector.map((selector) => selector.filenamePattern) ?? [];
    expect(patterns.sort()).toEqual(AGENT_EXTENSIONS.map((extension) => `*.${extension}`).sort());
  });

  it("offers the explorer's Classify entry for each", () => {
    const entry = manifest.contributes.menus['explorer/context']?.find((item) => item.command === 'cumma.classifyCapture');
    const listed = [...(entry?.when ?? '').matchAll(/resourceExtname == \.(\w+)/g)].map((match) => match[1]);
    expect(listed.sort()).toEqual([...AGENT_EXTENSIONS].sort());
  });
});
