// `npm run package:vscode`: builds the extension and packs it into
// vscode-extension/dist-vsix/cumma-VERSION.vsix with @vscode/vsce 3.9.2 (4.x needs Node 22).
// Installs the extension folder's own devDependencies first when they are missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExtension } from '../build.mjs';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const vsce = join(here, 'node_modules', '.bin', 'vsce');
if (!existsSync(vsce)) {
  console.log('installing the extension’s devDependencies (@vscode/vsce) …');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
}
const started = Date.now();
await buildExtension();
const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
mkdirSync(join(here, 'dist-vsix'), { recursive: true });
const out = join(here, 'dist-vsix', `cumma-${version}.vsix`);
// The README's screenshots live in the repository's docs/images/, which the package has no URL
// for (vsce refuses relative images without a repository): the packaged README names them instead.
const readme = readFileSync(join(here, 'README.md'), 'utf8').replace(/!\[([^\]]*)\]\(\.\.\/(docs\/images\/[^)]+)\)/g, '*$1 (screenshot: $2 in the Cumma repository)*');
writeFileSync(join(here, 'dist', 'README.md'), readme);
// --no-dependencies: everything the extension runs is inside its bundles.
execFileSync(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--readme-path', 'dist/README.md', '--out', out], { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] });
const kib = (path) => `${(statSync(path).size / 1024).toFixed(0)} KiB`;
console.log(
  `${relative(process.cwd(), out)}: ${kib(out)} in ${((Date.now() - started) / 1000).toFixed(1)} s (extension.js ${kib(join(here, 'dist/extension.js'))}, capture-worker.js ${kib(join(here, 'dist/capture-worker.js'))}, panel.js ${kib(join(here, 'dist/panel.js'))}, editor.js ${kib(join(here, 'dist/editor.js'))})`,
);
