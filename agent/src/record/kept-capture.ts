/**
 * What dumpcap captured, kept when the recording cannot be written: saving dumpcap's stream into
 * the working copy failed while recording (a full disk, a file-size limit, an I/O error), or
 * writing OUT and its truth failed at the end (the same, or OUT's folder removed meanwhile).
 * Either way the working folder is removed on the way out, and with it, before, the only copy of
 * a recording that may have taken an hour. The working copy (a valid capture: cut back to its last
 * complete block when saving it failed) is moved out of that folder, beside it in TMPDIR: a rename
 * on the same file system, which needs no space. It has no truth comments (those are written with
 * OUT) and holds the recorder's probe packets; the error names it.
 */
import { renameSync } from 'node:fs';
import { RecordError } from './errors';

export interface UnwrittenRecording {
  /** The capture the recording was to be written to (OUT). */
  readonly output: string;
  /** Packets in the working copy. */
  readonly packets: number;
  /** Saving dumpcap's stream failed, which stopped the recording; else writing OUT did, at the end. */
  readonly stoppedEarly: boolean;
}

/** `failure` (RECORD_OUTPUT) with what became of the recording: OUT not written, the working copy kept (where) or not. */
export function keptAfterFailure(failure: RecordError, workingCapture: string, workingFolder: string, recording: UnwrittenRecording): RecordError {
  const { output, packets, stoppedEarly } = recording;
  const what = stoppedEarly ? `the recording stopped; ${output} was not written` : `${output} was not written (nothing half-written is left)`;
  const kept = packets > 0 ? keep(workingCapture, workingFolder) : undefined;
  const rest =
    kept === undefined
      ? packets > 0
        ? `; what dumpcap captured could not be kept`
        : `; dumpcap had captured no packet yet`
      : `; the ${packets} packet${packets === 1 ? '' : 's'} dumpcap captured${stoppedEarly ? ' until then' : ''} are kept in ${kept} (a valid capture, without truth comments, the recorder's probe packets included)`;
  return new RecordError('RECORD_OUTPUT', `${failure.detail}; ${what}${rest}`);
}

/** Moves the working copy beside its folder; its new path, or undefined when it cannot be moved. */
function keep(workingCapture: string, workingFolder: string): string | undefined {
  const kept = `${workingFolder}.pcapng`;
  try {
    renameSync(workingCapture, kept);
    return kept;
  } catch {
    return undefined;
  }
}
