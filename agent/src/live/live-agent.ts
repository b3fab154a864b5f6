/**
 * The live agent: watches folders for pcap/pcapng files (chokidar), reads each as it grows
 * (LiveCapture), and is the LabelFeed its publishers — the WebSocket server, the terminal
 * table — read from. Reading is sliced (a budget per turn of the event loop) so that serving
 * clients never waits behind a large file.
 */
import { FSWatcher, watch } from 'chokidar';
import { existsSync, FSWatcher as EntryWatcher, realpathSync, Stats, statSync, watch as watchEntries } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageModel } from '../pipeline/usage-model';
import { AgentStats, CaptureInfo, FeedEvent, FolderInfo, FolderState, LabelFeed, LiveDialog, ModelInfo } from './label-feed';
import { statOrUndefined } from '../common/file-kind';
import { FolderCondition, folderCondition, FolderLook, isMountPoint } from './folder-identity';
import { LiveCapture } from './live-capture';
import { removeOrphanJournals } from './state-journal';

/** Files the agent reads; the format is still checked by magic bytes when reading. */
export const CAPTURE_NAME = /\.(pcapng|pcap|cap|ntar)$/i;

export interface LiveAgentOptions {
  readonly model: UsageModel;
  /** Where per-capture state journals are kept. */
  readonly stateDirectory: string;
  readonly sidecars?: boolean;
  /** Poll and tick period (default 250 ms): the fallback when a file-system event is missed. */
  readonly pollIntervalMs?: number;
  readonly clock?: () => number;
  /** Most folders watched at once (default MAX_WATCHED_FOLDERS). */
  readonly maxFolders?: number;
}

/**
 * Each watched folder holds an inotify watch for the agent's life, out of a per-user budget the
 * user's other programs share; clients may ask for folders (the `watch` message), so their
 * number is bounded. Far more than anyone watches by hand.
 */
export const MAX_WATCHED_FOLDERS = 256;

/**
 * How often every watched folder is stat'ed to notice it gone, replaced or back. chokidar says
 * nothing useful when the folder itself goes (at most an unlinkDir, none for an unmount) and
 * never watches a folder created again under the same name, so the agent looks for itself.
 */
const FOLDER_CHECK_INTERVAL_MS = 1000;

/** One folder on the watch list. */
interface WatchedFolder {
  /** As first asked for (resolved): the path its captures are known under. */
  readonly path: string;
  /**
   * With symbolic links resolved, as of the last look that found the folder (a re-pointed link
   * changes it): the same folder under another spelling is watched once.
   */
  realPath: string;
  /**
   * Set while the path resolves to a folder already watched under another path (a link re-pointed
   * at it): that one's watcher reads its captures, this one has none.
   */
  sameAs: WatchedFolder | undefined;
  state: FolderState;
  /** The chokidar watcher while the folder is there; none while it is missing. */
  watcher: FSWatcher | undefined;
  /**
   * The folder's own entries, watched by inode (fs.watch, inotify) from when its chokidar watcher
   * starts until another one does, the folder missing meanwhile included: it says which files
   * left the folder by themselves (deleted, or moved out of it) — `rm -r` deletes each file before
   * its folder — where chokidar, once the folder is gone, reports every file unlinked, whether it
   * was deleted or went with its folder (`mv caps caps.old`). It follows the folder wherever it is
   * moved, so a file deleted there is known gone too. See entryRenamed.
   */
  entries: EntryWatcher | undefined;
  /**
   * Set when the watcher reported the folder's files unlinked because the folder had left its
   * path (see the unlink handler): chokidar no longer watches it then, even once it is back. The
   * next look takes the folder as missing (and back at once, if it is), and watches it anew.
   */
  wentAway: boolean;
  /** Which folder the watcher watches: another one (folderCondition) is a folder replaced. */
  look: FolderLook;
  /** Whether it was a mount point when first watched: one that stops being one is unmounted. */
  readonly mountPoint: boolean;
}

/** The folder at `path` (stat'ed already) as one look: its identity and its parent's device. */
function lookAt(stats: Stats, realPath: string): FolderLook {
  let parentDev: number | undefined;
  try {
    parentDev = statSync(dirname(realPath)).dev;
  } catch {
    parentDev = undefined;
  }
  // Where there is no creation time, Node gives 0 or (libuv without statx) the ctime, which
  // changes with every file added: a birthtime equal to the ctime is taken as none, or each new
  // capture would make the folder look replaced.
  const birthtimeMs = stats.birthtimeMs === stats.ctimeMs ? 0 : stats.birthtimeMs;
  return { dev: stats.dev, ino: stats.ino, birthtimeMs, parentDev };
}

