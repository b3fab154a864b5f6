// The sidecar a real `cumma watch` writes next to a capture: its temporary file cannot be
// redirected by a symbolic link planted in the capture folder, and it is never readable by more
// users than the capture it describes (it holds the capture's real addresses).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSidecar } from '../../agent/src/live/sidecar-file';
import { startAgent, waitFor } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const { running, roots } = cleanUpAfterEach();

function scratch(): string {
  const root = mkdtempSync(join(tmpdir(), 'cumma-sidecar-'));
  roots.push(root);
  mkdirSync(join(root, 'captures'));
  return root;
}

describe('the live sidecar file', () => {
  it('does not follow a symbolic link planted at the temporary name, and is no more readable than a 0600 capture', async () => {
    const root = scratch();
    const folder = join(root, 'captures');
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const agent = await startAgent(folder, join(root, 'config'), ['--format', 'none']);
    running.push(agent);
    const capture = join(folder, 'chat.pcapng');
    const sidecar = `${capture}.cumma.tsv`;
    // The name the old agent used: CAPTURE.cumma.tsv.PID.tmp.
    symlinkSync(victim, `${sidecar}.${agent.child.pid}.tmp`);
    // Written elsewhere and moved in, so that the capture is 0600 from its first byte.
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), join(root, 'chat.pcapng'));
    const { chmodSync, renameSync } = await import('node:fs');
    chmodSync(join(root, 'chat.pcapng'), 0o600);
    renameSync(join(root, 'chat.pcapng'), capture);
    await waitFor(() => existsSync(sidecar) && readFileSync(sidecar, 'utf8').includes('\tfinal'), 30_000, 'the sidecar');
    expect(await agent.stop()).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(statSync(sidecar).mode & 0o077).toBe(0);
    // No temporary file of the agent's is left behind (the planted link is not the agent's to remove).
    expect(readdirSync(folder).filter((name) => name.endsWith('.tmp'))).toEqual([`chat.pcapng.cumma.tsv.${agent.child.pid}.tmp`]);
  }, 60_000);

  it('gives group and other at most the read bits the capture has (and the umask allows)', () => {
    const root = scratch();
    const path = join(root, 'captures', 'x.pcapng.cumma.tsv');
    writeSidecar(path, [], { captureMode: 0o100600 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const umask = process.umask();
    writeSidecar(path, [], { captureMode: 0o100644 });
    expect(statSync(path).mode & 0o777).toBe(0o644 & ~umask);
  });
});
