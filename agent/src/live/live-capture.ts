/**
 * One watched capture file, read as it grows: new bytes go through the incremental reader
 * into the classifying DialogStream; final dialogs are published as they complete, open ones
 * get provisional labels, and the Wireshark sidecar next to the file is kept current.
 *
 * Truth about the file comes from the file itself: it is stat'ed on every poll, so a file
 * truncated or replaced under the same name (a new inode) is re-read from the start, and
 * corrupt bytes stop this capture with an error naming the offset, keeping every dialog read
 * before them.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { CaptureReader } from '../capture/capture-reader';
import { CaptureError } from '../capture/errors';
import { linkTypeName } from '../capture/link-layer';
import { DecodeStatus } from '../capture/packet';
import { fileKind } from '../common/file-kind';
import { systemErrorWithCode } from '../common/system-error';
import { DialogPacketLog } from '../features/dialog-packet-log';
import { DialogRecord } from '../pipeline/dialog-record';
import { DialogStream, describeTimestampJumps } from '../pipeline/dialog-stream';
import { UsageModel } from '../pipeline/usage-model';
import { OpenDialog } from '../segment/dialog-segmenter';
import { dialogId } from './dialog-identity';
import { CaptureInfo, CaptureState, LiveDialog } from './label-feed';
import { sidecarPathOf, writeSidecar } from './sidecar-file';
import { StateJournal } from './state-journal';

export interface LiveCaptureOptions {
  readonly path: string;
  /** Unique name among the agent's captures (the file name). */
  readonly name: string;
  readonly model: UsageModel;
  /** Where the capture's state journal lives. */
  readonly stateDirectory: string;
  /** Keep X.pcapng.cumma.tsv next to the capture (default true). */
  readonly sidecar?: boolean;
  /** A dialog's provisional label is refreshed at most this often (default 2000 ms). */
  readonly provisionalIntervalMs?: number;
  /** The sidecar is rewritten at most this often (default 1000 ms). */
  readonly sidecarIntervalMs?: number;
  /** After this long without growth, wall-clock time closes idle dialogs (default 1000 ms). */
  readonly quietAfterMs?: number;
  /**
   * After this long without growth, a file that ends inside a block is reported as waiting for
   * the rest (default: the model's dialog gap, at least quietAfterMs; see reportIncompleteTail).
   */
  readonly incompleteTailAfterMs?: number;
  /** Bytes read per poll before yielding to other work (default 8 MiB). */
  readonly pollBudgetBytes?: number;
  /** How long a capture not growing keeps its file open (default FILE_RELEASE_AFTER_MS). */
  readonly fileReleaseAfterMs?: number;
  /** Wall clock in ms (tests pass their own). */
  readonly clock?: () => number;
  /**
   * A dialog to publish: new, updated (provisional → final) or provisional again; `restored`
   * when it was published as final before a restart (clients need it, the terminal has it).
   */
  readonly onDialog: (dialog: LiveDialog, restored: boolean) => void;
  /**
   * Something happened to the file itself. `restarted`: it was truncated, replaced or rewritten,
   * and is read again from the start; the dialogs published for it before no longer hold.
   */
  readonly onCaptureEvent: (event: 'updated' | 'error' | 'restarted', message: string) => void;
}

const READ_CHUNK = 1 << 20;
/** Compressed forms of a capture that Wireshark opens (and the plugin finds X's sidecar for). */
const COMPRESSED_SUFFIXES = ['.gz', '.zst', '.lz4'];
/** How long a capture must stay unchanged before its read buffer is given back. */
const BUFFER_RELEASE_AFTER_MS = 5_000;

/**
 * A capture not grown for this long has its file closed, opened again on its next change (its
 * identity checked then: inode, first bytes). Held open for good, every capture kept its file
 * system busy: a watched share could not be unmounted (`umount: target is busy`) while the agent
 * ran. Not at once: dumpcap writes a busy capture every second or so, and a pause of a few seconds
 * is common; reopening and checking on every write of a live file would be wasted work. 10 s
 * covers those pauses and is as long as an unmount has to wait.
 */
