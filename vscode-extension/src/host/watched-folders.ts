/**
 * The folders this workspace asked the agent to watch ("Watch folder in agent"), per agent
 * address. The agent keeps no memory of such requests: after it restarts it watches only the
 * folders on its command line, so the extension asks again on every (re)connection. Kept in the
 * workspace's state (a vscode.Memento), so a window reload or a VS Code restart keeps them too.
 */

/** The part of vscode.Memento used here (workspaceState). */
export interface FolderStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export const WATCHED_FOLDERS_KEY = 'cumma.watchedFolders';
/** A bound on what a workspace keeps: each one is asked for again on every connection. */
const MAX_FOLDERS = 32;

type Stored = Readonly<Record<string, readonly string[]>>;

export class WatchedFolders {
  constructor(private readonly store: FolderStore) {}

  /** The folders asked for at `agentUrl`, oldest first. */
  list(agentUrl: string): readonly string[] {
    const folders = this.read()[agentUrl];
    return Array.isArray(folders) ? folders.filter((folder): folder is string => typeof folder === 'string') : [];
  }

  async remember(agentUrl: string, folder: string): Promise<void> {
    const folders = [...this.list(agentUrl).filter((known) => known !== folder), folder].slice(-MAX_FOLDERS);
    await this.write(agentUrl, folders);
  }

  async forget(agentUrl: string, folder: string): Promise<void> {
    await this.write(
      agentUrl,
      this.list(agentUrl).filter((known) => known !== folder),
    );
  }

  private read(): Stored {
    const value = this.store.get<unknown>(WATCHED_FOLDERS_KEY);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Stored) : {};
  }

  private async write(agentUrl: string, folders: readonly string[]): Promise<void> {
    const next: Record<string, readonly string[]> = { ...this.read() };
    if (folders.length > 0) next[agentUrl] = folders;
    else delete next[agentUrl];
    await this.store.update(WATCHED_FOLDERS_KEY, next);
  }
}
