/**
 * Installing the Wireshark Lua plugin (lua-dissector/cumma.lua) into the user's personal Lua
 * plugins folder, without ever overwriting a copy the user changed.
 *
 * The installed file is the plugin with one comment line in front:
 *   -- cumma-install: version=0.1.0 sha256=<hex of the rest of the file>
 * so a later install can tell a copy it wrote and nobody touched (safe to replace) from one that
 * was edited or came from elsewhere (kept unless --force, which saves it as cumma.lua.bak first).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, posix, resolve, win32 } from 'node:path';
import { folderProblem, makeFolder } from '../common/make-folder';
import { systemErrorReason } from '../common/system-error';

export const PLUGIN_FILE_NAME = 'cumma.lua';
export const BACKUP_SUFFIX = '.bak';
const HEADER_PATTERN = /^-- cumma-install: version=(\S+) sha256=([0-9a-f]{64})$/;

/**
 * Wireshark's personal Lua plugins folder: ~/.local/lib/wireshark/plugins on Linux and macOS,
 * %APPDATA%\Wireshark\plugins on Windows (Help ▸ About Wireshark ▸ Folders lists it).
 */
export function personalPluginDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (platform === 'win32') {
    const appData = env.APPDATA !== undefined && env.APPDATA !== '' ? env.APPDATA : win32.join(home, 'AppData', 'Roaming');
    return win32.join(appData, 'Wireshark', 'plugins');
  }
  return posix.join(home, '.local', 'lib', 'wireshark', 'plugins');
}

/** lua-dissector/cumma.lua, looked for upwards from `start` (the bundle lives in dist/commands/). */
export function findPluginSource(start: string = __dirname): string | undefined {
  let dir = resolve(start);
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'lua-dissector', PLUGIN_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The plugin's PLUGIN_VERSION constant. */
export function pluginVersion(source: string): string {
  return /^local PLUGIN_VERSION = "([^"]+)"/m.exec(source)?.[1] ?? 'unknown';
}

/** The file as installed: the header line, then the plugin byte for byte. */
export function installedText(source: string): string {
  return `-- cumma-install: version=${pluginVersion(source)} sha256=${sha256(source)}\n${source}`;
}

export type InstalledState =
  | { readonly kind: 'absent' }
  /** Written by an install and unchanged since; `body` is the plugin it holds. */
  | { readonly kind: 'pristine'; readonly version: string; readonly body: string }
  /** Edited after installation, or not written by `cumma install-wireshark-plugin`. */
  | { readonly kind: 'modified'; readonly reason: string };

export function inspectInstalled(path: string, source: string): InstalledState {
  if (!existsSync(path)) return { kind: 'absent' };
  const text = readFileSync(path, 'utf8');
  const newline = text.indexOf('\n');
  const header = HEADER_PATTERN.exec(newline < 0 ? text : text.slice(0, newline));
  if (header === null) {
    // A plain copy of the current plugin is as good as an installed one.
    if (text === source) return { kind: 'pristine', version: pluginVersion(source), body: source };
    return { kind: 'modified', reason: 'it was not installed by cumma install-wireshark-plugin' };
  }
  const body = text.slice(newline + 1);
  if (sha256(body) !== header[2]) return { kind: 'modified', reason: 'it was changed after it was installed' };
  return { kind: 'pristine', version: header[1]!, body };
}

export interface InstallOptions {
  /** The plugin to install (lua-dissector/cumma.lua). */
  readonly source: string;
  /** Target folder; default personalPluginDir(). */
  readonly dir?: string;
  /** Replace a modified copy (saving it as cumma.lua.bak first). */
  readonly force?: boolean;
}

export type InstallOutcome =
  | { readonly kind: 'installed'; readonly path: string; readonly version: string }
  | { readonly kind: 'updated'; readonly path: string; readonly version: string; readonly previous: string }
  | { readonly kind: 'unchanged'; readonly path: string; readonly version: string }
  | { readonly kind: 'replaced'; readonly path: string; readonly version: string; readonly backup: string; readonly reason: string }
  | { readonly kind: 'refused'; readonly path: string; readonly reason: string };

export function installPlugin(options: InstallOptions): InstallOutcome {
  const source = readFileSync(options.source, 'utf8');
  const version = pluginVersion(source);
  const dir = options.dir ?? personalPluginDir();
  const path = join(dir, PLUGIN_FILE_NAME);
  const state = inspectInstalled(path, source);
  if (state.kind === 'pristine' && state.body === source) return { kind: 'unchanged', path, version };
  if (state.kind === 'modified' && !options.force) return { kind: 'refused', path, reason: state.reason };

  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`--dir ${dir} is a file, not a folder: give the plugins folder`);
  try {
    // Not mkdirSync's recursive mode: under /proc it spins for ever instead of failing.
    makeFolder(dir);
  } catch (error) {
    throw new Error(`--dir ${dir}: ${folderProblem(dir, error).text}`);
  }
  let backup: string | undefined;
  if (state.kind === 'modified') {
    backup = freeBackupPath(path);
    copyFileSync(path, backup);
  }
  // Written beside the target and renamed, so Wireshark never loads half a file.
  const temporary = join(dir, `.${PLUGIN_FILE_NAME}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, installedText(source));
    renameSync(temporary, path);
  } catch (error) {
    // A full disk leaves part of the file: remove it, and name the plugin, not the temporary.
    rmSync(temporary, { force: true });
    throw new Error(`cannot write ${path}: ${systemErrorReason(error)}`);
  }

  if (state.kind === 'absent') return { kind: 'installed', path, version };
  if (state.kind === 'pristine') return { kind: 'updated', path, version, previous: state.version };
  return { kind: 'replaced', path, version, backup: backup!, reason: state.reason };
}

/**
 * cumma.lua.bak, or cumma.lua.bak.2, .3, … when earlier backups exist: a second --force must not
 * overwrite the edits the first one saved.
 */
function freeBackupPath(path: string): string {
  const first = `${path}${BACKUP_SUFFIX}`;
  if (!existsSync(first)) return first;
  for (let n = 2; ; n++) {
    const candidate = `${first}.${n}`;
    if (!existsSync(candidate)) return candidate;
  }
}

/** What to tell the user after an install: how to check it and where labels come from. */
export function afterInstallHelp(): string {
  return [
    'Check it: restart Wireshark (or Analyze ▸ Reload Lua Plugins); Help ▸ About Wireshark ▸ Plugins then',
    'lists cumma.lua. For tshark: tshark -G plugins | grep cumma',
    'Labels come from the sidecar X.pcapng.cumma.tsv next to a capture (cumma classify X.pcapng --sidecar,',
    'or cumma watch), or live from the agent (cumma watch DIR), which needs LuaSocket in Wireshark\'s Lua',
    '(Debian/Ubuntu: sudo apt-get install lua-socket). Settings: Edit ▸ Preferences ▸ Protocols ▸ Cumma.',
  ].join('\n');
}