const FILE_RELEASE_AFTER_MS = 10_000;

/**
 * Longest pcapng block or pcap record the live agent accepts. Real ones are far smaller: dumpcap
 * snaps packets at 256 KiB (WTAP_MAX_PACKET_SIZE_STANDARD) and adds at most a few KiB of block
 * header and options. The offline readers allow 256 MiB, but the agent watches folders others
 * write into, for days, several files at once, and holds a block whole until it is complete: a
 * small sparse file claiming one huge block would make it allocate (and keep) that much. 16 MiB
 * leaves 64 times the largest real packet, and an oversize block is reported as corrupt
 * (CAPTURE_BLOCK_TOO_LONG, with file and offset) before anything is buffered for it.
 */
export const LIVE_MAX_BLOCK_LENGTH = 16 * 1024 * 1024;

/**
 * Between the lasting warnings of a capture served as its one `warning` text (the journal's, then
 * the sidecar's): each starts with the capture's path, so they read as two statements, and the
 * text stays on one line, as Wireshark's plugin and the panel show it.
 */
const LASTING_WARNINGS_SEPARATOR = '; ';

interface ProvisionalMark {
  readonly atMs: number;
  readonly packets: number;
}

export class LiveCapture {
  private readonly clock: () => number;
  private readonly journal: StateJournal;
  private readonly store = new Map<string, LiveDialog>();
  private readonly provisional = new Map<string, ProvisionalMark>();
  private readonly openIds = new WeakMap<OpenDialog<DialogPacketLog>, string>();
  private fd: number | undefined;
  private ino = -1;
  /** Device and inode of the file at the capture's path at the last poll that found one. */
  private seen: { readonly dev: number; readonly ino: number } | undefined;
  private reader!: CaptureReader;
  private stream!: DialogStream;
  private completed: DialogRecord[] = [];
  /** Bytes fetched from the file into the reader (a block's first part may wait there for the rest). */
  private bytesRead = 0;
  /** Where reading stopped with an error (set while the state is 'error'). */
  private errorOffset: number | undefined;
  private sizeBytes = 0;
  /** The file's modification time at the last poll: a change with no change of size may be a rewrite. */
  private modifiedMs = -1;
  private state: CaptureState = 'reading';
  private problem: string | undefined;
  /** Set while the file ends inside a block and has not grown for a while (not an error: reading goes on if it grows). */
  private warning: string | undefined;
  /** Where that incomplete block starts. */
  private incompleteTailOffset = 0;
  /**
   * What made the state journal fail, once it has (for good: StateJournal keeps it in memory only
   * from then on). Served as the capture's warning whenever the file has none of its own, so that
   * a client connecting later learns it too, not only those connected when it was said.
   */
  private journalProblem: string | undefined;
  /**
   * What made writing the sidecar fail, once it has (for good: it is not tried again while the
   * agent runs). Kept and served like the journal's failure, and beside it when both failed:
   * neither costs the capture its labels, and each costs something else (Wireshark's labels file,
   * a restart's resuming) that a client connecting later must learn too.
   */
  private sidecarProblem: string | undefined;
  private journalOpen = false;
  private lastGrowthMs: number;
  private newestPacketReadMs: number;
  private lastSidecarMs = -Infinity;
  private sidecarDirty = false;
  /** The capture's mode bits at the last poll: the sidecar is never more readable than the capture. */
  private captureMode = 0o600;
  /** Link types of this file already reported as not decoded (one message each, not one per packet). */
  private readonly reportedLinks = new Set<number>();
  private reportedJump = false;
  /** Size of the sidecar this agent last wrote, undefined before the first write. */
  private sidecarBytesWritten: number | undefined;
  /**
   * Set while the capture's folder is away from its path (moved away, unmounted, missing): the
   * capture keeps its dialogs and its journal, and its sidecar waits for the folder to be back
   * (written now, it failed, and was never tried again, or landed in a mount-point directory).
   */
  private folderAway = false;

