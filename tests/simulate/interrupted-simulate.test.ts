// A `cumma simulate` killed while writing cannot remove its temporary file (OUT.PID.RANDOM.tmp) (no JavaScript runs
// on the way out of its synchronous loop): the next run into the same output removes it, and
// leaves alone the temporaries of processes still running.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
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

/** The temporary capture of process `pid` beside `out` (OUT.PID.RANDOM.tmp), if there is one. */
function temporaryOf(out: string, pid: number | undefined): string | undefined {
  const prefix = `${basename(out)}.${pid}.`;
  const name = readdirSync(dirname(out)).find((entry) => entry.startsWith(prefix) && /^[0-9a-f]{16}\.tmp$/.test(entry.slice(prefix.length)));
  return name === undefined ? undefined : join(dirname(out), name);
}

it('a killed run leaves OUT.PID.RANDOM.tmp, which the next run into OUT removes', async () => {
  const out = join(dir, 'call.pcapng');
  const child = spawn(process.execPath, [CLI, 'simulate', '--usage', 'video_call', '--duration', '3600', '--seed', '4', '-o', out], { stdio: 'ignore' });
  let temporary = '';
  await until(() => {
    temporary = temporaryOf(out, child.pid) ?? '';
    return temporary !== '' && statSync(temporary).size > 1_000_000;
  }, 30_000);
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
