/**
 * The live agent's terminal output. Unlike OutputSink (`cumma flows`, `classify`), which batches
 * a finite output, each line is written at once (the table scrolls as dialogs complete), and a
 * reader that goes away is the end of the run rather than of the output: `cumma watch DIR |
 * head -1` ends as `tail -f FILE | head -1` does, quietly, the next time the agent writes.
 * Node ignores SIGPIPE, so without this the failed write is an unhandled 'error' event.
 */
import { CommandIo } from './flows-command';

export interface OutputGone {
  /** Which stream failed. */
  readonly stream: 'stdout' | 'stderr';
  /** The write error; EPIPE when the reader simply went away. */
  readonly error: NodeJS.ErrnoException;
}

/**
 * Control characters shown as \xNN: capture names come from whoever can write into the watched
 * folder, and a name holding escape sequences would otherwise clear or repaint the terminal of
 * the person watching it (jsonl lines are JSON, already escaped, and unaffected).
 */
export function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, escaped);
}

/** A name (a file name) on one line: line ends and tabs escaped too, so it cannot fake a line. */
export function printableName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f-\u009f]/g, escaped);
}

function escaped(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

export class WatchOutput {
  private goneWith: OutputGone | undefined;

  constructor(
    private readonly io: CommandIo,
    onGone: (gone: OutputGone) => void,
  ) {
    const failed = (stream: OutputGone['stream']) => (error: NodeJS.ErrnoException) => {
      // Only the first failure counts: writes already under way fail the same way.
      if (this.goneWith !== undefined) return;
      this.goneWith = { stream, error };
      onGone(this.goneWith);
    };
    io.stdout.on('error', failed('stdout'));
    io.stderr.on('error', failed('stderr'));
  }

  /** Set once a stream has failed: nothing more is written to either. */
  get gone(): OutputGone | undefined {
    return this.goneWith;
  }

  /** A line of results (a dialog) on stdout. */
  out(line: string): void {
    if (this.goneWith === undefined) this.io.stdout.write(`${printable(line)}\n`);
  }

  /** A line of messages on stderr. */
  err(line: string): void {
    if (this.goneWith === undefined) this.io.stderr.write(`${printable(line)}\n`);
  }
}
