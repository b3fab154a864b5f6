/**
 * Sessions and dialogs (DESIGN.md): a session is a run of a flow's packets with no idle gap
 * longer than the session gap; a dialog is a run inside a session with no idle gap longer than
 * the dialog gap. Every packet of a flow belongs to exactly one dialog.
 */
import { JsonObject } from '../common/json-checks';
import { DirectionCounts, Endpoint, TransportName } from '../flows/flow-record';

export interface SegmentationGaps {
  readonly sessionGapUs: number;
  readonly dialogGapUs: number;
}

/**
 * Defaults until the classifier's evaluation picks them: a dialog gap above the pauses inside
 * one activity (typing, segment cadence of streams) and below the pause between activities;
 * a session gap of a minute, longer than app keep-alive silences are short.
 */
export const DEFAULT_GAPS: SegmentationGaps = { sessionGapUs: 60_000_000, dialogGapUs: 5_000_000 };

/**
 * Gaps read from a file (a model's `gaps`), checked as the segmenter needs them:
 * 0 < dialog gap ≤ session gap, both finite. Throws InvalidMemberError naming the bad member.
 */
export function checkSegmentationGaps(value: unknown, path: string): SegmentationGaps {
  const gaps = JsonObject.at(value, path, 'an object { dialogGapUs, sessionGapUs }');
  const dialogGapUs = gaps.number('dialogGapUs', { above: 0 });
  const sessionGapUs = gaps.number('sessionGapUs', { min: dialogGapUs }, 'the dialog gap or more');
  return { dialogGapUs, sessionGapUs };
}

/** The flow a dialog belongs to, in DESIGN.md's client/server orientation. */
export interface FlowEndpoints {
  readonly l4: TransportName;
  readonly client: Endpoint;
  readonly server: Endpoint;
}

/** A finished dialog, with whatever the caller attached to it while it was open. */
export interface Dialog<Notes> {
  readonly flowId: number;
  readonly flow: FlowEndpoints;
  /** 1-based session number inside the flow. */
  readonly session: number;
  /** 1-based dialog number inside the flow (not restarting per session: stable ids). */
  readonly dialog: number;
  readonly startUs: number;
  readonly endUs: number;
  readonly packets: DirectionCounts;
  readonly bytes: DirectionCounts;
  readonly notes: Notes;
}
