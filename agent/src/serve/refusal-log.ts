/**
 * Logging of refused handshakes, bounded: anyone who can reach the port can be refused as often
 * as it likes, with headers of up to Node's 16 KiB limit, and each refusal logged in full made
 * the agent's stderr (a terminal, a journal) the thing under attack. Quoted header values are cut
 * short, and at most `perSecond` refusals are logged in each second; the rest are counted and
 * summed up in one line ("… 512 more refused handshakes not logged") when the second is over.
 */
import { ServerLog } from './server-log';

/** Characters of a client's header value (an Origin) quoted in a log line. */
export const LOGGED_HEADER_CHARACTERS = 100;

/** A header value as logged: JSON-quoted (no control characters reach the log), cut short. */
export function quoteHeader(value: string | undefined): string {
  if (value === undefined) return 'none';
  const cut = value.length > LOGGED_HEADER_CHARACTERS ? `${value.slice(0, LOGGED_HEADER_CHARACTERS)}…` : value;
  return `${JSON.stringify(cut)}${value.length > LOGGED_HEADER_CHARACTERS ? ` (${value.length} characters)` : ''}`;
}

export class RefusalLog {
  private windowStart = -Infinity;
  private logged = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: ServerLog,
    private readonly perSecond = 10,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  refused(line: string): void {
    const now = this.clock();
    if (now - this.windowStart >= 1000) {
      this.summarise();
      this.windowStart = now;
      this.logged = 0;
    }
    if (this.logged < this.perSecond) {
      this.logged += 1;
      this.log('warn', line);
      return;
    }
    this.suppressed += 1;
    if (this.timer === undefined) {
      // The flood may stop within this second: the count is still reported when it ends.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.summarise();
      }, Math.max(1, Math.ceil(this.windowStart + 1000 - now)));
      this.timer.unref();
    }
  }

  /** Reports what is still counted (the server closes). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.summarise();
  }

  private summarise(): void {
    if (this.suppressed === 0) return;
    this.log('warn', `… ${this.suppressed} more refused handshake${this.suppressed === 1 ? '' : 's'} not logged (at most ${this.perSecond} a second are)`);
    this.suppressed = 0;
  }
}
