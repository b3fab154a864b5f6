import { parseArgs } from 'node:util';
import { UsageError } from '../usage-error';
import type { CommandIo } from '../flows-command';
import { afterInstallHelp, findPluginSource, installPlugin, personalPluginDir } from '../../wireshark/plugin-install';
import { CommandModule } from './command-module';

export const INSTALL_WIRESHARK_PLUGIN_USAGE = `usage: cumma install-wireshark-plugin [--force] [--dir DIR]

Copies the Cumma Lua post-dissector (lua-dissector/cumma.lua) into Wireshark's personal Lua
plugins folder, where Wireshark and tshark load it at start:
  Linux, macOS  ~/.local/lib/wireshark/plugins
  Windows       %APPDATA%\\Wireshark\\plugins
A copy changed since it was installed (or not installed by this command) is left alone.
  --force  replace it anyway, keeping the old file as cumma.lua.bak
  --dir    install into DIR instead (default: ${personalPluginDir()})`;

async function runInstall(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      force: { type: 'boolean', default: false },
      dir: { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`install-wireshark-plugin takes no file arguments, got '${positionals[0]}'`);
  if (values.dir === '') throw new UsageError('--dir needs a folder');
  const source = findPluginSource();
  if (source === undefined) {
    io.stderr.write(`cumma install-wireshark-plugin: error: lua-dissector/cumma.lua not found near ${__dirname}\n`);
    return 1;
  }
  const outcome = installPlugin({ source, dir: values.dir, force: values.force });
  let summary: string;
  switch (outcome.kind) {
    case 'refused':
      io.stderr.write(
        `cumma install-wireshark-plugin: ${outcome.path} is not replaced: ${outcome.reason}.\n` +
          `Run again with --force to replace it (the current file is kept as ${outcome.path}.bak).\n`,
      );
      return 1;
    case 'unchanged':
      summary = `The Cumma Wireshark plugin ${outcome.version} is already installed: ${outcome.path}`;
      break;
    case 'installed':
      summary = `Installed the Cumma Wireshark plugin ${outcome.version}: ${outcome.path}`;
      break;
    case 'updated':
      summary = `Updated the Cumma Wireshark plugin from ${outcome.previous} to ${outcome.version}: ${outcome.path}`;
      break;
    case 'replaced':
      summary =
        `Replaced ${outcome.path} (${outcome.reason}; the old file is now ${outcome.backup}) ` +
        `with the Cumma Wireshark plugin ${outcome.version}`;
      break;
  }
  // One write: a reader that stops after the first line (| head -1) gets it whole.
  io.stdout.write(`${summary}\n${afterInstallHelp()}\n`);
  return 0;
}

export const command: CommandModule = { usage: INSTALL_WIRESHARK_PLUGIN_USAGE, run: runInstall };
