/**
 * Evaluation figures (issue 4): per-class precision, recall, F1 and support, macro-F1, accuracy
 * and the confusion matrix (rows: true class; columns: predicted class, then `unknown` for
 * outlier verdicts), with a plain-text table renderer.
 *
 * Conventions: precision is undefined (null) for a class nothing was predicted as, recall for a
 * class with no true sample; a null is never printed or averaged as 0, since a class that is
 * absent looks exactly like one that is entirely missed. Macro-F1 averages the F1 of the classes
 * that occur in the truth or in the predictions (`inMacroF1`; a class neither present nor
 * predicted says nothing, and its F1 is null); for those an undefined precision or recall makes
 * F1 0 (scikit-learn's zero_division = 0). `unknown` is never a true class; an `unknown` verdict
 * counts as a miss (lowers recall and accuracy, no class's precision).
 */

import type { UsageClass, UsageVerdict } from '../labels';

export interface ClassMetrics {
  readonly class: UsageClass;
  /** null when nothing was predicted as the class. */
  readonly precision: number | null;
  /** null when the class has no true sample. */
  readonly recall: number | null;
  /** null exactly when the class is left out of macro-F1 (no true sample, none predicted). */
  readonly f1: number | null;
  /** Number of true samples of the class. */
  readonly support: number;
  /** Number of samples predicted as the class. */
  readonly predicted: number;
  /** Whether macro-F1 averages this class's F1 (it has true samples or predictions). */
  readonly inMacroF1: boolean;
}

export interface MetricsReport {
  readonly classes: UsageClass[];
  readonly perClass: ClassMetrics[];
  readonly macroF1: number;
  readonly accuracy: number;
  readonly total: number;
  /** Samples given the `unknown` verdict. */
  readonly unknown: number;
  /** Column labels of `confusion`: the classes, then `unknown`. */
  readonly columns: UsageVerdict[];
  /** confusion[true][predicted], rows in `classes` order, columns in `columns` order. */
  readonly confusion: number[][];
}

export function evaluatePredictions(
  truth: readonly UsageClass[],
  predicted: readonly UsageVerdict[],
  classes: readonly UsageClass[],
): MetricsReport {
  if (truth.length !== predicted.length) {
    throw new RangeError(`evaluate: ${truth.length} true labels but ${predicted.length} predictions`);
  }
  const c = classes.length;
  const index = new Map<string, number>(classes.map((cl, i) => [cl, i] as const));
  const confusion = Array.from({ length: c }, () => new Array<number>(c + 1).fill(0));
  let correct = 0;
  let unknown = 0;
  for (let i = 0; i < truth.length; i++) {
    const row = index.get(truth[i]!);
    if (row === undefined) throw new RangeError(`evaluate: true label ${truth[i]} not among the classes`);
    const p = predicted[i]!;
    const column = p === 'unknown' ? c : index.get(p);
    if (column === undefined) throw new RangeError(`evaluate: predicted label ${p} not among the classes`);
    confusion[row]![column]!++;
    if (column === c) unknown++;
    if (column === row) correct++;
  }
  const perClass: ClassMetrics[] = classes.map((cl, k) => {
    const tp = confusion[k]![k]!;
    const support = confusion[k]!.reduce((a, b) => a + b, 0);
    let predictedCount = 0;
    for (let r = 0; r < c; r++) predictedCount += confusion[r]![k]!;
    const precision = predictedCount === 0 ? null : tp / predictedCount;
    const recall = support === 0 ? null : tp / support;
    const inMacroF1 = support > 0 || predictedCount > 0;
    const f1 = !inMacroF1 ? null : precision === null || recall === null ? 0 : ratio(2 * precision * recall, precision + recall);
    return { class: cl, precision, recall, f1, support, predicted: predictedCount, inMacroF1 };
  });
  const counted = perClass.filter((m) => m.inMacroF1);
  const macroF1 = ratio(
    counted.reduce((a, m) => a + m.f1!, 0),
    counted.length,
  );
  return {
    classes: [...classes],
    perClass,
    macroF1,
    accuracy: ratio(correct, truth.length),
    total: truth.length,
    unknown,
    columns: [...classes, 'unknown'],
    confusion,
  };
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/**
 * The report as plain text: the per-class table (`-` where a figure is undefined, so that a class
 * absent from the data is told from one entirely missed), the summary line saying which classes
 * macro-F1 averages, then the confusion matrix.
 */
export function renderMetricsTable(report: MetricsReport): string {
  const fmt = (x: number): string => x.toFixed(3);
  const figure = (x: number | null): string => (x === null ? '-' : fmt(x));
  const nameWidth = Math.max(9, ...report.classes.map((c) => c.length));
  const lines: string[] = [];
  const row = (cells: string[], widths: number[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const widths = [nameWidth, 9, 9, 9, 9, 9];
  lines.push(row(['class', 'precision', 'recall', 'f1', 'support', 'predicted'], widths));
  for (const m of report.perClass) {
    lines.push(row([m.class, figure(m.precision), figure(m.recall), figure(m.f1), String(m.support), String(m.predicted)], widths));
  }
  const counted = report.perClass.filter((m) => m.inMacroF1).length;
  lines.push('');
  lines.push(
    `macro-F1 ${fmt(report.macroF1)} (mean over the ${counted} class${counted === 1 ? '' : 'es'} with support or predictions)  ` +
      `accuracy ${fmt(report.accuracy)}  samples ${report.total}  unknown ${report.unknown}`,
  );
  if (report.perClass.some((m) => m.precision === null || m.recall === null)) {
    lines.push('-: undefined. precision: nothing predicted as the class; recall: no true sample; f1: neither, so the class is left out of macro-F1');
  }
  lines.push('');
  lines.push('confusion (rows: true, columns: predicted)');
  const cellWidth = Math.max(
    7,
    ...report.columns.map((c) => c.length),
    ...report.confusion.flat().map((n) => String(n).length),
  );
  const cWidths = [nameWidth, ...report.columns.map(() => cellWidth)];
  lines.push(row(['', ...report.columns], cWidths));
  report.confusion.forEach((counts, r) => {
    lines.push(row([report.classes[r]!, ...counts.map(String)], cWidths));
  });
  return lines.join('\n') + '\n';
}
