/**
 * The demo's folder (`npm start -- --dir D`), emptied and made before each run so that every run
 * shows the same thing from the start. A folder that cannot be made (under /proc, under a file, no
 * permission) used to end the demo with Node's bare "ENOENT: no such file or directory, mkdir …";
 * and a --dir naming a folder of the user's own (`--dir ~/captures`) was deleted whole, files and
 * all. Now such a folder is refused, naming it and why, as `cumma watch --state-dir` refuses one.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { folderProblem, makeFolder } from '../../agent/src/common/make-folder';
import { systemErrorWithCode } from '../../agent/src/common/system-error';

/** Left in a folder the demo has made its own: an earlier run's folder is emptied without a question. */
const MARKER = '.cumma-demo';

/** Why the demo cannot use its folder; the message names it as the user gave it. */
export class DemoFolderError extends Error {
  override readonly name = 'DemoFolderError';
}

/** Whether `dir` is a folder holding something the demo did not put there (no marker). */
function holdsOthersFiles(dir: string): boolean {
  const entries = readdirSync(dir);
  return entries.length > 0 && !entries.includes(MARKER);
}

/**
 * Empties `dir` (made if missing, parents too) and makes `sub` in it. `given`: the folder as the
 * user gave it with --dir, undefined for the default (.cache/demo, the demo's own, always emptied).
 * A --dir that holds files the demo did not make is refused, not emptied. Throws DemoFolderError.
 */
export function prepareDemoFolder(dir: string, sub: string, given: string | undefined): void {
  const named = given === undefined ? `the demo folder ${dir}` : `--dir ${given}`;
  try {
    // A folder already (then nothing is made), or made now: a file, a path through one, /proc and
    // permissions are named by folderProblem.
    makeFolder(dir);
  } catch (error) {
    throw new DemoFolderError(`${named}: ${folderProblem(dir, error).text}`);
  }
  try {
    if (given !== undefined && holdsOthersFiles(dir)) {
      throw new DemoFolderError(`${named} holds files the demo did not make, and the demo empties its folder first: give a new or empty folder`);
    }
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    writeFileSync(join(dir, MARKER), 'made by `npm start` (scripts/demo.ts): emptied on every run\n');
    makeFolder(join(dir, sub));
  } catch (error) {
    if (error instanceof DemoFolderError) throw error;
    throw new DemoFolderError(`${named}: cannot prepare it: ${systemErrorWithCode(error)}`);
  }
}
