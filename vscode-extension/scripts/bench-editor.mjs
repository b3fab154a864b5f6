// Times what the capture editor does with a large capture, using the built worker bundle:
// indexing the packet list and classifying with the bundled model, each in its own worker,
// as the extension runs them. usage: node vscode-extension/scripts/bench-editor.mjs FILE
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const file = process.argv[2];
if (!file) throw new Error('usage: bench-editor.mjs FILE');

function run(request) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const worker = new Worker(join(dist, 'capture-worker.js'), { workerData: request, resourceLimits: {} });
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    worker.on('message', (reply) => {
      if (reply.type === 'progress') return;
      clearInterval(timer);
      void worker.terminate();
      if (reply.type === 'error') reject(new Error(reply.message));
      else resolve({ reply, ms: performance.now() - started, peakRssMb: Math.round(Math.max(peak, process.memoryUsage().rss) / 1048576) });
    });
    worker.on('error', reject);
  });
}

const index = await run({ type: 'index', path: file });
const data = index.reply.data;
const bytes = ['timeUs', 'src', 'dst', 'srcPort', 'dstPort', 'kind', 'ipProtocol', 'length', 'flow', 'flowPackets'].reduce((sum, key) => sum + data[key].byteLength, 0);
console.log(`index: ${data.packets.toLocaleString('en')} packets, ${data.flowKeys.length.toLocaleString('en')} flows in ${(index.ms / 1000).toFixed(2)} s; columns ${(bytes / 1048576).toFixed(1)} MiB; process peak RSS ${index.peakRssMb} MB`);
const classified = await run({ type: 'classify', path: file, modelPath: join(dist, 'models', 'default.json') });
console.log(`classify (bundled model): ${classified.reply.result.records.length.toLocaleString('en')} dialogs in ${(classified.ms / 1000).toFixed(2)} s; process peak RSS ${classified.peakRssMb} MB`);