  constructor(private readonly options: LiveCaptureOptions) {
    this.clock = options.clock ?? Date.now;
    // A journal that fails costs this capture its journal, said once and kept as its warning;
    // never its labels (nor the agent).
    this.journal = StateJournal.for(options.stateDirectory, options.path, (message) => {
      this.journalProblem = message;
      options.onCaptureEvent('updated', message);
    });
    this.lastGrowthMs = this.clock();
    this.newestPacketReadMs = this.lastGrowthMs;
    this.restart();
  }

  get name(): string {
    return this.options.name;
  }

  info(): CaptureInfo {
    const warning = this.warningServed();
    return {
      name: this.options.name,
      path: this.options.path,
      state: this.state,
      sizeBytes: this.sizeBytes,
      // What was parsed, not fetched: clients compare it with the error's or warning's offset.
      bytesRead: this.errorOffset ?? this.reader.nextOffset,
      packets: this.stream.stats.packets,
      dialogs: this.store.size,
      ...(this.problem !== undefined ? { error: this.problem } : {}),
      ...(warning !== undefined ? { warning } : {}),
    };
  }

  /**
   * The capture's one warning (CaptureInfo.warning): a file that ends inside a block and has
   * stopped growing comes first, since it says that labels are missing now; it is gone once the
   * file grows, and the lasting failures, which cost the capture no label, show again: its
   * journal's and its sidecar's, both when both failed (one text, as clients show one).
   */
  private warningServed(): string | undefined {
    if (this.warning !== undefined) return this.warning;
    const lasting = [this.journalProblem, this.sidecarProblem].filter((problem): problem is string => problem !== undefined);
    return lasting.length > 0 ? lasting.join(LASTING_WARNINGS_SEPARATOR) : undefined;
  }

  dialogs(): LiveDialog[] {
    return [...this.store.values()];
  }

  /** Bytes written to the file and not analysed yet. */
  /** Capacity of the read buffer now, bytes (small while the capture is not growing). */
  get readBufferBytes(): number {
    return this.reader?.bufferCapacity ?? 0;
  }

  get lagBytes(): number {
    return Math.max(0, this.sizeBytes - this.bytesRead);
  }

  /** Wall-clock ms since bytes arrived that are not analysed yet (0 when caught up). */
  lagMs(): number {
    return this.lagBytes > 0 ? this.clock() - this.lastGrowthMs : 0;
  }

