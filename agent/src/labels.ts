/**
 * The service-usage label set shared by every part (DESIGN.md): the trained classes, the
 * `unknown` verdict for outliers, and the coarse groups that real captures support.
 */

export const USAGE_CLASSES = [
  'text',
  'photo',
  'voice_note',
  'video_clip',
  'file',
  'location',
  'voice_call',
  'video_call',
  'streaming',
  'other',
] as const;

export type UsageClass = (typeof USAGE_CLASSES)[number];

/** What a classifier may answer: a class, or `unknown` for a dialog like none of them. */
export type UsageVerdict = UsageClass | 'unknown';

export const COARSE_GROUPS = ['chat', 'media', 'call', 'streaming', 'other'] as const;
export type CoarseGroup = (typeof COARSE_GROUPS)[number];

const GROUP_OF: Readonly<Record<UsageClass, CoarseGroup>> = {
  text: 'chat',
  location: 'chat',
  photo: 'media',
  voice_note: 'media',
  video_clip: 'media',
  file: 'media',
  voice_call: 'call',
  video_call: 'call',
  streaming: 'streaming',
  other: 'other',
};

export function coarseGroupOf(usage: UsageClass): CoarseGroup {
  return GROUP_OF[usage];
}

export function isUsageClass(value: string): value is UsageClass {
  return (USAGE_CLASSES as readonly string[]).includes(value);
}
