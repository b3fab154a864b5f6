/**
 * `--temporal viterbi|forward|off` of `cumma classify` and `cumma evaluate` (dialog-labeler.ts
 * explains the modes), with `--no-temporal`, the older spelling of `--temporal off`.
 */
import { DEFAULT_TEMPORAL, TEMPORAL_MODES, TemporalMode } from '../pipeline/dialog-labeler';
import { UsageError, parseChoice } from './usage-error';

export const TEMPORAL_HELP = `  --temporal     how a label uses the other dialogs of its session: forward (default; earlier
                 dialogs only, as the live agent labels), viterbi (the whole session, earlier and
                 later dialogs: better on simulated traffic, worse on the real captures we have,
                 see docs/classification.md), off (each dialog alone)
  --no-temporal  the same as --temporal off`;

export const TEMPORAL_OPTIONS = {
  temporal: { type: 'string' },
  'no-temporal': { type: 'boolean', default: false },
} as const;

export function parseTemporal(values: { readonly temporal?: string; readonly 'no-temporal'?: boolean }): TemporalMode {
  const mode = parseChoice('temporal', values.temporal, TEMPORAL_MODES, values['no-temporal'] ? 'off' : DEFAULT_TEMPORAL);
  if (values['no-temporal'] && mode !== 'off') throw new UsageError(`--no-temporal contradicts --temporal ${mode}`);
  return mode;
}