  /**
   * Reads what the file has gained since the last poll, up to the poll budget. Returns true
   * when bytes remain to be read (the caller polls again soon).
   */
  poll(): boolean {
    let stats;
    try {
      stats = statSync(this.options.path, { bigint: false });
    } catch {
      return false; // Gone: the watcher reports the removal.
    }
    this.captureMode = stats.mode;
    this.seen = { dev: stats.dev, ino: stats.ino };
    if (!stats.isFile()) {
      // Replaced by a folder (or a device, a FIFO) under the same name: reading it would fail
      // with a bare errno text (EISDIR) or block; say what happened, with the usual code and
      // offset, before the replacement check would restart on it. The inode is taken as seen, so
      // a regular file put back later is read from the start.
      // One that never was a regular file (a FIFO or a link to a device named like a capture) is
      // said to be what it is, as the commands say of such a FILE.
      const kind = fileKind(stats);
      const what = this.ino === -1 && this.bytesRead === 0 ? `it is ${kind}, not a regular file: not read` : `no longer a regular file (now ${kind})`;
      if (this.state !== 'error') this.fail(new CaptureError('CAPTURE_IO', this.bytesRead, what));
      if (this.ino !== -1) this.ino = stats.ino;
      return false;
    }
    // Read before (its file open, or closed while it was idle: see FILE_RELEASE_AFTER_MS).
    if (this.ino !== -1) {
      let why: string | undefined;
      if (stats.ino !== this.ino) why = 'replaced by a new file';
      else if (stats.size < this.bytesRead) why = `truncated to ${stats.size} bytes (had read ${this.bytesRead})`;
      // Same inode, not shorter, yet other bytes at the start: written over in place, possibly
      // longer than before (reading on from the old offset would land mid-block), or as long
      // (`cp` of a capture of the same size). Checked only when the size or the modification
      // time changed, and on at most the first 4 KiB.
      else if ((stats.size !== this.sizeBytes || stats.mtimeMs !== this.modifiedMs) && this.journalOpen) {
        let openIno: number;
        try {
          openIno = this.openFile();
        } catch {
          return false; // Gone since the stat: the watcher reports the removal.
        }
        // Replaced between the stat and the open: the inode opened is another.
        if (openIno !== this.ino) why = 'replaced by a new file';
        else if (!this.journal.startsAsBefore(this.fd!, stats.size)) why = 'rewritten in place (its first bytes changed)';
      }
      this.modifiedMs = stats.mtimeMs;
      if (why !== undefined) {
        this.restart();
        this.options.onCaptureEvent('restarted', `${this.options.path}: ${why}; reading it again from the start`);
      }
    }
    if (this.state === 'error') {
      this.sizeBytes = stats.size;
      return false;
    }
    if (stats.size > this.sizeBytes) {
      this.lastGrowthMs = this.clock();
      if (this.warning !== undefined) {
        this.warning = undefined;
        this.options.onCaptureEvent('updated', `${this.options.path}: grew again after waiting at byte offset ${this.incompleteTailOffset}; reading on`);
      }
    }
    this.sizeBytes = stats.size;
    if (stats.size === this.bytesRead) {
      // Caught up: an empty file dumpcap has just created is waiting, not being read.
      if (this.state === 'reading') this.state = 'idle';
      return false;
    }
    try {
      if (this.fd === undefined) {
        const known = this.ino;
        this.ino = this.openFile();
        // Another file than the one read (replaced since the last look): the next poll restarts.
        if (known !== -1 && this.ino !== known) {
          this.closeFile();
          this.ino = known;
          return true;
        }
      }
      const fd = this.fd!;
      if (!this.journalOpen) {
        this.journalOpen = true;
        this.restore(this.journal.open(this.options.path, this.options.name, fd, stats.dev, stats.ino, stats.size));
      }
      this.state = 'reading';
      const budget = this.options.pollBudgetBytes ?? 8 * READ_CHUNK;
      const stop = Math.min(stats.size, this.bytesRead + budget);
      while (this.bytesRead < stop) {
        const want = Math.min(READ_CHUNK, stop - this.bytesRead);
        const { buffer, index } = this.reader.reserve(want);
        const count = readSync(fd, buffer, index, want, this.bytesRead);
        if (count === 0) break;
        this.reader.commit(count);
        this.bytesRead += count;
        for (let packet = this.reader.next(); packet !== undefined; packet = this.reader.next()) {
          this.stream.push(packet);
          if (packet.status === DecodeStatus.UnsupportedLink && !this.reportedLinks.has(packet.linkType)) this.reportLink(packet.linkType);
        }
      }
      this.newestPacketReadMs = this.clock();
      this.journal.extendIdentity(fd, this.bytesRead);
      if (this.stream.timestampJumps.count > 0 && !this.reportedJump) this.reportJump();
      this.stream.drain();
      this.publishCompleted();
    } catch (error) {
      this.fail(error);
      return false;
    }
    if (this.bytesRead >= this.sizeBytes) this.state = 'idle';
    return this.bytesRead < this.sizeBytes;
  }

