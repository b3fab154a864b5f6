/**
 * Viterbi smoothing over whole sessions, for labelling after the fact (`cumma classify`,
 * `cumma evaluate`): the class scores of each flow's current session are held until the
 * session is complete — capture time passes its end by the session gap, the flow's next dialog
 * belongs to a later session, the flow ends, or the input does — and the session is then
 * decoded at once (TemporalModel.viterbiIndices), so a dialog's label also draws on the
 * dialogs after it. A call's offer and connectivity checks,
 * which look the same for voice and video, take their label from the media that follows; the
 * causal filter (forward), which the live agent must use, cannot see that far.
 *
 * Memory: the scores of the open sessions' dialogs. A session that never pauses for a session
 * gap (a chat connection kept alive every 30 s) is decoded in parts of MAX_HELD_DIALOGS, each
 * part after the first starting from the transition row of the previous part's last label.
 */
import { TemporalModel } from '../model/temporal';
import { FLOW_ENDED } from './session-end';

/** Dialogs of one session held before that part of it is decoded. */
export const MAX_HELD_DIALOGS = 4096;

/** Receives each dialog's decision: its label (a class index) and that label's smoothed probability. */
export type SmoothedDecision = (handle: number, best: number, confidence: number) => void;

interface HeldSession {
  readonly session: number;
  handles: number[];
  scores: Float64Array[];
  /** The distribution of the first held dialog's class when an earlier part was decoded already. */
  initial: Float64Array | undefined;
}

export class SessionSmoother {
  private readonly held = new Map<number, HeldSession>();

  constructor(
    private readonly model: TemporalModel,
    private readonly decided: SmoothedDecision,
  ) {}

  /** Sessions held now (for tests and memory checks). */
  get openSessions(): number {
    return this.held.size;
  }

  /** The next dialog of flow `flowId`, in the flow's dialog order, with its class scores. */
  add(flowId: number, session: number, handle: number, scores: Float64Array): void {
    let held = this.held.get(flowId);
    if (held !== undefined && held.session !== session) {
      this.decode(held);
      held = undefined;
    }
    if (held === undefined) {
      held = { session, handles: [], scores: [], initial: undefined };
      this.held.set(flowId, held);
    }
    held.handles.push(handle);
    held.scores.push(scores);
    if (held.handles.length >= MAX_HELD_DIALOGS) {
      held.initial = this.model.transitionsFrom(this.decode(held));
      held.handles = [];
      held.scores = [];
    }
  }

  /**
   * Session `session` of the flow is complete (idle past the session gap; FLOW_ENDED: the flow
   * ended). Nothing is held for it when the flow's next session began meanwhile: add() decoded it
   * then, and the session now held is another one.
   */
  endSession(flowId: number, session: number = FLOW_ENDED): void {
    const held = this.held.get(flowId);
    if (held === undefined || (session !== FLOW_ENDED && held.session !== session)) return;
    this.held.delete(flowId);
    this.decode(held);
  }

  /** End of input: every open session is complete (decoded in the order they opened). */
  finish(): void {
    for (const held of this.held.values()) this.decode(held);
    this.held.clear();
  }

  /** Decides the held dialogs of `held`; returns the last one's label. */
  private decode(held: HeldSession): number {
    if (held.handles.length === 0) return -1;
    const options = held.initial === undefined ? {} : { initial: held.initial };
    const path = this.model.viterbiIndices(held.scores, options);
    const marginals = this.model.smoothedMarginals(held.scores, options);
    held.handles.forEach((handle, index) => this.decided(handle, path[index]!, marginals[index]![path[index]!]!));
    return path[path.length - 1]!;
  }
}
