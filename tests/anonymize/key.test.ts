import { describe, expect, it } from 'vitest';
import { IpAnonymizer } from '../../agent/src/anonymize/anonymizer';
import { PASSPHRASE_SALT, derivePassphraseKey, parseAnonymizeKey } from '../../agent/src/anonymize/key';
import { SAMPLE_KEY } from './support';

const SAMPLE_HEX = Buffer.from(SAMPLE_KEY).toString('hex');

describe('--anonymize KEY', () => {
  it('reads 64 hex digits as the 32 key bytes', () => {
    expect(parseAnonymizeKey(SAMPLE_HEX)).toEqual({ bytes: SAMPLE_KEY, source: 'hex' });
    expect(parseAnonymizeKey(SAMPLE_HEX.toUpperCase()).bytes).toEqual(SAMPLE_KEY);
    expect(parseAnonymizeKey(`0x${SAMPLE_HEX}`).bytes).toEqual(SAMPLE_KEY);
    expect(new IpAnonymizer(parseAnonymizeKey(SAMPLE_HEX).bytes).anonymize('128.11.68.132')).toBe('135.242.180.132');
  });

  it('turns a passphrase into a fixed 32-byte key with scrypt and the documented salt', () => {
    const key = parseAnonymizeKey('correct horse battery staple');
    expect(key.source).toBe('passphrase');
    expect(key.bytes).toHaveLength(32);
    expect(parseAnonymizeKey('correct horse battery staple').bytes).toEqual(key.bytes);
    expect(parseAnonymizeKey('correct horse battery stapler').bytes).not.toEqual(key.bytes);
    // Pinned: changing the KDF, its parameters or the salt would silently change every mapping.
    expect(PASSPHRASE_SALT).toBe('cumma/anonymize/crypto-pan/v1');
    expect(Buffer.from(key.bytes).toString('hex')).toBe(PINNED_PASSPHRASE_KEY);
    // Composed and decomposed spellings of the same text give the same key.
    expect(derivePassphraseKey('caf\u00e9 au lait')).toEqual(derivePassphraseKey('cafe\u0301 au lait'));
    // Short all-hex passphrases are passphrases.
    expect(parseAnonymizeKey('12345678').source).toBe('passphrase');
  });

  it('refuses placeholder keys and passphrases that anyone would guess first', () => {
    for (const bad of ['0'.repeat(64), 'ab'.repeat(32), 'f0f0'.repeat(16)]) expect(() => parseAnonymizeKey(bad), bad).toThrow(/a placeholder anyone can guess/);
    for (const bad of ['aaaaaaaa', ' '.repeat(8), 'abababab']) expect(() => parseAnonymizeKey(bad), JSON.stringify(bad)).toThrow(/anyone can guess it/);
    // Three distinct values are enough not to be a placeholder; real keys have ~30 distinct bytes.
    expect(parseAnonymizeKey('abcabcab').source).toBe('passphrase');
    expect(parseAnonymizeKey('f0e1d2'.repeat(10) + 'f0e1').source).toBe('hex');
  });

  it('refuses bad values with a message naming the accepted forms', () => {
    const forms = /--anonymize expects either 64 hexadecimal digits .* or a passphrase of at least 8 characters/;
    for (const bad of ['', 'short', SAMPLE_HEX.slice(0, 62), `${SAMPLE_HEX}00`, SAMPLE_HEX.slice(0, 32), '0x1234abcd']) {
      expect(() => parseAnonymizeKey(bad), bad).toThrow(forms);
    }
    expect(() => parseAnonymizeKey(SAMPLE_HEX.slice(0, 63))).toThrow(/got 63 hexadecimal digits/);
    expect(() => parseAnonymizeKey('')).toThrow(/got an empty value/);
    try {
      parseAnonymizeKey('abc');
      expect.unreachable();
    } catch (error) {
      // The CLI reports UsageErrors with its usage text and exit code 2.
      expect((error as Error).name).toBe('UsageError');
    }
  });
});

/** scrypt(N=2^15, r=8, p=1) of 'correct horse battery staple' with the salt above, computed with node -e. */
const PINNED_PASSPHRASE_KEY = '7e0e2a5dd9aca8917e5b52856d1a3e51aca0a12d97f01fa8009c6478cee5ef48';
