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

/** A count (trees, folds, flows): 1.5 of them is a mistake to report, not to round. */
export function parsePositiveInteger(option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`--${option} expects a positive whole number, got '${text}'`);
  }
  return value;
}

export function parseChoice<T extends string>(option: string, text: string | undefined, choices: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${option} must be one of ${choices.join(', ')}; got '${text}'`);
  }
  return text as T;
}