  /**
   * Periodic work, about twice a second: wall-clock closing of dialogs once the file has
   * stopped growing, provisional labels for open dialogs, and the sidecar.
   */
  tick(): void {
    const now = this.clock();
    const caughtUp = this.ino !== -1 && this.bytesRead === this.sizeBytes && this.state !== 'error';
    const quiet = caughtUp && now - this.lastGrowthMs >= (this.options.quietAfterMs ?? 1000);
    // Not while the file ends inside a block: its writer has packets it has not finished writing
    // (tcpdump -w without -U writes in buffer-sized pieces), which may extend the dialogs the
    // wall clock would close; they stay provisional until the rest comes.
    if (quiet && !(this.reader?.endsMidBlock ?? false) && Number.isFinite(this.stream.newestPacketUs)) {
      // Capture time goes on with the wall clock while the file is quiet: a dialog idle past
      // the gap by now is complete even though no later packet says so.
      this.stream.advanceTo(this.stream.newestPacketUs + (now - this.newestPacketReadMs) * 1000);
      this.publishCompleted();
    }
    if (caughtUp) this.publishProvisional(now);
    if (caughtUp && this.warning === undefined && now - this.lastGrowthMs >= this.incompleteTailAfterMs()) this.reportIncompleteTail();
    // A capture that stopped growing (a finished file, a rotated-out ring file) keeps only a small
    // buffer: 500 small files dropped at once held ≈ 190 MB of read buffers, 1 MiB apiece at most.
    if (caughtUp && now - this.lastGrowthMs >= BUFFER_RELEASE_AFTER_MS) this.reader?.releaseBuffer();
    if (this.fd !== undefined && (caughtUp || this.state === 'error') && now - this.lastGrowthMs >= (this.options.fileReleaseAfterMs ?? FILE_RELEASE_AFTER_MS)) this.closeFile();
    this.writeSidecarIfDue(now);
  }

  /** The agent stops: the sidecar gets its last state; the file is closed. */
  close(): void {
    this.writeSidecarIfDue(Infinity);
    this.closeFile();
  }

  /**
   * The file was deleted: its journal and the sidecar this agent kept for it go too. A ring
   * buffer (dumpcap -b files:N) deletes a file a minute; sidecars left behind piled up by the
   * thousand a day. A sidecar someone else has written since (not the size last written here)
   * is left alone. `keepSidecar`: dropped because its folder was replaced (a symbolic link
   * re-pointed, a file system mounted over it): the file and its sidecar may well still be where
   * they were, out of reach, and what is at the sidecar's path now is the new folder's.
   */
  removed(keepSidecar = false): void {
    this.closeFile();
    this.journal.remove();
    this.state = 'removed';
    if (keepSidecar || this.sidecarBytesWritten === undefined) return;
    // Compressed in place (gzip deletes the original once X.gz is written): Wireshark opens X.gz,
    // and the plugin reads X's sidecar for it.
    if (COMPRESSED_SUFFIXES.some((suffix) => existsSync(`${this.options.path}${suffix}`))) return;
    const path = sidecarPathOf(this.options.path);
    try {
      if (statSync(path).size === this.sidecarBytesWritten) rmSync(path, { force: true });
    } catch {
      // Gone already (deleted with the capture), or not ours to remove.
    }
  }

  /**
   * Whether the file now at the capture's path (`stats`; undefined when there is none) is the one
   * read: same device and inode as at the last poll. One never polled yet is taken as the same.
   */
  isFileAt(stats: { readonly dev: number; readonly ino: number } | undefined): boolean {
    if (stats === undefined) return false;
    return this.seen === undefined || (this.seen.dev === stats.dev && this.seen.ino === stats.ino);
  }

  /** The agent saw the capture's folder leave its path (true) or come back (false). */
  setFolderAway(away: boolean): void {
    this.folderAway = away;
  }

  /** Opens the capture's file unless open; returns the inode of the file open. */
  private openFile(): number {
    if (this.fd !== undefined) return this.ino;
    this.fd = openSync(this.options.path, 'r');
    try {
      return fstatSync(this.fd).ino;
    } catch (error) {
      this.closeFile();
      throw error;
    }
  }

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private restart(): void {
    this.closeFile();
    this.ino = -1;
    this.bytesRead = 0;
    this.sizeBytes = 0;
    this.state = 'reading';
    this.problem = undefined;
    this.errorOffset = undefined;
    this.warning = undefined;
    if (this.journalOpen) this.journal.remove();
    this.journalOpen = false;
    this.store.clear();
    this.provisional.clear();
    this.completed = [];
    this.sidecarDirty = true;
    this.reader = new CaptureReader({ maxBlockLength: LIVE_MAX_BLOCK_LENGTH });
    this.reportedLinks.clear();
    this.reportedJump = false;
    this.stream = new DialogStream({ capture: this.options.name, model: this.options.model, onFinal: (record) => this.completed.push(record) });
  }

