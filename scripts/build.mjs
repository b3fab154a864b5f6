// Bundles the CLI and the developer scripts into dist/ with esbuild.
// One bundle per entry point keeps start-up fast (no module resolution at run time).
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

const entries = [
  { in: 'agent/src/cli/main.ts', out: 'cumma', banner: '#!/usr/bin/env node' },
  // One bundle per command, loaded by cumma.js when the command runs.
  { in: 'agent/src/cli/entries/flows.ts', out: 'commands/flows' },
  { in: 'agent/src/cli/entries/simulate.ts', out: 'commands/simulate' },
  { in: 'agent/src/cli/entries/record.ts', out: 'commands/record' },
  { in: 'agent/src/cli/entries/classify.ts', out: 'commands/classify' },
  { in: 'agent/src/cli/entries/classify-labeler.ts', out: 'commands/classify-labeler' },
  { in: 'agent/src/cli/entries/train.ts', out: 'commands/train' },
  { in: 'agent/src/cli/entries/evaluate.ts', out: 'commands/evaluate' },
  { in: 'agent/src/cli/entries/watch.ts', out: 'commands/watch' },
  { in: 'agent/src/cli/entries/install-wireshark-plugin.ts', out: 'commands/install-wireshark-plugin' },
  { in: 'scripts/bench.ts', out: 'bench' },
  { in: 'scripts/bench-latency.ts', out: 'bench-latency' },
  { in: 'scripts/bench-model.ts', out: 'bench-model' },
  { in: 'scripts/bench-lua.ts', out: 'bench-lua' },
  { in: 'scripts/bench-editor-list.ts', out: 'bench-editor-list' },
  { in: 'scripts/check-real.ts', out: 'check-real' },
  { in: 'scripts/demo.ts', out: 'demo' },
  { in: 'scripts/samples.ts', out: 'samples' },
  { in: 'scripts/build-model.ts', out: 'build-model' },
  { in: 'scripts/eval-real.ts', out: 'eval-real' },
];

for (const entry of entries) {
  if (!existsSync(entry.in)) continue;
  await build({
    entryPoints: [entry.in],
    outfile: `dist/${entry.out}.js`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    banner: entry.banner ? { js: entry.banner } : undefined,
    define: { CUMMA_VERSION: JSON.stringify(version) },
    logLevel: 'warning',
  });
}

// The web panel the agent serves at / (dist/panel/: index.html, panel.js, panel.css): the same
// code as the VS Code extension's panel webview, built by the extension's own build script.
const { buildPanelPage } = await import('../vscode-extension/build.mjs');
await buildPanelPage('dist/panel');
