/**
 * Dialog records as DESIGN.md defines them: the flow fields (here counted over the dialog's own
 * packets) plus the capture, session and dialog numbers, times, the verdict with its confidence
 * and per-class scores, the status and the model that produced it.
 */
import { DirectionCounts, Endpoint, TransportName } from '../flows/flow-record';
import { UsageClass, UsageVerdict } from '../labels';

export interface DialogRecord {
  readonly l4: TransportName;
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** First and last packet of the dialog (µs since the epoch); the same as startUs/endUs. */
  readonly firstUs: number;
  readonly lastUs: number;
  readonly packets: DirectionCounts;
  readonly bytes: DirectionCounts;
  readonly capture: string;
  readonly session: number;
  readonly dialog: number;
  readonly startUs: number;
  readonly endUs: number;
  readonly usage: UsageVerdict;
  /** Score of the class chosen before the outlier check, 0..1. */
  readonly confidence: number;
  readonly scores: Readonly<Partial<Record<UsageClass, number>>>;
  readonly status: 'final' | 'provisional';
  readonly outlier: boolean;
  /** The model file's name and version, e.g. "default@1". */
  readonly model: string;
}
