/** The "Cumma" activity-bar view: the panel webview, relayed through the host's connection. */
import * as vscode from 'vscode';
import { parsePanelToHost } from '../shared/bridge';
import { GuardError } from '../shared/guard';
import type { AgentService } from './agent-service';
import { PanelRelay } from './panel-relay';
import { webviewHtml } from './webview-html';

export const PANEL_VIEW_ID = 'cumma.panel';

export class PanelViewProvider implements vscode.WebviewViewProvider {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly agent: AgentService,
    private readonly log: vscode.LogOutputChannel,
    private readonly openCapture: (path: string) => Thenable<unknown>,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const webview = view.webview;
    webview.options = { enableScripts: true, localResourceRoots: [dist] };
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'panel.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'panel.css')).toString(),
      title: 'Cumma',
    });
    const relay = new PanelRelay(
      this.agent.mirror,
      (message) => void webview.postMessage(message),
      (message) => this.agent.send(message),
    );
    const subscriptions = [
      this.agent.onDidReceive(({ message }) => relay.fromAgent(message)),
      this.agent.onDidChangeStatus((status) => relay.status(status)),
      webview.onDidReceiveMessage((raw: unknown) => {
        let message;
        try {
          message = parsePanelToHost(raw);
        } catch (error) {
          this.log.warn(`dropped an invalid message from the panel: ${error instanceof GuardError ? error.message : String(error)}`);
          return;
        }
        switch (message.kind) {
          case 'ready':
            relay.ready(this.agent.status);
            return;
          case 'client':
            relay.fromPanel(message.message);
            return;
          case 'action':
            void vscode.commands.executeCommand(`cumma.${message.action}`);
            return;
          case 'selectDialog':
            this.agent.lastSelectedDialog = message.id === undefined ? undefined : this.agent.mirror.dialog(message.capture, message.id);
            return;
          case 'copyDialog': {
            const dialog = this.agent.mirror.dialog(message.capture, message.id);
            if (dialog) {
              this.agent.lastSelectedDialog = dialog;
              void vscode.commands.executeCommand('cumma.copyDialog');
            }
            return;
          }
          case 'openCapture': {
            const capture = this.agent.mirror.capture(message.name);
            if (capture) void this.openCapture(capture.path);
            return;
          }
        }
      }),
    ];
    view.onDidDispose(() => subscriptions.forEach((subscription) => subscription.dispose()));
  }
}
