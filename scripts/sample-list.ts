/**
 * The bundled sample captures: each is one `cumma simulate` command with a fixed seed, so
 * `npm run samples` regenerates them byte for byte. Together they carry every usage label and
 * stay under 5 MB (seeds chosen for small media and short calls).
 */
export interface SampleSpec {
  readonly file: string;
  readonly description: string;
  readonly args: readonly string[];
}

export const SAMPLES: readonly SampleSpec[] = [
  {
    file: 'whatsapp-chat.pcapng',
    description: 'a WhatsApp session: texts, a photo, a voice note, a location, more texts; DNS/NTP/push background',
    args: ['--scenario', 'text,photo,voice_note,location,text', '--app', 'whatsapp', '--seed', '104', '--background'],
  },
  {
    file: 'telegram-calls.pcapng',
    description: 'a Telegram voice call (8 s) then a video call (3 s), with STUN and signalling',
    args: ['--scenario', 'voice_call:8,video_call:3', '--app', 'telegram', '--seed', '40'],
  },
  {
    file: 'signal-media.pcapng',
    description: 'Signal sending or receiving a file and a video clip over its CDN',
    args: ['--scenario', 'file,video_clip', '--app', 'signal', '--seed', '10'],
  },
  {
    file: 'signal-streaming.pcapng',
    description: 'a Signal text exchange, then 3 s of video streaming from a CDN',
    args: ['--scenario', 'text,streaming:3', '--app', 'signal', '--seed', '32'],
  },
];
