// The sidecar holds real addresses (Wireshark matches them against the capture), so it gets no
// more access for group and others than the capture itself has — as the agent's sidecars.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'cumma-sidecar-mode-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([0o600, 0o640, 0o644])('classify --sidecar beside a capture of mode %o', (mode) => {
  const capture = join(dir, `c${mode.toString(8)}.pcapng`);
  copyFileSync(join(ROOT, 'samples', 'whatsapp-chat.pcapng'), capture);
  chmodSync(capture, mode);
  const result = spawnSync(process.execPath, [CLI, 'classify', capture, '--sidecar', '--format', 'jsonl'], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  const expected = (0o600 | (mode & 0o066)) & ~process.umask();
  expect((statSync(`${capture}.cumma.tsv`).mode & 0o777).toString(8)).toBe(expected.toString(8));
});
