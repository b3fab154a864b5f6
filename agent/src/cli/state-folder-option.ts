/**
 * The folder of `cumma watch`'s state journals (`--state-dir`, default the config folder's
 * state/), checked at start. Unchecked, a path that is a file, lies under a file or cannot take
 * files surfaced only when the first capture was added, as a stack trace that ended the agent (or,
 * under /proc, as a recursive mkdir spinning for ever): the folder is made if missing, and must
 * take a file, before anything is watched.
 */
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { folderProblem, makeFolder } from '../common/make-folder';
import { systemErrorReason } from '../common/system-error';
import { UsageError } from './usage-error';

/**
 * Makes `path` if missing and checks that a file can be made in it. `given`: the folder as the
 * user gave it (--state-dir), undefined for the default. A path that is or runs through a file is
 * a mistake on the command line (UsageError, exit 2 with the usage text); a folder the system does
 * not let the agent make or write in (permissions, a read-only or pseudo file system) is an error
 * (exit 1), as for `train -o` (docs/errors.md).
 */
export function prepareStateFolder(path: string, given: string | undefined): void {
  const named = given === undefined ? `the state folder ${path}` : `--state-dir ${given}`;
  try {
    makeFolder(path, 0o700);
  } catch (error) {
    const problem = folderProblem(path, error);
    if (problem.notAFolder) throw new UsageError(`${named}: ${problem.text}; the agent keeps its state journals in a folder`);
    throw new Error(`${named}: ${problem.text}`);
  }
  // Write permission bits say little (root passes them, a read-only mount or /proc refuses all
  // the same): making a file says what counts.
  const probe = join(path, `.cumma-probe.${process.pid}.tmp`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // /proc answers a new file with ENOENT, its folder there: "no such file or directory" would mislead.
    const reason = code === 'ENOENT' ? 'its file system takes no new files there' : systemErrorReason(error);
    throw new Error(`${named}: cannot write in it: ${reason}${code === undefined ? '' : ` (${code})`}`);
  }
  rmSync(probe, { force: true });
}
