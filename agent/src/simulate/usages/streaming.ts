/**
 * Streaming (a video or live stream played inside the app): adaptive-bitrate segments fetched
 * over HTTPS from a video CDN — a burst of segments to fill the buffer, then one segment per
 * segment duration.
 */
import { addressIn } from '../app-profiles';
import { DialogGenerator, MILLISECOND, SECOND } from '../dialog-context';

const VIDEO_CDN_PREFIXES = ['173.194.', '209.85.', '23.246.', '198.38.'];

export const planStreamingDialog: DialogGenerator = (context) => {
  const { builder, prng, truth } = context;
  const server = { ip: addressIn(prng, prng.pick(VIDEO_CDN_PREFIXES)), port: 443 };
  const connection = builder.open('tls', 'stream', server, context.startUs, truth);
  const segmentUs = prng.uniform(2, 6) * SECOND;
  const bitsPerSecond = prng.uniform(0.5e6, 5e6);
  const bufferSegments = prng.int(3, 6);
  const stopAt = context.startUs + context.durationUs;
  let time = builder.busyUntilUs(connection);
  let done = time;
  for (let segment = 0; time < stopAt; segment++) {
    builder.send(connection, time, 'up', prng.int(400, 900), truth);
    const bytes = ((bitsPerSecond * prng.uniform(0.85, 1.15)) / 8) * (segmentUs / SECOND);
    done = builder.send(connection, time + prng.uniform(20, 120) * MILLISECOND, 'down', bytes, truth);
    // While the buffer fills, the next request goes out as soon as a segment arrives.
    time = segment < bufferSegments ? done : time + segmentUs;
  }
  builder.close(connection, done + prng.uniform(1, 5) * SECOND);
  return done;
};