export class LiveAgent implements LabelFeed {
  readonly model: ModelInfo;
  private readonly byName = new Map<string, LiveCapture>();
  private readonly byPath = new Map<string, LiveCapture>();
  private readonly listeners = new Set<(event: FeedEvent) => void>();
  /** Watched folders by path; the watchers of missing ones are closed, to be made again when they are back. */
  private readonly folderMap = new Map<string, WatchedFolder>();
  /** Watchers being closed (of folders gone): close() waits for them too. */
  private readonly closing = new Set<Promise<void>>();
  /**
   * What settles each watcher's wait for its first listing: called on its 'ready', or when it is
   * closed first, for chokidar never says 'ready' for a watcher closed before it (see startWatcher).
   */
  private readonly listed = new Map<FSWatcher, () => void>();
  private lastFolderCheckMs: number;
  private readonly scheduled = new Set<LiveCapture>();
  private readonly timer: NodeJS.Timeout;
  private readonly clock: () => number;
  private ticks = 0;
  private packetsAtLastStats = 0;
  private lastStatsMs: number;
  private rate = 0;
  private closed = false;
  /** What each capture's last `updated` event said, so only changes are announced. */
  private readonly announced = new WeakMap<LiveCapture, string>();
  /**
   * Paths of captures whose file was seen leaving its folder by itself (its folder's own watch
   * named it and it was not there): chokidar's unlink of such a file is a removal even once the
   * folder is gone too (`rm -r` deletes the files, then the folder).
   */
  private readonly leftTheirFolder = new Set<string>();

  constructor(private readonly options: LiveAgentOptions) {
    this.clock = options.clock ?? Date.now;
    this.lastStatsMs = this.clock();
    this.lastFolderCheckMs = this.lastStatsMs;
    this.model = { name: `${options.model.json.name}@${options.model.json.version}`, classes: options.model.classes, gaps: options.model.gaps };
    this.timer = setInterval(() => this.periodic(), options.pollIntervalMs ?? 250);
  }

  /**
   * Starts watching a folder: its existing captures are read, new ones picked up. Resolves to
   * the path it is watched under: the one given, or the earlier spelling of the same folder
   * (`w2/`, `./w2`, a symbolic link to it), which is watched once.
   */
  watchFolder(folder: string): Promise<string> {
    const path = resolve(folder);
    // Already on the list, there or missing: a missing one is watched again when it is back.
    if (this.folderMap.has(path)) return Promise.resolve(path);
    let stats: Stats;
    let realPath: string;
    try {
      stats = statSync(path);
      realPath = realpathSync(path);
    } catch (error) {
      return Promise.reject(new Error(`cannot watch ${path}: ${error instanceof Error ? error.message : String(error)}`));
    }
    if (!stats.isDirectory()) return Promise.reject(new Error(`cannot watch ${path}: not a folder`));
    const known = this.watchedAt(realPath);
    if (known !== undefined) return Promise.resolve(known.path);
    const most = this.options.maxFolders ?? MAX_WATCHED_FOLDERS;
    if (this.folderMap.size >= most) return Promise.reject(new Error(`cannot watch ${path}: the agent already watches ${most} folders, the most it watches at once`));
    const look = lookAt(stats, realPath);
    const entry: WatchedFolder = { path, realPath, sameAs: undefined, state: 'watching', watcher: undefined, entries: undefined, wentAway: false, look, mountPoint: isMountPoint(look) === true };
    this.folderMap.set(path, entry);
    // Told to every client now, as hello.folders would tell one connecting from here on: a folder
    // one client asked for is otherwise missing from the others' lists (and their banners when it
    // goes missing) until they reconnect.
    this.emit({ kind: 'folder', event: 'added', folder: { path, state: entry.state }, message: `${path}: added to the watched folders; reading its captures` });
    // Captures of this folder deleted while no agent ran (a ring buffer rotates on regardless)
    // left journals that no unlink event will ever remove.
    removeOrphanJournals(this.options.stateDirectory, path);
    return this.startWatcher(entry).then(() => path);
  }

