/**
 * Buffered text output to stdout. Lines are batched into large writes (a record per write
 * would cost a syscall each), and a closed pipe (`cumma flows x | head`) ends quietly.
 */
const FLUSH_AT = 1 << 16;

export class OutputSink {
  private pending: string[] = [];
  private pendingLength = 0;
  private closed = false;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') {
        this.closed = true;
        return;
      }
      throw error;
    });
  }

  /** False once the reader of our output has gone away: callers may stop working. */
  get open(): boolean {
    return !this.closed;
  }

  line(text: string): void {
    if (this.closed) return;
    this.pending.push(text);
    this.pendingLength += text.length + 1;
    if (this.pendingLength >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.closed || this.pending.length === 0) return;
    this.stream.write(this.pending.join('\n') + '\n');
    this.pending = [];
    this.pendingLength = 0;
  }
}
