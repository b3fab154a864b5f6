/**
 * Turns dialogs with features into dialog records: the classifier's scores, then the temporal
 * model along each session, then the outlier check. The temporal model is used one of three ways
 * (TemporalMode):
 * - `forward` (the default, and what the live agent must use): causal filtering over the
 *   session's earlier dialogs, so a dialog's verdict is final as soon as it closes, and the same
 *   whenever it is labelled;
 * - `viterbi` (offline only: `cumma classify`, `cumma evaluate`): Viterbi over whole sessions
 *   (session-smoother.ts), so a label also draws on the dialogs after it; verdicts come once
 *   their session is complete;
 * - `off`: each dialog alone.
 * Verdicts are packed numbers (see verdictStride), so that a labelling thread can send them back
 * to the thread that holds the dialogs; a dialog is named by its handle, its position among all
 * the dialogs given to label() (AwaitingVerdicts numbers them the same way).
 */
import { UsageClass, UsageVerdict } from '../labels';
import { argMax } from '../model/classifier';
import { Dialog } from '../segment/dialog';
import { DialogRecord } from './dialog-record';
import { FLOW_ENDED } from './session-end';
import { SessionSmoother } from './session-smoother';
import { ModelHeader, UsageModel } from './usage-model';

export interface DialogToLabel extends Omit<Dialog<unknown>, 'notes'> {
  readonly capture: string;
  /** Aligned with FEATURES (agent/src/features/feature-schema.ts). */
  readonly features: Float64Array;
}

/** What the model needs of a dialog to give its verdict (a labelling thread gets only this). */
export type DialogToScore = Pick<DialogToLabel, 'flowId' | 'session' | 'features'>;

/** What a record needs of a dialog besides its verdict. */
export type DialogIdentity = Omit<DialogToLabel, 'features'>;

export type TemporalMode = 'viterbi' | 'forward' | 'off';
export const TEMPORAL_MODES: readonly TemporalMode[] = ['forward', 'viterbi', 'off'];
/**
 * Everywhere (classify, evaluate, the agent, the VS Code extension): on unseen simulated seeds
 * Viterbi scores higher, but on the real captures' cross-validation it calls more background
 * flows calls (docs/classification.md), and real traffic is what the tool is for.
 */
export const DEFAULT_TEMPORAL: TemporalMode = 'forward';

/**
 * A flow's belief after its latest dialog, overwritten in place by the next one. A plain number
 * array, not a Float64Array: one is held per flow until its session ends (the session gap, a
 * minute), hundreds of thousands at once when flows open fast, and each typed array costs an
 * ArrayBuffer and a malloc'ed backing store on top of its 10 numbers (≈ 420 bytes against ≈ 180).
 */
interface SessionBelief {
  session: number;
  readonly belief: number[];
}

/** A dialog held by the Viterbi smoother: what its verdict needs besides the label. */
interface HeldDialog {
  readonly scores: Float64Array;
  readonly outlier: boolean;
}

export interface DialogLabelerOptions {
  /** How the temporal model is used (default DEFAULT_TEMPORAL, see the file comment). */
  readonly temporal?: TemporalMode;
}

export class DialogLabeler {
  private readonly beliefs = new Map<number, SessionBelief>();
  private readonly temporal: TemporalMode;
  private readonly smoother: SessionSmoother | undefined;
  /** viterbi: the dialogs whose session is not decoded yet, by handle. */
  private readonly held = new Map<number, HeldDialog>();
  private readonly records: DialogRecordMaker;
  /** Where a belief is computed before it replaces the flow's previous one. */
  private readonly scratch: Float64Array;
  /** Verdicts final since the last takeVerdicts(), packed. */
  private outbox = new Float64Array(0);
  private outboxLength = 0;
  private nextHandle = 0;

  constructor(
    private readonly model: UsageModel,
    options: DialogLabelerOptions = {},
  ) {
    this.temporal = options.temporal ?? DEFAULT_TEMPORAL;
    this.scratch = new Float64Array(model.classes.length);
    this.records = new DialogRecordMaker(model.header);
    this.smoother =
      this.temporal === 'viterbi'
        ? new SessionSmoother(model.temporalModel, (handle, best, confidence) => {
            const dialog = this.held.get(handle)!;
            this.held.delete(handle);
            this.emit(handle, best, confidence, dialog.outlier, dialog.scores);
          })
        : undefined;
  }

