/**
 * The state file of one watched capture: the dialogs it has published as final, each with its
 * final record. A restarted agent restores those records before it re-reads the capture, so
 * that every channel (snapshot, /labels, sidecar) holds them as final from the start, and then
 * re-reads the file (re-deriving every dialog exactly, since reading is deterministic),
 * publishing only the final dialogs not listed here: after a crash no dialog is lost, none is
 * announced twice, and none goes back from final to provisional. Append-only: each batch is
 * appended before the dialogs are sent, and a line cut short by a crash is ignored on load.
 *
 * Line 1 identifies the file the dialogs belong to (device, inode and a digest of its first
 * bytes): a capture replaced under the same name starts a new journal. Then one JSON dialog
 * record a line (version 2; a later line for the same id replaces an earlier one). Version 1
 * journals held bare ids; their ids still count as published, their records are re-derived.
 *
 * The journal is a convenience for the next run, never a condition of this one: a journal that
 * cannot be read or written (a full disk, its folder replaced by a file, its path by a folder) is
 * reported once, through `onFailure`, and from then on kept in memory only. Its capture goes on
 * being labelled and published as before; what a restarted agent finds of it is what was written
 * before the failure.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeFolder } from '../common/make-folder';
import { systemErrorReason } from '../common/system-error';
import { dialogId } from './dialog-identity';
import { LiveDialog } from './label-feed';

const HEAD_BYTES = 4096;
const JOURNAL_VERSION = 2;
const READABLE_VERSIONS: readonly number[] = [1, 2];
const ID = /^[0-9a-f]{20}$/;

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

/** A journal line that is a whole final dialog record (a line cut short does not parse). */
function parseRecord(line: string): LiveDialog | undefined {
  if (!line.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<LiveDialog>;
  const wellFormed =
    typeof record.id === 'string' &&
    ID.test(record.id) &&
    record.status === 'final' &&
    typeof record.capture === 'string' &&
    typeof record.startUs === 'number' &&
    typeof record.client?.ip === 'string' &&
    typeof record.server?.ip === 'string';
  return wellFormed ? (value as LiveDialog) : undefined;
}

/**
 * An identity line appended to a journal: the file's first bytes, hashed again over more of them
 * as the file grew. dumpcap starts every file with the same header blocks (hundreds of bytes), so
 * an identity taken while the file held only those would also match the next capture dumpcap
 * writes under the same name: the first packets make the difference.
 */
interface IdentityLine {
  readonly identity: CaptureIdentity;
}

function parseIdentityLine(line: string): CaptureIdentity | undefined {
  if (!line.startsWith('{"identity"')) return undefined;
  try {
    const identity = (JSON.parse(line) as Partial<IdentityLine>).identity;
    return typeof identity?.head === 'string' && typeof identity.headBytes === 'number' && typeof identity.ino === 'number' ? identity : undefined;
  } catch {
    return undefined;
  }
}

/** The newest identity a journal's lines hold (the header's, or a later identity line's). */
function latestIdentity(header: CaptureIdentity, lines: readonly string[]): CaptureIdentity {
  let identity = header;
  for (const line of lines) identity = parseIdentityLine(line) ?? identity;
  return identity;
}

/** Says, once, that a capture's journal failed: the message names the journal and why. */
export type JournalFailure = (message: string) => void;

export class StateJournal {
  private readonly published = new Set<string>();
  private started = false;
  private identity: CaptureIdentity | undefined;
  /** Set once the journal file failed: kept in memory only from then on. */
  private failed = false;

  private constructor(
    readonly path: string,
    private readonly capturePath: string,
    private readonly onFailure: JournalFailure,
  ) {}

  /**
   * The journal of `capturePath` in `directory`; loaded lazily once the file's identity is known.
   * Touches no file: the folder is made when the journal is first written (see open).
   */
  static for(directory: string, capturePath: string, onFailure: JournalFailure = () => undefined): StateJournal {
    const name = createHash('sha256').update(capturePath).digest('hex').slice(0, 24);
    return new StateJournal(join(directory, `${name}.journal`), capturePath, onFailure);
  }

  /**
   * Loads what was published of this very file (same identity), or starts a new journal.
   * Returns the final records recovered, in order of publication, under the capture's current
   * name `capture` (a file's name among the agent's captures can change between runs: the
   * same file, the same dialogs). Throws only when the capture (`fd`) cannot be read: a journal
   * that cannot be read or written is reported and left (see the file's comment).
   */
  open(capturePath: string, capture: string, fd: number, dev: number, ino: number, size: number): LiveDialog[] {
    this.published.clear();
    this.started = true;
    const lines = this.onDisk('read', () => this.readLines());
    if (lines !== undefined) {
      let header: { v?: number; identity?: CaptureIdentity } | undefined;
      try {
        header = JSON.parse(lines[0] ?? '') as typeof header;
      } catch {
        header = undefined;
      }
      const identity = header?.identity === undefined ? undefined : latestIdentity(header.identity, lines.slice(1));
      if (header?.v !== undefined && READABLE_VERSIONS.includes(header.v) && identity !== undefined && sameFile(identity, fd, dev, ino, size)) {
        this.identity = identity;
        const records = new Map<string, LiveDialog>();
        for (const line of lines.slice(1)) {
          if (ID.test(line)) {
            this.published.add(line);
            continue;
          }
          const record = parseRecord(line);
          if (record === undefined) continue;
          const renamed = record.capture === capture ? record : { ...record, capture, id: dialogId(capture, record) };
          this.published.add(renamed.id);
          records.set(renamed.id, renamed);
        }
        return [...records.values()];
      }
    }
    const identity = identityOf(fd, dev, ino, size);
    this.identity = identity;
    this.onDisk('write', () => {
      // Made here rather than once at start: a state folder deleted while the agent runs comes
      // back with the next journal. Never a recursive mkdir (see makeFolder).
      makeFolder(dirname(this.path), 0o700);
      writeFileSync(this.path, `${JSON.stringify({ v: JOURNAL_VERSION, capture: capturePath, identity })}\n`, { mode: 0o600 });
    });
    return [];
  }

  /** The journal's lines, or undefined when there is none yet. */
  private readLines(): string[] | undefined {
    try {
      return readFileSync(this.path, 'utf8').split('\n');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Runs `action` on the journal file unless the journal failed before; a failure now is
   * reported (once: every later call is skipped) and gives undefined.
   */
  private onDisk<T>(what: 'read' | 'write' | 'remove', action: () => T): T | undefined {
    if (this.failed) return undefined;
    try {
      return action();
    } catch (error) {
      this.failed = true;
      const code = (error as NodeJS.ErrnoException).code;
      const consequence =
        what === 'remove'
          ? 'it is left where it is'
          : 'the capture is labelled and served on, its journal kept in memory only: an agent restarted on it publishes again the dialogs the journal misses';
      this.onFailure(`${this.capturePath}: cannot ${what} its state journal ${this.path}: ${systemErrorReason(error)}${code === undefined ? '' : ` (${code})`}; ${consequence}`);
      return undefined;
    }
  }

  /**
   * Whether the open file (`size` bytes) still starts with the bytes its identity was taken from:
   * not when it was rewritten in place (cp, editcap or mergecap onto the same name keep the inode
   * and may leave the file longer than what was read).
   */
  startsAsBefore(fd: number, size: number): boolean {
    const identity = this.identity;
    if (identity === undefined) return true;
    return sameFile(identity, fd, identity.dev, identity.ino, size);
  }

  /**
   * The file has grown to `size`: while its identity covers fewer than its first 4 KiB, hash them
   * again over what is there now (see IdentityLine).
   */
  extendIdentity(fd: number, size: number): void {
    const identity = this.identity;
    if (!this.started || identity === undefined || identity.headBytes >= HEAD_BYTES || size <= identity.headBytes) return;
    const extended = identityOf(fd, identity.dev, identity.ino, size);
    this.identity = extended;
    this.onDisk('write', () => appendFileSync(this.path, `${JSON.stringify({ identity: extended })}\n`));
  }

  has(id: string): boolean {
    return this.published.has(id);
  }

  /** Records final dialogs as published, on disk before the caller sends them. */
  record(dialogs: readonly LiveDialog[]): void {
    if (!this.started || dialogs.length === 0) return;
    for (const dialog of dialogs) this.published.add(dialog.id);
    this.onDisk('write', () => {
      const fd = openSync(this.path, 'a');
      try {
        appendFileSync(fd, `${dialogs.map((dialog) => JSON.stringify(dialog)).join('\n')}\n`);
      } finally {
        closeSync(fd);
      }
    });
  }

  /** The capture is gone: so is its journal. */
  remove(): void {
    this.published.clear();
    this.started = false;
    this.identity = undefined;
    if (!this.failed) {
      this.onDisk('remove', () => rmSync(this.path, { force: true }));
      return;
    }
    // Failed before: what the failure left (a journal cut short by a full disk) still goes with
    // its capture, quietly; anything else at its path (a folder) is not the agent's to remove.
    try {
      if (lstatSync(this.path).isFile()) rmSync(this.path, { force: true });
    } catch {
      // Gone, or out of reach: said already.
    }
  }
}

/**
 * Removes the journals in `directory` of captures in `folder` (a watched folder, there now) that
 * no longer exist: deleted while no agent was running (a ring buffer rotates files out whether
 * or not an agent watches). Returns how many. Only captures of that folder: the state folder is
 * shared by every agent of the user, and another folder may be on a mount that is away for the
 * moment. A journal that cannot be read is left alone.
 */
export function removeOrphanJournals(directory: string, folder: string): number {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith('.journal')) continue;
    const path = join(directory, name);
    let capture: unknown;
    try {
      const fd = openSync(path, 'r');
      try {
        const head = Buffer.alloc(4096);
        const count = readSync(fd, head, 0, head.length, 0);
        const firstLine = head.subarray(0, count).toString('utf8').split('\n')[0] ?? '';
        capture = (JSON.parse(firstLine) as { capture?: unknown }).capture;
      } finally {
        closeSync(fd);
      }
    } catch {
      continue;
    }
    if (typeof capture !== 'string' || dirname(capture) !== folder) continue;
    try {
      lstatSync(capture);
      continue;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') continue;
    }
    rmSync(path, { force: true });
    removed++;
  }
  return removed;
}
