// `npm start`'s --dir (dist/demo.js) that cannot be the demo's folder: refused at once, naming it
// and why, exit 1, as `cumma watch --state-dir` refuses its folder. It used to end with Node's bare
// "ENOENT: no such file or directory, mkdir '/proc/…'" (or "ENOTDIR: … unlink …"), and a folder of
// the user's own was deleted whole before the demo ran in it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DEMO = join(__dirname, '..', '..', 'dist', 'demo.js');
const HAS_PROC = existsSync('/proc/self/status');

let root: string;
beforeAll(() => {
  if (!existsSync(DEMO)) throw new Error(`${DEMO} does not exist: run 'npm run build' first`);
  root = mkdtempSync(join(tmpdir(), 'cumma-demo-folder-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The demo with `dir`; one that took the folder runs its agent until the timeout kills it (status null). */
function demo(dir: string): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [DEMO, '--dir', dir, '--port', '0'], {
    encoding: 'utf8',
    timeout: 15_000,
    env: { ...process.env, CUMMA_CONFIG_DIR: join(root, 'config') },
  });
  return { status: result.status, stderr: result.stderr };
}

describe('npm start -- --dir D that cannot be the demo folder', () => {
  it.skipIf(!HAS_PROC)('names a folder under /proc and why it cannot be made', () => {
    const run = demo('/proc/cumma-nope/demo');
    expect(run.stderr).toBe('demo: error: --dir /proc/cumma-nope/demo: cannot make folder /proc/cumma-nope: its file system takes no new folders there (ENOENT)\n');
    expect(run.status).toBe(1);
  });

  it('names the file a --dir runs through, and a --dir that is a file, keeping it', () => {
    const file = join(root, 'notes.txt');
    writeFileSync(file, 'my notes\n');
    const under = demo(join(file, 'demo'));
    expect(under.stderr).toBe(`demo: error: --dir ${join(file, 'demo')}: ${file} is a file, not a folder\n`);
    expect(under.status).toBe(1);
    const itself = demo(file);
    expect(itself.stderr).toBe(`demo: error: --dir ${file}: it is a file, not a folder\n`);
    expect(itself.status).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('my notes\n');
  });

  it('refuses a folder holding files it did not make, instead of emptying it', () => {
    const own = join(root, 'captures-of-mine');
    mkdirSync(own);
    writeFileSync(join(own, 'precious.pcapng'), 'not to be lost');
    const run = demo(own);
    expect(run.stderr).toBe(`demo: error: --dir ${own} holds files the demo did not make, and the demo empties its folder first: give a new or empty folder\n`);
    expect(run.status).toBe(1);
    expect(readFileSync(join(own, 'precious.pcapng'), 'utf8')).toBe('not to be lost');
  });
});
