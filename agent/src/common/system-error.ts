/**
 * Node's system errors read "ENOSPC: no space left on device, write '/x/.y.123.tmp'": the code,
 * the reason, the system call and often a temporary path the user never named. Messages that
 * name the file themselves want only the reason.
 */

/** The reason of a system error without its code, system call and path; other errors' messages as they are. */
export function systemErrorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /^E[A-Z0-9]+: (.+?)(?:, [a-z_]+(?: .*)?)?$/.exec(message)?.[1] ?? message;
}

/** "no space left on device (ENOSPC)": the reason and, for a system error, its code. */
export function systemErrorWithCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return `${systemErrorReason(error)}${typeof code === 'string' ? ` (${code})` : ''}`;
}
