import { describe, expect, it } from 'vitest';
import { Prng } from '../../agent/src/common/prng';
import type { UsageClass, UsageVerdict } from '../../agent/src/labels';
import {
  classCounts,
  classWeights,
  resampleBalanced,
  sampleWithoutReplacement,
  weightedBootstrap,
} from '../../agent/src/model/imbalance';
import { evaluatePredictions, renderMetricsTable } from '../../agent/src/model/metrics';

describe('metrics', () => {
  const classes: UsageClass[] = ['text', 'photo', 'voice_call'];
  const truth: UsageClass[] = ['text', 'text', 'text', 'text', 'photo', 'photo', 'photo', 'voice_call', 'voice_call', 'voice_call'];
  const predicted: UsageVerdict[] = ['text', 'text', 'text', 'photo', 'photo', 'photo', 'text', 'voice_call', 'unknown', 'photo'];
  const report = evaluatePredictions(truth, predicted, classes);

  it('builds the confusion matrix with an unknown column', () => {
    expect(report.columns).toEqual(['text', 'photo', 'voice_call', 'unknown']);
    expect(report.confusion).toEqual([
      [3, 1, 0, 0],
      [1, 2, 0, 0],
      [0, 1, 1, 1],
    ]);
    expect(report.unknown).toBe(1);
  });

  it('computes precision, recall, F1, support, macro-F1 and accuracy as by hand', () => {
    const [text, photo, call] = report.perClass;
    expect(text).toMatchObject({ class: 'text', precision: 0.75, recall: 0.75, f1: 0.75, support: 4 });
    expect(photo!.precision).toBe(0.5);
    expect(photo!.recall).toBeCloseTo(2 / 3, 15);
    expect(photo!.f1).toBeCloseTo(4 / 7, 15);
    expect(call!.precision).toBe(1);
    expect(call!.recall).toBeCloseTo(1 / 3, 15);
    expect(call!.f1).toBeCloseTo(0.5, 15);
    expect(report.macroF1).toBeCloseTo(17 / 28, 15);
    expect(report.accuracy).toBe(0.6);
  });

  it('leaves absent classes out of macro-F1, their figures undefined (null), not 0', () => {
    const r = evaluatePredictions(['text', 'text'], ['text', 'unknown'], ['text', 'photo']);
    expect(r.perClass[1]).toEqual({ class: 'photo', precision: null, recall: null, f1: null, support: 0, predicted: 0, inMacroF1: false });
    expect(r.perClass[0]).toMatchObject({ precision: 1, recall: 0.5, inMacroF1: true });
    expect(r.macroF1).toBeCloseTo(2 / 3, 15); // text only: P 1, R 0.5
    expect(() => evaluatePredictions(['text'], [], ['text'])).toThrow(RangeError);
    expect(() => evaluatePredictions(['file'], ['file'], ['text'])).toThrow(RangeError);
  });

  it('tells a class present and entirely missed, and one predicted but absent, from one absent', () => {
    // photo: 2 true, never predicted; file: never true, predicted once; voice_call: neither.
    const r = evaluatePredictions(['text', 'text', 'photo', 'photo'], ['text', 'file', 'text', 'text'], ['text', 'photo', 'file', 'voice_call']);
    const [, photo, file, call] = r.perClass;
    expect(photo).toEqual({ class: 'photo', precision: null, recall: 0, f1: 0, support: 2, predicted: 0, inMacroF1: true });
    expect(file).toEqual({ class: 'file', precision: 0, recall: null, f1: 0, support: 0, predicted: 1, inMacroF1: true });
    expect(call).toEqual({ class: 'voice_call', precision: null, recall: null, f1: null, support: 0, predicted: 0, inMacroF1: false });
    // text: P 1/3, R 1/2, F1 0.4; photo and file count as 0; voice_call does not count.
    expect(r.macroF1).toBeCloseTo(0.4 / 3, 15);
    const table = renderMetricsTable(r);
    expect(table).toMatch(/\nphoto\s+-\s+0\.000\s+0\.000\s+2\s+0\n/);
    expect(table).toMatch(/\nfile\s+0\.000\s+-\s+0\.000\s+0\s+1\n/);
    expect(table).toMatch(/\nvoice_call\s+-\s+-\s+-\s+0\s+0\n/);
    expect(table).toContain('macro-F1 0.133 (mean over the 3 classes with support or predictions)');
    expect(table).toContain('\n-: undefined. precision: nothing predicted as the class; recall: no true sample; f1: neither, so the class is left out of macro-F1\n');
  });

  it('renders a plain-text table', () => {
    const text = renderMetricsTable(report);
    expect(text).toMatch(/^class\s+precision\s+recall\s+f1\s+support\s+predicted\n/);
    expect(text).toMatch(/\nphoto\s+0\.500\s+0\.667\s+0\.571\s+3\s+4\n/);
    expect(text).toContain('macro-F1 0.607 (mean over the 3 classes with support or predictions)  accuracy 0.600  samples 10  unknown 1');
    // Every figure defined: no legend for '-'.
    expect(text).not.toContain('-: undefined');
    expect(text).toMatch(/voice_call\s+0\s+1\s+1\s+1\n$/);
  });
});

