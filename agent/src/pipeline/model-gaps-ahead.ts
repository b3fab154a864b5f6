/**
 * A model's segmentation gaps read from the first kilobytes of its file, without parsing the
 * rest. `cumma classify` segments with them while its labelling thread is still parsing the
 * 7 MB model: waiting for that thread's header cost ≈ 150 ms of the bench file's 1.7 s. (The
 * rest of the header, for the records, comes from the labeller with its first verdicts.)
 *
 * Saved models write these members before the classifier, so they sit in the first few KB. The
 * scan walks the top-level object member by member, skipping values it does not want without
 * parsing them, and gives up (undefined) on anything unexpected: a file that is not JSON or not
 * a model of this format and version, gaps the segmenter cannot use, a wanted member repeated
 * before the last is found, or one not within the prefix (a model written by other tools may
 * put its classifier first). Giving up is never an error here; the caller then waits for the
 * full parse, which reports what is wrong with the file. A repeat after the prefix is beyond
 * any prefix scan: the labelling thread compares the gaps with the loaded model's
 * (LabelingThread.expectGaps).
 */
import { closeSync, readSync } from 'node:fs';
import { openRegularFile } from '../common/file-kind';
import { InvalidMemberError } from '../common/json-checks';
import { SegmentationGaps, checkSegmentationGaps } from '../segment/dialog';
import { MODEL_FORMAT, MODEL_VERSION } from './usage-model';

/** Saved models hold these members in the first ≈ 4 KB; the rest of this is margin. */
const PREFIX_BYTES = 64 * 1024;

const WANTED = ['format', 'version', 'gaps'] as const;
type WantedMember = (typeof WANTED)[number];

export function readModelGapsAhead(path: string): SegmentationGaps | undefined {
  let text: string;
  try {
    // Never waits on a FIFO nor reads a device: the labelling thread's full load names those.
    const fd = openRegularFile(path);
    try {
      const prefix = Buffer.alloc(PREFIX_BYTES);
      const length = readSync(fd, prefix, 0, PREFIX_BYTES, 0);
      text = prefix.toString('utf8', 0, length);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  return modelGapsFromPrefix(text);
}

/** The gaps from the start of a model file's text, or undefined when they are not all there. */
export function modelGapsFromPrefix(text: string): SegmentationGaps | undefined {
  const members = leadingMembers(text);
  if (members === undefined) return undefined;
  const { format, version, gaps } = members;
  if (format !== MODEL_FORMAT || version !== MODEL_VERSION) return undefined;
  // Gaps the segmenter cannot use (−5, 0, "abc") are left to the full load, which reports
  // them as MODEL_INVALID naming the file and the member: segmenting with them would fail
  // first, with an error that names neither.
  try {
    return checkSegmentationGaps(gaps, 'gaps');
  } catch (error) {
    if (error instanceof InvalidMemberError) return undefined;
    throw error;
  }
}

/** The wanted members of the top-level object, parsed, once all are seen; undefined if they are not. */
function leadingMembers(text: string): Record<WantedMember, unknown> | undefined {
  const found = new Map<string, unknown>();
  let at = skipSpace(text, 0);
  if (text[at] !== '{') return undefined;
  at++;
  for (;;) {
    at = skipSpace(text, at);
    if (text[at] !== '"') return undefined;
    const keyEnd = stringEnd(text, at);
    if (keyEnd < 0) return undefined;
    const key: unknown = JSON.parse(text.slice(at, keyEnd));
    at = skipSpace(text, keyEnd);
    if (text[at] !== ':') return undefined;
    at = skipSpace(text, at + 1);
    const valueEnd = valueEndAt(text, at);
    if (valueEnd < 0) return undefined;
    if (typeof key === 'string' && (WANTED as readonly string[]).includes(key)) {
      // A repeated member: JSON.parse keeps the last one, which may lie beyond the prefix.
      if (found.has(key)) return undefined;
      try {
        found.set(key, JSON.parse(text.slice(at, valueEnd)));
      } catch {
        return undefined;
      }
      if (found.size === WANTED.length) return Object.fromEntries(found) as Record<WantedMember, unknown>;
    }
    at = skipSpace(text, valueEnd);
    if (text[at] !== ',') return undefined;
    at++;
  }
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && (text[at] === ' ' || text[at] === '\n' || text[at] === '\r' || text[at] === '\t')) at++;
  return at;
}

/** Index just past the string opening at `at`, or -1 when it does not end within the text. */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  return -1;
}

/**
 * Index just past the JSON value starting at `at`, or -1 when it does not end within the text.
 * Only finds the end: JSON.parse judges the value itself.
 */
function valueEndAt(text: string, at: number): number {
  const first = text[at];
  if (first === '"') return stringEnd(text, at);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        const end = stringEnd(text, i);
        if (end < 0) return -1;
        i = end - 1;
      } else if (c === '{' || c === '[') {
        depth++;
      } else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: runs to the next delimiter, which must be in the text.
  let i = at;
  while (i < text.length && !',}] \n\r\t'.includes(text[i]!)) i++;
  return i < text.length && i > at ? i : -1;
}
