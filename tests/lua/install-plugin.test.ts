// `cumma install-wireshark-plugin`: copies the plugin into the personal Lua plugins folder (HOME
// pointed at a temporary folder here), never overwrites a locally changed copy without --force,
// and the installed file is one Wireshark loads.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectInstalled, installedText, personalPluginDir, pluginVersion, sha256 } from '../../agent/src/wireshark/plugin-install';
import { requireTools } from '../support/tools';
import { CLI, cumma, PLUGIN } from './support';

describe('cumma install-wireshark-plugin', () => {
  let home: string;
  let target: string;
  const source = readFileSync(PLUGIN, 'utf8');
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, HOME: home });

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
    home = mkdtempSync(join(tmpdir(), 'cumma-install-'));
    target = join(home, '.local', 'lib', 'wireshark', 'plugins', 'cumma.lua');
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('installs into ~/.local/lib/wireshark/plugins with a header recording version and hash', () => {
    const run = cumma(['install-wireshark-plugin'], env());
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Installed the Cumma Wireshark plugin ${pluginVersion(source)}: ${target}`);
    expect(run.stdout).toContain('Help ▸ About Wireshark ▸ Plugins');
    const text = readFileSync(target, 'utf8');
    const [header, ...rest] = text.split('\n');
    expect(header).toBe(`-- cumma-install: version=${pluginVersion(source)} sha256=${sha256(source)}`);
    expect(rest.join('\n')).toBe(source);
  });

  it('says so when the same plugin is already installed, and leaves it alone', () => {
    const before = readFileSync(target, 'utf8');
    const run = cumma(['install-wireshark-plugin'], env());
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('is already installed');
    expect(readFileSync(target, 'utf8')).toBe(before);
  });

  it('refuses to overwrite a locally modified copy; --force replaces it and keeps a backup', () => {
    const modified = `${readFileSync(target, 'utf8')}\n-- my local tweak\n`;
    writeFileSync(target, modified);
    const refused = cumma(['install-wireshark-plugin'], env());
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`${target} is not replaced: it was changed after it was installed`);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(target, 'utf8')).toBe(modified);

    const forced = cumma(['install-wireshark-plugin', '--force'], env());
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`the old file is now ${target}.bak`);
    expect(readFileSync(`${target}.bak`, 'utf8')).toBe(modified);
    expect(readFileSync(target, 'utf8')).toBe(installedText(source));

    // Edited again and forced again: the first backup stays, the new one goes beside it.
    const second = `${readFileSync(target, 'utf8')}\n-- another tweak\n`;
    writeFileSync(target, second);
    const again = cumma(['install-wireshark-plugin', '--force'], env());
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`the old file is now ${target}.bak.2`);
    expect(readFileSync(`${target}.bak`, 'utf8')).toBe(modified);
    expect(readFileSync(`${target}.bak.2`, 'utf8')).toBe(second);
  });

  it('treats a file it did not write as modified, and a plain copy of the plugin as installed', () => {
    const dir = join(home, 'other');
    mkdirSync(dir);
    writeFileSync(join(dir, 'cumma.lua'), '-- somebody else\'s cumma.lua\n');
    const refused = cumma(['install-wireshark-plugin', '--dir', dir], env());
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('it was not installed by cumma install-wireshark-plugin');
    writeFileSync(join(dir, 'cumma.lua'), source);
    const plain = cumma(['install-wireshark-plugin', '--dir', dir], env());
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('is already installed');
  });

  it('updates an unmodified older installation', () => {
    const dir = join(home, 'older');
    mkdirSync(dir);
    const old = 'local PLUGIN_VERSION = "0.0.1"\n';
    writeFileSync(join(dir, 'cumma.lua'), installedText(old));
    expect(inspectInstalled(join(dir, 'cumma.lua'), source)).toMatchObject({ kind: 'pristine', version: '0.0.1' });
    const run = cumma(['install-wireshark-plugin', '--dir', dir], env());
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Updated the Cumma Wireshark plugin from 0.0.1 to ${pluginVersion(source)}`);
    expect(readFileSync(join(dir, 'cumma.lua'), 'utf8')).toBe(installedText(source));
    expect(existsSync(join(dir, 'cumma.lua.bak'))).toBe(false);
  });

  it('installs into --dir, creating it', () => {
    const dir = join(home, 'a', 'b');
    const run = cumma(['install-wireshark-plugin', '--dir', dir], env());
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(join(dir, 'cumma.lua'), 'utf8')).toBe(installedText(source));
  });

  it('says so when --dir names a file, not a folder', () => {
    const file = join(home, 'not-a-folder');
    writeFileSync(file, 'x');
    const run = cumma(['install-wireshark-plugin', '--dir', file], env());
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`--dir ${file} is a file, not a folder`);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('says which level of --dir is a file when the folder would go under one', () => {
    const file = join(home, 'also-not-a-folder');
    writeFileSync(file, 'x');
    const run = cumma(['install-wireshark-plugin', '--dir', join(file, 'plugins')], env());
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`cumma install-wireshark-plugin: error: --dir ${join(file, 'plugins')}: ${file} is a file, not a folder\n`);
  });

  // Node's recursive mkdir loops for ever under /proc (mkdir there says ENOENT, its parent there):
  // the command sat at full CPU. It must fail at once, naming the folder.
  it.skipIf(!existsSync('/proc/self/status'))('fails at once for a --dir that cannot be made (under /proc), without spinning', () => {
    const startedAt = Date.now();
    const run = spawnSync(process.execPath, [CLI, 'install-wireshark-plugin', '--dir', '/proc/cumma-nope/plugins'], { encoding: 'utf8', env: env(), timeout: 15_000, killSignal: 'SIGKILL' });
    expect(run.signal, 'still running after 15 s').toBeNull();
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'cumma install-wireshark-plugin: error: --dir /proc/cumma-nope/plugins: cannot make folder /proc/cumma-nope: its file system takes no new folders there (ENOENT)\n',
    );
  }, 30_000);

  it('leaves no partial temporary file when the write fails, and names the plugin', () => {
    // A file-size limit of 512 bytes makes the write fail part-way (EFBIG), as a full disk would.
    const dir = join(home, 'full');
    mkdirSync(dir);
    const run = spawnSync('sh', ['-c', `ulimit -f 1 && exec "${process.execPath}" "${CLI}" install-wireshark-plugin --dir "${dir}"`], { encoding: 'utf8', env: env() });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`cumma install-wireshark-plugin: error: cannot write ${join(dir, 'cumma.lua')}: file too large\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects stray arguments with the usage text', () => {
    const run = cumma(['install-wireshark-plugin', 'somewhere'], env());
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('usage: cumma install-wireshark-plugin');
  });

  const tools = requireTools('tshark');
  it.skipIf(tools.skip)('is loaded by tshark from the personal plugins folder', () => {
    tools.assertAvailable();
    const listing = spawnSync('tshark', ['-G', 'plugins'], { encoding: 'utf8', env: env() });
    expect(listing.stdout).toContain(`cumma.lua\t${pluginVersion(source)}\tlua script\t${target}`);
  });

  it('knows the personal plugins folder of each platform', () => {
    expect(personalPluginDir('linux', {}, '/home/ana')).toBe('/home/ana/.local/lib/wireshark/plugins');
    expect(personalPluginDir('darwin', {}, '/Users/ana')).toBe('/Users/ana/.local/lib/wireshark/plugins');
    expect(personalPluginDir('win32', { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Wireshark\\plugins');
    expect(personalPluginDir('win32', {}, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Wireshark\\plugins');
  });
});
