/**
 * `--anonymize KEY` and `--anonymize-key-file FILE` of `cumma flows`, `classify` and `watch`: the
 * same key, given on the command line or in a file. A key on the command line can be read by
 * every local user (`ps`, /proc/PID/cmdline) while the command runs, and Crypto-PAn is undone
 * with it; the file keeps it private (key-file.ts).
 */
import { AnonymizeKey, parseAnonymizeKey } from '../anonymize/key';
import { readAnonymizeKeyFile } from '../anonymize/key-file';
import { UsageError } from './usage-error';

export const ANONYMIZE_OPTIONS = {
  anonymize: { type: 'string' },
  'anonymize-key-file': { type: 'string' },
} as const;

/** The usage line's part for the two options. */
export const ANONYMIZE_SYNOPSIS = '[--anonymize KEY | --anonymize-key-file FILE]';

/** What the usage texts say of the key, after what anonymising does (indented by `indent`). */
export function anonymizeKeyHelp(indent: string): string {
  return [
    `KEY is 64 hex digits or a passphrase of at least 8 characters; a KEY on the`,
    `command line is visible to other local users (ps): --anonymize-key-file FILE`,
    `reads it from FILE instead (a final line end ignored), a file or pipe that group`,
    `and others cannot access: --anonymize-key-file <(pass show cumma)`,
  ]
    .map((line) => `${indent}${line}`)
    .join('\n');
}

/** The key given by either option, or undefined when neither is given. */
export function parseAnonymizeOption(values: { readonly anonymize?: string; readonly 'anonymize-key-file'?: string }): AnonymizeKey | undefined {
  const file = values['anonymize-key-file'];
  if (values.anonymize !== undefined && file !== undefined) throw new UsageError('give --anonymize KEY or --anonymize-key-file FILE, not both');
  if (file !== undefined) return readAnonymizeKeyFile(file);
  return values.anonymize === undefined ? undefined : parseAnonymizeKey(values.anonymize);
}