describe('imbalance', () => {
  const labels: UsageClass[] = [...Array<UsageClass>(60).fill('text'), ...Array<UsageClass>(30).fill('photo'), ...Array<UsageClass>(10).fill('file')];
  const samples = labels.map((label, i) => ({ label, id: i }));

  it('weights classes by inverse frequency, normalised to n', () => {
    const w = classWeights(labels, ['text', 'photo', 'file', 'location']);
    expect(w).toEqual([100 / (3 * 60), 100 / (3 * 30), 100 / (3 * 10), 0]);
    expect(60 * w[0]! + 30 * w[1]! + 10 * w[2]!).toBeCloseTo(100, 12);
  });

  it('undersamples, oversamples or both to a target per class', () => {
    const count = (xs: { label: UsageClass }[]) => classCounts(xs.map((x) => x.label), ['text', 'photo', 'file']);
    expect(count(resampleBalanced(samples, { mode: 'under', seed: 1 }))).toEqual([10, 10, 10]);
    expect(count(resampleBalanced(samples, { mode: 'over', seed: 1 }))).toEqual([60, 60, 60]);
    expect(count(resampleBalanced(samples, { mode: 'both', seed: 1 }))).toEqual([30, 30, 30]);
    expect(count(resampleBalanced(samples, { mode: 'both', targetPerClass: 20, seed: 1 }))).toEqual([20, 20, 20]);
    expect(count(resampleBalanced(samples, { mode: 'under', targetPerClass: 20, seed: 1 }))).toEqual([20, 20, 10]);
    const under = resampleBalanced(samples, { mode: 'under', seed: 1 });
    expect(new Set(under.map((s) => s.id)).size).toBe(under.length); // no duplicates
    const over = resampleBalanced(samples, { mode: 'over', seed: 1 });
    expect(over.filter((s) => s.label === 'file').slice(0, 10).map((s) => s.id)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  });

  it('is deterministic for a seed and changes with the seed', () => {
    const a = resampleBalanced(samples, { mode: 'both', seed: 7 }).map((s) => s.id);
    const b = resampleBalanced(samples, { mode: 'both', seed: 7 }).map((s) => s.id);
    const c = resampleBalanced(samples, { mode: 'both', seed: 8 }).map((s) => s.id);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('draws without replacement and with weights', () => {
    const picked = sampleWithoutReplacement(50, 20, new Prng(3));
    expect(new Set(picked).size).toBe(20);
    expect(picked).toEqual([...picked].sort((x, y) => x - y));
    const weights = [0, 1, 3, 0];
    const draw = weightedBootstrap(4, 40_000, new Prng(5), weights);
    const hits = [0, 0, 0, 0];
    for (const i of draw) hits[i]!++;
    expect(hits[0]).toBe(0);
    expect(hits[3]).toBe(0);
    expect(hits[2]! / hits[1]!).toBeGreaterThan(2.8);
    expect(hits[2]! / hits[1]!).toBeLessThan(3.2);
    expect(Array.from(weightedBootstrap(4, 10, new Prng(5), weights))).toEqual(Array.from(weightedBootstrap(4, 10, new Prng(5), weights)));
  });
});
