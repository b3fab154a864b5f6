import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentTokenPaths, readAgentToken } from '../../vscode-extension/src/host/token-file';

describe('the local agent token file', () => {
  it('looks where the agent keeps it: $CUMMA_CONFIG_DIR, $XDG_CONFIG_HOME/cumma, ~/.config/cumma', () => {
    expect(agentTokenPaths({ CUMMA_CONFIG_DIR: '/c', XDG_CONFIG_HOME: '/x' })).toEqual(['/c/token', '/x/cumma/token', join(homedir(), '.config', 'cumma', 'token')]);
    expect(agentTokenPaths({})).toEqual([join(homedir(), '.config', 'cumma', 'token')]);
  });

  it('reads the first plausible token and ignores junk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cumma-token-'));
    const junk = join(dir, 'junk');
    const good = join(dir, 'good', 'cumma');
    mkdirSync(junk);
    mkdirSync(good, { recursive: true });
    writeFileSync(join(junk, 'token'), 'two words\n');
    writeFileSync(join(good, 'token'), 'ab12cd34\n');
    expect(await readAgentToken({ CUMMA_CONFIG_DIR: junk, XDG_CONFIG_HOME: join(dir, 'good') }, dir)).toBe('ab12cd34');
    expect(await readAgentToken({ CUMMA_CONFIG_DIR: join(dir, 'missing'), XDG_CONFIG_HOME: join(dir, 'none') }, dir)).toBeUndefined();
  });
});
