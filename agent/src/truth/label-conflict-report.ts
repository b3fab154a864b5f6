/**
 * Reports dialogs whose truth disagrees with itself (TRUTH_LABEL_CONFLICT): packets of one dialog
 * commented with different labels, or truth-sidecar lines giving one dialog different usages.
 * Either may be legitimate (a mixed dialog, DESIGN.md) or a slip, and both look the same, so
 * training and scoring go on under one label and every such dialog is told: the first few of a
 * capture in full, then a count, so that a file full of them does not bury everything else.
 */
import { endpointText } from '../flows/flow-record';
import { UsageClass } from '../labels';
import { FlowEndpoints } from '../segment/dialog';

/** Conflicting dialogs reported in full per capture (or sidecar); the rest are counted. */
export const CONFLICTS_SHOWN = 5;

/** What a message needs to name a dialog. */
export interface ConflictingDialog {
  readonly flow: FlowEndpoints;
  readonly session: number;
  readonly dialog: number;
}

export class LabelConflictReport {
  private count = 0;

  /**
   * @param source the file the labels come from (the capture, or its truth sidecar): messages
   *   start with it.
   */
  constructor(
    private readonly source: string,
    private readonly onWarning: ((message: string) => void) | undefined,
  ) {}

  /**
   * One conflicting dialog: `listing` names each label with where it was found ("photo (frames
   * 90, 91); file (frames 95)"), `rule` why `chosen` was counted ("the label most of its packets
   * carry").
   */
  report(dialog: ConflictingDialog, listing: string, chosen: UsageClass | undefined, rule: string): void {
    this.count++;
    if (this.onWarning === undefined || this.count > CONFLICTS_SHOWN) return;
    const { l4, client, server } = dialog.flow;
    this.onWarning(
      `${this.source}: dialog ${dialog.session}/${dialog.dialog} of ${l4} ${endpointText(client)} → ${endpointText(server)} carries conflicting labels: ` +
        `${listing}; counted as ${chosen ?? '?'}, ${rule} [TRUTH_LABEL_CONFLICT]`,
    );
  }

  /** The count of those not shown; then the report starts again. */
  finish(): void {
    if (this.onWarning !== undefined && this.count > CONFLICTS_SHOWN) {
      this.onWarning(`${this.source}: ${this.count - CONFLICTS_SHOWN} more dialogs carry conflicting labels (${this.count} in all) [TRUTH_LABEL_CONFLICT]`);
    }
    this.count = 0;
  }
}
