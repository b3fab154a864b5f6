// What `cumma train` and `cumma evaluate` make of their inputs and outputs: captures that share a
// file name, the same capture given twice, captures that hold the same traffic (kept in one fold),
// captures that contribute nothing, an -o that would destroy an input or cannot be written,
// training sets too small to train on, what cross-validation trains, and what --seed reaches. Every capture
// is made here (cumma simulate, or the project's pcapng writer for exact dialog counts).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../support/tools';
import { writeLabelledCapture } from './labelled-capture';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in `cwd` (relative paths are what the user types), optionally as another user. */
function cummaIn(cwd: string, args: readonly string[], as?: { uid: number; gid: number }): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...(as ?? {}) });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Report {
  readonly accuracy: number;
  readonly macroF1: number;
  readonly total: number;
  readonly classes: string[];
  readonly columns: string[];
  readonly confusion: number[][];
  readonly scored: string;
  readonly gaps: unknown;
  readonly model?: string | null;
  readonly temporal?: string;
  readonly recipe?: unknown;
}

/** Confusion counts keyed "truth→verdict", whatever the row and column order. */
function confusionCounts(report: Report): Map<string, number> {
  const counts = new Map<string, number>();
  report.confusion.forEach((row, r) =>
    row.forEach((n, c) => {
      if (n > 0) counts.set(`${report.classes[r]}→${report.columns[c]}`, n);
    }),
  );
  return counts;
}

function sumCounts(...maps: Map<string, number>[]): Map<string, number> {
  const total = new Map<string, number>();
  for (const map of maps) for (const [key, n] of map) total.set(key, (total.get(key) ?? 0) + n);
  return total;
}

let dir: string;
function ok(run: Run): Run {
  if (run.status !== 0) throw new Error(`exit ${run.status}: ${run.stderr}`);
  return run;
}
function simulate(relative: string, seed: number): void {
  mkdirSync(join(dir, relative, '..'), { recursive: true });
  ok(cummaIn(dir, ['simulate', '--scenario', '--seed', String(seed), '--duration', '60', '-o', relative]));
}
function json(run: Run): Report {
  return JSON.parse(ok(run).stdout) as Report;
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-train-evaluate-'));
  // Two captures with one file name in two folders, as the reviewer had them.
  simulate('a/cap.pcapng', 201);
  simulate('b/cap.pcapng', 202);
  simulate('c/other.pcapng', 203);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('captures that share a file name are separate captures', () => {
  it('evaluate scores a/cap and b/cap as it scores a/cap and a renamed copy of b/cap', () => {
    copyFileSync(join(dir, 'b/cap.pcapng'), join(dir, 'b/cap2.pcapng'));
    copyFileSync(join(dir, 'b/cap.pcapng.truth.jsonl'), join(dir, 'b/cap2.pcapng.truth.jsonl'));
    const same = json(cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'b/cap.pcapng', '--format', 'json']));
    const renamed = json(cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'b/cap2.pcapng', '--format', 'json']));
    expect(same.total).toBe(renamed.total);
    expect(same.accuracy).toBe(renamed.accuracy);
    expect(same.macroF1).toBe(renamed.macroF1);
    expect(same.confusion).toEqual(renamed.confusion);
  });

  it('--folds counts them as two captures', () => {
    const folds = cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'b/cap.pcapng', 'c/other.pcapng', '--folds', '3', '--format', 'json']);
    expect(folds.status, folds.stderr).toBe(0);
    const tooMany = cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'b/cap.pcapng', '--folds', '3']);
    expect(tooMany.status).toBe(2);
    expect(tooMany.stderr).toContain('--folds must be between 2 and the number of captures with labelled dialogs (2)');
  });

  it('train counts them as two captures, and its records still carry the file name', () => {
    const model = join(dir, 'same-names.json');
    const result = ok(cummaIn(dir, ['train', 'a/cap.pcapng', 'b/cap.pcapng', '-o', model, '--trees', '5']));
    expect(result.stdout).toContain('of 2 captures');
    const json = JSON.parse(readFileSync(model, 'utf8')) as { training: { captures: number } };
    expect(json.training.captures).toBe(2);
    const records = ok(cummaIn(dir, ['classify', 'b/cap.pcapng', '--model', model, '--format', 'jsonl'])).stdout.trim().split('\n');
    expect(records.length).toBeGreaterThan(0);
    for (const line of records) expect((JSON.parse(line) as { capture: string }).capture).toBe('cap.pcapng');
  });
});

