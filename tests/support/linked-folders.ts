// Two folders of captures and a symbolic link to the first: a watched folder whose link gets
// re-pointed (`ln -sfn`), which a file system mounted over the folder resembles for the agent.
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const SAMPLES = join(__dirname, '..', '..', 'samples');

/** root/t1/x.pcapng (signal-media), root/t2/y.pcapng (telegram-calls), and the link root/L -> t1. */
export function linkedFolders(root: string): { t1: string; t2: string; link: string } {
  const t1 = join(root, 't1');
  const t2 = join(root, 't2');
  mkdirSync(t1);
  mkdirSync(t2);
  copyFileSync(join(SAMPLES, 'signal-media.pcapng'), join(t1, 'x.pcapng'));
  copyFileSync(join(SAMPLES, 'telegram-calls.pcapng'), join(t2, 'y.pcapng'));
  const link = join(root, 'L');
  symlinkSync(t1, link);
  return { t1, t2, link };
}
