/**
 * Media messages (photo, voice note, video clip, file): the encrypted blob moves over a separate
 * short HTTPS connection to the app's media CDN, while the chat connection carries the message
 * that points to it (with a thumbnail for images and videos). Sending uploads then posts the
 * message; receiving gets the message, then downloads.
 */
import { DialogContext, DialogGenerator, MILLISECOND, SECOND, logNormalWithin } from '../dialog-context';
import { chatIndicator, chatMessage } from './chat-messages';

interface MediaShape {
  /** Encrypted blob size in bytes. */
  readonly bytes: number;
  /** Thumbnail carried inside the chat message (0 for none). */
  readonly thumbnailBytes: number;
  /** Time spent before the transfer (recording a voice note). */
  readonly preparationUs: number;
  /** Indicator sent while preparing ('recording audio'). */
  readonly indicator: boolean;
}

/** HTTP request and response header sizes around a media transfer. */
const REQUEST_HEADERS: readonly [number, number] = [350, 750];
const RESPONSE_HEADERS: readonly [number, number] = [250, 600];

function transferBlob(context: DialogContext, connection: number, atUs: number, direction: 'up' | 'down', bytes: number): number {
  const { builder, prng, profile, truth } = context;
  const partBytes = profile.mediaPartBytes > 0 ? profile.mediaPartBytes : bytes;
  let time = atUs;
  let done = atUs;
  for (let offset = 0; offset < bytes; offset += partBytes) {
    const part = Math.min(partBytes, bytes - offset);
    if (direction === 'up') {
      builder.send(connection, time, 'up', part + prng.int(REQUEST_HEADERS[0], REQUEST_HEADERS[1]), truth);
      const uploaded = time + builder.transferUs(part, 'up');
      done = builder.send(connection, uploaded, 'down', prng.int(RESPONSE_HEADERS[0], RESPONSE_HEADERS[1]), truth);
    } else {
      builder.send(connection, time, 'up', prng.int(REQUEST_HEADERS[0], REQUEST_HEADERS[1]), truth);
      done = builder.send(connection, time + prng.uniform(40, 200) * MILLISECOND, 'down', part + prng.int(RESPONSE_HEADERS[0], RESPONSE_HEADERS[1]), truth);
    }
    time = done;
  }
  return done;
}

function planMedia(context: DialogContext, shape: MediaShape): number {
  const { builder, prng, profile } = context;
  const sending = prng.chance(0.5);
  let time = context.startUs;
  if (sending) {
    if (shape.indicator) chatIndicator(context, time, 'up');
    time += shape.preparationUs;
    const media = builder.open('tls', 'media', profile.mediaServer(), time, context.truth);
    const uploaded = transferBlob(context, media, builder.busyUntilUs(media), 'up', shape.bytes);
    const posted = chatMessage(context, uploaded, 'up', prng.int(250, 600) + shape.thumbnailBytes);
    builder.close(media, uploaded + prng.uniform(1, 10) * SECOND);
    return Math.max(posted, builder.busyUntilUs(media));
  }
  if (shape.indicator) chatIndicator(context, time, 'down');
  time += shape.preparationUs;
  const received = chatMessage(context, time, 'down', prng.int(250, 600) + shape.thumbnailBytes);
  // Auto-download starts right after the message arrives.
  const media = builder.open('tls', 'media', profile.mediaServer(), received + prng.uniform(50, 400) * MILLISECOND, context.truth);
  const downloaded = transferBlob(context, media, builder.busyUntilUs(media), 'down', shape.bytes);
  builder.close(media, downloaded + prng.uniform(1, 10) * SECOND);
  return Math.max(downloaded, builder.busyUntilUs(media));
}

export const planPhotoDialog: DialogGenerator = (context) => {
  const { prng } = context;
  return planMedia(context, {
    bytes: logNormalWithin(prng, 250_000, 0.8, 50_000, 3_000_000),
    thumbnailBytes: prng.int(1_500, 8_000),
    preparationUs: 0,
    indicator: false,
  });
};

export const planVoiceNoteDialog: DialogGenerator = (context) => {
  const { prng } = context;
  const seconds = logNormalWithin(prng, 8, 0.8, 2, 60);
  // Opus voice at 8–16 kbit/s in an Ogg container: 1–2 KB per second of speech.
  return planMedia(context, {
    bytes: seconds * prng.uniform(1_000, 2_000) + prng.int(300, 700),
    thumbnailBytes: 0,
    preparationUs: seconds * SECOND,
    indicator: true,
  });
};

export const planVideoClipDialog: DialogGenerator = (context) => {
  const { prng } = context;
  return planMedia(context, {
    bytes: logNormalWithin(prng, 4_000_000, 0.7, 500_000, 16_000_000),
    thumbnailBytes: prng.int(3_000, 10_000),
    preparationUs: 0,
    indicator: false,
  });
};

export const planFileDialog: DialogGenerator = (context) => {
  const { prng } = context;
  return planMedia(context, {
    bytes: logNormalWithin(prng, 400_000, 1.5, 5_000, 20_000_000),
    thumbnailBytes: prng.chance(0.3) ? prng.int(1_000, 4_000) : 0,
    preparationUs: 0,
    indicator: false,
  });
};
