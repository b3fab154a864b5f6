/**
 * Whether a watched folder is still the one the agent watches. Pure, on what two stat calls say
 * (the folder's and its parent's), so that what cannot be staged in a test without root — a share
 * unmounted, another file system mounted over the folder — is tested with made-up stats.
 *
 * (dev, inode) alone misses an unmount: the mount-point directory stays behind, a folder of its
 * own, and taking it for the folder "replaced and back" at once left /health "ok" while the share
 * was gone. So the agent also records, when it starts watching, whether the folder is a mount
 * point (its device differs from its parent's), and takes a folder that has stopped being one as
 * missing until it is one again.
 */

/** A watched folder as seen by one look (stat of the folder, stat of its parent). */
export interface FolderLook {
  readonly dev: number;
  readonly ino: number;
  /** Creation time; 0 where the file system or platform does not record it. */
  readonly birthtimeMs: number;
  /** The device of the folder's parent, or undefined when the parent could not be read. */
  readonly parentDev: number | undefined;
}

/** What is now at a watched folder's path, compared with what the agent watches. */
export type FolderCondition =
  /** The very folder watched. */
  | 'same'
  /** Another folder of that name (deleted and made again, another file system mounted there, a link re-pointed). */
  | 'replaced'
  /** The folder was a mount point and is not one now: what is left is the mount-point directory. */
  | 'unmounted';

/** True when the folder is a mount point; undefined when that cannot be told (parent unreadable). */
export function isMountPoint(look: FolderLook): boolean | undefined {
  return look.parentDev === undefined ? undefined : look.dev !== look.parentDev;
}

/**
 * The same folder: same device and inode, and the same creation time where both looks have one
 * (an inode number reused by a folder made again at once is told apart by it).
 */
export function sameFolder(a: FolderLook, b: FolderLook): boolean {
  if (a.dev !== b.dev || a.ino !== b.ino) return false;
  return a.birthtimeMs === 0 || b.birthtimeMs === 0 || a.birthtimeMs === b.birthtimeMs;
}

/**
 * `watched`: the look the folder is watched under; `mountPoint`: whether it was a mount point when
 * the agent started watching it (kept for good: a folder that was a plain one stays judged by its
 * identity alone, whatever is mounted over it later).
 */
export function folderCondition(watched: FolderLook, mountPoint: boolean, now: FolderLook): FolderCondition {
  if (mountPoint && isMountPoint(now) === false) return 'unmounted';
  return sameFolder(watched, now) ? 'same' : 'replaced';
}
