// `npm run bench` (part): the model's speed targets (issue 4). Builds the simulated training
// corpus of seeds 1–24 (≈ 20 000 dialogs; the shipped model trains on seeds 1–120), trains one forest
// of 100 trees on it, and measures class scores and full verdicts per second with the shipped
// model. Targets: training ≤ 60 s, prediction ≥ 20 000 dialogs/s.
import { join, resolve } from 'node:path';
import { UsageModel } from '../agent/src/pipeline/usage-model';
import { measureModelBench, renderModelBench } from './lib/model-bench';
import { BENCH_TRAINING_SEEDS, buildCorpus } from './lib/training-corpus';

const ROOT = resolve(__dirname, '..');
const TARGET_TRAINING_SECONDS = 60;
const TARGET_PREDICTIONS_PER_SECOND = 20_000;

function main(): number {
  const model = UsageModel.load(join(ROOT, 'models', 'default.json'));
  const started = performance.now();
  const training = buildCorpus({ firstSeed: BENCH_TRAINING_SEEDS.first, seeds: BENCH_TRAINING_SEEDS.count, scratch: join(ROOT, '.cache', 'bench-model'), gaps: model.gaps });
  process.stdout.write(`Model speed: ${training.length} simulated dialogs (seeds ${BENCH_TRAINING_SEEDS.first}–${BENCH_TRAINING_SEEDS.first + BENCH_TRAINING_SEEDS.count - 1}, built in ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  const figures = measureModelBench(training, { model });
  process.stdout.write(`${renderModelBench(figures).replace(/^/gm, '  ')}\n`);
  const ok = figures.trainingSeconds <= TARGET_TRAINING_SECONDS && figures.scoresPerSecond >= TARGET_PREDICTIONS_PER_SECOND;
  process.stdout.write(`  targets (training ≤ ${TARGET_TRAINING_SECONDS} s, ≥ ${TARGET_PREDICTIONS_PER_SECOND} dialogs/s): ${ok ? 'PASS' : 'FAIL'}\n`);
  return ok ? 0 : 1;
}

process.exitCode = main();
