/**
 * Buffered text output to stdout. Lines are batched into large writes (a record per write
 * would cost a syscall each), and a closed pipe (`cumma flows x | head`) ends quietly.
 *
 * The process's own stdout is written synchronously through its descriptor, so that a closed
 * pipe is known at once: `open` turns false during the write, and a command reading a capture
 * synchronously (classify) can stop between chunks instead of reading gigabytes for nobody.
 * Node's stream would report it only from the event loop, after the whole capture. Other
 * streams (tests) are written through their write().
 */
import { writeSync } from 'node:fs';
import { sleepSync } from '../common/sleep-sync';
import { isClosedPipe, stdoutFailure } from './system-error';

const FLUSH_AT = 1 << 16;

/** Something else drawn on the same terminal, e.g. a progress bar: taken off around each write. */
export interface TerminalNeighbour {
  hide(): void;
  show(): void;
}

export interface OutputSinkOptions {
  /** Flush after every line; default: when the stream is a terminal (a person is watching). */
  readonly lineByLine?: boolean;
}

/** Writes all of `text` to a descriptor, waiting out a full non-blocking pipe. */
function writeAllSync(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(fd, bytes, written, bytes.length - written);
    } catch (error) {
      // Node makes a pipe on stdout non-blocking: a full pipe is a slow reader, not a failure.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      sleepSync(1);
    }
  }
}

export class OutputSink {
  private pending: string[] = [];
  private pendingLength = 0;
  private closed = false;
  /** A write error reported by the stream's 'error' event, thrown by the next line or flush. */
  private failure: unknown;
  private readonly fd: number | undefined;
  private readonly lineByLine: boolean;
  private neighbour: TerminalNeighbour | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
    options: OutputSinkOptions = {},
  ) {
    this.fd = stream === process.stdout ? process.stdout.fd : undefined;
    this.lineByLine = options.lineByLine ?? stream.isTTY === true;
    if (this.fd === undefined) {
      stream.on('error', (error: NodeJS.ErrnoException) => {
        this.closed = true;
        if (!isClosedPipe(error)) this.failure ??= error;
      });
    }
  }

  /** False once the reader of our output has gone away: callers may stop working. */
  get open(): boolean {
    return !this.closed;
  }

  /** Takes `neighbour` off the terminal before each write and puts it back after. */
  share(neighbour: TerminalNeighbour): void {
    if (this.stream.isTTY === true) this.neighbour = neighbour;
  }

  line(text: string): void {
    this.throwFailure();
    if (this.closed) return;
    this.pending.push(text);
    this.pendingLength += text.length + 1;
    if (this.lineByLine || this.pendingLength >= FLUSH_AT) this.flush();
  }

  /**
   * Writes what is buffered. A closed pipe closes the sink quietly; any other failure (a full
   * disk) closes it and throws `cannot write standard output: …`, once.
   */
  flush(): void {
    this.throwFailure();
    if (this.closed || this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.pendingLength = 0;
    this.neighbour?.hide();
    try {
      if (this.fd === undefined) this.stream.write(text);
      else writeAllSync(this.fd, text);
    } catch (error) {
      this.closed = true;
      if (!isClosedPipe(error)) throw new Error(stdoutFailure(error));
      // Tells the entry that nothing is left to write: it may end the process even while a
      // read of endless input (tail -f … | cumma flows -) is still pending.
      if (this.fd !== undefined) process.stdout.destroy();
      return;
    } finally {
      this.neighbour?.show();
    }
  }

  private throwFailure(): void {
    if (this.failure === undefined) return;
    const failure = this.failure;
    this.failure = undefined;
    throw new Error(stdoutFailure(failure));
  }
}
