/**
 * What a capture about to be written (`cumma simulate -o`, `cumma record -o`) may replace. Both
 * write a temporary file and rename it over OUT, and a rename destroys whatever OUT was: a slip
 * of the keyboard (`-o notes.txt`, `-o model.json`) would lose the file, and run as root, a
 * device (`-o /dev/null`) would be swapped for a plain file. So an existing OUT is replaced only
 * when it is a pcapng capture (an earlier run's, most likely) or empty, and the truth sidecar
 * written beside it only when it is a regular file.
 *
 * The checks answer with the reason as text: the commands report it as a usage mistake (exit
 * 2), the recorder's API as RECORD_OUTPUT.
 */
import { Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { fileKind, NotRegularFileError, readFileHead, statOrUndefined } from '../common/file-kind';
import { truthSidecarPath } from '../truth/truth-sidecar';

/** pcapng's section header block type, the first four bytes of every pcapng file. */
const PCAPNG_MAGIC = 0x0a0d0d0a;

/**
 * Why no capture can be written at `output` whatever is there: an empty name, or one ending in
 * '/', which names a folder (the rename at the end would fail with a bare ENOENT or ENOTDIR,
 * after all the work).
 */
function captureNameProblem(output: string): string | undefined {
  if (output === '') return "-o '' is an empty name: give the capture a file name, e.g. -o capture.pcapng";
  if (output.endsWith('/') || output.endsWith(sep)) {
    return `-o ${output} ends with '${sep}', so it names a folder: give the capture a file name, e.g. -o ${join(output, 'capture.pcapng')}`;
  }
  return undefined;
}

/**
 * Why `command` must not replace what exists at `output` (or at its truth sidecar), or undefined
 * when it may. A folder at `output` is left to the caller, which names it in its own words; a
 * path that cannot be looked at (a missing folder, no permission) is left to the write.
 */
export function captureOutputProblem(output: string, command: string): string | undefined {
  const nameProblem = captureNameProblem(output);
  if (nameProblem !== undefined) return nameProblem;
  const target = statOrUndefined(output);
  if (target !== undefined && !target.isDirectory()) {
    const problem = replaceProblem(output, target, command);
    if (problem !== undefined) return problem;
  }
  const truth = truthSidecarPath(output);
  const truthTarget = statOrUndefined(truth);
  if (truthTarget !== undefined && !truthTarget.isFile()) {
    return `-o ${output}: its truth sidecar ${truth} exists and is not a regular file (${fileKind(truthTarget)}): remove it or give the capture another name`;
  }
  return undefined;
}

function replaceProblem(output: string, target: Stats, command: string): string | undefined {
  if (!target.isFile()) return `-o ${output} exists and is not a regular file (${fileKind(target)}): give the capture a file of its own`;
  if (target.size === 0) return undefined;
  let head: Buffer;
  try {
    head = readFileHead(output, 4);
  } catch (error) {
    // Swapped for a FIFO or a device since the stat: refused as if the stat had seen it.
    if (error instanceof NotRegularFileError) return `-o ${output} exists and is not a regular file (${error.kind}): give the capture a file of its own`;
    return `-o ${output} exists and cannot be read to check that it is a capture (${(error as NodeJS.ErrnoException).code ?? String(error)}): remove it or give another name`;
  }
  if (head.length < 4 || head.readUInt32BE(0) !== PCAPNG_MAGIC) {
    return `-o ${output} exists and is not a pcapng capture: ${command} replaces only captures; remove it first or give another name`;
  }
  return undefined;
}

