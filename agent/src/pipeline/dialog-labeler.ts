/**
 * Turns dialogs with features into dialog records, one session at a time and causally: the
 * classifier's scores, then forward filtering over the session's earlier dialogs (the temporal
 * model), then the outlier check. Because a label never depends on later dialogs, a dialog's
 * verdict is the same whether it is labelled when it closes (the live agent) or after the
 * whole capture is read (`cumma classify`).
 */
import { UsageClass, UsageVerdict } from '../labels';
import { argMax } from '../model/classifier';
import { Dialog } from '../segment/dialog';
import { DialogRecord } from './dialog-record';
import { UsageModel } from './usage-model';

export interface DialogToLabel extends Omit<Dialog<unknown>, 'notes'> {
  readonly capture: string;
  /** Aligned with FEATURES (agent/src/features/feature-schema.ts). */
  readonly features: Float64Array;
}

/** What the model needs of a dialog to give its verdict (a labelling thread gets only this). */
export type DialogToScore = Pick<DialogToLabel, 'flowId' | 'session' | 'features'>;

/** A flow's belief after its latest dialog, overwritten in place by the next one. */
interface SessionBelief {
  session: number;
  readonly belief: Float64Array;
}

export interface DialogLabelerOptions {
  /** Forward filtering along sessions (default true). */
  readonly temporal?: boolean;
}

export class DialogLabeler {
  private readonly beliefs = new Map<number, SessionBelief>();
  private readonly temporal: boolean;
  private readonly modelName: string;
  /** Where a belief is computed before it replaces the flow's previous one. */
  private readonly scratch: Float64Array;

  constructor(
    private readonly model: UsageModel,
    options: DialogLabelerOptions = {},
  ) {
    this.temporal = options.temporal ?? true;
    this.scratch = new Float64Array(model.classes.length);
    this.modelName = `${model.json.name}@${model.json.version}`;
  }

  /**
   * Final records for dialogs that have closed, given in each flow's dialog order; the session
   * belief moves on past each of them.
   */
  labelFinal(dialogs: readonly DialogToLabel[]): DialogRecord[] {
    return this.recordsOf(dialogs, this.verdictsFinal(dialogs), 'final');
  }

  /**
   * The verdicts of labelFinal, packed VERDICT_HEAD + classes numbers a dialog (see
   * verdictStride): what a labelling thread sends back, the records being built where the dialogs are.
   */
  verdictsFinal(dialogs: readonly DialogToScore[]): Float64Array {
    const stride = this.verdictStride;
    const verdicts = new Float64Array(dialogs.length * stride);
    if (dialogs.length === 0) return verdicts;
    const scores = this.model.predictScores(dialogs.map((dialog) => dialog.features));
    dialogs.forEach((dialog, index) => {
      const belief = this.temporal ? this.advanceBelief(dialog, scores[index]!) : scores[index]!;
      this.writeVerdict(verdicts, index * stride, dialog.features, scores[index]!, belief);
    });
    return verdicts;
  }

  /** Numbers per dialog in a packed verdict array. */
  private get verdictStride(): number {
    return VERDICT_HEAD + this.model.classes.length;
  }

  /** Records of `dialogs` from their packed verdicts (verdictsFinal). */
  recordsOf(dialogs: readonly DialogToLabel[], verdicts: Float64Array, status: 'final' | 'provisional'): DialogRecord[] {
    const stride = this.verdictStride;
    if (verdicts.length !== dialogs.length * stride) throw new RangeError(`${verdicts.length / stride} verdicts for ${dialogs.length} dialogs`);
    return dialogs.map((dialog, index) => this.record(dialog, verdicts, index * stride, status));
  }

  /**
   * Moves the flow's session belief past `dialog` and returns it. One array per flow, written
   * in place: a Float64Array per dialog costs a malloc'ed backing store each.
   */
  private advanceBelief(dialog: DialogToScore, scores: Float64Array): Float64Array {
    const state = this.beliefs.get(dialog.flowId);
    const previous = state !== undefined && state.session === dialog.session ? state.belief : undefined;
    this.model.temporalModel.forwardInto(previous, scores, this.scratch);
    if (state === undefined) {
      const belief = Float64Array.from(this.scratch);
      this.beliefs.set(dialog.flowId, { session: dialog.session, belief });
      return belief;
    }
    state.session = dialog.session;
    state.belief.set(this.scratch);
    return state.belief;
  }

  /** A provisional record for a dialog still open: the session belief does not move. */
  labelProvisional(dialogs: readonly DialogToLabel[]): DialogRecord[] {
    if (dialogs.length === 0) return [];
    const stride = this.verdictStride;
    const verdicts = new Float64Array(dialogs.length * stride);
    const scores = this.model.predictScores(dialogs.map((dialog) => dialog.features));
    dialogs.forEach((dialog, index) => this.writeVerdict(verdicts, index * stride, dialog.features, scores[index]!, this.beliefFor(dialog, scores[index]!)));
    return this.recordsOf(dialogs, verdicts, 'provisional');
  }

  /** The flow ended: no later dialog continues its sessions. */
  endFlow(flowId: number): void {
    this.beliefs.delete(flowId);
  }

  private beliefFor(dialog: DialogToLabel, scores: Float64Array): Float64Array {
    if (!this.temporal) return scores;
    const previous = this.beliefs.get(dialog.flowId);
    return this.model.temporalModel.forward(previous !== undefined && previous.session === dialog.session ? previous.belief : undefined, scores);
  }

  /** [best class, its belief, outlier 0/1, scores…] at `at`. */
  private writeVerdict(verdicts: Float64Array, at: number, features: Float64Array, scores: Float64Array, belief: Float64Array): void {
    // Classes are distinct, so the arg-max index is where the label's confidence is.
    const best = argMax(belief);
    verdicts[at] = best;
    verdicts[at + 1] = belief[best]!;
    verdicts[at + 2] = this.model.isOutlier(features, scores) ? 1 : 0;
    verdicts.set(scores, at + VERDICT_HEAD);
  }

  private record(dialog: DialogToLabel, verdicts: Float64Array, at: number, status: 'final' | 'provisional'): DialogRecord {
    const classes = this.model.classes;
    const outlier = verdicts[at + 2] === 1;
    const usage: UsageVerdict = outlier ? 'unknown' : classes[verdicts[at]!]!;
    const scoreMap: Partial<Record<UsageClass, number>> = {};
    for (let i = 0; i < classes.length; i++) scoreMap[classes[i]!] = round4(verdicts[at + VERDICT_HEAD + i]!);
    return {
      l4: dialog.flow.l4,
      client: dialog.flow.client,
      server: dialog.flow.server,
      firstUs: dialog.startUs,
      lastUs: dialog.endUs,
      packets: dialog.packets,
      bytes: dialog.bytes,
      capture: dialog.capture,
      session: dialog.session,
      dialog: dialog.dialog,
      startUs: dialog.startUs,
      endUs: dialog.endUs,
      usage,
      confidence: round4(verdicts[at + 1]!),
      scores: scoreMap,
      status,
      outlier,
      model: this.modelName,
    };
  }
}

/** Numbers ahead of the class scores in a packed verdict: best class, its belief, outlier. */
const VERDICT_HEAD = 3;

function round4(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
