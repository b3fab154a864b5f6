/**
 * The value of `--anonymize KEY` or the text of `--anonymize-key-file FILE` (key-file.ts): either
 * a Crypto-PAn key written as 64 hexadecimal digits (the 32 key bytes, as other Crypto-PAn tools
 * take them), or a passphrase turned into 32 key bytes.
 *
 * Passphrases go through scrypt (N = 2^15, r = 8, p = 1, about 30 MiB and a few tens of
 * milliseconds, once per run) rather than HKDF. HKDF is for input that is already uniformly
 * random; a passphrase is not, and whoever holds anonymised output plus a few known real
 * addresses (their own, a public DNS server) can test guesses offline, so each guess must be
 * expensive. The salt is fixed and public (PASSPHRASE_SALT) on purpose: the same passphrase must
 * give the same mapping on every machine and in every run, so that captures anonymised apart stay
 * comparable; a random salt would have to be stored and shared like a key. The price is that one
 * precomputed dictionary serves against every Cumma user, so use a long passphrase, or a random
 * hex key (`openssl rand -hex 32`).
 */
import { scryptSync } from 'node:crypto';
import { UsageError } from '../cli/usage-error';
import { CRYPTO_PAN_KEY_BYTES } from './crypto-pan';

/** Fixed, documented salt for passphrases; changing it changes every passphrase's mapping. */
export const PASSPHRASE_SALT = 'cumma/anonymize/crypto-pan/v1';

/** scrypt cost parameters for passphrases (part of the mapping: never change them silently). */
export const PASSPHRASE_SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/**
 * Keys and passphrases of at most this many distinct bytes or characters (64 zeros, "aaaaaaaa",
 * eight spaces) are refused: placeholders, the first values an attacker tries.
 */
const PLACEHOLDER_DISTINCT = 2;

/** Shortest passphrase accepted. */
export const MIN_PASSPHRASE_LENGTH = 8;

export const ANONYMIZE_KEY_FORMS =
  `either 64 hexadecimal digits (a 32-byte Crypto-PAn key, e.g. from 'openssl rand -hex 32') ` +
  `or a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters`;

/** How a key value was read, for messages ("anonymised with a passphrase-derived key"). */
export type AnonymizeKeySource = 'hex' | 'passphrase';

export interface AnonymizeKey {
  readonly bytes: Uint8Array;
  readonly source: AnonymizeKeySource;
}

/**
 * Reads `--anonymize KEY`. Refused, with an error naming the accepted forms:
 * an empty or too-short passphrase, and a value made only of hexadecimal digits (optionally
 * "0x"-prefixed) of length 32 or more other than 64, which is almost surely a mistyped hex key
 * and would otherwise be silently taken as a passphrase. `from` is where the value came from, as
 * the messages name it (a key file's messages name the file).
 */
export function parseAnonymizeKey(value: string, from = '--anonymize'): AnonymizeKey {
  const hex = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
  if (/^[0-9a-fA-F]+$/.test(hex)) {
    if (hex.length === CRYPTO_PAN_KEY_BYTES * 2) {
      const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
      if (new Set(bytes).size <= PLACEHOLDER_DISTINCT) {
        throw new UsageError(`${from}: the key repeats ${new Set(bytes).size === 1 ? 'one byte' : 'two bytes'}: a placeholder anyone can guess, not a secret; make one with 'openssl rand -hex 32'`);
      }
      return { bytes, source: 'hex' };
    }
    if (hex.length >= 32 || hex !== value) {
      throw new UsageError(`${from} expects ${ANONYMIZE_KEY_FORMS}; got ${hex.length} hexadecimal digits, which looks like a mistyped key`);
    }
  }
  if ([...value].length < MIN_PASSPHRASE_LENGTH) {
    throw new UsageError(`${from} expects ${ANONYMIZE_KEY_FORMS}; got ${value.length === 0 ? 'an empty value' : `only ${[...value].length} characters`}`);
  }
  if (new Set(value.trim()).size <= PLACEHOLDER_DISTINCT) {
    throw new UsageError(`${from}: the passphrase is ${value.trim() === '' ? 'only blanks' : 'one or two characters repeated'}: anyone can guess it; use a real passphrase or 'openssl rand -hex 32'`);
  }
  return { bytes: derivePassphraseKey(value), source: 'passphrase' };
}

/** The 32 Crypto-PAn key bytes for a passphrase (UTF-8, NFC-normalised so equal text gives equal keys). */
export function derivePassphraseKey(passphrase: string): Uint8Array {
  const { N, r, p, maxmem } = PASSPHRASE_SCRYPT;
  return Uint8Array.from(scryptSync(passphrase.normalize('NFC'), PASSPHRASE_SALT, CRYPTO_PAN_KEY_BYTES, { N, r, p, maxmem }));
}
