/**
 * The read-only custom editor for .pcapng, .pcap and .cap (and .ntar) files. The packet list is
 * indexed in a worker thread; labels come from the agent when it watches the same capture
 * (capture-match.ts: the same file for a local agent; for a remote one a unique file name, if
 * its labels fit) or else from the bundled classifier, run in a worker too. The webview asks
 * for the rows it shows; only those are formatted and sent.
 */
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import type { CaptureInfo } from '../../../agent/src/live/label-feed';
import { AgentLabels, EditorToHost, HostToEditor, LabelSource, parseEditorToHost } from '../shared/bridge';
import { GuardError } from '../shared/guard';
import type { PanelDialog } from '../shared/protocol-guard';
import type { AgentService } from './agent-service';
import { CaptureDocument, IndexChange } from './capture-document';
import { CaptureMatch, CaptureMatcher, nameMatchMisfit } from './capture-match';
import type { WorkerReply, WorkerRequest } from './capture-worker';
import { cacheableLocal, folderWatched, forgetOldFile, missingFileSource } from './label-plan';
import { LabelAssignment, assignLabels } from './label-match';
import { answerListRequest, editorCaptureInfo, listView } from './packet-list-host';
import { PacketListView } from './packet-list-view';
import { webviewHtml } from './webview-html';

export const CAPTURE_EDITOR_VIEW_TYPE = 'cumma.captureEditor';
/** Labels are recomputed at most this often; more rarely when relabelling takes long (1 M packets ≈ 0.2 s). */
const RELABEL_DELAY_MS = 300;

function runWorker(script: string, request: WorkerRequest, onProgress?: (offset: number, packets: number) => void): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData: request });
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      action();
      void worker.terminate();
    };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'progress') onProgress?.(reply.offset, reply.packets);
      else if (reply.type === 'error') finish(() => reject(new Error(reply.message)));
      else finish(() => resolve(reply));
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`worker stopped (exit code ${code})`))));
  });
}

