// `cumma watch DIR | head -1`: the reader of the agent's output goes away while the agent runs.
// A real agent process whose stdout is a pipe this test closes after the first line; the agent
// notices when it next writes (a provisional label, or the dialogs of a capture added after).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../support/agent-process';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const root = mkdtempSync(join(tmpdir(), 'cumma-closed-output-'));
const children: ReturnType<typeof spawn>[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('cumma watch whose output reader goes away', () => {
  it.each(['jsonl', 'table'])('stops quietly and cleanly, --format %s', async (format) => {
    const folder = join(root, format, 'captures');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), join(folder, 'chat.pcapng'));
    const child = spawn(process.execPath, [CLI, 'watch', folder, '--port', '0', '--format', format], {
      env: { ...process.env, CUMMA_CONFIG_DIR: join(root, format, 'config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, atMs: Date.now() })),
    );

    // Read up to the first line, then close our end of the pipe, as `head -1` does when it exits.
    let stdout = '';
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        stdout += chunk.toString();
        if (!stdout.includes('\n')) return;
        child.stdout!.off('data', onData);
        child.stdout!.destroy();
        resolve();
      };
      child.stdout!.on('data', onData);
    });
    const closedAtMs = Date.now();
    // Sure to have more to print: a second capture's dialogs (if it has not stopped already).
    copyFileSync(join(SAMPLES, 'signal-media.pcapng'), join(folder, 'media.pcapng'));
    const exit = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
    expect(exit, `the agent still runs 10 s after its reader left; stderr:\n${stderr}`).toBeDefined();
    expect(exit!.signal).toBeNull();
    expect(exit!.code, stderr).toBe(0);
    expect(exit!.atMs - closedAtMs).toBeLessThan(5_000);
    // No stack trace, no error: only the agent's own start-up lines.
    expect(stderr).not.toMatch(/EPIPE|Unhandled|node:events|^\s+at /m);
    expect(stderr).not.toMatch(/error/i);
    expect(stderr.split('\n').every((line) => line === '' || /^(cumma watch: |  \w[\w ]*: )/.test(line)), stderr).toBe(true);
  }, 60_000);
});
