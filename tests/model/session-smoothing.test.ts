// Viterbi over whole sessions (session-smoother.ts) and the forward-backward marginals that give
// its labels their confidence, against brute force: every label sequence of a small chain
// enumerated, its probability start · Π transitions · Π emissions computed directly.
import { describe, expect, it } from 'vitest';
import { TemporalModel } from '../../agent/src/model/temporal';
import { MAX_HELD_DIALOGS, SessionSmoother } from '../../agent/src/pipeline/session-smoother';

const classes = ['text', 'photo', 'voice_call'] as const;
const START = [0.6, 0.3, 0.1];
const TRANSITIONS = [
  [0.7, 0.2, 0.1],
  [0.3, 0.5, 0.2],
  [0.1, 0.1, 0.8],
];
const model = TemporalModel.fromProbabilities(classes, START, TRANSITIONS);

/** Every path's joint weight, enumerated (C^T paths). */
function paths(scores: readonly number[][], initial: readonly number[] = START): { path: number[]; weight: number }[] {
  const c = classes.length;
  const all: { path: number[]; weight: number }[] = [];
  const total = c ** scores.length;
  for (let code = 0; code < total; code++) {
    const path: number[] = [];
    for (let t = 0, rest = code; t < scores.length; t++, rest = Math.floor(rest / c)) path.push(rest % c);
    let weight = initial[path[0]!]! * scores[0]![path[0]!]!;
    for (let t = 1; t < path.length; t++) weight *= TRANSITIONS[path[t - 1]!]![path[t]!]! * scores[t]![path[t]!]!;
    all.push({ path, weight });
  }
  return all;
}

function bruteViterbi(scores: readonly number[][], initial?: readonly number[]): number[] {
  return paths(scores, initial).reduce((best, p) => (p.weight > best.weight ? p : best)).path;
}

function bruteMarginals(scores: readonly number[][], initial?: readonly number[]): number[][] {
  const all = paths(scores, initial);
  const total = all.reduce((sum, p) => sum + p.weight, 0);
  return scores.map((_, t) => classes.map((_, j) => all.filter((p) => p.path[t] === j).reduce((sum, p) => sum + p.weight, 0) / total));
}

/** Deterministic, varied score vectors (no zeros, so the 1e-6 floor never applies). */
function scoreSequence(length: number, seed: number): number[][] {
  return Array.from({ length }, (_, t) => {
    const raw = classes.map((_, j) => 0.05 + (((t + 1) * 7919 * (j + 3) + seed * 104729) % 997) / 997);
    const sum = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => v / sum);
  });
}

describe('forward-backward marginals and Viterbi against brute force', () => {
  it.each([1, 2, 3, 5, 6])('session of %i dialogs: the same best path and marginals', (length) => {
    for (let seed = 0; seed < 4; seed++) {
      const scores = scoreSequence(length, seed);
      expect(model.viterbiIndices(scores)).toEqual(bruteViterbi(scores));
      const marginals = model.smoothedMarginals(scores);
      const expected = bruteMarginals(scores);
      marginals.forEach((row, t) => row.forEach((value, j) => expect(value).toBeCloseTo(expected[t]![j]!, 12)));
    }
  });

  it('starts from a given distribution instead of the start probabilities', () => {
    const scores = scoreSequence(4, 9);
    const initial = TRANSITIONS[2]!;
    expect(model.viterbiIndices(scores, { initial })).toEqual(bruteViterbi(scores, initial));
    const expected = bruteMarginals(scores, initial);
    model.smoothedMarginals(scores, { initial }).forEach((row, t) => row.forEach((value, j) => expect(value).toBeCloseTo(expected[t]![j]!, 12)));
    expect(Array.from(model.transitionsFrom(1))).toEqual(TRANSITIONS[1]);
    expect(() => model.viterbiIndices(scores, { initial: [1, 0] })).toThrow(/initial distribution of length 2/);
  });

  it('lets a later, decisive dialog relabel an ambiguous earlier one, which forward filtering cannot', () => {
    // Dialog 1 is vague (alone: text, by the start probabilities); dialogs 2 and 3 are plainly
    // a call, and calls are sticky (0.8). Paths into the call: from voice_call .1·.35·.8 = .028,
    // from photo .3·.35·.2 = .021, from text .6·.3·.1 = .018.
    const scores = [
      [0.3, 0.35, 0.35],
      [0.02, 0.02, 0.96],
      [0.02, 0.02, 0.96],
    ];
    expect(model.viterbi(scores)).toEqual(['voice_call', 'voice_call', 'voice_call']);
    const forward = model.forward(undefined, scores[0]!);
    expect(classes[forward.indexOf(Math.max(...forward))]).toBe('text');
  });
});

describe('SessionSmoother', () => {
  function collect(): { smoother: SessionSmoother; decided: [number, number, number][] } {
    const decided: [number, number, number][] = [];
    return { smoother: new SessionSmoother(model, (handle, best, confidence) => decided.push([handle, best, confidence])), decided };
  }
  const call = Float64Array.of(0.02, 0.02, 0.96);
  const vague = Float64Array.of(0.3, 0.35, 0.35);

  it('decides a session when the flow moves to its next session, when the flow ends, and at the end of input', () => {
    const { smoother, decided } = collect();
    smoother.add(1, 1, 0, vague);
    smoother.add(2, 1, 1, call);
    smoother.add(1, 1, 2, call);
    expect(decided).toEqual([]);
    expect(smoother.openSessions).toBe(2);
    smoother.add(1, 2, 3, vague); // flow 1's session 1 is complete
    expect(decided.map(([handle]) => handle)).toEqual([0, 2]);
    // Decided together, the vague first dialog takes the call's label (.028 against .021, .018 above).
    expect(decided.map(([, best]) => classes[best])).toEqual(['voice_call', 'voice_call']);
    expect(decided.map(([, best]) => best)).toEqual(bruteViterbi([Array.from(vague), Array.from(call)]));
    const expected = bruteMarginals([Array.from(vague), Array.from(call)]);
    expect(decided[0]![2]).toBeCloseTo(expected[0]![2]!, 12);
    smoother.endSession(2);
    expect(decided.map(([handle]) => handle)).toEqual([0, 2, 1]);
    smoother.endSession(7); // no such flow: nothing
    smoother.finish();
    expect(decided.map(([handle]) => handle)).toEqual([0, 2, 1, 3]);
    expect(smoother.openSessions).toBe(0);
  });

  it('decodes an endless session in parts, each continuing from the previous part’s last label', () => {
    const { smoother, decided } = collect();
    const total = MAX_HELD_DIALOGS + 3;
    for (let handle = 0; handle < total; handle++) smoother.add(5, 1, handle, handle % 2 === 0 ? call : vague);
    // The first part went out as soon as it was full; the rest waits for the session's end.
    expect(decided.length).toBe(MAX_HELD_DIALOGS);
    smoother.finish();
    expect(decided.map(([handle]) => handle)).toEqual(Array.from({ length: total }, (_, i) => i));
    const lastOfFirstPart = decided[MAX_HELD_DIALOGS - 1]![1];
    const tail = [call, vague, call].map((s) => Array.from(s));
    expect(decided.slice(MAX_HELD_DIALOGS).map(([, best]) => best)).toEqual(bruteViterbi(tail, TRANSITIONS[lastOfFirstPart]));
  });
});
