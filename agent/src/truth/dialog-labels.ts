/**
 * Turns the truth comments found on a dialog's packets into that dialog's label. One labelled
 * packet labels the whole dialog (an analyst comments a single packet); packets with different
 * labels in one dialog are a conflict, reported with the frames that carry each label.
 */
import { UsageClass } from '../labels';
import { parseTruthComment } from './truth-comment';

export interface LabelConflict {
  /** Frame numbers (1-based, as Wireshark counts) carrying each label. */
  readonly framesByUsage: ReadonlyMap<UsageClass, readonly number[]>;
}

export class DialogLabelConflictError extends Error {
  override readonly name = 'DialogLabelConflictError';
  readonly code = 'TRUTH_LABEL_CONFLICT';

  constructor(
    readonly dialogDescription: string,
    readonly conflict: LabelConflict,
  ) {
    super(`${dialogDescription} carries conflicting labels: ${conflictListing(conflict)}`);
  }
}

/** `photo (frames 90, 91); file (frames 95, … 7 in all)`: each label with the frames carrying it. */
export function conflictListing(conflict: LabelConflict): string {
  return [...conflict.framesByUsage]
    .map(([usage, frames]) => `${usage} (frames ${frames.slice(0, 5).join(', ')}${frames.length > 5 ? `, … ${frames.length} in all` : ''})`)
    .join('; ');
}

/** Collects the labels of one dialog's packets. */
export class DialogLabels {
  private readonly frames = new Map<UsageClass, number[]>();

  /** Records a packet's comments; only `cumma:` comments count. */
  add(frameNumber: number, comments: readonly string[]): void {
    for (const comment of comments) {
      const truth = parseTruthComment(comment);
      if (truth === undefined) continue;
      const frames = this.frames.get(truth.usage);
      if (frames === undefined) this.frames.set(truth.usage, [frameNumber]);
      else if (frames[frames.length - 1] !== frameNumber) frames.push(frameNumber);
    }
  }

  get labelled(): boolean {
    return this.frames.size > 0;
  }

  /** How many different labels the dialog's packets carry. */
  get distinct(): number {
    return this.frames.size;
  }

  /** The dialog's label, undefined if no packet was labelled; throws on conflicting labels. */
  usage(describe: () => string): UsageClass | undefined {
    if (this.frames.size === 0) return undefined;
    if (this.frames.size > 1) throw new DialogLabelConflictError(describe(), { framesByUsage: this.frames });
    return this.frames.keys().next().value;
  }

  /** The labels and their frames, for reporting a mixed dialog. */
  get conflict(): LabelConflict {
    return { framesByUsage: this.frames };
  }

  /** The label most packets carry (ties: first seen), for mixed dialogs where the caller allows it. */
  majority(): UsageClass | undefined {
    let best: UsageClass | undefined;
    let bestCount = 0;
    for (const [usage, frames] of this.frames) {
      if (frames.length > bestCount) {
        best = usage;
        bestCount = frames.length;
      }
    }
    return best;
  }
}
