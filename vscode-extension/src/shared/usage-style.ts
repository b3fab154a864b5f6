/** One colour per usage verdict, shared by the panel's table and timeline and the capture editor. */
import type { UsageVerdict } from '../../../agent/src/labels';
import { USAGE_VERDICTS } from './protocol-guard';

export const USAGE_COLOURS: Readonly<Record<UsageVerdict, string>> = {
  text: '#4e79a7',
  location: '#76b7b2',
  photo: '#f28e2b',
  voice_note: '#edc948',
  video_clip: '#ff9da7',
  file: '#b07aa1',
  voice_call: '#59a14f',
  video_call: '#8cd17d',
  streaming: '#e15759',
  other: '#9c755f',
  unknown: '#bab0ac',
};

/** Index of a verdict in USAGE_VERDICTS: how the capture editor stores a label per packet. */
export function usageCode(usage: UsageVerdict): number {
  return USAGE_VERDICTS.indexOf(usage);
}

/** No label for this packet (no dialog matched it). */
export const NO_USAGE = 255;

export function usageOfCode(code: number): UsageVerdict | undefined {
  return code === NO_USAGE ? undefined : USAGE_VERDICTS[code];
}
