/**
 * Voice and video calls: call setup signalled over the chat connection (offer, ringing,
 * answer), connectivity checks with STUN to the app's relay, then media over UDP: Opus audio in
 * 20 ms frames (50 packets/s each way, talk spurts larger than silence) and, for video, frames
 * of several packets at the call's bitrate with periodic key frames. RTCP-like reports every
 * few seconds; hang-up over the chat connection.
 */
import { DialogContext, DialogGenerator, MILLISECOND, SECOND } from '../dialog-context';
import { chatMessage } from './chat-messages';

const AUDIO_FRAME_US = 20 * MILLISECOND;
/** UDP payload (SRTP: 12 B RTP header, Opus frame, 4–10 B auth tag) while talking / silent. */
const TALK_PAYLOAD: readonly [number, number] = [90, 158];
const SILENCE_PAYLOAD: readonly [number, number] = [24, 50];
/** Largest video packet payload: stays under the path MTU after SRTP/UDP/IP headers. */
const VIDEO_PACKET_PAYLOAD = 1_150;

function planStun(context: DialogContext, connection: number, atUs: number): number {
  const { builder, prng, truth } = context;
  let time = atUs;
  let done = atUs;
  const checks = prng.int(3, 6);
  for (let check = 0; check < checks; check++) {
    // Binding request: 20-byte header + USERNAME, PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT…
    builder.send(connection, time, 'up', prng.int(80, 140), truth);
    done = builder.send(connection, time + prng.uniform(30, 200) * MILLISECOND, 'down', prng.int(60, 110), truth);
    time += prng.uniform(50, 500) * MILLISECOND;
  }
  return Math.max(done, time);
}

/** One direction of Opus audio with alternating talk spurts and silences. */
function planAudio(context: DialogContext, connection: number, direction: 'up' | 'down', fromUs: number, toUs: number): void {
  const { builder, prng, truth } = context;
  let talking = prng.chance(0.5);
  let spurtEnd = fromUs;
  for (let time = fromUs; time < toUs; time += AUDIO_FRAME_US + prng.normal() * 0.3 * MILLISECOND) {
    if (time >= spurtEnd) {
      talking = !talking;
      spurtEnd = time + prng.uniform(talking ? 1.5 : 1, talking ? 8 : 6) * SECOND;
    }
    const [low, high] = talking ? TALK_PAYLOAD : SILENCE_PAYLOAD;
    builder.send(connection, time, direction, prng.int(low, high), truth);
  }
}

/** Receiver/sender reports every few seconds. */
function planReports(context: DialogContext, connection: number, direction: 'up' | 'down', fromUs: number, toUs: number): void {
  const { builder, prng, truth } = context;
  for (let time = fromUs + prng.uniform(1, 5) * SECOND; time < toUs; time += prng.uniform(1, 5) * SECOND) {
    builder.send(connection, time, direction, prng.int(60, 120), truth);
  }
}

/** One direction of video: frames at the call's rate, key frames several times larger. */
function planVideo(context: DialogContext, connection: number, direction: 'up' | 'down', fromUs: number, toUs: number): void {
  const { builder, prng, truth } = context;
  const fps = prng.pick([15, 24, 30]);
  const bitsPerSecond = prng.uniform(0.3e6, 2e6);
  const keyFrameEveryUs = prng.uniform(2, 5) * SECOND;
  let nextKeyFrame = fromUs;
  for (let time = fromUs; time < toUs; time += SECOND / fps) {
    // Encoders adapt to the network: the rate wanders ±20 % around the call's target.
    const frameBytes = ((bitsPerSecond * prng.uniform(0.8, 1.2)) / fps / 8) * (time >= nextKeyFrame ? prng.uniform(4, 8) : 1);
    if (time >= nextKeyFrame) nextKeyFrame = time + keyFrameEveryUs;
    const packets = Math.max(1, Math.ceil(frameBytes / VIDEO_PACKET_PAYLOAD));
    const perPacket = Math.round(frameBytes / packets);
    for (let packet = 0; packet < packets; packet++) {
      // Packets of a frame leave back to back, paced a little by the sender.
      builder.send(connection, time + packet * prng.uniform(50, 400), direction, Math.max(40, perPacket + prng.int(-20, 20)), truth);
    }
  }
}

function planCall(context: DialogContext, video: boolean): number {
  const { builder, prng, profile } = context;
  const outgoing = prng.chance(0.5);
  const offer = outgoing ? 'up' : 'down';
  const answer = outgoing ? 'down' : 'up';
  // Offer with ICE candidates and crypto parameters; the answer follows after ringing.
  const offered = chatMessage(context, context.startUs, offer, prng.int(900, 2_200));
  const relay = builder.open('udp', 'call', profile.relay, offered, context.truth);
  const checked = planStun(context, relay, offered);
  const ringingUs = prng.uniform(3, 15) * SECOND;
  const answered = chatMessage(context, Math.max(checked, offered + ringingUs), answer, prng.int(700, 1_800));
  const mediaStart = answered + prng.uniform(100, 400) * MILLISECOND;
  const mediaEnd = mediaStart + context.durationUs;
  for (const direction of ['up', 'down'] as const) {
    planAudio(context, relay, direction, mediaStart + prng.uniform(0, 20) * MILLISECOND, mediaEnd);
    planReports(context, relay, direction, mediaStart, mediaEnd);
    if (video) planVideo(context, relay, direction, mediaStart + prng.uniform(50, 500) * MILLISECOND, mediaEnd);
  }
  return chatMessage(context, mediaEnd + prng.uniform(50, 300) * MILLISECOND, prng.chance(0.5) ? 'up' : 'down', prng.int(80, 200));
}

export const planVoiceCallDialog: DialogGenerator = (context) => planCall(context, false);
export const planVideoCallDialog: DialogGenerator = (context) => planCall(context, true);
