// Whether a watched folder is still the one watched, on made-up stats: an unmount (which cannot be
// staged without root) leaves the mount-point directory behind, a folder of its own; judged by
// (dev, inode) alone it was "replaced and back" in the same look, and /health never said degraded.
import { describe, expect, it } from 'vitest';
import { folderCondition, FolderLook, isMountPoint, sameFolder } from '../../agent/src/live/folder-identity';

const SHARE: FolderLook = { dev: 50, ino: 1, birthtimeMs: 0, parentDev: 20 };
/** The directory the share was mounted on, as stat sees it once the share is unmounted. */
const MOUNT_DIR: FolderLook = { dev: 20, ino: 7001, birthtimeMs: 0, parentDev: 20 };
const PLAIN: FolderLook = { dev: 20, ino: 300, birthtimeMs: 1_700_000_000_000, parentDev: 20 };

describe('a watched folder', () => {
  it('is a mount point when its device is not its parent\'s, and cannot be told when the parent is unreadable', () => {
    expect(isMountPoint(SHARE)).toBe(true);
    expect(isMountPoint(MOUNT_DIR)).toBe(false);
    expect(isMountPoint({ ...SHARE, parentDev: undefined })).toBeUndefined();
  });

  it('that was a mount point is unmounted once it is not one, and the same again once remounted', () => {
    expect(folderCondition(SHARE, true, MOUNT_DIR)).toBe('unmounted');
    expect(folderCondition(SHARE, true, SHARE)).toBe('same');
    // Another share mounted there: a folder replaced.
    expect(folderCondition(SHARE, true, { ...SHARE, dev: 51 })).toBe('replaced');
    // The parent unreadable for a moment: not taken for an unmount.
    expect(folderCondition(SHARE, true, { ...SHARE, parentDev: undefined })).toBe('same');
  });

  it('that was a plain folder is judged by its identity alone, whatever is mounted over it', () => {
    expect(folderCondition(PLAIN, false, PLAIN)).toBe('same');
    expect(folderCondition(PLAIN, false, { ...SHARE })).toBe('replaced');
    expect(folderCondition(PLAIN, false, { ...PLAIN, ino: 301 })).toBe('replaced');
  });

  it('made again under a reused inode is told apart by its creation time where both looks have one', () => {
    expect(sameFolder(PLAIN, { ...PLAIN, birthtimeMs: PLAIN.birthtimeMs + 5 })).toBe(false);
    expect(folderCondition(PLAIN, false, { ...PLAIN, birthtimeMs: PLAIN.birthtimeMs + 5 })).toBe('replaced');
    expect(sameFolder(PLAIN, { ...PLAIN, birthtimeMs: 0 })).toBe(true);
    expect(sameFolder({ ...PLAIN, birthtimeMs: 0 }, PLAIN)).toBe(true);
  });
});
