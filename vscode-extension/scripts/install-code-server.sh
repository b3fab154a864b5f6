#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3; newer releases need Node 22) into a cache
# folder, following ../shared/TOOLING.md: a plain `npm install -g` fails, so native modules
# are rebuilt by hand. Skips everything when the folder already holds a working install.
# usage: install-code-server.sh PREFIX
set -euo pipefail
P="$(realpath -m "${1:?usage: install-code-server.sh PREFIX}")"
CS="$P/lib/node_modules/code-server"
if [ -x "$P/bin/code-server" ] && [ -f "$CS/.cumma-installed" ]; then
  echo "code-server already installed in $P"
  exit 0
fi
need_apt=()
command -v rg >/dev/null || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_apt[@]}"
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_apt[@]}"
  fi
fi
mkdir -p "$P"
# npm_config_yes: node-pty's post-install runs `npx node-gyp`, which would otherwise ask.
clean_env=(env -i PATH="$PATH" HOME="$HOME" npm_config_yes=true)
npm install -g --prefix "$P" code-server@4.100.3 --ignore-scripts --no-audit --no-fund
cd "$CS"
"${clean_env[@]}" npm rebuild argon2
cd lib/vscode
"${clean_env[@]}" npm install --omit=dev --ignore-scripts --no-audit --no-fund
"${clean_env[@]}" npm rebuild @parcel/watcher @vscode/spdlog kerberos native-watchdog node-pty @vscode/deviceid
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
[ -e node_modules.asar ] || ln -s node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
cd extensions && "${clean_env[@]}" npm install --omit=dev --no-audit --no-fund
touch "$CS/.cumma-installed"
echo "code-server installed in $P"