  /**
   * What an earlier run published as final is final from the start of this one: the store (and
   * so snapshots, /labels and the sidecar) holds it before the file is read again, and clients
   * already subscribed get it as an update.
   */
  private restore(dialogs: readonly LiveDialog[]): void {
    if (dialogs.length === 0) return;
    for (const dialog of dialogs) this.store.set(dialog.id, dialog);
    this.sidecarDirty = true;
    for (const dialog of dialogs) this.options.onDialog(dialog, true);
  }

  /**
   * How long the file must stay unchanged before an incomplete last block is reported. A writer
   * mid-block is normal (dumpcap flushes at its update interval, 100 ms by default; tcpdump -w
   * without -U only when its output buffer fills), so not at once. The dialog gap is when it
   * starts to matter: by then the wall clock (after quietAfterMs) has closed every dialog the
   * held packet could have extended, and their final labels were made without it.
   */
  private incompleteTailAfterMs(): number {
    const quiet = this.options.quietAfterMs ?? 1000;
    return this.options.incompleteTailAfterMs ?? Math.max(quiet, this.options.model.gaps.dialogGapUs / 1000);
  }

  /**
   * The file has stopped growing inside a block: said once (until it grows again) to clients and
   * the terminal, with the offset and what `cumma flows` would report there. A warning, not an
   * error: the capture stays idle, its labels stay, and the rest is read if it comes.
   */
  private reportIncompleteTail(): void {
    const cut = this.reader.incompleteTail();
    if (cut === undefined) return;
    // A time, not a duration: the warning stays in capture.warning (and is served) for as long as
    // the file stays as it is, hours perhaps, and "for 5 s" would be stale a second later. The time
    // is when this agent last saw the file grow (or first looked at it): it may have stopped earlier.
    const since = new Date(this.lastGrowthMs).toISOString();
    this.incompleteTailOffset = cut.offset;
    this.warning = `${cut.inFile(this.options.path).message}; the file has not grown since ${since}: waiting for the rest (a writer still busy, or a file cut short there)`;
    this.options.onCaptureEvent('updated', this.warning);
  }

  /** Once per capture: a packet stamped far ahead of its neighbours (DialogStream.push). */
  private reportJump(): void {
    this.reportedJump = true;
    this.options.onCaptureEvent('updated', `${this.options.path}: ${describeTimestampJumps(this.stream.timestampJumps, this.options.model.gaps.sessionGapUs)}`);
  }

  /**
   * Packets of a link type Cumma does not decode give no flows: without a word the capture would
   * just stay empty, so clients and the terminal are told once per link type (as `cumma flows`
   * says at the end of a file).
   */
  private reportLink(linkType: number): void {
    this.reportedLinks.add(linkType);
    this.options.onCaptureEvent(
      'updated',
      `${this.options.path}: packets with ${linkTypeName(linkType)} framing are not decoded (unsupported link type ${linkType}); they give no flows or dialogs`,
    );
  }

  private fail(error: unknown): void {
    // Every failure is a CaptureError naming the file and the offset reading stopped at, with a
    // code: an I/O failure (EISDIR, EIO) as much as corrupt bytes.
    const captureError =
      error instanceof CaptureError ? error : new CaptureError('CAPTURE_IO', this.bytesRead, error instanceof Error ? error.message : String(error));
    const message = captureError.inFile(this.options.path).message;
    this.state = 'error';
    this.problem = message;
    this.errorOffset = captureError.offset;
    // What was read before the fault is kept: the open dialogs end there, as final.
    try {
      this.stream.flush();
      this.publishCompleted();
    } catch {
      // A model failure while flushing must not hide the original error.
    }
    this.options.onCaptureEvent('error', message);
  }

