/**
 * What the extension's log says of captures' warnings. A capture's `warning` (its file ends
 * inside a block and stopped growing; its state journal or its sidecar failed) is carried by
 * every later message about the capture — the agent's progress updates, once a second while the
 * file grows — and a lasting one stays for as long as the agent runs: logged on every event, it
 * came back once a second, hiding what else the log said. Here a warning is logged when it first
 * appears or changes, and once when it clears. No vscode import: the rule is tested on its own,
 * against a real agent.
 */
import type { CaptureInfo } from '../../../agent/src/live/label-feed';
import type { ServerMessage } from '../../../agent/src/serve/protocol';

export interface WarningLine {
  readonly level: 'warn' | 'info';
  readonly text: string;
}

export class CaptureWarnings {
  /** The warning last logged per capture name; a capture without one has no entry. */
  private readonly logged = new Map<string, string>();

  /** The lines to log for `message`, in order; none for most messages. */
  linesFor(message: ServerMessage): WarningLine[] {
    if (message.type === 'hello') {
      // A (re)connection: the hello is the whole truth, and an agent restarted since may no longer
      // watch a capture (nor warn of it). A capture that comes back later is news again.
      const listed = new Set(message.captures.map((capture) => capture.name));
      for (const name of [...this.logged.keys()]) if (!listed.has(name)) this.logged.delete(name);
      return message.captures.flatMap((capture) => this.compare(capture));
    }
    if (message.type !== 'capture') return [];
    if (message.event === 'removed') {
      // A file of the same name added later is another capture: its warnings are its own news.
      this.logged.delete(message.capture.name);
      return [];
    }
    return this.compare(message.capture, message.message);
  }

  /** `said`: the event's own message, which says why a warning cleared (the file grew again). */
  private compare(capture: CaptureInfo, said?: string): WarningLine[] {
    const before = this.logged.get(capture.name);
    if (capture.warning === before) return [];
    if (capture.warning === undefined) {
      this.logged.delete(capture.name);
      return [{ level: 'info', text: `capture ${capture.name}: its warning has cleared${said !== undefined ? ` (${said})` : ''}` }];
    }
    this.logged.set(capture.name, capture.warning);
    return [{ level: 'warn', text: `capture ${capture.name}: ${capture.warning}` }];
  }
}