  /** The watched folder (not one aliased to another) whose path resolves to `realPath` now. */
  private watchedAt(realPath: string, except?: WatchedFolder): WatchedFolder | undefined {
    for (const known of this.folderMap.values()) if (known !== except && known.sameAs === undefined && known.realPath === realPath) return known;
    return undefined;
  }

  folders(): readonly FolderInfo[] {
    return [...this.folderMap.values()].map((folder) => ({ path: folder.path, state: folder.state }));
  }

  captures(): readonly CaptureInfo[] {
    return [...this.byName.values()].map((capture) => capture.info());
  }

  dialogs(capture: string): readonly LiveDialog[] {
    return this.byName.get(capture)?.dialogs() ?? [];
  }

  stats(): AgentStats {
    const captures = [...this.byName.values()];
    return {
      packetsPerSecond: Math.round(this.rate),
      packets: captures.reduce((sum, capture) => sum + capture.info().packets, 0),
      dialogs: captures.reduce((sum, capture) => sum + capture.info().dialogs, 0),
      captures: captures.map((capture) => ({ name: capture.name, lagBytes: capture.lagBytes, lagMs: capture.lagMs() })),
    };
  }

  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops watching; sidecars get their final state. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const watchers = [...this.folderMap.values()].flatMap((folder) => (folder.watcher ? [folder.watcher.close()] : []));
    for (const folder of this.folderMap.values()) this.unwatchEntries(folder);
    for (const settle of [...this.listed.values()]) settle();
    await Promise.all([...watchers, ...this.closing]);
    for (const capture of this.byName.values()) capture.close();
  }

  /** A chokidar watcher on the folder as it is now; resolves once its existing files are listed. */
  private startWatcher(folder: WatchedFolder): Promise<void> {
    const path = folder.path;
    folder.wentAway = false;
    this.watchFolderEntries(folder);
    const watcher = watch(path, {
      depth: 0,
      ignoreInitial: false,
      ignored: (file, stats) => stats !== undefined && stats.isFile() && !CAPTURE_NAME.test(file),
    });
    folder.watcher = watcher;
    // A watcher replaced (its folder gone) may still deliver events while it closes: they are
    // about the old folder, so only a removal of a file that really is gone is taken from it (a
    // late one must not drop the capture of a new file of that name the new watcher added).
    const current = (): boolean => folder.watcher === watcher;
    // The watcher lists the folder again by its path whenever something changes in the folder it
    // watches (a sidecar rewritten, a capture written). Once that path leads to another folder (a
    // symbolic link re-pointed, a file system mounted over it or unmounted), such a listing names
    // the other folder's files: taken as they came, up to a second before the periodic look
    // noticed, they listed a folder watched already twice (NAME#2, for good) and removed the old
    // folder's captures as deleted files, before the folder was said to be replaced. The folder is
    // looked at now instead and the event dropped: that look drops the old folder's captures (their
    // sidecars kept) and has the folder now there read, once.
    const replacedNow = (): boolean => {
      if (!this.replacedSinceWatched(folder)) return false;
      this.checkFolder(folder);
      return true;
    };
    watcher.on('add', (file) => {
      if (current() && !replacedNow()) this.added(resolve(file));
    });
    watcher.on('change', (file) => {
      const capture = current() ? this.byPath.get(resolve(file)) : undefined;
      if (capture) this.schedule(capture);
    });
    watcher.on('unlink', (file) => {
      const capturePath = resolve(file);
      const capture = this.byPath.get(capturePath);
      if (capture === undefined || (current() ? replacedNow() : existsSync(capturePath))) return;
      // A folder that leaves its path (moved away, deleted, no longer a folder) has chokidar report
      // each of its files unlinked, whatever became of them. A file seen leaving the folder by
      // itself (deleted, `rm -r` deleting the files first, or moved out of it: entryRenamed) is
      // removed; any other went with its folder, and is kept, as for a folder unmounted, to be
      // judged once a folder is back there (dropGhosts). So is one whose folder is back already,
      // the file in it as read (moved away and back before chokidar looked). Removed here, a
      // folder moved away and back had each capture removed, its journal deleted, and every
      // dialog of it published again.
      if (!this.leftTheirFolder.has(capturePath)) {
        const now = this.folderNow(folder);
        if (now === 'gone' || (now === 'same' && capture.isFileAt(statOrUndefined(capturePath)))) {
          if (current()) folder.wentAway = true;
          if (now === 'gone') capture.setFolderAway(true);
          return;
        }
      }
      this.removedFile(capturePath);
    });
    watcher.on('error', (error) => {
      if (!current()) return;
      // A folder event, not a capture one: it is about the folder, and an anonymising agent serves
      // folder names only as their digests (a capture's name is served as it is). The real path
      // an error may quote is written as the watched path, which is the one the digest replaces.
      const reason = (error instanceof Error ? error.message : String(error)).split(folder.realPath).join(path);
      this.emit({ kind: 'folder', event: 'error', folder: { path, state: folder.state }, message: `${path}: watching the folder failed: ${reason}` });
    });
    // A folder replaced or gone while its files are first listed has this watcher closed before
    // its 'ready' (by the look that notices it); the wait ends then too, or watchFolder (the
    // start-up, a client's watch request) waited for good.
    return new Promise((ready) => {
      const settle = (): void => {
        this.listed.delete(watcher);
        ready();
      };
      this.listed.set(watcher, settle);
      watcher.once('ready', settle);
    });
  }

  /**
   * Whether a folder is at the watched folder's path and it is not the one watched (another
   * folder, or the bare directory of an unmounted share). Not when nothing is there: what became
   * of the files of a folder gone is for the unlink handler to tell.
   */
  private replacedSinceWatched(folder: WatchedFolder): boolean {
    const now = this.folderNow(folder);
    return now !== 'gone' && now !== 'same';
  }

  /** What is at the watched folder's path now: the folder watched, another, or none ('gone': nothing, or not a folder). */
  private folderNow(folder: WatchedFolder): FolderCondition | 'gone' {
    let stats: Stats;
    let realPath: string;
    try {
      stats = statSync(folder.path);
      realPath = realpathSync(folder.path);
    } catch {
      return 'gone';
    }
    return stats.isDirectory() ? folderCondition(folder.look, folder.mountPoint, lookAt(stats, realPath)) : 'gone';
  }

  /**
   * Watches the folder's own entries (see WatchedFolder.entries), instead of any watch of the
   * folder watched before. Not having one (the folder gone already: the next look says so) only
   * costs the telling apart of files deleted with their folder, which are then kept until a
   * folder is back there.
   */
  private watchFolderEntries(folder: WatchedFolder): void {
    this.unwatchEntries(folder);
    let entries: EntryWatcher;
    try {
      entries = watchEntries(folder.path, { persistent: false });
    } catch {
      return;
    }
    entries.on('error', () => undefined);
    entries.on('change', (event, name) => {
      if (event === 'rename' && typeof name === 'string' && folder.entries === entries) this.entryRenamed(folder, join(folder.path, name));
    });
    folder.entries = entries;
  }

  private unwatchEntries(folder: WatchedFolder): void {
    folder.entries?.close();
    folder.entries = undefined;
  }

  /**
   * The folder's own watch says that an entry was made, deleted or renamed. A capture of that name
   * whose file is not at its path left the folder by itself (deleted, or moved out of it). While
   * the folder is at its path, chokidar reports that removal; it is only noted, so that the
   * removal holds even once the folder is gone too (`rm -r` deletes the files, then the folder).
   * While nothing is at its path (the folder deleted, or moved away and its file deleted or moved
   * out there), the capture is removed now. Another folder at the path (replaced, unmounted): the
   * capture is judged when the folder is back (dropGhosts).
   */
  private entryRenamed(folder: WatchedFolder, path: string): void {
    if (!this.byPath.has(path)) return;
    if (existsSync(path)) {
      this.leftTheirFolder.delete(path);
      return;
    }
    const now = this.folderNow(folder);
    if (now === 'gone') this.removedFile(path);
    else if (now === 'same') this.leftTheirFolder.add(path);
  }

  /** The captures listed under the watched folder's path. */
  private capturesOf(folder: WatchedFolder): Array<[string, LiveCapture]> {
    return [...this.byPath].filter(([path]) => dirname(path) === folder.path);
  }

  private stopWatcher(folder: WatchedFolder): void {
    const watcher = folder.watcher;
    folder.watcher = undefined;
    if (watcher === undefined) return;
    this.listed.get(watcher)?.();
    const closed = watcher.close().catch(() => undefined);
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }

  /**
   * Notices a watched folder gone (deleted, moved, unmounted, no longer a folder), replaced by
   * another of the same name (deleted and made again, another file system mounted there, a
   * symbolic link on its path re-pointed) or back, says so, and watches what is there now. A
   * folder that was a mount point when first watched is missing while it is not one (an unmount
   * leaves the bare mount-point directory, which is not the share). While it is missing, the
   * captures already read stay as they are (a share unmounted for a while keeps its labels); once
   * a folder is there again, those whose file is no longer there, or is another file (another
   * device or inode), are removed (see dropGhosts), and the watcher adds what is there now. A
   * folder whose path now resolves to one already watched under another path is watched once.
   */
  private checkFolder(folder: WatchedFolder): void {
    let stats: Stats | undefined;
    let realPath: string | undefined;
    let failure: NodeJS.ErrnoException | undefined;
    try {
      stats = statSync(folder.path);
      realPath = realpathSync(folder.path);
    } catch (error) {
      stats = undefined;
      failure = error as NodeJS.ErrnoException;
    }
    const look = stats !== undefined && realPath !== undefined && stats.isDirectory() ? lookAt(stats, realPath) : undefined;
    const condition = look === undefined ? undefined : folderCondition(folder.look, folder.mountPoint, look);
    // There to be watched: a folder, and not the empty directory an unmount leaves.
    const there = condition !== undefined && condition !== 'unmounted';
    let replaced = false;
    if (folder.state === 'watching') {
      // The very folder, and the watcher still watching it (not one that saw it gone: see wentAway).
      if (condition === 'same' && !folder.wentAway) {
        const alias = folder.sameAs;
        // Watched once under another path: as long as that one still watches this very folder.
        if (alias === undefined || (this.folderMap.get(alias.path) === alias && alias.sameAs === undefined && alias.state === 'watching' && alias.realPath === folder.realPath)) return;
        folder.sameAs = undefined;
        this.emit({ kind: 'folder', event: 'back', folder: { path: folder.path, state: folder.state }, message: `${folder.path}: no longer the folder watched as ${alias.path}; watching it and reading its captures` });
        void this.startWatcher(folder);
        return;
      }
      this.stopWatcher(folder);
      folder.sameAs = undefined;
      folder.state = 'missing';
      // Its captures stay, their sidecars unwritten until the folder is back: one written now
      // would fail (a folder moved away) or land in the bare mount-point directory (unmounted).
      for (const [, capture] of this.capturesOf(folder)) capture.setFolderAway(true);
      replaced = condition === 'replaced';
      const what = replaced
        ? 'was replaced by another of that name (deleted and made again, another file system mounted there, or a symbolic link on its path re-pointed)'
        : `${
            condition === 'unmounted'
              ? 'is unmounted (the folder was a mount point; only the directory it was mounted on is left)'
              : condition === 'same'
                ? 'is gone (deleted, moved or unmounted)'
                : stats !== undefined
                  ? 'is no longer a folder'
                  : failure?.code === 'ENOENT' || failure?.code === 'ENOTDIR'
                    ? 'is gone (deleted, moved or unmounted)'
                    : `cannot be read (${failure?.message ?? 'unknown error'})`
          }; watching for it to come back`;
      this.emit({ kind: 'folder', event: 'missing', folder: { path: folder.path, state: folder.state }, message: `${folder.path}: the watched folder ${what}` });
    }
    if (!there) return;
    folder.look = look!;
    folder.realPath = realPath!;
    folder.state = 'watching';
    folder.wentAway = false;
    this.dropGhosts(folder);
    for (const [, capture] of this.capturesOf(folder)) capture.setFolderAway(false);
    const now = replaced ? 'the folder now there' : 'the watched folder, back,';
    const other = this.watchedAt(folder.realPath, folder);
    if (other !== undefined) {
      // A link re-pointed at a folder watched already: watching it here too listed each capture
      // twice (NAME and NAME#2, both writing one sidecar).
      folder.sameAs = other;
      this.unwatchEntries(folder);
      this.emit({ kind: 'folder', event: 'back', folder: { path: folder.path, state: folder.state }, message: `${folder.path}: ${now} is ${other.path}, watched already: watched once, as ${other.path}` });
      return;
    }
    const what = replaced ? 'watching the folder now there' : 'the watched folder is back; watching it';
    this.emit({ kind: 'folder', event: 'back', folder: { path: folder.path, state: folder.state }, message: `${folder.path}: ${what} and reading its captures` });
    void this.startWatcher(folder);
  }

  /**
   * The folder is there again (back, or another one in its place): its captures whose file is
   * gone, or is another file now (another device or inode: the old folder's, out of reach behind
   * a re-pointed link or a file system mounted over it), are removed, as a deleted file is —
   * closing their file, dropping their journal — except that their sidecar is left where it is
   * (what is at its path now belongs to the new folder). Kept, they were listed for good, idle,
   * each holding a file open, and a file of the same name in the new folder was never read.
   */
  private dropGhosts(folder: WatchedFolder): void {
    for (const [path, capture] of this.capturesOf(folder)) if (!capture.isFileAt(statOrUndefined(path))) this.removedFile(path, true);
  }

  private added(path: string): void {
    if (this.closed || this.byPath.has(path) || !CAPTURE_NAME.test(path)) return;
    const capture = new LiveCapture({
      path,
      name: this.uniqueName(path),
      model: this.options.model,
      stateDirectory: this.options.stateDirectory,
      sidecar: this.options.sidecars ?? true,
      clock: this.clock,
      onDialog: (dialog, restored) => this.emit(restored ? { kind: 'dialog', dialog, restored } : { kind: 'dialog', dialog }),
      onCaptureEvent: (event, message) => this.emit({ kind: 'capture', event, capture: this.told(capture), message }),
    });
    this.byName.set(capture.name, capture);
    this.byPath.set(path, capture);
    this.emit({ kind: 'capture', event: 'added', capture: this.told(capture) });
    this.schedule(capture);
  }

  private removedFile(path: string, keepSidecar = false): void {
    const capture = this.byPath.get(path);
    if (capture === undefined) return;
    this.leftTheirFolder.delete(path);
    this.byPath.delete(path);
    this.byName.delete(capture.name);
    this.scheduled.delete(capture);
    capture.removed(keepSidecar);
    this.emit({ kind: 'capture', event: 'removed', capture: capture.info() });
  }

  /** File names identify captures; a second file of the same name gets a suffix. */
  private uniqueName(path: string): string {
    const name = basename(path);
    if (!this.byName.has(name)) return name;
    for (let n = 2; ; n++) if (!this.byName.has(`${name}#${n}`)) return `${name}#${n}`;
  }

  private schedule(capture: LiveCapture): void {
    if (this.closed || this.scheduled.has(capture)) return;
    this.scheduled.add(capture);
    setImmediate(() => {
      this.scheduled.delete(capture);
      if (this.closed || !this.byName.has(capture.name)) return;
      if (capture.poll()) this.schedule(capture);
    });
  }

  private periodic(): void {
    for (const capture of this.byName.values()) this.schedule(capture);
    // Ticks at half the poll rate: provisional labels, wall-clock closing, sidecars.
    if (++this.ticks % 2 === 0) for (const capture of this.byName.values()) capture.tick();
    const now = this.clock();
    if (now - this.lastFolderCheckMs >= FOLDER_CHECK_INTERVAL_MS) {
      this.lastFolderCheckMs = now;
      for (const folder of this.folderMap.values()) this.checkFolder(folder);
    }
    if (now - this.lastStatsMs >= 1000) {
      const packets = this.stats().packets;
      this.rate = ((packets - this.packetsAtLastStats) * 1000) / (now - this.lastStatsMs);
      this.packetsAtLastStats = packets;
      this.lastStatsMs = now;
      this.announceProgress();
    }
  }

  /**
   * Once a second: an `updated` event for each capture whose size, progress or state changed
   * since clients were last told. Compared with what the last event about it said (its `added`
   * event included): a file read whole within its first second was otherwise never announced
   * idle, and clients showed it "reading · 0 dialogs" for good.
   */
  private announceProgress(): void {
    for (const capture of this.byName.values()) {
      const info = capture.info();
      if (this.announced.get(capture) === progressSummary(info)) continue;
      this.emit({ kind: 'capture', event: 'updated', capture: this.told(capture, info) });
    }
  }

  /** The capture's info, remembered as what clients were told of it. */
  private told(capture: LiveCapture, info: CaptureInfo = capture.info()): CaptureInfo {
    this.announced.set(capture, progressSummary(info));
    return info;
  }

  private emit(event: FeedEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One failing listener (a client gone mid-send) must not starve the others.
      }
    }
  }
}

function progressSummary(info: CaptureInfo): string {
  return `${info.state}/${info.sizeBytes}/${info.bytesRead}/${info.packets}/${info.dialogs}`;
}