  private publishCompleted(): void {
    if (this.completed.length === 0) return;
    const batch = this.completed;
    this.completed = [];
    const fresh: LiveDialog[] = [];
    const changed: LiveDialog[] = [];
    for (const record of batch) {
      const id = dialogId(this.options.name, record);
      const dialog: LiveDialog = { ...record, id };
      this.provisional.delete(id);
      if (!this.journal.has(id)) fresh.push(dialog);
      else if (!sameRecord(this.store.get(id), dialog)) changed.push(dialog);
      else continue; // Published before the restart and restored as it is: nothing new.
      this.store.set(id, dialog);
    }
    if (fresh.length + changed.length === 0) return;
    this.sidecarDirty = true;
    // On disk before on the wire: a crash between the two loses no dialog and repeats none.
    // A dialog published before the restart whose record is not the one restored (a version 1
    // journal holds no records; another model; a writer that stalled and let the wall clock
    // close a dialog early) is journalled again, so that the next restart restores this one, and
    // published as new: a log of what was published (the terminal's jsonl) has the old record.
    this.journal.record([...changed, ...fresh]);
    for (const dialog of [...changed, ...fresh]) this.options.onDialog(dialog, false);
  }

  private publishProvisional(now: number): void {
    const interval = this.options.provisionalIntervalMs ?? 2000;
    const records = this.stream.labelOpen((open) => {
      let id = this.openIds.get(open);
      if (id === undefined) {
        id = dialogId(this.options.name, { l4: open.flow.l4, client: open.flow.client, server: open.flow.server, startUs: open.startUs });
        this.openIds.set(open, id);
      }
      // Open again only because the file is being read again after a restart: it was final
      // before (its final record is served), and a provisional label would take that back.
      if (this.journal.has(id)) return false;
      const mark = this.provisional.get(id);
      const packets = open.packetsUp + open.packetsDown;
      return mark === undefined || (now - mark.atMs >= interval && packets !== mark.packets);
    });
    // labelOpen drains first: dialogs that completed meanwhile go out before the provisional ones.
    this.publishCompleted();
    for (const record of records) {
      const id = dialogId(this.options.name, record);
      const dialog: LiveDialog = { ...record, id };
      this.provisional.set(id, { atMs: now, packets: record.packets.up + record.packets.down });
      this.store.set(id, dialog);
      this.sidecarDirty = true;
      this.options.onDialog(dialog, false);
    }
  }

  private writeSidecarIfDue(now: number): void {
    if (this.options.sidecar === false || this.sidecarProblem !== undefined || !this.sidecarDirty || this.folderAway) return;
    if (now - this.lastSidecarMs < (this.options.sidecarIntervalMs ?? 1000)) return;
    this.lastSidecarMs = now;
    this.sidecarDirty = false;
    const path = sidecarPathOf(this.options.path);
    // No dialog and no sidecar yet (a file that is not a capture, or not one yet): nothing to
    // say, and an empty labels file beside it would only suggest it was read. An existing one
    // is emptied, so that labels of a replaced capture do not linger.
    if (this.store.size === 0 && !existsSync(path)) return;
    try {
      writeSidecar(path, this.store.values(), { captureMode: this.captureMode, sweepStale: this.sidecarBytesWritten === undefined });
      this.sidecarBytesWritten = statSync(path).size;
    } catch (error) {
      // A read-only capture folder, a folder at the sidecar's path: labels are still served; said
      // once, and kept as the capture's warning (warningServed) for clients connecting later.
      const reason = systemErrorWithCode(error);
      // writeSidecar's errors name the sidecar already; a failing stat's do not.
      const why = reason.startsWith(`${path}: `) ? reason.slice(path.length + 2) : reason;
      this.sidecarProblem =
        `${this.options.path}: cannot write its sidecar ${path}: ${why}; the capture is labelled and served on, ` +
        "but its sidecar is not written again while the agent runs: Wireshark's plugin gets its labels from the agent only";
      this.options.onCaptureEvent('updated', this.sidecarProblem);
    }
  }
}

/** Whether two records of a dialog say the same (both built the same way, so same key order). */
function sameRecord(a: LiveDialog | undefined, b: LiveDialog): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