  /**
   * Scores dialogs that have closed, given in each flow's dialog order (handles continue from the
   * previous call). Their verdicts are final at once (`forward`, `off`) or when their session
   * is complete (`viterbi`); takeVerdicts() collects them.
   */
  label(dialogs: readonly DialogToScore[]): void {
    if (dialogs.length === 0) return;
    const scores = this.model.predictScores(dialogs.map((dialog) => dialog.features));
    dialogs.forEach((dialog, index) => {
      const handle = this.nextHandle++;
      const score = scores[index]!;
      const outlier = this.model.isOutlier(dialog.features, score);
      if (this.smoother !== undefined) {
        this.held.set(handle, { scores: score, outlier });
        this.smoother.add(dialog.flowId, dialog.session, handle, score);
        return;
      }
      const belief = this.temporal === 'forward' ? this.advanceBelief(dialog, score) : score;
      // Classes are distinct, so the arg-max index is where the label's confidence is.
      const best = argMax(belief);
      this.emit(handle, best, belief[best]!, outlier, score);
    });
  }

  /**
   * Session `session` of the flow is complete: it went idle for longer than the session gap
   * (FLOW_ENDED: the flow ended, whatever its session). No later dialog continues it
   * (`viterbi`: it is decoded now). An end that arrives after the flow's next session began
   * leaves that session alone.
   */
  endSession(flowId: number, session: number = FLOW_ENDED): void {
    const state = this.beliefs.get(flowId);
    if (state !== undefined && (session === FLOW_ENDED || state.session === session)) this.beliefs.delete(flowId);
    this.smoother?.endSession(flowId, session);
  }

  /** End of input: every session still open is complete. */
  finish(): void {
    this.smoother?.finish();
  }

  /** The verdicts final since the last call, packed: [handle, class, confidence, outlier, scores…] each. */
  takeVerdicts(): Float64Array {
    const verdicts = this.outbox.slice(0, this.outboxLength);
    this.outboxLength = 0;
    return verdicts;
  }

  /** Numbers per dialog in a packed verdict array. */
  private get verdictStride(): number {
    return VERDICT_HEAD + this.model.classes.length;
  }

  /** Records of packed verdicts; `dialogOf` gives the dialog of each handle. */
  recordsOf(verdicts: Float64Array, dialogOf: (handle: number) => DialogIdentity, status: 'final' | 'provisional'): DialogRecord[] {
    return this.records.recordsOf(verdicts, dialogOf, status);
  }

  /**
   * Moves the flow's session belief past `dialog` and returns it: one array per flow, written in
   * place, rather than a new one per dialog (see SessionBelief for why a plain array).
   */
  private advanceBelief(dialog: DialogToScore, scores: Float64Array): ArrayLike<number> {
    const state = this.beliefs.get(dialog.flowId);
    const previous = state !== undefined && state.session === dialog.session ? state.belief : undefined;
    const scratch = this.model.temporalModel.forwardInto(previous, scores, this.scratch);
    if (state === undefined) {
      const belief = Array.from(scratch);
      this.beliefs.set(dialog.flowId, { session: dialog.session, belief });
      return belief;
    }
    state.session = dialog.session;
    for (let i = 0; i < scratch.length; i++) state.belief[i] = scratch[i]!;
    return state.belief;
  }

  /**
   * Provisional records for dialogs still open: the session belief does not move (`viterbi`
   * and `off` use the scores alone; only the live agent, which filters forward, asks for these).
   */
  labelProvisional(dialogs: readonly DialogToLabel[]): DialogRecord[] {
    if (dialogs.length === 0) return [];
    const scores = this.model.predictScores(dialogs.map((dialog) => dialog.features));
    const verdicts = new Float64Array(dialogs.length * this.verdictStride);
    dialogs.forEach((dialog, index) => {
      const score = scores[index]!;
      const belief = this.beliefFor(dialog, score);
      const best = argMax(belief);
      this.write(verdicts, index * this.verdictStride, index, best, belief[best]!, this.model.isOutlier(dialog.features, score), score);
    });
    return this.recordsOf(verdicts, (index) => dialogs[index]!, 'provisional');
  }

