/**
 * Which of the capture editor's buttons to show: only those that would change something. No
 * DOM: the webview (main.ts) applies it, the tests call it.
 */
import type { LabelSource } from '../shared/bridge';
import type { ConnectionState } from '../shared/connection';

export interface EditorButtons {
  readonly classify: boolean;
  readonly useAgent: boolean;
  readonly watchFolder: boolean;
}

/**
 * `agentLocal`: the agent runs on this machine. A remote one cannot watch this machine's
 * folders: the capture's folder is not one it could be asked to watch.
 */
export function editorButtons(source: LabelSource | undefined, connection: ConnectionState | undefined, agentLocal = true): EditorButtons {
  // Nothing to offer for a file that is missing: neither classifier nor agent can read it now.
  if (source === undefined || source.fileMissing) return { classify: false, useAgent: false, watchFolder: false };
  const shown = source.kind;
  return {
    // The bundled classifier's labels are neither shown nor on their way.
    classify: shown === 'agent' || shown === 'none',
    // Other labels are shown while the agent has some for this capture (after "Classify
    // locally"); or no agent is connected nor being tried (disconnected, or autoConnect off):
    // then it connects, and the agent's labels follow if it watches the capture. Not for a
    // capture the agent does not watch: the button would do nothing.
    useAgent: shown !== 'agent' && (source.agentLabels === 'fit' || connection === 'disconnected'),
    // The agent does not watch the capture's folder yet. Not when it watches a capture of the
    // same name elsewhere ('misfit'): a second one would make the name ambiguous.
    // Nor when it watches the folder already, nor when it runs on another machine.
    watchFolder: connection === 'connected' && agentLocal && shown !== 'agent' && source.agentLabels === 'none' && !source.folderWatched,
  };
}
