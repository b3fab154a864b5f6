// Bundles the VS Code extension into vscode-extension/dist/ with esbuild: the extension host
// (with Node's `ws` inside), the capture worker (the project's reader, flows and classifier),
// the two webviews, their stylesheets and the shipped model. No runtime dependency is left
// outside the bundles. `buildPanelPage(dir)` builds the same panel as the page the agent serves.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const browser = { bundle: true, platform: 'browser', format: 'iife', target: ['chrome114', 'firefox115', 'safari16'], minify: true, legalComments: 'none', logLevel: 'warning' };

/** The panel as a plain page: index.html, panel.js, panel.css in `outDir`. */
export async function buildPanelPage(outDir) {
  mkdirSync(outDir, { recursive: true });
  await build({ ...browser, entryPoints: [join(here, 'src/panel/main.ts')], outfile: join(outDir, 'panel.js') });
  copyFileSync(join(here, 'src/panel/panel.css'), join(outDir, 'panel.css'));
  copyFileSync(join(here, 'src/panel/index.html'), join(outDir, 'index.html'));
}

export async function buildExtension() {
  const dist = join(here, 'dist');
  const node = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'none',
    // ws loads these native speed-ups only if present; the bundle does without.
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
    define: { CUMMA_VERSION: JSON.stringify(version) },
    logLevel: 'warning',
  };
  await build({ ...node, entryPoints: [join(here, 'src/host/extension.ts')], outfile: join(dist, 'extension.js') });
  await build({ ...node, entryPoints: [join(here, 'src/host/capture-worker.ts')], outfile: join(dist, 'capture-worker.js') });
  await buildPanelPage(dist);
  await build({ ...browser, entryPoints: [join(here, 'src/editor/main.ts')], outfile: join(dist, 'editor.js') });
  copyFileSync(join(here, 'src/editor/editor.css'), join(dist, 'editor.css'));
  mkdirSync(join(dist, 'models'), { recursive: true });
  copyFileSync(join(root, 'models/default.json'), join(dist, 'models/default.json'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildExtension();
