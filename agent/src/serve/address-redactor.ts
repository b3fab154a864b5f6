/**
 * Anonymisation of what the server hands out, when it runs with an anonymisation key (given with
 * `cumma watch --anonymize`, or kept by an agent bound beyond loopback). Dialog endpoints go through the project's Crypto-PAn IpAnonymizer;
 * free text that may quote an address (capture errors and names) has every IPv4/IPv6 address
 * in it replaced by its image. Dialog ids are replaced by a keyed digest of the original id
 * (servedDialogId): the original is an unkeyed hash of the 5-tuple, which anyone can brute-force
 * back to the addresses, while an HMAC under the anonymisation key stays unique and stable but
 * reveals nothing without the key.
 *
 * Only text the agent itself produced may go through text(): anonymising text a client chose (a
 * subscribed name, a requested path) and sending it back would hand that client the Crypto-PAn
 * image of any address it likes, an oracle that inverts the prefix-preserving map bit by bit.
 * A dialog whose endpoint is not an address cannot be anonymised and is withheld, never served
 * as it is. Capture paths lose their folders (which name users and projects): clients see the
 * file name only, in the path field and in error texts. Watched folders are served under a keyed
 * digest of their path (servedFolderName): their own names are the very ones that name users and
 * customers, and nothing but a stable name to tell them apart is needed. A file name can itself be an address
 * (dumpcap writing `10.0.0.5.pcapng`), so capture names are served through the same scrubbing,
 * kept unique (served-names.ts); clients subscribe with the served names (MessageEncoder
 * translates them back).
 */
import { createHmac } from 'node:crypto';
import { basename } from 'node:path';
import { anonymizeAddressesInText } from '../anonymize/address-text';
import { IpAnonymizer } from '../anonymize/anonymizer';
import { CaptureInfo, FolderInfo, LiveDialog } from '../live/label-feed';
import { ServedNames } from './served-names';

export interface AddressRedactor {
  readonly active: boolean;
  /** The dialog as served, or undefined when it cannot be served safely. */
  dialog(dialog: LiveDialog): LiveDialog | undefined;
  capture(capture: CaptureInfo): CaptureInfo;
  /** The name a capture is served under (what clients subscribe with): addresses replaced, unique among the watched captures. */
  captureName(name: string): string;
  /** A watched folder as served: its path replaced by a keyed digest when anonymising. */
  folder(folder: FolderInfo): FolderInfo;
  /** Agent-produced text about a watched folder (a `folder` event's message): the folder named as served, other folders cut. */
  folderText(folder: FolderInfo, text: string): string;
  /** Agent-produced text (never a client's): addresses replaced. */
  text(text: string): string;
  /** Agent-produced text about a capture file (a `capture` event's message): folders cut, addresses replaced. */
  captureText(text: string): string;
}

export const passThrough: AddressRedactor = {
  active: false,
  dialog: (dialog) => dialog,
  capture: (capture) => capture,
  captureName: (name) => name,
  folder: (folder) => folder,
  folderText: (_folder, text) => text,
  text: (text) => text,
  captureText: (text) => text,
};

/** Length of a served dialog id, in hex digits: the same as dialogId()'s, so clients see one format. */
const DIALOG_ID_HEX_DIGITS = 20;

/**
 * The id an anonymised agent serves for the dialog whose real id is `id`: HMAC-SHA256 under the
 * anonymisation key, cut to the real ids' length. Deterministic, so the same dialog has the same
 * served id in every message, on every endpoint and across restarts with the same key.
 */
export function servedDialogId(key: Uint8Array, id: string): string {
  return createHmac('sha256', key).update('cumma/dialog-id/v1\u0000').update(id).digest('hex').slice(0, DIALOG_ID_HEX_DIGITS);
}

/**
 * The name an anonymised agent serves for the watched folder at `path`: `folder-` and 12 hex
 * digits of HMAC-SHA256 under the anonymisation key. Stable (the same in hello and every event,
 * across restarts with the same key), distinct per folder, and saying nothing of the path.
 */
export function servedFolderName(key: Uint8Array, path: string): string {
  return `folder-${createHmac('sha256', key).update('cumma/folder/v1\u0000').update(path).digest('hex').slice(0, 12)}`;
}

/**
 * `watchedCaptures`: the names of the captures watched now, so that the served names of captures
 * gone can be given to others (served-names.ts); without it none is given again.
 */
export function createAddressRedactor(
  anonymizer: IpAnonymizer,
  key: Uint8Array,
  onWithheld: (dialog: LiveDialog, reason: string) => void,
  watchedCaptures?: () => Iterable<string>,
): AddressRedactor {
  const text = (input: string): string => anonymizeAddressesInText(anonymizer, input);
  const names = new ServedNames(text, watchedCaptures);
  return {
    active: true,
    dialog(dialog) {
      try {
        const anonymized = anonymizer.anonymizeEndpoints(dialog);
        return { ...anonymized, id: servedDialogId(key, dialog.id), capture: names.of(dialog.capture) };
      } catch (error) {
        onWithheld(dialog, (error as Error).message);
        return undefined;
      }
    },
    capture(capture) {
      const served = { ...capture, name: names.of(capture.name), path: text(basename(capture.path)) };
      if (capture.error !== undefined) served.error = text(withoutFolder(capture.error));
      if (capture.warning !== undefined) served.warning = text(withoutFolder(capture.warning));
      return served;
    },
    captureName: (name) => names.of(name),
    folder: (folder) => ({ ...folder, path: servedFolderName(key, folder.path) }),
    folderText: (folder, input) => text(withoutFolder(input.split(folder.path).join(servedFolderName(key, folder.path)))),
    text,
    captureText: (input) => text(withoutFolder(input)),
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
