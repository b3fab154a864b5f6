/** What a path that is not a regular file is, in the words messages use. */
import { Stats } from 'node:fs';

/** "a folder", "a FIFO", "a device", …: said when a regular file was expected. */
export function fileKind(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'another kind of file';
}
