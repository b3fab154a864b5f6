/**
 * What a usage generator gets: the script being built, the app's profile, the persistent chat
 * connection, when to start, how long a continuous activity (call, stream, live location)
 * lasts, and the truth tag its traffic carries.
 */
import { Prng } from '../common/prng';
import { AppProfile } from './app-profiles';
import { ScriptBuilder } from './script-builder';
import { TruthTag } from './traffic-script';

export interface DialogContext {
  readonly builder: ScriptBuilder;
  readonly prng: Prng;
  readonly profile: AppProfile;
  /** The app's persistent chat connection (signalling and message metadata travel on it). */
  readonly chat: number;
  readonly startUs: number;
  /** Length of a continuous activity; discrete ones (a photo, a text exchange) ignore it. */
  readonly durationUs: number;
  readonly truth: TruthTag;
}

/** Plans one dialog of a usage; returns when its traffic is planned to be over (µs). */
export type DialogGenerator = (context: DialogContext) => number;

export const SECOND = 1_000_000;
export const MILLISECOND = 1_000;

/** A value drawn log-normally around `median`, kept inside [min, max]. */
export function logNormalWithin(prng: Prng, median: number, sigma: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, prng.logNormal(median, sigma)));
}
