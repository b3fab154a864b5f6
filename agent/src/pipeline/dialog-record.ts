/**
 * Dialog records as DESIGN.md defines them: the flow fields (here counted over the dialog's own
 * packets) plus the capture, session and dialog numbers, times, the verdict with its confidence
 * and per-class scores, the status and the model that produced it.
 */
import { FlowRecord } from '../flows/flow-record';
import { UsageClass, UsageVerdict } from '../labels';

/**
 * The flow fields count the dialog's own packets and bytes; firstUs/lastUs are its first and
 * last packet, the same as startUs/endUs.
 */
export interface DialogRecord extends FlowRecord {
  readonly capture: string;
  readonly session: number;
  readonly dialog: number;
  readonly startUs: number;
  readonly endUs: number;
  readonly usage: UsageVerdict;
  /** Probability of the chosen class after temporal filtering (before the outlier check), 0..1. */
  readonly confidence: number;
  readonly scores: Readonly<Partial<Record<UsageClass, number>>>;
  readonly status: 'final' | 'provisional';
  readonly outlier: boolean;
  /** The model file's name and version, e.g. "default@1". */
  readonly model: string;
}
