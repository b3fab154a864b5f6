/**
 * The agent's access token: 32 random bytes as hex, created on first start in the user's config
 * folder and reused afterwards, so that clients configured once (VS Code, the Lua dissector)
 * keep working across agent restarts.
 *
 * The file is created with mode 0600 inside a 0700 folder, written to a temporary name and
 * hard-linked into place, so a concurrent start never sees half a token and two agents starting
 * at once agree on one token. A token file that group or others can read or write is refused:
 * anyone able to read it could drive the agent, and silently tightening the mode would hide that
 * the token may already have leaked.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, linkSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { makeFolder } from '../common/make-folder';
import { removeStaleTemporaries, unguessableTemporary } from '../common/stale-temporaries';

export const TOKEN_FILE_NAME = 'token';
const TOKEN_BYTES = 32;
/** What a token file may hold: printable ASCII without spaces, of a sensible length. */
const TOKEN_SHAPE = /^[\x21-\x7e]{16,512}$/;

export interface AgentToken {
  readonly token: string;
  /** The token file. */
  readonly path: string;
  /** True when this call created the file. */
  readonly created: boolean;
}

export class TokenFileError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = 'TokenFileError';
  }
}

/** The config folder: $CUMMA_CONFIG_DIR, else $XDG_CONFIG_HOME/cumma, else ~/.config/cumma. */
export function resolveConfigDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const explicit = env.CUMMA_CONFIG_DIR;
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && xdg !== '') return join(xdg, 'cumma');
  return join(home, '.config', 'cumma');
}

export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex');
}

/** Reads `<configDir>/token`, creating it (and the folder) first if it does not exist. */
export function loadOrCreateToken(configDir: string = resolveConfigDir()): AgentToken {
  const path = join(configDir, TOKEN_FILE_NAME);
  const existing = readTokenFile(path);
  if (existing !== undefined) return { token: existing, path, created: false };

  // 0700 applies only when mkdir creates the folder; an existing folder is the user's choice.
  makeFolder(configDir, 0o700);
  const token = generateToken();
  // A start killed between writing and removing its temporary file left it behind: it holds a
  // token no agent uses, so it goes, as the sidecar's and the model's do.
  removeStaleTemporaries(path);
  const temporary = unguessableTemporary(path);
  writeFileSync(temporary, `${token}\n`, { mode: 0o600, flag: 'wx' });
  // The umask cannot widen 0600, but a filesystem might ignore the mode at creation.
  chmodSync(temporary, 0o600);
  try {
    linkSync(temporary, path);
  } catch (error) {
    if (!isCode(error, 'EEXIST')) throw error;
    // Another agent created it first: use theirs.
    const theirs = readTokenFile(path);
    if (theirs === undefined) throw new TokenFileError(path, `token file ${path} vanished while being created; start the agent again`);
    return { token: theirs, path, created: false };
  } finally {
    unlinkSync(temporary);
  }
  return { token, path, created: true };
}

/** The token in `path`, undefined if there is no such file; throws TokenFileError if unusable. */
export function readTokenFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw new TokenFileError(path, `cannot read token file ${path}: ${(error as Error).message}`);
  }
  try {
    // fstat of the opened file, so the checks apply to what is read (no swap in between).
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new TokenFileError(path, `token file ${path} is not a regular file`);
    if (process.platform !== 'win32') {
      if ((stat.mode & 0o077) !== 0) {
        throw new TokenFileError(
          path,
          `token file ${path} is accessible to group or others (mode ${(stat.mode & 0o777).toString(8)}); ` +
            `the token may have leaked: delete the file to get a new token, or 'chmod 600 ${path}' to keep it`,
        );
      }
      const uid = process.getuid?.();
      if (uid !== undefined && stat.uid !== uid) {
        throw new TokenFileError(path, `token file ${path} belongs to another user (uid ${stat.uid}); refusing to use it`);
      }
    }
    const token = readFileSync(fd, 'utf8').trim();
    if (!TOKEN_SHAPE.test(token)) {
      throw new TokenFileError(path, `token file ${path} does not hold a token (16 to 512 printable characters, no spaces); delete it to get a new one`);
    }
    return token;
  } finally {
    closeSync(fd);
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}
