/** A mistake in the command line: reported with the usage text and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parsePositiveNumber(option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${option} expects a positive number, got '${text}'`);
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
