/**
 * Which of the agent's captures an open file is, so that the capture editor shows the agent's
 * labels only for the file the agent actually read:
 * - an agent on this machine (loopback address) names its files by real paths that the
 *   extension can resolve too: the file must be the same file (realpath), never merely a file
 *   with the same name in another folder;
 * - a remote agent's paths are of its own machine (or only file names, when it anonymises), so
 *   the only clue is the file name, which must then be unique among its captures — and the
 *   caller must check that the labels fit the file (see nameMatchMisfit).
 * No vscode import: tested on real files.
 */
import { realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';

export interface AgentCaptureRef {
  readonly name: string;
  readonly path: string;
  readonly state: string;
}

export interface CaptureMatch<T extends AgentCaptureRef> {
  readonly capture: T;
  /** 'path': the same file; 'name': only the file name agrees (remote agent). */
  readonly by: 'path' | 'name';
}

/** The real path, or the resolved one when it cannot be resolved (gone, or not on this machine). */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** `canonicalPath`: how a path is resolved (realpath; tests count the calls). */
export function matchAgentCapture<T extends AgentCaptureRef>(filePath: string, captures: readonly T[], agentIsLocal: boolean, canonicalPath: (path: string) => string = canonical): CaptureMatch<T> | undefined {
  const live = captures.filter((capture) => capture.state !== 'removed');
  if (agentIsLocal) {
    const file = canonicalPath(filePath);
    const same = live.find((capture) => capture.path === filePath || canonicalPath(capture.path) === file);
    return same ? { capture: same, by: 'path' } : undefined;
  }
  // A remote agent may share the path (the same mount on both machines): that is still the best clue.
  const samePath = live.find((capture) => capture.path === filePath);
  if (samePath) return { capture: samePath, by: 'path' };
  // By the file name its path ends with, not by the capture's name: of two watched files of one
  // name the agent calls the second NAME#2, which is still that file's name once the first is gone.
  const sameName = live.filter((capture) => basename(capture.path) === basename(filePath));
  return sameName.length === 1 ? { capture: sameName[0]!, by: 'name' } : undefined;
}

/**
 * Why the labels of a capture matched only by name are not taken for this file, or undefined
 * when they are. They are taken when at least one packet gets a label: a different file of the
 * same name has other addresses or times, so none of its dialogs holds a packet here. Until
 * then (also while the agent has labelled nothing yet) the file gets local labels.
 */
export function nameMatchMisfit(match: CaptureMatch<AgentCaptureRef>, dialogs: number, labelledPackets: number, packets: number): string | undefined {
  if (match.by !== 'name' || packets === 0 || labelledPackets > 0) return undefined;
  const name = match.capture.name;
  return dialogs === 0
    ? `the agent's ${name} has the same name, but no dialogs yet`
    : `the agent's ${name} has the same name, but none of its ${dialogs.toLocaleString('en')} dialogs fits a packet of this file`;
}

/**
 * One open file's match, found again only when the agent's capture list has changed. A local
 * agent's match resolves the real path of every capture until one is the file: with hundreds of
 * ring-buffer captures, done for each of the once-a-second stats messages and each open editor,
 * that was hundreds of realpath calls a second for an answer that only a capture event or a new
 * connection can change.
 */
export class CaptureMatcher<T extends AgentCaptureRef> {
  private key: string | undefined;
  private last: CaptureMatch<T> | undefined;

  constructor(
    private readonly filePath: string,
    private readonly canonicalPath: (path: string) => string = canonical,
  ) {}

  /** `revision` changes whenever `captures` may have (AgentMirror.capturesRevision). */
  match(captures: readonly T[], agentIsLocal: boolean, revision: number): CaptureMatch<T> | undefined {
    const key = `${revision}/${agentIsLocal}`;
    if (key !== this.key) {
      this.last = matchAgentCapture(this.filePath, captures, agentIsLocal, this.canonicalPath);
      this.key = key;
    }
    return this.last;
  }
}
