/**
 * Builds the traffic script of a simulated capture: one usage repeated (or held, for calls,
 * streams and live location) for the requested duration, or a whole app session mixing usages
 * in sequence over the same chat connection. Dialogs that share a connection are kept at least
 * MIN_DIALOG_GAP apart, so idle-gap segmentation can find them; keep-alives fill long idle
 * periods of the chat connection, and optional background traffic runs alongside.
 */
import { Prng } from '../common/prng';
import { USAGE_CLASSES, UsageClass } from '../labels';
import { AppName, drawAppProfile } from './app-profiles';
import { DialogContext, DialogGenerator, MILLISECOND, SECOND, logNormalWithin } from './dialog-context';
import { ScriptBuilder } from './script-builder';
import { TrafficScript, TruthTag } from './traffic-script';
import { planBackgroundDialog } from './usages/background';
import { planVideoCallDialog, planVoiceCallDialog } from './usages/calls';
import { planLocationDialog } from './usages/location';
import { planFileDialog, planPhotoDialog, planVideoClipDialog, planVoiceNoteDialog } from './usages/media';
import { planStreamingDialog } from './usages/streaming';
import { planTextDialog } from './usages/text';

/** Idle time that always separates two dialogs on one connection. */
export const MIN_DIALOG_GAP_US = 8 * SECOND;
const MAX_DIALOG_GAP_US = 40 * SECOND;

const GENERATORS: Readonly<Record<UsageClass, DialogGenerator>> = {
  text: planTextDialog,
  photo: planPhotoDialog,
  voice_note: planVoiceNoteDialog,
  video_clip: planVideoClipDialog,
  file: planFileDialog,
  location: planLocationDialog,
  voice_call: planVoiceCallDialog,
  video_call: planVideoCallDialog,
  streaming: planStreamingDialog,
  other: planBackgroundDialog,
};

/** Usages that last as long as the user keeps them going, rather than a fixed exchange. */
const CONTINUOUS: ReadonlySet<UsageClass> = new Set(['voice_call', 'video_call', 'streaming', 'location', 'other']);

/** How often each usage occurs in a simulated app session (chat dominates real use). */
const SCENARIO_WEIGHTS: Readonly<Record<UsageClass, number>> = {
  text: 5,
  photo: 2,
  voice_note: 2,
  video_clip: 1,
  file: 1,
  location: 1,
  voice_call: 1.5,
  video_call: 1,
  streaming: 1,
  other: 0.5,
};

/** One step of a scenario: a usage, and for calls, streams and live location how long (s). */
export interface ScenarioStep {
  readonly usage: UsageClass;
  readonly durationS?: number;
}

export type ScriptPlan = { readonly kind: 'usage'; readonly usage: UsageClass } | { readonly kind: 'scenario'; readonly steps?: readonly ScenarioStep[] };

export interface UsageScriptOptions {
  readonly plan: ScriptPlan;
  readonly app: AppName;
  readonly seed: number;
  readonly durationS: number;
  /** Add DNS, NTP, push and OS background traffic alongside (session 0, usage `other`). */
  readonly background: boolean;
}

const FOREGROUND_SESSION = 1;
const BACKGROUND_SESSION = 0;

function pickWeighted(prng: Prng): UsageClass {
  const total = USAGE_CLASSES.reduce((sum, usage) => sum + SCENARIO_WEIGHTS[usage], 0);
  let draw = prng.uniform(0, total);
  for (const usage of USAGE_CLASSES) {
    draw -= SCENARIO_WEIGHTS[usage];
    if (draw < 0) return usage;
  }
  return 'text';
}

/** Longest a scenario step lasts when the list gives it no SECONDS (scenarioDurationUs's bounds). */
const LONGEST_CALL_S = 180;
const LONGEST_STREAM_S = 120;
const LONGEST_LOCATION_S = 180;
const LONGEST_OTHER_S = 40;

/** Length of a continuous usage inside a scenario, where the whole session is the budget. */
function scenarioDurationUs(prng: Prng, usage: UsageClass): number {
  switch (usage) {
    case 'voice_call':
    case 'video_call':
      return logNormalWithin(prng, 45, 0.6, 15, LONGEST_CALL_S) * SECOND;
    case 'streaming':
      return prng.uniform(30, LONGEST_STREAM_S) * SECOND;
    case 'location':
      return prng.chance(0.5) ? 0 : prng.uniform(60, LONGEST_LOCATION_S) * SECOND;
    default:
      return prng.uniform(10, LONGEST_OTHER_S) * SECOND;
  }
}

