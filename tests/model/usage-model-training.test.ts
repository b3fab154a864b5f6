import { describe, expect, it } from 'vitest';
import type { UsageClass } from '../../agent/src/labels';
import type { RandomForestJson } from '../../agent/src/model/random-forest';
import type { CaptureDialog } from '../../agent/src/pipeline/capture-dialogs';
import { UsageModel } from '../../agent/src/pipeline/usage-model';
import { makeBlobs } from './blobs';

const classes: UsageClass[] = ['text', 'photo', 'other'];
const blobs = makeBlobs(8, 2, 11, classes);

/** Dialogs of `captures` captures, `perCapture` of each class per capture, one session per flow. */
function dialogs(captures: number, perCapture: number, seed: number, prefix = 'cap'): CaptureDialog[] {
  const out: CaptureDialog[] = [];
  for (let c = 0; c < captures; c++) {
    blobs.sample(perCapture, seed * 1000 + c).forEach((sample, i) => {
      // 'other' three times as common as the rest: a prior to divide out.
      for (let copy = 0; copy < (sample.label === 'other' ? 3 : 1); copy++) {
        out.push({
          flowId: i,
          flow: { l4: 'tcp', client: { ip: '10.0.0.1', port: 40000 + i }, server: { ip: '192.0.2.1', port: 443 } },
          session: 1,
          dialog: copy + 1,
          startUs: copy * 10_000_000,
          endUs: copy * 10_000_000 + 1,
          packets: { up: 1, down: 1 },
          bytes: { up: 100, down: 100 },
          capture: `${prefix}${c}`,
          features: sample.features,
          truth: sample.label,
          mixed: false,
        });
      }
    });
  }
  return out;
}

const training = dialogs(10, 20, 1);

describe('UsageModel.train', () => {
  it('without class weights, stores the training prior for the temporal filter to divide out', () => {
    const model = UsageModel.train(training, { name: 't', train: { randomForest: { trees: 10 } } });
    const counts = classes.map((c) => training.filter((d) => d.truth === c).length / training.length);
    const prior = model.json.temporal.emissionPrior!;
    prior.forEach((p, i) => expect(p).toBeCloseTo(counts[i]!, 12));
    expect(counts[2]).toBeCloseTo(0.6, 12);
    const weighted = UsageModel.train(training, { name: 't', train: { classWeights: true, randomForest: { trees: 10 } } });
    expect(weighted.json.temporal.emissionPrior).toBeUndefined();
  });

  it('refits the shipped classifier on every labelled dialog once the outliers are calibrated', () => {
    const refitted = UsageModel.train(training, { name: 't', train: { randomForest: { trees: 5 } } });
    const calibrationOnly = UsageModel.train(training, { name: 't', refit: false, train: { randomForest: { trees: 5 } } });
    const samplesOf = (model: UsageModel) => (model.json.classifier as RandomForestJson).params.trainingSamples;
    expect(samplesOf(refitted)).toBe(training.length);
    expect(samplesOf(calibrationOnly)).toBeLessThan(training.length);
    expect(samplesOf(calibrationOnly)).toBeGreaterThan(0);
  });

  it('passes dialog weights to the forest and calibrates outliers per dialog source', () => {
    const real = dialogs(5, 10, 2, 'real/').map((d) => ({ ...d, features: d.features.map((x) => x + 1.5) }));
    const all = [...training, ...real];
    // Weight 0 for every text dialog: no tree sees text, so text never scores.
    const model = UsageModel.train(all, { name: 't', dialogWeight: (d) => (d.truth === 'text' ? 0 : 1), train: { randomForest: { trees: 5 } } });
    for (const scores of model.predictScores(all.slice(0, 30).map((d) => d.features))) expect(scores[0]).toBe(0);
    const single = UsageModel.train(all, { name: 't', train: { randomForest: { trees: 5 } } });
    const perSource = UsageModel.train(all, { name: 't', dialogSource: (d) => (d.capture.startsWith('real/') ? 'real' : 'simulated'), train: { randomForest: { trees: 5 } } });
    expect(perSource.json.outliers.threshold).toBeGreaterThanOrEqual(single.json.outliers.threshold);
    expect(perSource.json.outliers.logScale).toBe(true);
    expect(perSource.json.outliers.radii?.length).toBe(perSource.json.outliers.references.length / perSource.json.outliers.featureCount);
  });
});
