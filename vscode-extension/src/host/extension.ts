/**
 * Cumma for VS Code: the live labels panel (activity bar), the read-only capture editor for
 * .pcap/.pcapng/.cap, the commands, the settings and the status-bar item.
 */
import * as vscode from 'vscode';
import { AgentService } from './agent-service';
import { CAPTURE_EDITOR_VIEW_TYPE, CaptureEditorProvider } from './capture-editor';
import { PANEL_VIEW_ID, PanelViewProvider } from './panel-provider';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Cumma', { log: true });
  const agent = new AgentService(context.secrets, log, context.workspaceState);
  const openCapture = (path: string): Thenable<unknown> => vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(path), CAPTURE_EDITOR_VIEW_TYPE);
  const editors = new CaptureEditorProvider(context.extensionUri, agent, log);
  context.subscriptions.push(
    log,
    agent,
    vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, new PanelViewProvider(context.extensionUri, agent, log, openCapture), {
      webviewOptions: { retainContextWhenHidden: true },
    }),
    vscode.window.registerCustomEditorProvider(CAPTURE_EDITOR_VIEW_TYPE, editors, {
      webviewOptions: { retainContextWhenHidden: true },
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.commands.registerCommand('cumma.connect', () => agent.connect()),
    vscode.commands.registerCommand('cumma.disconnect', () => agent.disconnect()),
    vscode.commands.registerCommand('cumma.setToken', () => agent.setToken()),
    vscode.commands.registerCommand('cumma.classifyCapture', async (uri?: vscode.Uri) => {
      if (uri instanceof vscode.Uri && uri.scheme === 'file' && editors.activeDocument?.uri.toString() !== uri.toString()) {
        await openCapture(uri.fsPath);
      }
      const document = editors.activeDocument;
      if (!document) {
        void vscode.window.showInformationMessage('Open a capture (.pcapng, .pcap, .cap) in the Cumma capture editor first.');
        return;
      }
      editors.classify(document);
    }),
    vscode.commands.registerCommand('cumma.watchFolder', async (folder?: vscode.Uri) => {
      if (!agent.connected) {
        const choice = await vscode.window.showWarningMessage('Cumma: not connected to the agent.', 'Connect');
        if (choice === 'Connect') agent.connect();
        return;
      }
      const path = agent.isLocal ? await pickLocalFolder(folder) : await askRemoteFolder(agent.url());
      if (!path) return;
      if (agent.watchFolder(path)) void vscode.window.setStatusBarMessage(`Cumma: asked the agent to watch ${path}`, 5000);
      else void vscode.window.showErrorMessage('Cumma: not connected to the agent.');
    }),
    vscode.commands.registerCommand('cumma.copyDialog', async () => {
      const active = editors.activeDocument;
      const dialog = (active && editors.selectedDialog(active)) ?? agent.lastSelectedDialog;
      if (!dialog) {
        void vscode.window.showInformationMessage('Cumma: select a dialog in the panel, or a packet in the capture editor, first.');
        return;
      }
      await vscode.env.clipboard.writeText(JSON.stringify(dialog, null, 2));
      void vscode.window.setStatusBarMessage(`Cumma: copied dialog ${dialog.id} (${dialog.usage})`, 4000);
    }),
    vscode.commands.registerCommand('cumma.statusMenu', async () => {
      type Item = vscode.QuickPickItem & { readonly command: string };
      const items: Item[] = [
        agent.connected ? { label: '$(debug-disconnect) Disconnect', command: 'cumma.disconnect' } : { label: '$(plug) Connect to agent', command: 'cumma.connect' },
        { label: '$(key) Set agent token…', command: 'cumma.setToken' },
        { label: '$(folder-opened) Watch folder in agent…', command: 'cumma.watchFolder' },
        { label: '$(layout-sidebar-left) Show Cumma panel', command: 'cumma.panel.focus' },
        { label: '$(settings-gear) Settings', command: 'cumma.openSettings' },
      ];
      const choice = await vscode.window.showQuickPick(items, { title: `Cumma agent: ${agent.status.state}` });
      if (choice) await vscode.commands.executeCommand(choice.command);
    }),
    vscode.commands.registerCommand('cumma.openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', 'cumma.')),
  );
  if (vscode.workspace.getConfiguration('cumma').get<boolean>('autoConnect', true)) agent.connect();
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

/** A folder of this machine, for an agent that runs on it. */
async function pickLocalFolder(folder: vscode.Uri | undefined): Promise<string | undefined> {
  const defaultUri = folder instanceof vscode.Uri ? folder : vscode.workspace.workspaceFolders?.[0]?.uri;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Watch in agent',
    title: 'Folder for the Cumma agent to watch',
    ...(defaultUri ? { defaultUri } : {}),
  });
  return picked?.[0]?.fsPath;
}

/** A remote agent watches folders of its own machine: this machine's folder dialog cannot name them. */
async function askRemoteFolder(agentUrl: string): Promise<string | undefined> {
  const typed = await vscode.window.showInputBox({
    title: 'Folder for the Cumma agent to watch',
    prompt: `The agent at ${agentUrl} runs on another machine: give the folder's path there`,
    placeHolder: '/var/captures',
    validateInput: (value) => (value.trim().startsWith('/') || /^[A-Za-z]:[\\/]/.test(value.trim()) ? undefined : 'an absolute path on the agent\'s machine'),
  });
  return typed?.trim() || undefined;
}