/**
 * The seconds a scenario step is planned for at most: its own, or the longest its usage is
 * given by default. (Text and media exchanges are given the default budget too, though their
 * length is their content's.) Summed over a listed scenario, it bounds the capture's size
 * before anything is built: `cumma simulate` refuses a list that plans more than its longest
 * --duration.
 */
export function plannedStepS(step: ScenarioStep): number {
  if (step.durationS !== undefined) return step.durationS;
  switch (step.usage) {
    case 'voice_call':
    case 'video_call':
      return LONGEST_CALL_S;
    case 'streaming':
      return LONGEST_STREAM_S;
    case 'location':
      return LONGEST_LOCATION_S;
    default:
      return LONGEST_OTHER_S;
  }
}

export function buildTrafficScript(options: UsageScriptOptions): TrafficScript {
  const durationUs = options.durationS * SECOND;
  const prng = new Prng(options.seed);
  const profile = drawAppProfile(options.app, prng);
  const builder = new ScriptBuilder(prng, profile);
  let dialog = 0;
  const truth = (usage: UsageClass, session = FOREGROUND_SESSION): TruthTag => ({ usage, session, dialog: ++dialog });

  // The app connects to its chat server when it comes to the foreground.
  const chatOpenedUs = prng.uniform(0.05, 1) * SECOND;
  const chat = builder.open('tls', 'chat', profile.chatServer, chatOpenedUs, truth('other'));
  const context = (usage: UsageClass, startUs: number, activityUs: number): DialogContext => ({
    builder,
    prng,
    profile,
    chat,
    startUs,
    durationUs: activityUs,
    truth: truth(usage),
  });

  let time = builder.busyUntilUs(chat) + prng.uniform(MIN_DIALOG_GAP_US, MIN_DIALOG_GAP_US + 4 * SECOND);
  if (options.plan.kind === 'usage') {
    const usage = options.plan.usage;
    if (CONTINUOUS.has(usage)) {
      GENERATORS[usage](context(usage, time, Math.max(5 * SECOND, durationUs - time - 2 * SECOND)));
    } else {
      do {
        const end = GENERATORS[usage](context(usage, time, 0));
        time = Math.max(end, builder.busyUntilUs(chat)) + prng.uniform(MIN_DIALOG_GAP_US, MAX_DIALOG_GAP_US);
      } while (time < durationUs);
    }
  } else {
    const listed = options.plan.steps;
    for (let index = 0; listed ? index < listed.length : index < 3 || time < durationUs; index++) {
      const step = listed?.[index];
      const usage = step ? step.usage : pickWeighted(prng);
      const activityUs = step?.durationS !== undefined ? step.durationS * SECOND : scenarioDurationUs(prng, usage);
      const end = GENERATORS[usage](context(usage, time, activityUs));
      time = Math.max(end, builder.busyUntilUs(chat)) + prng.uniform(MIN_DIALOG_GAP_US, MAX_DIALOG_GAP_US);
    }
  }

  const endUs = Math.max(durationUs, builder.plannedEndUs + SECOND);
  planKeepAlives(builder, chat, chatOpenedUs, endUs, () => truth('other'));
  if (options.background) {
    dialog = 0;
    planBackgroundDialog({ builder, prng, profile, chat, startUs: prng.uniform(0, 2) * SECOND, durationUs: endUs - 3 * SECOND, truth: truth('other', BACKGROUND_SESSION) });
  }
  return builder.build(Math.max(endUs, builder.plannedEndUs));
}

/** Keep-alive ping/pong on the chat connection wherever it would otherwise idle too long. */
function planKeepAlives(builder: ScriptBuilder, chat: number, openedUs: number, endUs: number, nextTruth: () => TruthTag): void {
  const period = builder.profile.keepAliveUs;
  let last = openedUs;
  for (const next of [...builder.messageTimes(chat), endUs + MIN_DIALOG_GAP_US]) {
    for (let ping = last + period; ping < next - MIN_DIALOG_GAP_US && ping < endUs; ping += period) {
      const tag = nextTruth();
      const arrived = builder.send(chat, ping, 'up', builder.profile.keepAliveBytes(), tag);
      builder.send(chat, Math.min(arrived, ping + builder.prng.uniform(30, 300) * MILLISECOND), 'down', builder.profile.keepAliveBytes(), tag);
    }
    last = Math.max(last, next);
  }
}
