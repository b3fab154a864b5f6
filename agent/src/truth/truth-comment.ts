/**
 * Ground truth travels inside captures as packet comments (pcapng opt_comment, Wireshark's
 * frame.comment): `cumma:usage=<label> session=<n> dialog=<n>` from the simulator and recorder,
 * or just `cumma:usage=<label>` typed by an analyst (Edit ▸ Packet Comment). Other comments
 * are left alone.
 */
import { USAGE_CLASSES, UsageClass, isUsageClass } from '../labels';

const PREFIX = 'cumma:';

export interface TruthComment {
  readonly usage: UsageClass;
  readonly session?: number;
  readonly dialog?: number;
}

export class TruthCommentError extends Error {
  override readonly name = 'TruthCommentError';
  readonly code = 'TRUTH_BAD_COMMENT';

  constructor(
    readonly detail: string,
    /** Where the comment is: the file, frame and byte offset, once a reader knows them. */
    readonly where?: string,
  ) {
    super(`${where !== undefined ? `${where}: ` : ''}${detail} [TRUTH_BAD_COMMENT]`);
  }

  /** The same error, placed (parsing sees a comment; its caller knows the packet). */
  at(where: string): TruthCommentError {
    return new TruthCommentError(this.detail, this.where === undefined ? where : `${where}: ${this.where}`);
  }
}

export function formatTruthComment(truth: { usage: UsageClass; session: number; dialog: number }): string {
  return `${PREFIX}usage=${truth.usage} session=${truth.session} dialog=${truth.dialog}`;
}

/** Whether a comment is meant for Cumma at all (then it must parse). */
export function isTruthComment(comment: string): boolean {
  return comment.trimStart().startsWith(PREFIX);
}

/** Parses a `cumma:` comment; undefined for other comments; throws on a malformed one. */
export function parseTruthComment(comment: string): TruthComment | undefined {
  const text = comment.trim();
  if (!text.startsWith(PREFIX)) return undefined;
  const fields = new Map<string, string>();
  for (const part of text.slice(PREFIX.length).split(/\s+/).filter(Boolean)) {
    const equals = part.indexOf('=');
    if (equals <= 0) throw new TruthCommentError(`comment '${comment}': '${part}' is not key=value`);
    fields.set(part.slice(0, equals), part.slice(equals + 1));
  }
  const usage = fields.get('usage');
  if (usage === undefined) throw new TruthCommentError(`comment '${comment}' has no usage=<label>`);
  if (!isUsageClass(usage)) {
    throw new TruthCommentError(`comment '${comment}': unknown usage '${usage}'; valid labels: ${USAGE_CLASSES.join(', ')}`);
  }
  const number = (key: string): number | undefined => {
    const value = fields.get(key);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new TruthCommentError(`comment '${comment}': ${key} must be a non-negative integer, got '${value}'`);
    return Number(value);
  };
  const session = number('session');
  const dialog = number('dialog');
  return { usage, ...(session !== undefined ? { session } : {}), ...(dialog !== undefined ? { dialog } : {}) };
}