  private beliefFor(dialog: DialogToLabel, scores: Float64Array): Float64Array {
    if (this.temporal !== 'forward') return scores;
    const previous = this.beliefs.get(dialog.flowId);
    return this.model.temporalModel.forward(previous !== undefined && previous.session === dialog.session ? previous.belief : undefined, scores);
  }

  /** Appends a verdict to the outbox. */
  private emit(handle: number, best: number, confidence: number, outlier: boolean, scores: Float64Array): void {
    const stride = this.verdictStride;
    if (this.outboxLength + stride > this.outbox.length) {
      const grown = new Float64Array(Math.max(2 * this.outbox.length, 64 * stride));
      grown.set(this.outbox.subarray(0, this.outboxLength));
      this.outbox = grown;
    }
    this.write(this.outbox, this.outboxLength, handle, best, confidence, outlier, scores);
    this.outboxLength += stride;
  }

  /** [handle, class, confidence, outlier 0/1, scores…] at `at`. */
  private write(verdicts: Float64Array, at: number, handle: number, best: number, confidence: number, outlier: boolean, scores: Float64Array): void {
    verdicts[at] = handle;
    verdicts[at + 1] = best;
    verdicts[at + 2] = confidence;
    verdicts[at + 3] = outlier ? 1 : 0;
    verdicts.set(scores, at + VERDICT_HEAD);
  }
}

/**
 * Makes dialog records from packed verdicts (DialogLabeler's layout), given only the model's
 * header: the thread that prints records while another labels needs no more of the model.
 */
export class DialogRecordMaker {
  private readonly classes: readonly UsageClass[];
  private readonly modelName: string;

  constructor(header: Pick<ModelHeader, 'name' | 'version' | 'classes'>) {
    this.classes = header.classes;
    this.modelName = `${header.name}@${header.version}`;
  }

  /** Records of packed verdicts; `dialogOf` gives the dialog of each handle. */
  recordsOf(verdicts: Float64Array, dialogOf: (handle: number) => DialogIdentity, status: 'final' | 'provisional'): DialogRecord[] {
    const stride = VERDICT_HEAD + this.classes.length;
    if (verdicts.length % stride !== 0) throw new RangeError(`packed verdicts: ${verdicts.length} numbers is not a whole number of ${stride}-number verdicts`);
    const records: DialogRecord[] = [];
    for (let at = 0; at < verdicts.length; at += stride) records.push(this.record(dialogOf(verdicts[at]!), verdicts, at, status));
    return records;
  }

  private record(dialog: DialogIdentity, verdicts: Float64Array, at: number, status: 'final' | 'provisional'): DialogRecord {
    const classes = this.classes;
    const outlier = verdicts[at + 3] === 1;
    const usage: UsageVerdict = outlier ? 'unknown' : classes[verdicts[at + 1]!]!;
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
      confidence: round4(verdicts[at + 2]!),
      scores: scoreMap,
      status,
      outlier,
      model: this.modelName,
    };
  }
}

/** Numbers ahead of the class scores in a packed verdict: handle, class, confidence, outlier. */
const VERDICT_HEAD = 4;

/**
 * The dialogs given to a DialogLabeler (here or in a labelling thread) whose verdicts have not
 * come back, numbered as label() numbers them. Only what the records need is kept: a dialog
 * may wait for the rest of its session (`viterbi`), and its feature vector need not.
 */
export class AwaitingVerdicts {
  private readonly dialogs = new Map<number, DialogIdentity>();
  private next = 0;

  get size(): number {
    return this.dialogs.size;
  }

  /** The dialogs about to be given to label(), in the same order. */
  add(dialogs: readonly DialogToLabel[]): void {
    for (const dialog of dialogs) {
      // Field by field: the feature vector (and a handed-off packet log) stays behind.
      this.dialogs.set(this.next++, {
        flowId: dialog.flowId,
        flow: dialog.flow,
        session: dialog.session,
        dialog: dialog.dialog,
        startUs: dialog.startUs,
        endUs: dialog.endUs,
        packets: dialog.packets,
        bytes: dialog.bytes,
        capture: dialog.capture,
      });
    }
  }

  /** The dialog of a verdict's handle, which stops waiting. */
  take(handle: number): DialogIdentity {
    const dialog = this.dialogs.get(handle);
    if (dialog === undefined) throw new RangeError(`a verdict for dialog ${handle}, which awaits none`);
    this.dialogs.delete(handle);
    return dialog;
  }
}

function round4(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
