// A `cumma simulate` killed while writing cannot remove its temporary file (no JavaScript runs
// on the way out of its synchronous loop): the next run into the same output removes it, and
// leaves alone the temporaries of processes still running.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const CLI = join(__dirname, '..', '..', 'dist', 'cumma.js');
let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-interrupted-simulate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('a killed run leaves OUT.PID.tmp, which the next run into OUT removes', async () => {
  const out = join(dir, 'call.pcapng');
  const child = spawn(process.execPath, [CLI, 'simulate', '--usage', 'video_call', '--duration', '3600', '--seed', '4', '-o', out], { stdio: 'ignore' });
  const temporary = `${out}.${child.pid}.tmp`;
  await until(() => existsSync(temporary) && statSync(temporary).size > 1_000_000, 30_000);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  expect(existsSync(temporary)).toBe(true);
  expect(existsSync(out)).toBe(false);

  // A temporary of a process still running (this one) is not touched.
  const alive = `${out}.${process.pid}.tmp`;
  writeFileSync(alive, 'in progress');
  const result = spawnSync(process.execPath, [CLI, 'simulate', '--usage', 'text', '--seed', '4', '-o', out], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  expect(existsSync(temporary)).toBe(false);
  expect(existsSync(alive)).toBe(true);
  expect(existsSync(out)).toBe(true);
  expect(readdirSync(dir).sort()).toEqual(['call.pcapng', `call.pcapng.${process.pid}.tmp`, 'call.pcapng.truth.jsonl']);
}, 60_000);