export class CaptureEditorProvider implements vscode.CustomReadonlyEditorProvider<CaptureDocument> {
  private readonly documents = new Set<CaptureDocument>();
  private active: CaptureDocument | undefined;
  /** Each open file's agent capture, found again only when the agent's capture list changed. */
  private readonly matchers = new WeakMap<CaptureDocument, CaptureMatcher<CaptureInfo>>();
  /** Each editor's usage filter and sort (packet-list-view.ts): two editors of one capture arrange theirs apart. */
  private readonly lists = new Map<vscode.WebviewPanel, PacketListView>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly agent: AgentService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    agent.onDidReceive(({ change }) => {
      if (change.dialogs.length === 0 && !change.captures && !change.stats) return;
      for (const document of this.documents) {
        if (change.captures || (change.dialogs.length > 0 && document.source.kind === 'agent')) {
          this.scheduleRelabel(document);
          continue;
        }
        // Stats (once a second) matter only to a document labelled by the agent: the state its
        // label line names may change (AgentMirror.asHeld: caught up, idle).
        if (change.dialogs.length === 0 && document.source.kind !== 'agent') continue;
        const capture = this.agentCapture(document)?.capture;
        const labelsMayChange = capture !== undefined && change.dialogs.includes(capture.name);
        const stateChanged = change.stats && capture !== undefined && document.source.kind === 'agent' && this.agent.mirror.asHeld(capture).state !== document.agentState;
        if (labelsMayChange || stateChanged) this.scheduleRelabel(document);
      }
    });
    // Labels depend on whether an agent is connected, not on how a retry is going: relabelling
    // on every status (each retry of an absent agent) recomputed a million-packet capture's labels
    // and emptied the editor's row cache every few seconds.
    let wasConnected = agent.connected;
    agent.onDidChangeStatus((status) => {
      const connected = status.state === 'connected';
      const sourceMayChange = connected !== wasConnected;
      wasConnected = connected;
      for (const document of this.documents) {
        this.post(document, { kind: 'connection', status });
        if (sourceMayChange) this.scheduleRelabel(document);
      }
    });
  }

  private get dist(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'dist');
  }

  get activeDocument(): CaptureDocument | undefined {
    return this.active;
  }

  openCustomDocument(uri: vscode.Uri): CaptureDocument {
    const document: CaptureDocument = new CaptureDocument(
      uri,
      vscode.Uri.joinPath(this.dist, 'capture-worker.js').fsPath,
      (text) => this.post(document, { kind: 'progress', text }),
      (change) => this.indexChanged(document, change),
    );
    this.documents.add(document);
    return document;
  }

  /** After a reading of the file: the first one, a growth, a re-read, or a failure. */
  private indexChanged(document: CaptureDocument, change: IndexChange): void {
    if (!this.documents.has(document)) return;
    if (change === 'failed') {
      this.log.error(`cannot read ${document.path}: ${document.indexError}`);
      document.assignment = undefined;
      this.post(document, { kind: 'failed', message: this.failure(document) });
      return;
    }
    if (change === 'missing') {
      this.log.info(`${document.path} is missing: keeping what was read`);
      this.relabel(document);
      return;
    }
    if (change === 'restored') {
      // Labels computed while it was missing (or of the file before it went) are not of what is back.
      this.log.info(`${document.path} is back`);
      document.generation++;
      document.local = undefined;
      document.localStale = false;
      if (document.index) this.relabel(document);
      return;
    }
    if (change === 'grew') {
      this.log.debug(`${document.path} grew: ${document.index?.packets ?? 0} packets`);
      // The local labels are of the shorter file; the new packets need them computed again.
      document.localStale = true;
    } else {
      // Read from the start (first opening, or a file replaced or truncated): labels, the
      // dialogs they came from and a selection past the end are of another file.
      forgetOldFile(document, document.index?.packets ?? 0);
      // Only this capture's editors: another capture's selection is of another file.
      for (const view of document.views) {
        const list = this.lists.get(view);
        if (list && list.selectedPacket >= (document.index?.packets ?? 0)) list.selectedPacket = -1;
      }
    }
    for (const view of document.views) this.sendInit(document, view);
    this.relabel(document);
  }

  resolveCustomEditor(document: CaptureDocument, panel: vscode.WebviewPanel): void {
    const webview = panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [this.dist] };
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.dist, 'editor.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.dist, 'editor.css')).toString(),
      title: basename(document.path),
    });
    document.views.add(panel);
    this.lists.set(panel, new PacketListView());
    if (panel.active) this.active = document;
    const subscriptions = [
      panel.onDidChangeViewState(() => {
        if (panel.active) this.active = document;
      }),
      webview.onDidReceiveMessage((raw: unknown) => {
        let message: EditorToHost;
        try {
          message = parseEditorToHost(raw);
        } catch (error) {
          this.log.warn(`dropped an invalid message from the capture editor: ${error instanceof GuardError ? error.message : String(error)}`);
          return;
        }
        this.onMessage(document, panel, message);
      }),
    ];
    panel.onDidDispose(() => {
      document.views.delete(panel);
      this.lists.delete(panel);
      if (document.views.size === 0) this.documents.delete(document);
      if (this.active === document && document.views.size === 0) this.active = undefined;
      subscriptions.forEach((subscription) => subscription.dispose());
    });
  }

  /** "Cumma: Classify current capture": labels from the bundled classifier, run afresh. */
  classify(document: CaptureDocument): void {
    if (document.indexError) {
      void vscode.window.showWarningMessage(`Cumma: ${this.failure(document)}`);
      return;
    }
    document.preferLocal = true;
    document.local = undefined;
    this.relabel(document);
  }

  /** The dialog of the packet selected in a document, for "Copy dialog as JSON". */
  selectedDialog(document: CaptureDocument): PanelDialog | undefined {
    const assignment = document.assignment;
    if (!assignment || document.selectedPacket < 0) return undefined;
    return document.dialogs[assignment.dialog[document.selectedPacket] ?? -1];
  }

  private onMessage(document: CaptureDocument, panel: vscode.WebviewPanel, message: EditorToHost): void {
    const list = this.lists.get(panel);
    if (!list) return;
    switch (message.kind) {
      case 'ready':
        // A page (re)loaded shows the whole file in file order until it says otherwise: it sends
        // again the filter and sort it restores, if any; the host's list must not outlive it.
        this.lists.set(panel, new PacketListView());
        void panel.webview.postMessage({ kind: 'connection', status: this.agent.status } satisfies HostToEditor);
        if (document.indexError) void panel.webview.postMessage({ kind: 'failed', message: this.failure(document) } satisfies HostToEditor);
        else if (document.index) this.sendInit(document, panel);
        else void panel.webview.postMessage({ kind: 'progress', text: 'reading the capture…' } satisfies HostToEditor);
        return;
      case 'rows':
      case 'filter':
      case 'sort':
      case 'locate':
      case 'select':
      case 'selectRow': {
        const started = performance.now();
        const reply = answerListRequest(document, list, message);
        if (message.kind === 'filter' || message.kind === 'sort') {
          const sort = list.sort ? `${list.sort.column} ${list.sort.descending ? 'descending' : 'ascending'}` : 'file order';
          this.log.debug(`list [${list.choices.join(', ')}], ${sort}: ${reply?.kind === 'view' ? reply.shown : '?'} of ${document.index?.packets ?? 0} packets of ${basename(document.path)} (${(performance.now() - started).toFixed(1)} ms)`);
        }
        if (reply?.kind === 'selection') {
          document.selectedPacket = reply.selection.packet;
          if (reply.selection.dialog) this.agent.lastSelectedDialog = reply.selection.dialog;
        }
        if (reply) void panel.webview.postMessage(reply);
        return;
      }
      case 'action':
        this.active = document;
        if (message.action === 'classify') this.classify(document);
        else if (message.action === 'connect') {
          document.preferLocal = false;
          if (!this.agent.connected) this.agent.connect();
          this.relabel(document);
        } else if (message.action === 'copyDialog') void vscode.commands.executeCommand('cumma.copyDialog');
        else if (message.action === 'watchFolder') void vscode.commands.executeCommand('cumma.watchFolder', vscode.Uri.file(dirname(document.path)));
        return;
    }
  }

  /** What the editor shows for a file it could not index (e.g. "… the file is empty"). */
  private failure(document: CaptureDocument): string {
    return `Cannot open ${basename(document.path)}: ${document.indexError ?? 'unknown error'}`;
  }

  private post(document: CaptureDocument, message: HostToEditor): void {
    for (const view of document.views) void view.webview.postMessage(message);
  }

  private sendInit(document: CaptureDocument, panel: vscode.WebviewPanel): void {
    const index = document.index;
    if (!index) return;
    void panel.webview.postMessage({ kind: 'init', capture: editorCaptureInfo(index) } satisfies HostToEditor);
    void panel.webview.postMessage({ kind: 'labels', source: document.source, revision: document.revision } satisfies HostToEditor);
    this.refreshLists(document, 'file', panel);
  }

  /**
   * What a filtered or sorted list shows changes with the file (new packets, placed by the sort)
   * and with the labels (what a filter shows, where a sort by usage puts a packet): computed
   * again, and sent. A list sorted by another column keeps its order when only labels change.
   */
  private refreshLists(document: CaptureDocument, change: 'file' | 'labels', only?: vscode.WebviewPanel): void {
    const packets = document.index?.packets ?? 0;
    for (const panel of only ? [only] : document.views) {
      const list = this.lists.get(panel);
      if (!list?.arranged || (change === 'labels' && !list.followsLabels)) continue;
      list.refresh(document.index, document.assignment?.usage);
      void panel.webview.postMessage(listView(list, packets));
    }
  }

  /**
   * Whether the file is gone: as the follower saw it (once a second), or found now — the agent
   * may report a deleted capture before the follower notices.
   */
  private fileMissing(document: CaptureDocument): boolean {
    return document.missing || !existsSync(document.path);
  }

  /** Whether the connected (local) agent already watches the capture's folder: no "Watch folder" then. */
  private watchedFlag(document: CaptureDocument): { folderWatched?: true } {
    return this.agent.connected && this.agent.isLocal && folderWatched(this.agent.mirror.folders, document.path) ? { folderWatched: true } : {};
  }

  /** The agent's capture for a document (capture-match.ts), when connected. */
  private agentCapture(document: CaptureDocument): CaptureMatch<CaptureInfo> | undefined {
    if (!this.agent.connected) return undefined;
    let matcher = this.matchers.get(document);
    if (matcher === undefined) this.matchers.set(document, (matcher = new CaptureMatcher(document.path)));
    return matcher.match(this.agent.mirror.captures, this.agent.isLocal, this.agent.mirror.capturesRevision);
  }

  private scheduleRelabel(document: CaptureDocument): void {
    if (document.relabelTimer !== undefined) return;
    document.relabelTimer = setTimeout(() => {
      document.relabelTimer = undefined;
      this.relabel(document);
    }, Math.max(RELABEL_DELAY_MS, 4 * document.lastRelabelMs));
  }

  /** Chooses the label source and re-labels every packet from it. */
  private relabel(document: CaptureDocument): void {
    const index = document.index;
    if (!index) return;
    const started = Date.now();
    // Deleted or moved away: what was read, and the labels last shown, stay (README). Neither the
    // agent (which may have dropped the capture) nor the bundled classifier can say more now.
    if (this.fileMissing(document)) {
      const source = missingFileSource(document.source, document.assignment !== undefined);
      if (source !== document.source) {
        document.source = source;
        this.post(document, { kind: 'labels', source, revision: document.revision });
      }
      return;
    }
    // Looked up also when local labels were asked for: the editor offers "Use agent labels" only
    // when the agent has labels for this capture (agentLabels).
    const match = this.agentCapture(document);
    let misfit: string | undefined;
    let agentLabels: AgentLabels = 'none';
    if (match) {
      // As the mirror holds it: the agent may have sent no update since the capture was added.
      const capture = this.agent.mirror.asHeld(match.capture);
      const dialogs = this.agent.mirror.dialogs(capture.name);
      // Whether labels of a capture matched by name fit needs them assigned; the same file's always do.
      const assignment = !document.preferLocal || match.by === 'name' ? assignLabels(index, dialogs) : undefined;
      misfit = assignment && nameMatchMisfit(match, dialogs.length, assignment.labelledPackets, index.packets);
      agentLabels = misfit === undefined ? 'fit' : 'misfit';
      if (misfit === undefined && assignment && !document.preferLocal) {
        const identity = this.agent.mirror.identity;
        document.agentState = capture.state;
        this.apply(document, dialogs, assignment, {
          kind: 'agent',
          detail: `${identity?.agent ?? 'agent'} · ${capture.name} (${capture.state}${match.by === 'name' ? ', matched by file name' : ''}) · model ${identity?.model.name ?? '?'}`,
          dialogs: dialogs.length,
          labelledPackets: assignment.labelledPackets,
          agentLabels,
        }, started);
        return;
      }
    }
    document.agentState = undefined;
    if (document.local) {
      const local = document.local;
      const why = document.preferLocal ? 'asked for' : (misfit ?? (this.agent.connected ? 'the agent does not watch this capture' : 'no agent connected'));
      const assignment = assignLabels(index, local.records);
      this.apply(document, local.records, assignment, {
        kind: 'local',
        detail: `${local.model} (${why})${local.error ? ` · read up to a fault` : ''}${local.warnings ? ` · ${local.warnings.join('; ')}` : ''}`,
        dialogs: local.records.length,
        labelledPackets: assignment.labelledPackets,
        agentLabels,
        ...this.watchedFlag(document),
      }, started);
      if (document.localStale) this.refreshLocal(document);
      return;
    }
    this.classifyLocally(document, agentLabels);
  }

  /**
   * The file grew under local labels: classify it again in the background (the labels shown
   * stay until the new ones come). The whole file is classified again, so a run waits at least
   * as long as the previous one took: a capture that keeps growing costs at most half a core.
   */
  private refreshLocal(document: CaptureDocument): void {
    if (document.localRunning || document.relabelTimer !== undefined) return;
    const wait = document.lastClassifyEnd + document.lastClassifyMs - Date.now();
    if (wait <= 0) return this.classifyLocally(document, document.source.agentLabels);
    document.relabelTimer = setTimeout(() => {
      document.relabelTimer = undefined;
      this.relabel(document);
    }, wait);
  }

  private apply(document: CaptureDocument, dialogs: readonly PanelDialog[], assignment: LabelAssignment, source: LabelSource, started: number): void {
    const index = document.index!;
    document.dialogs = dialogs;
    document.assignment = assignment;
    document.source = source;
    document.revision++;
    document.lastRelabelMs = Date.now() - started;
    this.log.debug(`labelled ${document.assignment.labelledPackets} packets of ${index.name} from ${document.source.kind} (${document.lastRelabelMs} ms)`);
    this.post(document, { kind: 'labels', source: document.source, revision: document.revision });
    this.refreshLists(document, 'labels');
  }

  private classifyLocally(document: CaptureDocument, agentLabels: AgentLabels): void {
    if (document.localRunning) return;
    document.localRunning = true;
    document.localStale = false;
    // A first classification says so; a refresh of labels already shown is silent.
    if (document.local === undefined) {
      document.source = { kind: 'pending', detail: 'classifying with the bundled model…', dialogs: 0, labelledPackets: 0, agentLabels, ...this.watchedFlag(document) };
      this.post(document, { kind: 'labels', source: document.source, revision: document.revision });
    }
    const started = Date.now();
    const generation = document.generation;
    runWorker(vscode.Uri.joinPath(this.dist, 'capture-worker.js').fsPath, { type: 'classify', path: document.path, modelPath: vscode.Uri.joinPath(this.dist, 'models', 'default.json').fsPath }).then(
      (reply) => {
        document.localRunning = false;
        document.lastClassifyMs = Date.now() - started;
        document.lastClassifyEnd = Date.now();
        if (reply.type !== 'classified') return;
        if (generation === document.generation) {
          this.log.info(`classified ${document.path} locally: ${reply.result.records.length} dialogs in ${document.lastClassifyMs} ms`);
          // A read of a missing or unreadable file is not kept: its empty labels would stay for good.
          if (!cacheableLocal(reply.result, this.fileMissing(document))) {
            this.log.warn(`local classification of ${document.path} read nothing: ${reply.result.error ?? 'the file is missing'}`);
            document.source = this.fileMissing(document)
              ? missingFileSource(document.source, document.assignment !== undefined)
              : { kind: 'none', detail: `the bundled classifier could not read the file: ${reply.result.error ?? 'unknown error'}`, dialogs: 0, labelledPackets: 0, agentLabels: document.source.agentLabels };
            this.post(document, { kind: 'labels', source: document.source, revision: ++document.revision });
            return;
          }
          document.local = reply.result;
        }
        // else: the file was replaced meanwhile; relabel() starts a classification of the new one.
        this.relabel(document);
      },
      (error: Error) => {
        document.localRunning = false;
        if (generation !== document.generation) return this.relabel(document);
        this.log.error(`local classification of ${document.path} failed: ${error.message}`);
        document.source = this.fileMissing(document)
          ? missingFileSource(document.source, document.assignment !== undefined)
          : { kind: 'none', detail: `the bundled classifier failed: ${error.message}`, dialogs: 0, labelledPackets: 0, agentLabels: document.source.agentLabels, ...this.watchedFlag(document) };
        this.post(document, { kind: 'labels', source: document.source, revision: ++document.revision });
      },
    );
  }
}

export type { CaptureDocument };
