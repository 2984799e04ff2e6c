/**
 * The recorded clips of test/fixtures/audio/ (real speech made with espeak-ng, see its README), as the
 * mu-law frames the callee sends. Read once each.
 */
import { readFileSync } from 'node:fs';
import type { Backchannel, SpeechClip } from './types.js';

export const BACKCHANNELS: readonly Backchannel[] = ['mhm', 'uh-huh', 'okay', 'yeah', 'right'];
/** Long enough to stop the agent by their length alone. */
export const SPEECH_CLIPS: readonly SpeechClip[] = ['wait', 'question', 'cancel', 'repeat'];
/** Shorter than BARGE_IN_BACKCHANNEL_MAX_MS: they stop the agent by their words. */
export const SHORT_SPEECH_CLIPS: readonly SpeechClip[] = ['stop'];
/** What each clip says, for a model simulator's scripted transcript. */
export const CLIP_TEXT: Record<`backchannel-${Backchannel}` | `speech-${SpeechClip}`, string> = {
  'backchannel-mhm': 'Mhm.',
  'backchannel-uh-huh': 'Uh-huh.',
  'backchannel-okay': 'Okay.',
  'backchannel-yeah': 'Yeah.',
  'backchannel-right': 'Right.',
  'speech-wait': 'Wait, wait, that is not what I asked for.',
  'speech-question': 'Sorry, can I ask you something first?',
  'speech-cancel': 'No, I just want to cancel the whole thing.',
  'speech-repeat': 'Could you say that again please?',
  'speech-stop': 'Stop.',
};

const cache = new Map<string, Uint8Array>();

/** A clip's mu-law bytes, padded with silence to whole 20 ms frames. */
export function clip(name: keyof typeof CLIP_TEXT): Uint8Array {
  let c = cache.get(name);
  if (!c) {
    const raw = readFileSync(new URL(`../../fixtures/audio/${name}.ulaw`, import.meta.url));
    c = new Uint8Array(Math.ceil(raw.length / 160) * 160).fill(0xff);
    c.set(raw);
    cache.set(name, c);
  }
  return c;
}
