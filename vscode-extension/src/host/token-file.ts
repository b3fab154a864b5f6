/**
 * The local agent's token file, read as a convenience when the agent runs on this machine:
 * $CUMMA_CONFIG_DIR/token, else $XDG_CONFIG_HOME/cumma/token, else ~/.config/cumma/token.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function agentTokenPaths(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string[] {
  const paths: string[] = [];
  if (env['CUMMA_CONFIG_DIR']) paths.push(join(env['CUMMA_CONFIG_DIR'], 'token'));
  if (env['XDG_CONFIG_HOME']) paths.push(join(env['XDG_CONFIG_HOME'], 'cumma', 'token'));
  paths.push(join(home, '.config', 'cumma', 'token'));
  return [...new Set(paths)];
}

/** The first token file that exists and holds a plausible token (one line of printable ASCII). */
export async function readAgentToken(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): Promise<string | undefined> {
  for (const path of agentTokenPaths(env, home)) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    const token = text.trim();
    if (token.length > 0 && token.length <= 512 && /^[\x21-\x7e]+$/.test(token)) return token;
  }
  return undefined;
}
