import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateToken, resolveConfigDir, TokenFileError } from '../../agent/src/serve/token';

describe('agent token file', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cumma-token-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is created on first start: 32 random bytes in hex, file 0600 in a 0700 folder', () => {
    const dir = join(root, 'config', 'cumma');
    const first = loadOrCreateToken(dir);
    expect(first.created).toBe(true);
    expect(first.path).toBe(join(dir, 'token'));
    expect(first.token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(first.path, 'utf8').trim()).toBe(first.token);
  });

  it('is created without leaving its temporary file, and sweeps those of starts that died half-way', () => {
    const dir = join(root, 'config');
    mkdirSync(dir, { mode: 0o700 });
    // A process that has ended: its pid is free, so its temporary file is nobody's.
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const stale = `token.${ended.stdout}.0123456789abcdef.tmp`;
    writeFileSync(join(dir, stale), 'f'.repeat(64), { mode: 0o600 });
    // One of a live process (this one) is not touched: it may be writing it now.
    const live = `token.${process.pid}.fedcba9876543210.tmp`;
    writeFileSync(join(dir, live), 'e'.repeat(64), { mode: 0o600 });
    const token = loadOrCreateToken(dir);
    expect(token.created).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([live, 'token'].sort());
  });

  it('is reused afterwards, and differs between config folders', () => {
    const first = loadOrCreateToken(join(root, 'a'));
    const again = loadOrCreateToken(join(root, 'a'));
    expect(again).toEqual({ ...first, created: false });
    expect(loadOrCreateToken(join(root, 'b')).token).not.toBe(first.token);
  });

  it('refuses a token file readable or writable by group or others, saying how to fix it', () => {
    const { path } = loadOrCreateToken(root);
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      chmodSync(path, mode);
      expect(() => loadOrCreateToken(root)).toThrow(TokenFileError);
      expect(() => loadOrCreateToken(root)).toThrow(/accessible to group or others.*chmod 600/);
    }
    chmodSync(path, 0o600);
    expect(loadOrCreateToken(root).created).toBe(false);
  });

  it('refuses a file that holds no token, and a folder in its place', () => {
    writeFileSync(join(root, 'token'), 'short\n', { mode: 0o600 });
    expect(() => loadOrCreateToken(root)).toThrow(/does not hold a token/);
    const other = join(root, 'other');
    mkdirSync(join(other, 'token'), { recursive: true });
    expect(() => loadOrCreateToken(other)).toThrow(/not a regular file/);
  });

  it('config folder: $CUMMA_CONFIG_DIR, else $XDG_CONFIG_HOME/cumma, else ~/.config/cumma', () => {
    expect(resolveConfigDir({ CUMMA_CONFIG_DIR: '/c', XDG_CONFIG_HOME: '/x' }, '/home/u')).toBe('/c');
    expect(resolveConfigDir({ XDG_CONFIG_HOME: '/x' }, '/home/u')).toBe('/x/cumma');
    expect(resolveConfigDir({ CUMMA_CONFIG_DIR: '', XDG_CONFIG_HOME: '' }, '/home/u')).toBe('/home/u/.config/cumma');
  });
});
