// `npm start`'s script, run to completion: the agent on the seeded folder labels every dialog of
// the four samples, the table shows them, and it exits cleanly.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyFile } from '../support/agent-process';

const ROOT = join(__dirname, '..', '..');

describe('npm start (dist/demo.js)', () => {
  it('runs the agent on the samples, prints every dialog final in its table and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cumma-demo-'));
    try {
      const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(ROOT, 'dist', 'demo.js'), '--speed', '40', '--exit-when-done', '--port', '0', '--dir', dir],
          { env: { ...process.env, CUMMA_CONFIG_DIR: join(dir, 'config') }, maxBuffer: 1 << 24 },
          (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out, stderr: err }),
        );
      });
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/web panel: http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}/);
      expect(stderr).toContain('install-wireshark-plugin');
      const lines = stdout.split('\n');
      expect(lines[0]).toMatch(/^TIME \(UTC\)\s+CAPTURE/);
      for (const sample of ['signal-media.pcapng', 'signal-streaming.pcapng', 'telegram-calls.pcapng', 'whatsapp-chat.pcapng']) {
        const finals = lines.filter((line) => line.includes(` ${sample} `) && line.endsWith(' final'));
        expect(finals.length, sample).toBe(classifyFile(join(ROOT, 'samples', sample)).length);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
