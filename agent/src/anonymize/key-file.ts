/**
 * Anonymisation keys kept in files: `--anonymize-key-file FILE`, a key that never appears on a
 * command line (every local user can read a command line in `ps` while it runs, and shells keep
 * it in their history; with the key, Crypto-PAn is undone), and the agent's own anonymize.key.
 * Like the agent's token file, a key file that group or others can read (they could undo the
 * anonymisation) or write (they could choose the mapping) is refused, never used as it is:
 * tightening its mode quietly would hide that the key may have leaked.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolder } from '../common/make-folder';
import { systemErrorReason } from '../common/system-error';
import { CRYPTO_PAN_KEY_BYTES } from './crypto-pan';
import { AnonymizeKey, parseAnonymizeKey } from './key';

/** More than any key or passphrase: a capture or another file named by mistake. */
const MAX_KEY_FILE_BYTES = 1024;

interface KeyFileRules {
  /** The file as messages name it: "--anonymize-key-file /x/key". */
  readonly named: string;
  /** What to do about a file that group or others can access, said after its mode. */
  readonly whenExposed: string;
  /** Whether a pipe is taken too: `<(pass show cumma)`, whose pipe a shell makes with mode 0600. */
  readonly pipes: boolean;
}

/** The text of a key file that only its owner can access; otherwise an Error naming the file. */
function readPrivateKeyFile(path: string, rules: KeyFileRules): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new Error(`cannot read ${rules.named}: ${systemErrorReason(error)}`);
  }
  try {
    // fstat of the opened file, so the checks apply to what is read.
    const stat = fstatSync(fd);
    if (!stat.isFile() && !(rules.pipes && stat.isFIFO())) throw new Error(`${rules.named} is not a regular file${rules.pipes ? ' or a pipe' : ''}`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw new Error(`${rules.named} is accessible to group or others (mode ${(stat.mode & 0o777).toString(8)}); ${rules.whenExposed}`);
    }
    const tooLong = `${rules.named} holds more than ${MAX_KEY_FILE_BYTES} bytes: not a key file`;
    if (stat.size > MAX_KEY_FILE_BYTES) throw new Error(tooLong);
    const bytes = readFileSync(fd);
    if (bytes.length > MAX_KEY_FILE_BYTES) throw new Error(tooLong);
    return bytes.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * `--anonymize-key-file FILE`: the key or passphrase in FILE, read as `--anonymize KEY` reads its
 * value, less the line end(s) an editor or `echo` leaves at its end. A file or a pipe only its
 * owner can access. Problems are Errors naming the file (exit status 1, as for a model file):
 * the command line is right, the file is not.
 */
export function readAnonymizeKeyFile(path: string): AnonymizeKey {
  const named = `--anonymize-key-file ${path}`;
  const text = readPrivateKeyFile(path, {
    named,
    whenExposed: `whoever can read it can undo the anonymisation: 'chmod 600 ${path}', and make a new key if others may have read it`,
    pipes: true,
  });
  try {
    return parseAnonymizeKey(text.replace(/[\r\n]+$/, ''), named);
  } catch (error) {
    throw new Error((error as Error).message);
  }
}

/**
 * The key an agent served beyond loopback keeps in its config folder, made on first use, so
 * that anonymised addresses stay the same across restarts. Problems name the file: the user
 * never typed this key, so a message about `--anonymize` would point at the wrong thing.
 */
export function storedAnonymizeKey(configDir: string): Uint8Array {
  const path = join(configDir, 'anonymize.key');
  if (existsSync(path)) {
    const named = `anonymisation key file ${path}`;
    const text = readPrivateKeyFile(path, {
      named,
      whenExposed: `the key may have leaked or been changed: delete the file to get a new key (the anonymised addresses change), or 'chmod 600 ${path}' to keep it`,
      pipes: false,
    });
    try {
      return parseAnonymizeKey(text.trim()).bytes;
    } catch (error) {
      throw new Error(`${named} does not hold a usable key (${(error as Error).message.replace(/^--anonymize expects /, 'expected ')}); delete it to get a new one`);
    }
  }
  makeFolder(configDir, 0o700);
  const key = randomBytes(CRYPTO_PAN_KEY_BYTES);
  writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
