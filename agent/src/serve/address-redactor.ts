/**
 * Anonymisation of what the server hands out, when it runs with an anonymisation key (an agent
 * bound beyond loopback). Dialog endpoints go through the project's Crypto-PAn IpAnonymizer;
 * free text that may quote an address (dialog ids, capture errors) has every IPv4/IPv6 address
 * in it replaced by its image, so ids stay unique and stable (the mapping is a keyed bijection).
 * A dialog whose endpoint is not an address cannot be anonymised and is withheld, never served
 * as it is. Capture paths lose their folders (which name users and projects): clients see the
 * file name only, in the path field and in error texts. A file name can itself be an address
 * (dumpcap writing `10.0.0.5.pcapng`), so capture names are served through the same scrubbing;
 * clients subscribe with the served names (MessageEncoder translates them back).
 */
import { basename } from 'node:path';
import { IpAnonymizer } from '../anonymize/anonymizer';
import { CaptureInfo, LiveDialog } from '../live/label-feed';

export interface AddressRedactor {
  readonly active: boolean;
  /** The dialog as served, or undefined when it cannot be served safely. */
  dialog(dialog: LiveDialog): LiveDialog | undefined;
  capture(capture: CaptureInfo): CaptureInfo;
  text(text: string): string;
}

export const passThrough: AddressRedactor = {
  active: false,
  dialog: (dialog) => dialog,
  capture: (capture) => capture,
  text: (text) => text,
};

/**
 * IPv6-looking runs (hex, colons, a dotted tail) or dotted quads. A run that turns out not to be
 * an IPv6 address is searched again for dotted quads, so "x:10.0.0.1" still loses its address.
 */
const ADDRESS_LIKE = /[0-9A-Fa-f]*:[0-9A-Fa-f:.]+|\d{1,3}(?:\.\d{1,3}){3}/g;
const DOTTED_QUAD = /\d{1,3}(?:\.\d{1,3}){3}/g;

export function createAddressRedactor(anonymizer: IpAnonymizer, onWithheld: (dialog: LiveDialog, reason: string) => void): AddressRedactor {
  const tryAnonymize = (candidate: string): string | undefined => {
    try {
      return anonymizer.anonymize(candidate);
    } catch {
      return undefined;
    }
  };
  const text = (input: string): string =>
    input.replace(ADDRESS_LIKE, (run) => {
      if (run.includes(':')) {
        if ((run.match(/:/g) ?? []).length >= 2) {
          // A sentence's full stop may cling to the address.
          const address = run.replace(/\.+$/, '');
          const image = tryAnonymize(address);
          if (image !== undefined) return image + run.slice(address.length);
        }
        return run.replace(DOTTED_QUAD, (quad) => tryAnonymize(quad) ?? quad);
      }
      return tryAnonymize(run) ?? run;
    });
  return {
    active: true,
    dialog(dialog) {
      try {
        const anonymized = anonymizer.anonymizeEndpoints(dialog);
        return { ...anonymized, id: text(dialog.id), capture: text(dialog.capture) };
      } catch (error) {
        onWithheld(dialog, (error as Error).message);
        return undefined;
      }
    },
    capture(capture) {
      const served = { ...capture, name: text(capture.name), path: text(basename(capture.path)) };
      if (capture.error !== undefined) served.error = text(withoutFolder(capture.error));
      return served;
    },
    text,
  };
}

/**
 * The text with every absolute path (POSIX or Windows) cut to its file name: error texts quote
 * the capture's path in whatever spelling the failing call used, so matching the one known
 * string is not enough.
 */
function withoutFolder(text: string): string {
  return text.replace(/(?:[A-Za-z]:)?[\\/][^\s'"]*[\\/]([^\s'"\\/]+)/g, (_match, name: string) => name);
}
