/**
 * How `cumma flows` and `classify` word what they print on stderr besides their records (notes,
 * warnings, `--stats`, errors). These name the capture file, whose name often holds an address
 * (`10.0.0.5.pcapng`), and may quote addresses; with --anonymize they are anonymised like the
 * records, or the original would be printed beside its image and give the keyed map away.
 * (`cumma watch` does the same through its terminal AddressRedactor.)
 */
import { anonymizeAddressesInText } from '../anonymize/address-text';
import { IpAnonymizer } from '../anonymize/anonymizer';

export type MessageText = (text: string) => string;

/** Messages as they are (no --anonymize), or with their addresses anonymised by `anonymizer`. */
export function messageText(anonymizer: IpAnonymizer | undefined): MessageText {
  if (anonymizer === undefined) return (text) => text;
  return (text) => anonymizeAddressesInText(anonymizer, text);
}

/**
 * Runs a command's work; an error it throws leaves it with its message in `words`. main.ts prints
 * the errors commands throw, and knows nothing of their options.
 */
export async function reportingIn<T>(words: MessageText, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error) error.message = words(error.message);
    throw error;
  }
}
