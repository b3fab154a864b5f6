/**
 * The state file of one watched capture: which of its dialogs have been published as final.
 * A restarted agent re-reads the capture (re-deriving every dialog exactly, since reading is
 * deterministic) and publishes only the final dialogs not listed here, so that after a crash
 * no dialog is lost and none is announced twice. Append-only: each batch of ids is appended
 * before the dialogs are sent, and a line cut short by a crash is ignored on load.
 *
 * Line 1 identifies the file the ids belong to (device, inode and a digest of its first bytes):
 * a capture replaced under the same name starts a new journal.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const HEAD_BYTES = 4096;
const JOURNAL_VERSION = 1;

export interface CaptureIdentity {
  readonly dev: number;
  readonly ino: number;
  /** sha-256 of the file's first bytes (up to 4 KiB, fewer while the file is shorter). */
  readonly head: string;
  readonly headBytes: number;
}

/** Identity of the file behind an open descriptor, from its first `headBytes` bytes (≤ 4 KiB). */
export function identityOf(fd: number, dev: number, ino: number, size: number, headBytes = HEAD_BYTES): CaptureIdentity {
  const length = Math.min(size, headBytes);
  const buffer = Buffer.alloc(length);
  const count = readSync(fd, buffer, 0, length, 0);
  return { dev, ino, head: createHash('sha256').update(buffer.subarray(0, count)).digest('hex'), headBytes: count };
}

/** Whether the open file is the one `saved` describes (it may have grown since). */
function sameFile(saved: CaptureIdentity, fd: number, dev: number, ino: number, size: number): boolean {
  if (saved.dev !== dev || saved.ino !== ino || size < saved.headBytes) return false;
  return identityOf(fd, dev, ino, size, saved.headBytes).head === saved.head;
}

export class StateJournal {
  private readonly published = new Set<string>();
  private started = false;

  private constructor(readonly path: string) {}

  /** The journal of `capturePath` in `directory`; loaded lazily once the file's identity is known. */
  static for(directory: string, capturePath: string): StateJournal {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const name = createHash('sha256').update(capturePath).digest('hex').slice(0, 24);
    return new StateJournal(join(directory, `${name}.journal`));
  }

  /**
   * Loads the ids published for this very file (same identity), or starts a new journal.
   * Returns how many ids were recovered.
   */
  open(capturePath: string, fd: number, dev: number, ino: number, size: number): number {
    this.published.clear();
    this.started = true;
    if (existsSync(this.path)) {
      const lines = readFileSync(this.path, 'utf8').split('\n');
      let header: { v?: number; identity?: CaptureIdentity } | undefined;
      try {
        header = JSON.parse(lines[0] ?? '') as typeof header;
      } catch {
        header = undefined;
      }
      if (header?.v === JOURNAL_VERSION && header.identity !== undefined && sameFile(header.identity, fd, dev, ino, size)) {
        // The last line may be cut short by a crash: only complete ids (20 hex digits) count.
        for (const line of lines.slice(1)) if (/^[0-9a-f]{20}$/.test(line)) this.published.add(line);
        return this.published.size;
      }
    }
    const identity = identityOf(fd, dev, ino, size);
    writeFileSync(this.path, `${JSON.stringify({ v: JOURNAL_VERSION, capture: capturePath, identity })}\n`, { mode: 0o600 });
    return 0;
  }

  has(id: string): boolean {
    return this.published.has(id);
  }

  /** Records ids as published, on disk before the caller sends them. */
  record(ids: readonly string[]): void {
    if (!this.started || ids.length === 0) return;
    for (const id of ids) this.published.add(id);
    const fd = openSync(this.path, 'a');
    try {
      appendFileSync(fd, `${ids.join('\n')}\n`);
    } finally {
      closeSync(fd);
    }
  }

  /** The capture is gone: so is its journal. */
  remove(): void {
    this.published.clear();
    this.started = false;
    rmSync(this.path, { force: true });
  }
}