describe('the same capture given twice', () => {
  it.each([
    ['a/cap.pcapng', 'a/cap.pcapng'],
    ['a/cap.pcapng', './a/cap.pcapng'],
    ['a/cap.pcapng', 'b/../a/cap.pcapng'],
  ])('evaluate %s %s is a usage error naming both spellings', (first, second) => {
    const result = cummaIn(dir, ['evaluate', first, second, '--format', 'json']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(first === second ? `capture ${first} is given twice` : `${first} and ${second} are the same capture`);
  });

  it('a link to a capture is the same capture', () => {
    symlinkSync(join(dir, 'a/cap.pcapng'), join(dir, 'link.pcapng'));
    const result = cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'link.pcapng']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('a/cap.pcapng and link.pcapng are the same capture');
  });

  it('train x x is refused before anything is written', () => {
    const result = cummaIn(dir, ['train', 'a/cap.pcapng', 'a/cap.pcapng', '-o', 'twice.json']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('capture a/cap.pcapng is given twice');
    expect(existsSync(join(dir, 'twice.json'))).toBe(false);
  });
});

describe('cross-validation trains what train trains', () => {
  /** Fold k scores capture k, trained on the other: the same as `train other; evaluate k --model`. */
  function byHand(extra: readonly string[]): Map<string, number> {
    const captures = ['a/cap.pcapng', 'c/other.pcapng'];
    return sumCounts(
      ...captures.map((test, k) => {
        const model = `by-hand-${k}.json`;
        ok(cummaIn(dir, ['train', captures[1 - k]!, '-o', model, ...extra]));
        return confusionCounts(json(cummaIn(dir, ['evaluate', test, '--model', model, '--format', 'json'])));
      }),
    );
  }

  it.each([[[] as string[]], [['--kind', 'knn', '--seed', '0']], [['--balance', 'weights', '--trees', '7', '--seed', '3']]])('--folds with %j', (extra) => {
    const folds = json(cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'c/other.pcapng', '--folds', '2', '--format', 'json', ...extra]));
    expect(confusionCounts(folds)).toEqual(byHand(extra));
  });

  it('refuses training options without --folds: a given model is scored as it was trained', () => {
    for (const extra of [['--trees', '5'], ['--kind', 'knn'], ['--seed', '2', '--balance', 'under']]) {
      const withModel = cummaIn(dir, ['evaluate', 'a/cap.pcapng', '--model', join(ROOT, 'models', 'default.json'), ...extra]);
      expect(withModel.status).toBe(2);
      expect(withModel.stderr).toMatch(/say.? how to train: give with --folds K/);
      expect(cummaIn(dir, ['evaluate', 'a/cap.pcapng', ...extra]).status).toBe(2);
    }
  });
});

describe('evaluate says how it scored', () => {
  it('JSON keeps its fields and adds the model file and the temporal mode', () => {
    const model = join(ROOT, 'models', 'default.json');
    const report = json(cummaIn(dir, ['evaluate', 'a/cap.pcapng', '--format', 'json', '--temporal', 'viterbi']));
    expect(report.scored).toMatch(/^model default@\d+$/);
    expect(report.gaps).toEqual({ sessionGapUs: 60_000_000, dialogGapUs: 5_000_000 });
    expect(report.model).toBe(model);
    expect(report.temporal).toBe('viterbi');
    const given = json(cummaIn(dir, ['evaluate', 'a/cap.pcapng', '--format', 'json', '--model', model, '--no-temporal']));
    expect(given.model).toBe(model);
    expect(given.temporal).toBe('off');
    const folds = json(cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'c/other.pcapng', '--folds', '2', '--format', 'json']));
    expect(folds.model).toBeNull();
    expect(folds.temporal).toBe('forward');
    expect(folds.recipe).toEqual({ kind: 'random-forest', balance: 'none', trees: 100, seed: 1 });
  });

  it('the table footer names the model file and the temporal mode', () => {
    const model = join(ROOT, 'models', 'default.json');
    const table = ok(cummaIn(dir, ['evaluate', 'a/cap.pcapng', '--temporal', 'viterbi'])).stdout;
    expect(table.trimEnd().split('\n').at(-1)).toBe(`model default@1 (${model}); temporal viterbi; dialogs cut with gaps of 60 s (session) and 5 s (dialog)`);
    const folds = ok(cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'c/other.pcapng', '--folds', '2', '--trees', '9'])).stdout;
    expect(folds.trimEnd().split('\n').at(-1)).toBe(
      '2-fold cross-validation by capture, each fold trained as cumma train would (random-forest, 9 trees, balance none, seed 1); temporal forward; dialogs cut with gaps of 60 s (session) and 5 s (dialog)',
    );
  });
});

