/** A mistake in the command line: reported with the usage text and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Plain decimal only: Number() would also take '0x10', '1e3' and ' 5 ', which nobody means. */
const DECIMAL = /^\d+(\.\d+)?$|^\.\d+$/;

export function parsePositiveNumber(option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${option} expects a positive number, got '${text}'`);
  }
  return value;
}

/** The values a count may take: `max` where more would only exhaust memory or time. */
export interface CountRange {
  readonly min?: number;
  readonly max: number;
}

/**
 * A count (trees, folds, flows): 1.5 of them is a mistake to report, not to round. Outside
 * `range` it is refused with the range (100 000 000 trees would end in an out-of-memory abort
 * after minutes of silence).
 */
export function parsePositiveInteger(option: string, text: string | undefined, fallback: number, range?: CountRange): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  const digits = /^\d+$/.test(text);
  const wholeNumber = digits && value > 0;
  // Digits past the maximum, or 0, are out of range, however many: not "not a whole number".
  if (digits && range !== undefined && (value > range.max || value < (range.min ?? 1))) {
    throw new UsageError(`--${option} must be from ${range.min ?? 1} to ${range.max}, got '${text}'`);
  }
  if (!wholeNumber || !Number.isSafeInteger(value)) throw new UsageError(`--${option} expects a positive whole number, got '${text}'`);
  return value;
}

export function parseChoice<T extends string>(option: string, text: string | undefined, choices: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${option} must be one of ${choices.join(', ')}; got '${text}'`);
  }
  return text as T;
}
