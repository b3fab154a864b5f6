// Which of the agent's captures an open file is (the capture editor's label source), against a
// real `cumma watch` on loopback: its /captures and /labels as served, files on disk.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureInfo, LiveDialog } from '../../agent/src/live/label-feed';
import { indexCapture } from '../../vscode-extension/src/host/capture-index';
import { matchAgentCapture, nameMatchMisfit } from '../../vscode-extension/src/host/capture-match';
import { assignLabels } from '../../vscode-extension/src/host/label-match';
import { AgentProcess, classifyFile, startAgent } from '../support/agent-process';

const ROOT = join(__dirname, '..', '..');
const NAME = 'whatsapp-chat.pcapng';

describe('matching an open file to the agent’s captures', () => {
  const root = mkdtempSync(join(tmpdir(), 'cumma-match-'));
  const watched = join(root, 'watched');
  const elsewhere = join(root, 'elsewhere');
  let agent: AgentProcess;
  let captures: CaptureInfo[] = [];
  let dialogs: LiveDialog[] = [];

  beforeAll(async () => {
    mkdirSync(watched);
    mkdirSync(elsewhere);
    copyFileSync(join(ROOT, 'samples', NAME), join(watched, NAME));
    // The reviewer's case: another capture that happens to bear the same file name.
    copyFileSync(join(ROOT, 'samples', 'telegram-calls.pcapng'), join(elsewhere, NAME));
    symlinkSync(watched, join(root, 'link'));
    agent = await startAgent(watched, join(root, 'config'));
    const get = async (path: string): Promise<string> => {
      const response = await fetch(`${agent.httpUrl}${path}`, { headers: { Authorization: `Bearer ${agent.token}` } });
      if (!response.ok) throw new Error(`${path}: ${response.status}`);
      return response.text();
    };
    // Every dialog final, as many as `cumma classify` finds: the agent is done with the file.
    const expected = classifyFile(join(watched, NAME)).length;
    const deadline = Date.now() + 40_000;
    for (;;) {
      dialogs = (await get(`labels?capture=${NAME}&format=jsonl`))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LiveDialog);
      if (dialogs.length === expected && dialogs.every((dialog) => dialog.status === 'final')) break;
      if (Date.now() > deadline) throw new Error(`the agent has ${dialogs.length} of ${expected} dialogs after 40 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    captures = JSON.parse(await get('captures')) as CaptureInfo[];
  }, 60_000);

  afterAll(async () => {
    if (agent?.child.exitCode === null) await agent.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('for a local agent, takes the same file only: by path, through symbolic links, never by name', () => {
    expect(captures.map((capture) => capture.name)).toEqual([NAME]);
    expect(matchAgentCapture(join(watched, NAME), captures, true)).toMatchObject({ by: 'path', capture: { name: NAME } });
    expect(matchAgentCapture(join(root, 'link', NAME), captures, true)).toMatchObject({ by: 'path', capture: { name: NAME } });
    expect(matchAgentCapture(join(elsewhere, NAME), captures, true)).toBeUndefined();
  });

  it('for a remote agent, falls back to a unique file name, and only while its labels fit', () => {
    // A remote agent's paths are of its machine (anonymising agents send the file name only).
    const remote = captures.map((capture) => ({ ...capture, path: `/srv/captures/${capture.name}` }));
    const sameFile = matchAgentCapture(join(watched, NAME), remote, false)!;
    const otherFile = matchAgentCapture(join(elsewhere, NAME), remote, false)!;
    expect(sameFile.by).toBe('name');
    expect(otherFile.by).toBe('name');

    const own = indexCapture(join(watched, NAME));
    const fits = assignLabels(own, dialogs).labelledPackets;
    expect(fits).toBeGreaterThan(own.packets / 2);
    expect(nameMatchMisfit(sameFile, dialogs.length, fits, own.packets)).toBeUndefined();

    const other = indexCapture(join(elsewhere, NAME));
    const none = assignLabels(other, dialogs).labelledPackets;
    expect(none).toBe(0);
    expect(nameMatchMisfit(otherFile, dialogs.length, none, other.packets)).toMatch(/same name, but none of its \d+ dialogs fits/);
    // Nothing labelled yet is no reason to leave the file without labels either.
    expect(nameMatchMisfit(otherFile, 0, 0, other.packets)).toMatch(/no dialogs yet/);
  });

  it('never takes a removed capture, nor a name shared by two captures', () => {
    const removed = captures.map((capture) => ({ ...capture, state: 'removed' }));
    expect(matchAgentCapture(join(watched, NAME), removed, true)).toBeUndefined();
    const twice = [...captures, ...captures].map((capture, i) => ({ ...capture, path: `/srv/${i}/${capture.name}` }));
    expect(matchAgentCapture(join(watched, NAME), twice, false)).toBeUndefined();
  });

  it("for a remote agent, finds a file the agent calls NAME#2 once its namesake is gone", () => {
    const named = [
      { name: NAME, path: `/srv/a/${NAME}`, state: 'removed' },
      { name: `${NAME}#2`, path: `/srv/b/${NAME}`, state: 'idle' },
    ];
    expect(matchAgentCapture(join(watched, NAME), named, false)).toMatchObject({ by: 'name', capture: { name: `${NAME}#2` } });
  });
});