describe('train -o', () => {
  let inputs: string;
  beforeAll(() => {
    inputs = join(dir, 'ow');
    mkdirSync(inputs);
    copyFileSync(join(dir, 'a/cap.pcapng'), join(inputs, 'x.pcapng'));
    copyFileSync(join(dir, 'c/other.pcapng'), join(inputs, 'y.pcapng'));
  });
  const bytes = (name: string): Buffer => readFileSync(join(inputs, name));

  it('that a shell pattern made the first capture is refused, and the capture kept', () => {
    const before = bytes('x.pcapng');
    // What `cumma train -o ow/*.pcapng` runs.
    const result = cummaIn(dir, ['train', '-o', 'ow/x.pcapng', 'ow/y.pcapng']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('-o ow/x.pcapng exists and is not a Cumma model but a pcapng capture');
    expect(bytes('x.pcapng').equals(before)).toBe(true);
  });

  it.each([['ow/x.pcapng'], ['./ow/../ow/x.pcapng']])('that is one of the captures (%s) is refused, and the capture kept', (output) => {
    const before = bytes('x.pcapng');
    const result = cummaIn(dir, ['train', 'ow/x.pcapng', '-o', output]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`-o ${output} is the input capture ow/x.pcapng`);
    expect(bytes('x.pcapng').equals(before)).toBe(true);
  });

  it('that is a file other than a model is refused; a model or an empty file is replaced', () => {
    writeFileSync(join(inputs, 'notes.json'), '{"notes": "mine"}\n');
    const notes = cummaIn(dir, ['train', 'ow/x.pcapng', '-o', 'ow/notes.json', '--trees', '5']);
    expect(notes.status).toBe(2);
    expect(notes.stderr).toContain('-o ow/notes.json exists and is not a Cumma model');
    expect(readFileSync(join(inputs, 'notes.json'), 'utf8')).toBe('{"notes": "mine"}\n');
    ok(cummaIn(dir, ['train', 'ow/x.pcapng', '-o', 'ow/model.json', '--trees', '5']));
    ok(cummaIn(dir, ['train', 'ow/y.pcapng', '-o', 'ow/model.json', '--trees', '5']));
    writeFileSync(join(inputs, 'empty.json'), '');
    ok(cummaIn(dir, ['train', 'ow/x.pcapng', '-o', 'ow/empty.json', '--trees', '5']));
    expect(JSON.parse(readFileSync(join(inputs, 'empty.json'), 'utf8'))).toMatchObject({ format: 'cumma-model', name: 'empty' });
  });

  it('in a folder that does not exist is refused before training, naming the path given', () => {
    const result = cummaIn(dir, ['train', 'a/cap.pcapng', '-o', 'nodir/sub/m.json']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('cumma train: -o nodir/sub/m.json: folder nodir/sub does not exist');
    expect(result.stderr).not.toContain('.tmp');
    expect(result.stdout).toBe('');
  });

  it('under a file is refused before training', () => {
    const result = cummaIn(dir, ['train', 'a/cap.pcapng', '-o', 'a/cap.pcapng/m.json']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('-o a/cap.pcapng/m.json: a/cap.pcapng is not a folder');
  });

  it('in a read-only folder is refused before training, naming the folder, not a temporary file', (context) => {
    // As root every folder is writable: run as nobody then, in folders nobody can read.
    const root = process.getuid?.() === 0;
    const nobody = root ? { uid: 65534, gid: 65534 } : undefined;
    // Where nobody cannot run node and the CLI (a private install), there is nothing to test.
    if (nobody !== undefined && cummaIn(tmpdir(), ['--version'], nobody).status !== 0) context.skip();
    const shared = mkdtempSync(join(tmpdir(), 'cumma-read-only-'));
    try {
      chmodSync(shared, 0o755);
      copyFileSync(join(dir, 'a/cap.pcapng'), join(shared, 'cap.pcapng'));
      chmodSync(join(shared, 'cap.pcapng'), 0o644);
      mkdirSync(join(shared, 'locked'), { mode: 0o555 });
      chmodSync(join(shared, 'locked'), 0o555);
      const result = cummaIn(shared, ['train', 'cap.pcapng', '-o', 'locked/m.json'], nobody);
      // The folder's permissions, not a mistake on the command line: exit 1, no usage text.
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr).toContain('cumma train: error: -o locked/m.json: cannot write in folder locked (EACCES)');
      expect(result.stderr).not.toContain('usage:');
      expect(result.stderr).not.toContain('.tmp');
      expect(readdirSync(join(shared, 'locked'))).toEqual([]);
    } finally {
      chmodSync(join(shared, 'locked'), 0o755);
      rmSync(shared, { recursive: true, force: true });
    }
  });
});

describe('outlier calibration captures', () => {
  /** The split's hash (FNV-1a of the file name), written out again: the split must not move. */
  function heldOut(name: string): boolean {
    let h = 2166136261;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
    return ((h >>> 0) % 1000) / 1000 < 0.2;
  }

  it('train names the captures held out to calibrate the outlier check', () => {
    const folder = join(dir, 'many');
    mkdirSync(folder);
    const names = Array.from({ length: 8 }, (_, i) => `c${i}.pcapng`);
    names.forEach((name, i) => writeLabelledCapture(join(folder, name), i % 2 === 0 ? ['text', 'photo', 'text'] : ['photo', 'voice_call', 'text']));
    const expected = names.filter(heldOut);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(names.length);
    const result = ok(cummaIn(folder, ['train', ...names, '-o', 'm.json', '--trees', '5']));
    expect(result.stdout).toContain(
      `outlier check calibrated on ${3 * expected.length} labelled dialogs of ${expected.length} held-out capture${expected.length === 1 ? '' : 's'} of ${names.length} (${expected.join(', ')}), picked by file name`,
    );
  });

  it('and says when the names split none off and every 5th dialog calibrates instead', () => {
    const result = ok(cummaIn(dir, ['train', 'a/cap.pcapng', '-o', 'one.json', '--trees', '5']));
    expect(result.stdout).toMatch(/^outlier check calibrated on every 5th labelled dialog \(\d+ of \d+\): the capture names split no capture off$/m);
  });
});

describe('training sets too small to train on', () => {
  let tiny: string;
  beforeAll(() => {
    tiny = join(dir, 'tiny');
    mkdirSync(tiny);
    // Not from the start the others share: a capture of traffic of its own.
    writeLabelledCapture(join(tiny, 'one.pcapng'), ['text'], 1_700_000_500_000_000);
    writeLabelledCapture(join(tiny, 'texts.pcapng'), ['text', 'text', 'text']);
    writeLabelledCapture(join(tiny, 'mixed.pcapng'), ['text', 'photo', 'voice_call', 'photo', 'text', 'voice_call']);
  });

  it('one labelled dialog: an error saying what was found and what is needed', () => {
    const result = cummaIn(tiny, ['train', 'one.pcapng', '-o', 'm.json']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'cumma train: error: too few labelled dialogs to train on: found 1 (1 class: text) in 1 capture; a model needs at least 2, some to learn from and some held out to calibrate the outlier check',
    );
    expect(result.stderr).toContain('[MODEL_TOO_FEW_DIALOGS]');
    expect(existsSync(join(tiny, 'm.json'))).toBe(false);
  });

  it('one class: trained, with a warning', () => {
    const result = ok(cummaIn(tiny, ['train', 'texts.pcapng', '-o', 'texts.json', '--trees', '5']));
    expect(result.stderr).toContain('cumma train: warning: the model knows one class only (text)');
    expect(result.stderr).toMatch(/cumma train: warning: the outlier check is calibrated on only 1 held-out dialog \(every 5th labelled dialog\)/);
  });

  it('a fold with one labelled dialog to train on: the error names the fold', () => {
    const result = cummaIn(tiny, ['evaluate', 'one.pcapng', 'mixed.pcapng', '--folds', '2']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('cumma evaluate: error: fold 2 of 2 (trained without mixed.pcapng): too few labelled dialogs to train on: found 1 (1 class: text) in 1 capture');
  });
});

describe('option values', () => {
  it('--seed 0 is a seed, as it is for simulate; past 32 bits it is refused', () => {
    const result = ok(cummaIn(dir, ['train', 'a/cap.pcapng', '-o', 'seed0.json', '--seed', '0', '--trees', '5']));
    expect(result.stdout).toContain('seed0.json: random-forest trained on');
    const json = JSON.parse(readFileSync(join(dir, 'seed0.json'), 'utf8')) as { classifier: { params: { seed: number } } };
    expect(json.classifier.params.seed).toBe(0);
    const big = cummaIn(dir, ['train', 'a/cap.pcapng', '-o', 'big.json', '--seed', '4294967296']);
    expect(big.status).toBe(2);
    expect(big.stderr).toContain("--seed expects an integer 0…4294967295, got '4294967296'");
  });

  it('--name "" is refused: records would print the model as "@1"', () => {
    const result = cummaIn(dir, ['train', 'a/cap.pcapng', '-o', 'noname.json', '--name', '']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--name must not be empty');
    expect(existsSync(join(dir, 'noname.json'))).toBe(false);
  });

  it('--trees with --kind knn is refused, not ignored', () => {
    const result = cummaIn(dir, ['train', 'a/cap.pcapng', '-o', 'knn.json', '--kind', 'knn', '--trees', '5']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--trees sets the size of a random forest; --kind knn has no trees');
    expect(basename(ok(cummaIn(dir, ['train', 'a/cap.pcapng', '-o', 'knn.json', '--kind', 'knn'])).stdout.split(':')[0]!)).toBe('knn.json');
  });
});

describe('captures that hold the same traffic', () => {
  let dup: string;
  beforeAll(() => {
    // A byte-identical copy of a/cap.pcapng under another name and inode, with its truth.
    dup = join(dir, 'dup');
    mkdirSync(dup);
    copyFileSync(join(dir, 'a/cap.pcapng'), join(dup, 'copy.pcapng'));
    copyFileSync(join(dir, 'a/cap.pcapng.truth.jsonl'), join(dup, 'copy.pcapng.truth.jsonl'));
  });

  it('--folds keeps them in one fold, and says so', () => {
    // By index, a/cap was fold 1 and its copy fold 2: each was scored by a model trained on the other.
    const captures = ['a/cap.pcapng', 'dup/copy.pcapng', 'c/other.pcapng'];
    const run = cummaIn(dir, ['evaluate', ...captures, '--folds', '2', '--trees', '5', '--format', 'json']);
    const folds = json(run);
    expect(run.stderr).toMatch(/^cumma evaluate: note: a\/cap\.pcapng and dup\/copy\.pcapng hold the same traffic \(\d+ dialogs alike in flow, start time, packets and bytes in more than one of them: copies, conversions or cuts of one capture\?\): they are kept in one fold$/m);
    // Fold 1: a/cap and its copy, trained on c/other; fold 2: c/other, trained on both.
    ok(cummaIn(dir, ['train', 'c/other.pcapng', '-o', 'dup-1.json', '--trees', '5']));
    ok(cummaIn(dir, ['train', 'a/cap.pcapng', 'dup/copy.pcapng', '-o', 'dup-2.json', '--trees', '5']));
    const byHand = sumCounts(
      confusionCounts(json(cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'dup/copy.pcapng', '--model', 'dup-1.json', '--format', 'json']))),
      confusionCounts(json(cummaIn(dir, ['evaluate', 'c/other.pcapng', '--model', 'dup-2.json', '--format', 'json']))),
    );
    expect(confusionCounts(folds)).toEqual(byHand);
  });

  it('--folds larger than the groups they leave is refused, saying why', () => {
    const result = cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'dup/copy.pcapng', 'c/other.pcapng', '--folds', '3']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--folds must be between 2 and the number of groups of captures with labelled dialogs (2)');
    expect(result.stderr).toContain('captures that hold the same traffic stay in one fold (the note above), so the 3 captures make 2 groups');
  });

  it('a pcap conversion is the same traffic', (context) => {
    if (findOnPath('editcap') === undefined) context.skip();
    const converted = spawnSync('editcap', ['-F', 'pcap', join(dir, 'c/other.pcapng'), join(dup, 'other.pcap')], { encoding: 'utf8' });
    expect(converted.status, converted.stderr).toBe(0);
    copyFileSync(join(dir, 'c/other.pcapng.truth.jsonl'), join(dup, 'other.pcap.truth.jsonl'));
    const result = cummaIn(dir, ['evaluate', 'c/other.pcapng', 'b/cap.pcapng', 'dup/other.pcap', '--folds', '2', '--trees', '5', '--format', 'json']);
    expect(result.stderr).toMatch(/note: c\/other\.pcapng and dup\/other\.pcap hold the same traffic \(\d+ dialogs/);
    expect(json(result).total).toBeGreaterThan(0);
  });

  it('train says they count once per capture', () => {
    const result = ok(cummaIn(dir, ['train', 'a/cap.pcapng', 'dup/copy.pcapng', '-o', 'dup-train.json', '--trees', '5']));
    expect(result.stderr).toMatch(/^cumma train: note: a\/cap\.pcapng and dup\/copy\.pcapng hold the same traffic \(\d+ dialogs .*\): their shared dialogs count once per capture in training$/m);
  });

  it('captures of different traffic are not grouped', () => {
    const result = ok(cummaIn(dir, ['evaluate', 'a/cap.pcapng', 'b/cap.pcapng', 'c/other.pcapng', '--folds', '3', '--trees', '5']));
    expect(result.stderr).not.toContain('same traffic');
  });
});

describe('--seed and the options a model records', () => {
  let background: string;
  beforeAll(() => {
    // Over 24 dialogs of one class (other): the outlier check then samples and clusters them.
    background = 'background.pcapng';
    ok(cummaIn(dir, ['simulate', '--scenario', 'mix', '--background', '--app', 'telegram', '--seed', '205', '--duration', '300', '-o', background]));
  });
  interface ModelFile {
    readonly outliers: unknown;
    readonly training: { readonly options: string };
  }
  const trainModel = (name: string, extra: readonly string[]): ModelFile => {
    ok(cummaIn(dir, ['train', background, 'c/other.pcapng', '-o', name, ...extra]));
    return JSON.parse(readFileSync(join(dir, name), 'utf8')) as ModelFile;
  };

  it('reaches the outlier check of a knn model', () => {
    const one = trainModel('knn-seed1.json', ['--kind', 'knn', '--seed', '1']);
    const two = trainModel('knn-seed2.json', ['--kind', 'knn', '--seed', '2']);
    expect(two.outliers).not.toEqual(one.outliers);
    expect(trainModel('knn-seed2-again.json', ['--kind', 'knn', '--seed', '2']).outliers).toEqual(two.outliers);
  });

  it('reaches the outlier check of a forest: its references move with it', () => {
    const references = (model: ModelFile): unknown => (model.outliers as { references: unknown }).references;
    expect(references(trainModel('rf-seed2.json', ['--trees', '3', '--seed', '2']))).not.toEqual(references(trainModel('rf-seed1.json', ['--trees', '3', '--seed', '1'])));
  });

  it('training.options holds only the options of the kind trained', () => {
    expect(JSON.parse(trainModel('knn-options.json', ['--kind', 'knn', '--seed', '3']).training.options)).toEqual({ kind: 'knn', seed: 3, classWeights: false });
    expect(JSON.parse(trainModel('rf-options.json', ['--trees', '4', '--balance', 'under']).training.options)).toEqual({
      kind: 'random-forest',
      seed: 1,
      classWeights: false,
      balance: { mode: 'under' },
      randomForest: { trees: 4 },
    });
    const folds = json(cummaIn(dir, ['evaluate', background, 'c/other.pcapng', '--folds', '2', '--kind', 'knn', '--format', 'json']));
    expect(folds.recipe).toEqual({ kind: 'knn', balance: 'none', seed: 1 });
  });
});

describe('captures that contribute nothing', () => {
  let folder: string;
  beforeAll(() => {
    folder = join(dir, 'contribute');
    mkdirSync(folder);
    // Each from its own start: captures of different traffic.
    writeLabelledCapture(join(folder, 'nolabel.pcapng'), [null, null, null], 1_700_001_000_000_000);
    writeLabelledCapture(join(folder, 'labelled.pcapng'), ['text', 'photo', 'text', 'photo', null], 1_700_002_000_000_000);
    writeLabelledCapture(join(folder, 'texts.pcapng'), ['text', 'text', 'text'], 1_700_003_000_000_000);
    writeLabelledCapture(join(folder, 'calls.pcapng'), ['voice_call', 'text', 'voice_call'], 1_700_004_000_000_000);
  });

  it('evaluate warns of a capture with no labelled dialog, saying where labels are looked for', () => {
    const both = cummaIn(folder, ['evaluate', 'nolabel.pcapng', 'labelled.pcapng', '--format', 'json']);
    expect(both.stderr).toContain(
      'cumma evaluate: warning: nolabel.pcapng: none of its 3 dialogs are labelled (no packet carries a cumma:usage=<label> comment, and there is no truth sidecar nolabel.pcapng.truth.jsonl): it is not scored',
    );
    expect(json(both).total).toBe(json(cummaIn(folder, ['evaluate', 'labelled.pcapng', '--format', 'json'])).total);
    writeFileSync(join(folder, 'nolabel.pcapng.truth.jsonl'), '');
    expect(cummaIn(folder, ['evaluate', 'nolabel.pcapng', 'labelled.pcapng']).stderr).toContain('and its truth sidecar nolabel.pcapng.truth.jsonl labels none of them): it is not scored');
    rmSync(join(folder, 'nolabel.pcapng.truth.jsonl'));
  });

  it('train counts the captures it learnt from, as the model records them', () => {
    const result = ok(cummaIn(folder, ['train', 'nolabel.pcapng', 'labelled.pcapng', '-o', 'm.json', '--trees', '5']));
    expect(result.stdout).toContain('m.json: random-forest trained on 4 labelled dialogs of 1 capture (4 unlabelled left out; 1 capture given had no labelled dialog); classes text, photo');
    expect(result.stderr).toContain('cumma train: warning: nolabel.pcapng: none of its 3 dialogs are labelled');
    expect(result.stderr).toContain('it adds nothing to the model');
    expect((JSON.parse(readFileSync(join(folder, 'm.json'), 'utf8')) as { training: { captures: number } }).training.captures).toBe(1);
  });

  it('evaluate warns when the truth holds classes the model does not know', () => {
    ok(cummaIn(folder, ['train', 'texts.pcapng', 'labelled.pcapng', '-o', 'text-photo.json', '--trees', '5']));
    const result = json(cummaIn(folder, ['evaluate', 'calls.pcapng', '--model', 'text-photo.json', '--format', 'json']));
    expect(result.total).toBe(3);
    const stderr = cummaIn(folder, ['evaluate', 'calls.pcapng', '--model', 'text-photo.json']).stderr;
    expect(stderr).toContain(`cumma evaluate: warning: the truth holds classes model text-photo@1 (text-photo.json) does not know: voice_call (2 dialogs); they can only count as misses`);
    // Cross-validation: the fold that tests calls.pcapng was trained without any call.
    const folds = cummaIn(folder, ['evaluate', 'texts.pcapng', 'calls.pcapng', '--folds', '2', '--trees', '5']);
    expect(folds.status, folds.stderr).toBe(0);
    expect(folds.stderr).toContain("cumma evaluate: warning: fold 2 of 2: its captures' truth holds classes its model, trained without them, does not know: voice_call (2 dialogs)");
  });
});
