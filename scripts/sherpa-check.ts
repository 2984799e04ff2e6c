/**
 * The same check as `callwright models check` (src/models/check.ts), from a checkout:
 *
 *   node --import tsx scripts/sherpa-check.ts ["a sentence to say"]
 *
 * Uses DATA_DIR, STT_SHERPA_MODEL, TTS_PIPER_VOICE and SHERPA_THREADS from the environment / .env.
 */
import 'dotenv/config';
import { parseSettings } from '../src/config/settings.js';
import { checkInProcessModels } from '../src/models/check.js';

const s = parseSettings(process.env);
try {
  await checkInProcessModels({ dataDir: s.DATA_DIR, sttModel: s.STT_SHERPA_MODEL, ttsVoice: s.TTS_PIPER_VOICE, threads: s.SHERPA_THREADS, sentence: process.argv[2], print: (l) => console.log(l) });
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
}
